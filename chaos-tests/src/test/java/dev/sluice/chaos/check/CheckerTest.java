package dev.sluice.chaos.check;

import static dev.sluice.chaos.check.HistoryBuilder.MS;
import static dev.sluice.chaos.check.HistoryBuilder.r;
import static dev.sluice.chaos.history.ConsumerMode.ASSIGN;
import static dev.sluice.chaos.history.ConsumerMode.SUBSCRIBE;
import static dev.sluice.chaos.history.Isolation.READ_COMMITTED;
import static dev.sluice.chaos.history.Isolation.READ_UNCOMMITTED;
import static dev.sluice.chaos.history.Outcome.FAIL;
import static dev.sluice.chaos.history.Outcome.INFO;
import static dev.sluice.chaos.history.Outcome.OK;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.chaos.history.Send;
import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** One synthetic history per anomaly kind, each with exactly that anomaly, and legal histories that must pass. */
class CheckerTest {
    private static Verdict check(HistoryBuilder history) {
        return new Checker().check(history.build());
    }

    /** Asserts that {@code verdict} counts {@code count} of {@code kind} and nothing else. */
    static void assertOnly(Verdict verdict, Anomaly kind, long count) {
        assertThat(verdict.count(kind))
                .as("%s count; examples %s", kind, verdict.examples())
                .isEqualTo(count);
        Map<Anomaly, Long> others = new EnumMap<>(verdict.counts());
        others.remove(kind);
        assertThat(others)
                .as("other anomalies; examples %s", verdict.examples())
                .allSatisfy((k, c) -> assertThat(c).isZero());
        assertThat(verdict.valid()).isEqualTo(count == 0);
        assertThat(verdict.examples().get(kind)).hasSize((int) Math.min(count, Checker.DEFAULT_EXAMPLES_PER_KIND));
    }

    static void assertValid(Verdict verdict) {
        assertThat(verdict.anomalies()).as("examples %s", verdict.examples()).isEmpty();
        assertThat(verdict.valid()).isTrue();
    }

