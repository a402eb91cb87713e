package dev.sluice.raft;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.raft.ProducerStates.BatchInfo;
import dev.sluice.raft.ProducerStates.CompletedTxn;
import dev.sluice.raft.ProducerStates.Verdict;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.ControlRecordType;
import org.apache.kafka.common.record.internal.EndTransactionMarker;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.Test;

/** Kafka's partition-side transaction rules in {@link ProducerStates}. */
class ProducerStatesTransactionsTest {
    private static final long PID = 11;

    private static BatchInfo txn(long pid, int epoch, int first, int count) {
        return new BatchInfo(pid, (short) epoch, first, first + count - 1, true, false, 1L);
    }

    private static BatchInfo plain(long pid, int epoch, int first, int count) {
        return new BatchInfo(pid, (short) epoch, first, first + count - 1, false, false, 1L);
    }

    private static BatchInfo abort(long pid, int epoch) {
        return BatchInfo.marker(pid, (short) epoch, false, 0);
    }

    private static BatchInfo commit(long pid, int epoch) {
        return BatchInfo.marker(pid, (short) epoch, true, 0);
    }

    private static Errors error(Verdict verdict) {
        return verdict instanceof Verdict.Reject reject ? reject.error() : Errors.NONE;
    }

    /** Checks, then (when appended) records the batch at {@code offset}; returns the verdict's error. */
    private static Errors append(ProducerStates states, BatchInfo batch, long offset) {
        Verdict verdict = states.check(batch);
        if (verdict instanceof Verdict.Append) {
            int count = batch.control() ? 1 : batch.lastSequence() - batch.baseSequence() + 1;
            states.update(batch, offset, offset + count - 1);
        }
        return error(verdict);
    }

    @Test
    void shouldOpenTheTransactionAtTheProducersFirstTransactionalBatch() {
        ProducerStates states = new ProducerStates();
        assertThat(states.firstUnstableOffset()).isEqualTo(ProducerStates.NO_OPEN_TRANSACTION);
        assertThat(append(states, txn(PID, 0, 0, 3), 10)).isEqualTo(Errors.NONE);
        assertThat(append(states, txn(PID, 0, 3, 2), 20)).isEqualTo(Errors.NONE);
        assertThat(states.get(PID).currentTxnFirstOffset()).isEqualTo(10);
        assertThat(states.firstUnstableOffset()).isEqualTo(10);
        assertThat(append(states, txn(7, 0, 0, 1), 5)).isEqualTo(Errors.NONE); // offsets need not be ordered here
        assertThat(states.firstUnstableOffset()).isEqualTo(5);
    }

    @Test
    void shouldRejectANonTransactionalBatchWhileTheProducersTransactionIsOpen() {
        ProducerStates states = new ProducerStates();
        append(states, txn(PID, 0, 0, 3), 0);
        assertThat(append(states, plain(PID, 0, 3, 1), 3)).isEqualTo(Errors.INVALID_TXN_STATE);
        // A retried duplicate is still answered with its offsets (Kafka finds duplicates first).
        assertThat(states.check(txn(PID, 0, 0, 3))).isEqualTo(new Verdict.Duplicate(0, 2));
        append(states, commit(PID, 0), 3);
        assertThat(append(states, plain(PID, 0, 3, 1), 4)).isEqualTo(Errors.NONE);
    }

    @Test
    void shouldFenceTransactionalBatchesOfAnOlderEpoch() {
        ProducerStates states = new ProducerStates();
        append(states, txn(PID, 3, 0, 1), 0);
        assertThat(append(states, txn(PID, 2, 1, 1), 1)).isEqualTo(Errors.INVALID_PRODUCER_EPOCH);
        assertThat(append(states, txn(PID, 3, 2, 1), 1)).isEqualTo(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER);
    }

    @Test
    void anAbortMarkerEndsTheOpenTransactionAndReportsItsRange() {
        ProducerStates states = new ProducerStates();
        append(states, txn(PID, 0, 0, 3), 4);
        append(states, txn(PID, 0, 3, 3), 9);
        assertThat(states.check(abort(PID, 0))).isInstanceOf(Verdict.Append.class);
        assertThat(states.update(abort(PID, 0), 15, 15)).isEqualTo(new CompletedTxn(PID, 4, 15, true));
        assertThat(states.get(PID).currentTxnFirstOffset()).isEqualTo(-1);
        assertThat(states.firstUnstableOffset()).isEqualTo(ProducerStates.NO_OPEN_TRANSACTION);
        // The producer's sequence continues after the marker (same epoch).
        assertThat(append(states, txn(PID, 0, 6, 1), 16)).isEqualTo(Errors.NONE);
        assertThat(states.update(commit(PID, 0), 17, 17)).isEqualTo(new CompletedTxn(PID, 16, 17, false));
    }

    @Test
    void aMarkerForAProducerWithNoOpenTransactionIsAppendedAndEndsNothing() {
        ProducerStates states = new ProducerStates();
        assertThat(states.check(abort(99, 0))).isInstanceOf(Verdict.Append.class); // never seen
        assertThat(states.update(abort(99, 0), 0, 0)).isNull();
        append(states, txn(PID, 0, 0, 1), 1);
        states.update(commit(PID, 0), 2, 2);
        assertThat(states.check(commit(PID, 0))).isInstanceOf(Verdict.Append.class); // a retried marker
        assertThat(states.update(commit(PID, 0), 3, 3)).isNull();
        assertThat(states.firstUnstableOffset()).isEqualTo(ProducerStates.NO_OPEN_TRANSACTION);
    }

