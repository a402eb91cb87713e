package dev.sluice.chaos.check;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.chaos.history.ConsumerMode;
import dev.sluice.chaos.history.FinalRead;
import dev.sluice.chaos.history.History;
import dev.sluice.chaos.history.Isolation;
import dev.sluice.chaos.history.Outcome;
import dev.sluice.chaos.history.Poll;
import dev.sluice.chaos.history.Read;
import dev.sluice.chaos.history.Send;
import dev.sluice.chaos.history.Txn;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * The checker against a simulated correct log ({@link SimulatedRun}): its histories are free of anomalies, and
 * each mutation that breaks one guarantee (a lost record, a duplicate, swapped offsets, a skip, a repeat, an
 * aborted read, a read before commit, a read past an open transaction, an unknown value, reordered sends, a
 * truncated log) yields the matching anomaly and nothing unrelated.
 */
class CheckerProperties {
    private static final Checker CHECKER = new Checker();

    @Property(tries = 300)
    void historiesOfACorrectLogHaveNoAnomaly(@ForAll long seed, @ForAll @IntRange(min = 0, max = 400) int steps) {
        Verdict verdict = CHECKER.check(SimulatedRun.generate(seed, steps));

        assertThat(verdict.anomalies()).as("examples %s", verdict.examples()).isEmpty();
        assertThat(verdict.valid()).isTrue();
    }

    @Property(tries = 100)
    void droppingAnAcknowledgedValueFromEveryReadIsALostWrite(
            @ForAll long seed, @ForAll @IntRange(min = 10, max = 300) int steps) {
        History history = SimulatedRun.generate(seed, steps);
        List<Send> acked =
                history.sends().stream().filter(s -> s.outcome() == Outcome.OK).toList();
        Assume.that(!acked.isEmpty());
        long value = pick(acked, seed).value();

        History mutated = withReads(history, r -> r.value() != value);

        assertOnly(mutated, Anomaly.LOST_WRITE, 1);
    }

    @Property(tries = 100)
    void aValueAppearingAtASecondOffsetIsADuplicate(
            @ForAll long seed, @ForAll @IntRange(min = 10, max = 300) int steps) {
        History history = SimulatedRun.generate(seed, steps);
        List<FinalRead> candidates = finalReads(
                history, Isolation.READ_UNCOMMITTED, f -> !f.records().isEmpty());
        Assume.that(!candidates.isEmpty());
        FinalRead read = pick(candidates, seed);
        Read copied = pick(read.records(), seed);
        List<Read> records = new ArrayList<>(read.records());
        records.add(new Read(copied.topic(), copied.partition(), read.endOffset(), copied.key(), copied.value()));
        FinalRead longer = new FinalRead(
                read.topic(), read.partition(), read.isolation(), read.logStartOffset(), read.endOffset() + 1, records);

        assertOnly(replace(history, read, longer), Anomaly.DUPLICATE, 1);
    }

    @Property(tries = 100)
    void swappingTwoAcknowledgedValuesInTheLogIsDuplicateAndInconsistent(
            @ForAll long seed, @ForAll @IntRange(min = 10, max = 300) int steps) {
        History history = SimulatedRun.generate(seed, steps);
        Map<Integer, List<Send>> ackedByPartition = history.sends().stream()
                .filter(s -> s.outcome() == Outcome.OK)
                .collect(Collectors.groupingBy(Send::partition));
        List<List<Send>> candidates =
                ackedByPartition.values().stream().filter(l -> l.size() >= 2).toList();
        Assume.that(!candidates.isEmpty());
        List<Send> sends = pick(candidates, seed);
        Send a = sends.get(0);
        Send b = sends.get(sends.size() - 1);
        FinalRead read = finalReads(history, Isolation.READ_UNCOMMITTED, f -> f.partition() == a.partition())
                .get(0);
        List<Read> swapped = read.records().stream()
                .map(r -> r.value() == a.value()
                        ? withValue(r, b.value())
                        : r.value() == b.value() ? withValue(r, a.value()) : r)
                .toList();
        History mutated = replace(
                history,
                read,
                new FinalRead(
                        read.topic(),
                        read.partition(),
                        read.isolation(),
                        read.logStartOffset(),
                        read.endOffset(),
                        swapped));

        Verdict verdict = CHECKER.check(mutated);

        assertThat(verdict.count(Anomaly.DUPLICATE)).isEqualTo(2);
        assertThat(verdict.count(Anomaly.INCONSISTENT_OFFSETS)).isEqualTo(2);
        assertThat(verdict.anomalies()).containsExactly(Anomaly.DUPLICATE, Anomaly.INCONSISTENT_OFFSETS);
    }