    /**
     * Partition 0: a@0 b@1 (plain), c@2 (txn 1, committed), marker@3, x@4 (txn 2, aborted), marker@5, d@6
     * (plain), w@7 (an indeterminate send that was written). Partitions 1 and 2: transactions 4 and 5
     * interleave their writes (a legal write-write cycle), and transaction 6 reads both as input.
     */
    @Test
    void shouldFindNothingInALegalHistoryWithMarkersAbortsRewindsAndNewSessions() {
        HistoryBuilder history = new HistoryBuilder()
                .ok(1, 0, 100, 0)
                .ok(1, 0, 101, 1)
                .send(10, 0, 102, OK, 2, 1)
                .send(11, 0, 104, OK, 4, 2)
                .ok(2, 0, 106, 6)
                .send(2, 0, 107, INFO, -1, -1) // never written, never read
                .send(3, 0, 109, INFO, -1, -1) // written after all, at offset 7
                .send(14, 0, 108, INFO, -1, 3) // its transaction failed: never read
                .send(12, 1, 200, OK, 0, 4)
                .send(15, 1, 201, OK, 1, 5)
                .send(12, 1, 202, OK, 2, 4)
                .send(15, 2, 300, OK, 0, 5)
                .send(12, 2, 301, OK, 1, 4)
                .send(13, 1, 205, OK, 5, 6)
                .txn(1, 10, true, OK, 20 * MS)
                .txn(2, 11, false, OK, 21 * MS)
                .txn(3, 14, true, FAIL, 22 * MS)
                .txn(4, 12, true, OK, 30 * MS)
                .txn(5, 15, true, OK, 31 * MS)
                .txn(6, 13, true, OK, 45 * MS)
                // read_uncommitted sees the aborted record; the gaps at 3 and 5 are markers
                .assign(20, READ_UNCOMMITTED, r(0, 0, 100), r(0, 1, 101), r(0, 2, 102))
                .assign(20, READ_UNCOMMITTED, r(0, 4, 104), r(0, 6, 106), r(0, 7, 109))
                // read_committed skips it, and reads the indeterminate send that was written
                .pollAt(50 * MS, 21, READ_COMMITTED, -1, r(0, 0, 100), r(0, 1, 101), r(0, 2, 102), r(0, 6, 106))
                .pollAt(51 * MS, 21, READ_COMMITTED, -1, r(0, 7, 109))
                // new sessions jump forward and back
                .poll(22, ASSIGN, READ_UNCOMMITTED, 1, r(0, 0, 100))
                .poll(22, ASSIGN, READ_UNCOMMITTED, 2, r(0, 6, 106))
                .poll(22, ASSIGN, READ_UNCOMMITTED, 3, r(0, 1, 101), r(0, 2, 102))
                // a group member rewinds and another skips, within one session: informational only
                .poll(23, SUBSCRIBE, READ_UNCOMMITTED, 1, r(0, 0, 100), r(0, 1, 101))
                .poll(23, SUBSCRIBE, READ_UNCOMMITTED, 1, r(0, 0, 100), r(0, 1, 101), r(0, 2, 102))
                .poll(24, SUBSCRIBE, READ_UNCOMMITTED, 1, r(0, 0, 100))
                .poll(24, SUBSCRIBE, READ_UNCOMMITTED, 1, r(0, 6, 106))
                // consume-transform-produce: txn 6 reads what 4 and 5 committed, then writes
                .pollAt(40 * MS, 25, READ_COMMITTED, 6, r(1, 0, 200), r(1, 1, 201), r(1, 2, 202))
                .finalRead(
                        0,
                        READ_UNCOMMITTED,
                        0,
                        8,
                        r(0, 0, 100),
                        r(0, 1, 101),
                        r(0, 2, 102),
                        r(0, 4, 104),
                        r(0, 6, 106),
                        r(0, 7, 109))
                .finalRead(
                        0, READ_COMMITTED, 0, 8, r(0, 0, 100), r(0, 1, 101), r(0, 2, 102), r(0, 6, 106), r(0, 7, 109))
                .finalReads(1, 7, r(1, 0, 200), r(1, 1, 201), r(1, 2, 202), r(1, 5, 205))
                .finalReads(2, 4, r(2, 0, 300), r(2, 1, 301));

        Verdict verdict = check(history);

        assertValid(verdict);
        assertThat(verdict.stats().subscribeNonmonotonicPolls()).isEqualTo(1);
        assertThat(verdict.stats().subscribePollSkips()).isEqualTo(1);
        assertThat(verdict.stats().sendsOk()).isEqualTo(11);
        assertThat(verdict.stats().sendsInfo()).isEqualTo(3);
        assertThat(verdict.stats().txnsCommitted()).isEqualTo(4);
        assertThat(verdict.stats().txnsAborted()).isEqualTo(2);
        assertThat(verdict.stats().distinctValuesRead()).isEqualTo(12);
        assertThat(verdict.stats().finalReads()).hasSize(6);
    }

    @Test
    void shouldAcceptAnEmptyHistory() {
        Verdict verdict = check(new HistoryBuilder());

        assertValid(verdict);
        assertThat(verdict.counts()).hasSize(Anomaly.values().length);
    }

    @Test
    void shouldReportARecordReadBelowTheFinalLogStartOffsetAsVanished() {
        HistoryBuilder history = new HistoryBuilder()
                .ok(1, 0, 100, 0)
                .ok(1, 0, 101, 1)
                .assign(20, READ_UNCOMMITTED, r(0, 0, 100), r(0, 1, 101))
                .finalRead(0, READ_UNCOMMITTED, 1, 2, r(0, 1, 101))
                .finalRead(0, READ_COMMITTED, 1, 2, r(0, 1, 101));

        assertOnly(check(history), Anomaly.VANISHED, 1);
    }

    @Test
    void shouldReportAnAcknowledgedRecordThatReadsWentPastAsALostWrite() {
        HistoryBuilder history = new HistoryBuilder()
                .ok(1, 0, 100, 0)
                .ok(1, 0, 101, 1)
                .ok(1, 0, 102, 2)
                .assign(20, READ_UNCOMMITTED, r(0, 0, 100), r(0, 2, 102))
                .finalReads(0, 3, r(0, 0, 100), r(0, 2, 102));

        Verdict verdict = check(history);

        assertOnly(verdict, Anomaly.LOST_WRITE, 1);
        assertThat(verdict.examples().get(Anomaly.LOST_WRITE).get(0)).contains("chaos-0@1", "value 101");
    }