    @Test
    void aMarkerOfAnOlderEpochIsRejected() {
        ProducerStates states = new ProducerStates();
        append(states, txn(PID, 2, 0, 1), 0);
        assertThat(error(states.check(abort(PID, 1)))).isEqualTo(Errors.INVALID_PRODUCER_EPOCH);
        assertThat(states.firstUnstableOffset()).isZero();
    }

    @Test
    void aMarkerOfANewerEpochEndsTheTransactionAndFencesTheOlderEpoch() {
        ProducerStates states = new ProducerStates();
        append(states, txn(PID, 0, 0, 2), 0);
        assertThat(states.check(abort(PID, 1))).isInstanceOf(Verdict.Append.class);
        assertThat(states.update(abort(PID, 1), 2, 2)).isEqualTo(new CompletedTxn(PID, 0, 2, true));
        assertThat(states.get(PID).producerEpoch()).isEqualTo((short) 1);
        assertThat(append(states, txn(PID, 0, 2, 1), 3)).isEqualTo(Errors.INVALID_PRODUCER_EPOCH);
        assertThat(append(states, txn(PID, 1, 0, 1), 3)).isEqualTo(Errors.NONE);
    }

    @Test
    void anOpenTransactionSurvivesADataBatchOfANewerEpoch() {
        ProducerStates states = new ProducerStates();
        append(states, txn(PID, 0, 0, 2), 0);
        assertThat(append(states, txn(PID, 1, 0, 1), 2)).isEqualTo(Errors.NONE);
        assertThat(states.firstUnstableOffset()).isZero();
        assertThat(append(states, plain(PID, 2, 0, 1), 3)).isEqualTo(Errors.INVALID_TXN_STATE);
    }

    @Test
    void aMarkerFromAnOlderCoordinatorEpochIsFenced() {
        ProducerStates states = new ProducerStates();
        append(states, txn(PID, 0, 0, 1), 0);
        assertThat(states.update(BatchInfo.marker(PID, (short) 0, true, 5), 1, 1))
                .isEqualTo(new CompletedTxn(PID, 0, 1, false));
        append(states, txn(PID, 0, 1, 1), 2); // a data batch keeps the coordinator epoch
        assertThat(states.get(PID).coordinatorEpoch()).isEqualTo(5);
        assertThat(error(states.check(BatchInfo.marker(PID, (short) 0, false, 4))))
                .isEqualTo(Errors.TRANSACTION_COORDINATOR_FENCED);
        assertThat(states.check(BatchInfo.marker(PID, (short) 0, false, 5))).isInstanceOf(Verdict.Append.class);
        assertThat(new ProducerStates(states.entries()).check(BatchInfo.marker(PID, (short) 0, false, 4)))
                .isInstanceOf(Verdict.Reject.class);
    }

    @Test
    void aControlBatchThatIsNotATransactionMarkerIsRejected() {
        BatchInfo leaderChange =
                new BatchInfo(PID, (short) 0, -1, -1, true, true, 1L, ControlRecordType.LEADER_CHANGE, -1);
        assertThat(error(new ProducerStates().check(leaderChange))).isEqualTo(Errors.INVALID_RECORD);
    }

    @Test
    void openTransactionsSurviveACopyAndARebuildFromTheEntries() {
        ProducerStates states = new ProducerStates();
        append(states, txn(1, 0, 0, 1), 3);
        append(states, txn(2, 0, 0, 1), 4);
        append(states, plain(3, 0, 0, 1), 5);
        states.update(commit(1, 0), 6, 6);
        ProducerStates rebuilt = new ProducerStates(states.entries());
        assertThat(rebuilt.firstUnstableOffset()).isEqualTo(4);
        assertThat(states.copy().firstUnstableOffset()).isEqualTo(4);
        assertThat(rebuilt.update(abort(2, 0), 7, 7)).isEqualTo(new CompletedTxn(2, 4, 7, true));
        assertThat(rebuilt.firstUnstableOffset()).isEqualTo(ProducerStates.NO_OPEN_TRANSACTION);
        assertThat(states.firstUnstableOffset()).isEqualTo(4);
    }

    @Test
    void theLastStableOffsetIsTheEarliestOpenTransactionBetweenTheLogStartAndTheHighWatermark() {
        assertThat(ProducerStates.lastStableOffset(ProducerStates.NO_OPEN_TRANSACTION, 0, 42))
                .isEqualTo(42);
        assertThat(ProducerStates.lastStableOffset(17, 0, 42)).isEqualTo(17);
        assertThat(ProducerStates.lastStableOffset(17, 20, 42))
                .as("DeleteRecords passed it")
                .isEqualTo(20);
        assertThat(ProducerStates.lastStableOffset(50, 0, 42)).isEqualTo(42);
    }

    @Test
    void readsTheMarkerOfAKafkaControlBatch() {
        MemoryRecords abort = MemoryRecords.withEndTransactionMarker(
                5L, PID, (short) 3, new EndTransactionMarker(ControlRecordType.ABORT, 7));
        BatchInfo info = BatchInfo.of(abort.batches().iterator().next());
        assertThat(info.control()).isTrue();
        assertThat(info.controlType()).isEqualTo(ControlRecordType.ABORT);
        assertThat(info.coordinatorEpoch()).isEqualTo(7);
        assertThat(info.producerEpoch()).isEqualTo((short) 3);

        MemoryRecords records = MemoryRecords.withTransactionalRecords(
                Compression.NONE, PID, (short) 3, 0, new SimpleRecord(1L, "k".getBytes(), "v".getBytes()));
        BatchInfo data = BatchInfo.of(records.batches().iterator().next());
        assertThat(data.transactional()).isTrue();
        assertThat(data.control()).isFalse();
        assertThat(data.controlType()).isNull();
    }
}