    @Property(tries = 100)
    void removingARecordFromTheMiddleOfAPollIsAPollSkip(
            @ForAll long seed, @ForAll @IntRange(min = 50, max = 400) int steps) {
        History history = SimulatedRun.generate(seed, steps);
        List<Integer> candidates = pollIndexes(
                history,
                p -> p.mode() == ConsumerMode.ASSIGN
                        && p.records().size() >= 3
                        && p.records().stream().map(Read::partition).distinct().count() == 1);
        Assume.that(!candidates.isEmpty());
        int i = pick(candidates, seed);
        Poll poll = history.polls().get(i);
        List<Read> records = new ArrayList<>(poll.records());
        records.remove(1);

        assertOnly(replacePoll(history, i, withRecords(poll, records)), Anomaly.POLL_SKIP, 1);
    }

    @Property(tries = 100)
    void returningTheLastRecordOfAPollAgainIsANonmonotonicPoll(
            @ForAll long seed, @ForAll @IntRange(min = 20, max = 300) int steps) {
        History history = SimulatedRun.generate(seed, steps);
        List<Integer> candidates = pollIndexes(
                history, p -> p.mode() == ConsumerMode.ASSIGN && !p.records().isEmpty());
        Assume.that(!candidates.isEmpty());
        int i = pick(candidates, seed);
        Poll poll = history.polls().get(i);
        List<Read> records = new ArrayList<>(poll.records());
        records.add(records.get(records.size() - 1));

        assertOnly(replacePoll(history, i, withRecords(poll, records)), Anomaly.NONMONOTONIC_POLL, 1);
    }

    @Property(tries = 100)
    void readingAnAbortedTransactionsValueReadCommittedIsG1a(
            @ForAll long seed, @ForAll @IntRange(min = 20, max = 300) int steps) {
        History history = SimulatedRun.generate(seed, steps);
        List<Send> aborted = transactionalSends(history, Txn::aborted);
        Assume.that(!aborted.isEmpty());
        Send send = pick(aborted, seed);

        History mutated = addPoll(history, 99, endOf(history) + 1, send);

        assertOnly(mutated, Anomaly.G1A, 1);
    }

    @Property(tries = 100)
    void readingACommittedValueBeforeItsCommitIsAPrecommittedRead(
            @ForAll long seed, @ForAll @IntRange(min = 20, max = 300) int steps) {
        History history = SimulatedRun.generate(seed, steps);
        List<Send> committed = transactionalSends(history, Txn::committed);
        Assume.that(!committed.isEmpty());
        Send send = pick(committed, seed);
        Txn txn = txn(history, send.txn());

        History mutated = addPoll(history, 98, txn.endInvokeNs() - 1, send);

        assertOnly(mutated, Anomaly.PRECOMMITTED_READ, 1);
    }

    @Property(tries = 100)
    void readingPastAnOpenTransactionsRecordIsReportedOnce(
            @ForAll long seed, @ForAll @IntRange(min = 50, max = 400) int steps) {
        History history = SimulatedRun.generate(seed, steps);
        List<Send> committed = transactionalSends(history, Txn::committed);
        Assume.that(!committed.isEmpty());
        Send first = pick(committed, seed);
        Txn open = txn(history, first.txn());
        long pollNs = open.endInvokeNs() - 1;
        List<Read> later =
                finalReads(history, Isolation.READ_COMMITTED, f -> f.partition() == first.partition())
                        .get(0)
                        .records()
                        .stream()
                        .filter(r -> r.offset() > first.offset() && !openAt(history, r.value(), pollNs))
                        .toList();
        Assume.that(!later.isEmpty());
        Read read = pick(later, seed);

        History mutated = addPoll(history, 97, pollNs, read);

        assertOnly(mutated, Anomaly.READ_PAST_OPEN_TXN, 1);
    }