    @Test
    void shouldReportAnAcknowledgedRecordNoReadReachedAsUnseen() {
        HistoryBuilder history = new HistoryBuilder()
                .ok(1, 0, 100, 0)
                .ok(1, 0, 101, 1)
                .assign(20, READ_UNCOMMITTED, r(0, 0, 100))
                .finalReads(0, 1, r(0, 0, 100));

        assertOnly(check(history), Anomaly.UNSEEN, 1);
    }

    @Test
    void shouldCountAnUnreadAbortedRecordAsUnseenWhenOnlyReadCommittedReadsWentPastIt() {
        HistoryBuilder history = new HistoryBuilder()
                .ok(1, 0, 100, 0)
                .send(10, 0, 101, OK, 1, 1)
                .ok(1, 0, 103, 3)
                .txn(1, 10, false, OK, 5 * MS)
                .pollAt(50 * MS, 20, READ_COMMITTED, -1, r(0, 0, 100), r(0, 3, 103));

        assertOnly(check(history), Anomaly.UNSEEN, 1);
    }

    @Test
    void shouldReportOneValueAtTwoOffsetsAsADuplicate() {
        HistoryBuilder history = new HistoryBuilder()
                .ok(1, 0, 100, 0)
                .assign(20, READ_UNCOMMITTED, r(0, 0, 100), r(0, 1, 100))
                .finalReads(0, 2, r(0, 0, 100), r(0, 1, 100));

        Verdict verdict = check(history);

        assertOnly(verdict, Anomaly.DUPLICATE, 1);
        assertThat(verdict.examples().get(Anomaly.DUPLICATE).get(0)).contains("chaos-0@0", "chaos-0@1");
    }

    @Test
    void shouldReportTwoValuesAtOneOffsetAsInconsistent() {
        HistoryBuilder history = new HistoryBuilder()
                .ok(1, 0, 100, 5)
                .send(2, 0, 200, INFO, -1, -1)
                .assign(20, READ_UNCOMMITTED, r(0, 5, 100))
                .finalReads(0, 6, r(0, 5, 200));

        Verdict verdict = check(history);

        assertOnly(verdict, Anomaly.INCONSISTENT_OFFSETS, 1);
        assertThat(verdict.examples().get(Anomaly.INCONSISTENT_OFFSETS).get(0)).contains("chaos-0@5", "100", "200");
    }

    @Test
    void shouldReportSendsWhoseOffsetsGoBackInInvocationOrder() {
        HistoryBuilder history = new HistoryBuilder()
                .send(new Send(1, HistoryBuilder.TOPIC, 0, "k", 100, 10 * MS, 30 * MS, OK, 1, null, -1))
                .send(new Send(1, HistoryBuilder.TOPIC, 0, "k", 101, 20 * MS, 25 * MS, OK, 0, null, -1))
                .finalReads(0, 2, r(0, 0, 101), r(0, 1, 100));

        assertOnly(check(history), Anomaly.NONMONOTONIC_SEND, 1);
    }

    @Test
    void shouldReportAnAssignedConsumerSkippingARecordAcrossPolls() {
        HistoryBuilder history = new HistoryBuilder()
                .ok(1, 0, 100, 0)
                .ok(1, 0, 101, 1)
                .ok(1, 0, 102, 2)
                .assign(20, READ_UNCOMMITTED, r(0, 0, 100))
                .assign(20, READ_UNCOMMITTED, r(0, 2, 102))
                .finalReads(0, 3, r(0, 0, 100), r(0, 1, 101), r(0, 2, 102));

        Verdict verdict = check(history);

        assertOnly(verdict, Anomaly.POLL_SKIP, 1);
        assertThat(verdict.examples().get(Anomaly.POLL_SKIP).get(0)).contains("process 20", "[1]");
    }

    @Test
    void shouldReportAReadCommittedConsumerSkippingACommittedRecordWithinAPoll() {
        HistoryBuilder history = new HistoryBuilder()
                .ok(1, 0, 100, 0)
                .send(10, 0, 101, OK, 1, 1)
                .ok(1, 0, 103, 3)
                .txn(1, 10, true, OK, 5 * MS)
                .pollAt(50 * MS, 20, READ_COMMITTED, -1, r(0, 0, 100), r(0, 3, 103))
                .assign(21, READ_UNCOMMITTED, r(0, 1, 101))
                .finalReads(0, 4, r(0, 0, 100), r(0, 1, 101), r(0, 3, 103));

        assertOnly(check(history), Anomaly.POLL_SKIP, 1);
    }

    @Test
    void shouldReportAnAssignedConsumerReturningARecordAgain() {
        HistoryBuilder history = new HistoryBuilder()
                .ok(1, 0, 100, 0)
                .ok(1, 0, 101, 1)
                .assign(20, READ_UNCOMMITTED, r(0, 0, 100), r(0, 1, 101))
                .assign(20, READ_UNCOMMITTED, r(0, 1, 101))
                .finalReads(0, 2, r(0, 0, 100), r(0, 1, 101));

        assertOnly(check(history), Anomaly.NONMONOTONIC_POLL, 1);
    }

    @Test
    void shouldReportAReadCommittedReadOfAnAbortedTransaction() {
        HistoryBuilder history = new HistoryBuilder()
                .send(10, 0, 100, OK, 0, 1)
                .txn(1, 10, false, OK, 5 * MS)
                .pollAt(50 * MS, 20, READ_COMMITTED, -1, r(0, 0, 100))
                .finalRead(0, READ_UNCOMMITTED, 0, 2, r(0, 0, 100))
                .finalRead(0, READ_COMMITTED, 0, 2);

        assertOnly(check(history), Anomaly.G1A, 1);
    }

    @Test
    void shouldReportAnyReadOfASendThatCertainlyFailed() {
        HistoryBuilder history = new HistoryBuilder()
                .send(1, 0, 100, FAIL, -1, -1)
                .assign(20, READ_UNCOMMITTED, r(0, 0, 100))
                .finalReads(0, 1, r(0, 0, 100));

        assertOnly(check(history), Anomaly.G1A, 1);
    }

    @Test
    void shouldReportAReadCommittedPollReturningAValueBeforeItsCommitWasInvoked() {
        HistoryBuilder history = new HistoryBuilder()
                .send(10, 0, 100, OK, 0, 1)
                .txn(1, 10, true, OK, 100 * MS)
                .pollAt(50 * MS, 20, READ_COMMITTED, -1, r(0, 0, 100))
                .finalReads(0, 2, r(0, 0, 100));

        assertOnly(check(history), Anomaly.PRECOMMITTED_READ, 1);
    }

    @Test
    void shouldReportAReadCommittedPollReadingPastARecordOfAnOpenTransaction() {
        HistoryBuilder history = new HistoryBuilder()
                .send(10, 0, 100, OK, 0, 1)
                .ok(1, 0, 101, 1)
                .txn(1, 10, true, OK, 100 * MS)
                .pollAt(50 * MS, 20, READ_COMMITTED, -1, r(0, 1, 101))
                .finalReads(0, 3, r(0, 0, 100), r(0, 1, 101));

        Verdict verdict = check(history);

        assertOnly(verdict, Anomaly.READ_PAST_OPEN_TXN, 1);
        assertThat(verdict.examples().get(Anomaly.READ_PAST_OPEN_TXN).get(0)).contains("txn 1", "chaos-0@0");
    }

    @Test
    void shouldReportTwoTransactionsThatEachReadTheOther() {
        HistoryBuilder history = new HistoryBuilder()
                .send(10, 0, 100, OK, 0, 1)
                .ok(1, 0, 101, 1)
                .send(11, 1, 200, OK, 0, 2)
                .txn(1, 10, true, OK, 100 * MS)
                .txn(2, 11, true, OK, 100 * MS)
                // T2 read past T1's record (ww then wr); T1 read T2's record (wr)
                .pollAt(100 * MS, 20, READ_COMMITTED, 2, r(0, 1, 101))
                .pollAt(100 * MS, 21, READ_COMMITTED, 1, r(1, 0, 200))
                .finalReads(0, 3, r(0, 0, 100), r(0, 1, 101))
                .finalReads(1, 2, r(1, 0, 200));

        Verdict verdict = check(history);

        assertOnly(verdict, Anomaly.WR_CYCLE, 1);
        assertThat(verdict.examples().get(Anomaly.WR_CYCLE).get(0))
                .contains("2 committed transactions", "txn 1 -> txn 2", "txn 2 -> txn 1");
    }