    @Property(tries = 50)
    void readingAValueNobodySentIsAnUnknownValue(@ForAll long seed, @ForAll @IntRange(min = 0, max = 200) int steps) {
        History history = SimulatedRun.generate(seed, steps);
        long beyond = history.finalReads().get(0).endOffset() + 10;
        Send phantom = new Send(1, HistoryBuilder.TOPIC, 0, "k", 999_999_999L, 0, 0, Outcome.OK, beyond, null, -1);

        History mutated = addPoll(history, 96, endOf(history) + 1, phantom);

        assertOnly(mutated, Anomaly.UNKNOWN_VALUE, 1);
    }

    @Property(tries = 100)
    void swappingTheInvocationTimesOfTwoSendsIsANonmonotonicSend(
            @ForAll long seed, @ForAll @IntRange(min = 20, max = 300) int steps) {
        History history = SimulatedRun.generate(seed, steps);
        List<Send> sends = history.sends();
        List<int[]> pairs = new ArrayList<>();
        for (int i = 0; i < sends.size(); i++) {
            for (int j = i + 1; j < sends.size(); j++) {
                if (consecutiveAcks(sends, i, j)) {
                    pairs.add(new int[] {i, j});
                    break;
                }
            }
        }
        Assume.that(!pairs.isEmpty());
        int[] pair = pick(pairs, seed);
        List<Send> swapped = new ArrayList<>(sends);
        swapped.set(pair[0], withInvokeNs(sends.get(pair[0]), sends.get(pair[1]).invokeNs()));
        swapped.set(pair[1], withInvokeNs(sends.get(pair[1]), sends.get(pair[0]).invokeNs()));
        History mutated = new History(
                history.info(), swapped, history.polls(), history.txns(), history.finalReads(), history.nemesis());

        assertOnly(mutated, Anomaly.NONMONOTONIC_SEND, 1);
    }

    @Property(tries = 100)
    void truncatingTheLogBelowAnAcknowledgedRecordLosesIt(
            @ForAll long seed, @ForAll @IntRange(min = 20, max = 300) int steps) {
        History history = SimulatedRun.generate(seed, steps);
        List<Send> acked =
                history.sends().stream().filter(s -> s.outcome() == Outcome.OK).toList();
        Assume.that(!acked.isEmpty());
        Send victim = pick(acked, seed);
        long cut = new Random(seed).nextInt((int) victim.offset() + 1);
        List<FinalRead> finals = history.finalReads().stream()
                .map(f -> f.partition() != victim.partition()
                        ? f
                        : new FinalRead(
                                f.topic(),
                                f.partition(),
                                f.isolation(),
                                f.logStartOffset(),
                                cut,
                                f.records().stream()
                                        .filter(r -> r.offset() < cut)
                                        .toList()))
                .toList();
        History mutated = new History(
                history.info(), history.sends(), history.polls(), history.txns(), finals, history.nemesis());

        Verdict verdict = CHECKER.check(mutated);

        assertThat(verdict.anomalies()).isNotEmpty();
        assertThat(EnumSet.of(Anomaly.LOST_WRITE, Anomaly.UNSEEN, Anomaly.VANISHED))
                .as("examples %s", verdict.examples())
                .containsAll(verdict.anomalies());
    }

    private static void assertOnly(History history, Anomaly kind, long count) {
        CheckerTest.assertOnly(CHECKER.check(history), kind, count);
    }

    private static <T> T pick(List<T> items, long seed) {
        return items.get(new Random(seed).nextInt(items.size()));
    }

    private static boolean consecutiveAcks(List<Send> sends, int i, int j) {
        Send a = sends.get(i);
        Send b = sends.get(j);
        return a.outcome() == Outcome.OK
                && b.outcome() == Outcome.OK
                && a.process() == b.process()
                && a.partition() == b.partition()
                && a.invokeNs() < b.invokeNs();
    }

    private static List<FinalRead> finalReads(History history, Isolation isolation, Predicate<FinalRead> filter) {
        return history.finalReads().stream()
                .filter(f -> f.isolation() == isolation)
                .filter(filter)
                .toList();
    }