    @Test
    void shouldReportACycleOfThreeTransactionsOnce() {
        HistoryBuilder history = new HistoryBuilder()
                .send(10, 0, 100, OK, 0, 1)
                .send(11, 1, 200, OK, 0, 2)
                .send(12, 2, 300, OK, 0, 3)
                .txn(1, 10, true, OK, 100 * MS)
                .txn(2, 11, true, OK, 100 * MS)
                .txn(3, 12, true, OK, 100 * MS)
                .pollAt(100 * MS, 20, READ_COMMITTED, 2, r(0, 0, 100))
                .pollAt(100 * MS, 21, READ_COMMITTED, 3, r(1, 0, 200))
                .pollAt(100 * MS, 22, READ_COMMITTED, 1, r(2, 0, 300))
                .finalReads(0, 2, r(0, 0, 100))
                .finalReads(1, 2, r(1, 0, 200))
                .finalReads(2, 2, r(2, 0, 300));

        Verdict verdict = check(history);

        assertOnly(verdict, Anomaly.WR_CYCLE, 1);
        assertThat(verdict.examples().get(Anomaly.WR_CYCLE).get(0))
                .contains("3 committed transactions", "txn 1 -> txn 2", "txn 2 -> txn 3", "txn 3 -> txn 1");
    }

    @Test
    void shouldReportAValueNobodySent() {
        HistoryBuilder history = new HistoryBuilder().assign(20, READ_UNCOMMITTED, r(0, 0, 999));

        assertOnly(check(history), Anomaly.UNKNOWN_VALUE, 1);
    }

    @Test
    void shouldReportAReadRecordMissingFromTheFinalRead() {
        HistoryBuilder history = new HistoryBuilder()
                .ok(1, 0, 100, 0)
                .ok(1, 0, 101, 1)
                .assign(20, READ_UNCOMMITTED, r(0, 0, 100), r(0, 1, 101))
                .finalReads(0, 2, r(0, 1, 101));

        assertOnly(check(history), Anomaly.VANISHED, 1);
    }

    @Test
    void shouldReportAReadCommittedRecordPastTheFinalReadCommittedEnd() {
        HistoryBuilder history = new HistoryBuilder()
                .ok(1, 0, 100, 0)
                .ok(1, 0, 101, 1)
                .pollAt(50 * MS, 20, READ_COMMITTED, -1, r(0, 0, 100), r(0, 1, 101))
                .finalRead(0, READ_UNCOMMITTED, 0, 2, r(0, 0, 100), r(0, 1, 101))
                .finalRead(0, READ_COMMITTED, 0, 1, r(0, 0, 100));

        assertOnly(check(history), Anomaly.VANISHED, 1);
    }

    @Test
    void shouldReportACommittedRecordMissingFromTheReadCommittedFinalRead() {
        HistoryBuilder history = new HistoryBuilder()
                .send(10, 0, 100, OK, 0, 1)
                .txn(1, 10, true, OK, 5 * MS)
                .finalRead(0, READ_UNCOMMITTED, 0, 2, r(0, 0, 100))
                .finalRead(0, READ_COMMITTED, 0, 2);

        assertOnly(check(history), Anomaly.VANISHED, 1);
    }

    @Test
    void shouldCountEveryAnomalyButKeepOnlyTenExamples() {
        HistoryBuilder history = new HistoryBuilder();
        for (int i = 0; i < 25; i++) {
            history.ok(1, 0, 100 + i, i);
        }
        history.finalReads(0, 26, r(0, 25, 500)).send(2, 0, 500, INFO, -1, -1);

        Verdict verdict = check(history);

        assertOnly(verdict, Anomaly.LOST_WRITE, 25);
        assertThat(verdict.examples().get(Anomaly.LOST_WRITE)).hasSize(10);
    }

    @Test
    void shouldGiveEqualVerdictsForTheSameHistory() {
        HistoryBuilder history = new HistoryBuilder()
                .ok(1, 0, 100, 0)
                .ok(1, 1, 101, 0)
                .ok(1, 2, 102, 0)
                .assign(20, READ_UNCOMMITTED, r(0, 1, 100), r(1, 1, 101), r(2, 5, 103))
                .finalReads(0, 1);

        assertThat(new Checker().check(history.build())).isEqualTo(new Checker().check(history.build()));
    }
}