    private static List<Integer> pollIndexes(History history, Predicate<Poll> filter) {
        List<Integer> result = new ArrayList<>();
        for (int i = 0; i < history.polls().size(); i++) {
            if (filter.test(history.polls().get(i))) {
                result.add(i);
            }
        }
        return result;
    }

    private static List<Send> transactionalSends(History history, Predicate<Txn> filter) {
        Set<Long> ids = history.txns().stream().filter(filter).map(Txn::id).collect(Collectors.toSet());
        return history.sends().stream()
                .filter(s -> s.outcome() == Outcome.OK && ids.contains(s.txn()))
                .toList();
    }

    private static Txn txn(History history, long id) {
        return history.txns().stream().filter(t -> t.id() == id).findFirst().orElseThrow();
    }

    private static Send sendOf(History history, long value) {
        return history.sends().stream()
                .filter(s -> s.value() == value)
                .findFirst()
                .orElseThrow();
    }

    /** @return whether the writer of {@code value} was a transaction possibly still open at {@code ns} */
    private static boolean openAt(History history, long value, long ns) {
        Send send = sendOf(history, value);
        if (send.txn() < 0) {
            return false;
        }
        Txn txn = txn(history, send.txn());
        return !txn.aborted() && (txn.endInvokeNs() < 0 || ns < txn.endInvokeNs());
    }

    private static long endOf(History history) {
        long end = 0;
        for (Send s : history.sends()) {
            end = Math.max(end, s.completeNs());
        }
        for (Poll p : history.polls()) {
            end = Math.max(end, p.completeNs());
        }
        for (Txn t : history.txns()) {
            end = Math.max(end, t.completeNs());
        }
        return end;
    }

    /** @return {@code history} plus a read-committed poll of a fresh consumer returning {@code send}'s record */
    private static History addPoll(History history, int process, long completeNs, Send send) {
        return addPoll(
                history,
                process,
                completeNs,
                new Read(send.topic(), send.partition(), send.offset(), send.key(), send.value()));
    }

    /** @return {@code history} plus a read-committed poll of a fresh consumer returning {@code read} */
    private static History addPoll(History history, int process, long completeNs, Read read) {
        List<Poll> polls = new ArrayList<>(history.polls());
        polls.add(new Poll(
                process,
                ConsumerMode.ASSIGN,
                Isolation.READ_COMMITTED,
                1,
                completeNs - 1,
                completeNs,
                List.of(read),
                -1));
        return new History(
                history.info(), history.sends(), polls, history.txns(), history.finalReads(), history.nemesis());
    }

    private static History withReads(History history, Predicate<Read> keep) {
        List<Poll> polls = history.polls().stream()
                .map(p -> withRecords(p, p.records().stream().filter(keep).toList()))
                .toList();
        List<FinalRead> finals = history.finalReads().stream()
                .map(f -> new FinalRead(
                        f.topic(),
                        f.partition(),
                        f.isolation(),
                        f.logStartOffset(),
                        f.endOffset(),
                        f.records().stream().filter(keep).toList()))
                .toList();
        return new History(history.info(), history.sends(), polls, history.txns(), finals, history.nemesis());
    }

    private static History replace(History history, FinalRead old, FinalRead replacement) {
        List<FinalRead> finals = history.finalReads().stream()
                .map(f -> f == old ? replacement : f)
                .toList();
        return new History(history.info(), history.sends(), history.polls(), history.txns(), finals, history.nemesis());
    }

    private static History replacePoll(History history, int i, Poll replacement) {
        List<Poll> polls = new ArrayList<>(history.polls());
        polls.set(i, replacement);
        return new History(
                history.info(), history.sends(), polls, history.txns(), history.finalReads(), history.nemesis());
    }

    private static Poll withRecords(Poll p, List<Read> records) {
        return new Poll(
                p.process(), p.mode(), p.isolation(), p.session(), p.invokeNs(), p.completeNs(), records, p.txn());
    }

    private static Read withValue(Read r, long value) {
        return new Read(r.topic(), r.partition(), r.offset(), r.key(), value);
    }

    private static Send withInvokeNs(Send s, long invokeNs) {
        return new Send(
                s.process(),
                s.topic(),
                s.partition(),
                s.key(),
                s.value(),
                invokeNs,
                s.completeNs(),
                s.outcome(),
                s.offset(),
                s.error(),
                s.txn());
    }
}
