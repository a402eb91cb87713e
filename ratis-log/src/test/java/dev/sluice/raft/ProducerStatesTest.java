package dev.sluice.raft;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.partitionstore.ProducerStateEntry;
import java.util.List;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.junit.jupiter.api.Test;

class ProducerStatesTest {
    private static ProducerStates.BatchInfo batch(long pid, int epoch, int first, int count) {
        return new ProducerStates.BatchInfo(pid, (short) epoch, first, first + count - 1, false, false, 1L);
    }

    private static Errors error(ProducerStates.Verdict verdict) {
        return verdict instanceof ProducerStates.Verdict.Reject reject ? reject.error() : Errors.NONE;
    }

    @Test
    void followsKafkasIdempotentProducerRules() {
        ProducerStates states = new ProducerStates();
        // An unknown producer must start at 0 (a partition never drops a producer's state).
        assertThat(error(states.check(batch(7, 0, 40, 5)))).isEqualTo(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER);
        assertThat(states.check(batch(7, 0, 0, 40))).isInstanceOf(ProducerStates.Verdict.Append.class);
        states.update(batch(7, 0, 0, 40), 60, 99);
        assertThat(states.check(batch(7, 0, 40, 5))).isInstanceOf(ProducerStates.Verdict.Append.class);
        states.update(batch(7, 0, 40, 5), 100, 104);
        assertThat(error(states.check(batch(7, 0, 46, 5)))).isEqualTo(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER);
        assertThat(states.check(batch(7, 0, 45, 5))).isInstanceOf(ProducerStates.Verdict.Append.class);
        states.update(batch(7, 0, 45, 5), 105, 109);
        // A retry of a remembered batch is answered with its offsets.
        assertThat(states.check(batch(7, 0, 40, 5))).isEqualTo(new ProducerStates.Verdict.Duplicate(100, 104));
        // A new epoch starts at 0; the old epoch is fenced.
        assertThat(error(states.check(batch(7, 1, 3, 1)))).isEqualTo(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER);
        assertThat(states.check(batch(7, 1, 0, 1))).isInstanceOf(ProducerStates.Verdict.Append.class);
        states.update(batch(7, 1, 0, 1), 110, 110);
        assertThat(error(states.check(batch(7, 0, 50, 1)))).isEqualTo(Errors.INVALID_PRODUCER_EPOCH);
        // Batches without a producer id are never checked.
        assertThat(states.check(batch(RecordBatch.NO_PRODUCER_ID, -1, -1, 1)))
                .isInstanceOf(ProducerStates.Verdict.Append.class);
    }

    /**
     * The Java producer keeps five requests in flight: when the first fails with a retriable error (a
     * replica not yet ready to lead) and the next ones reach the partition, they must not be appended, or
     * the retried first batch is out of order for ever (the client retries it without end).
     */
    @Test
    void laterBatchesOfAProducerWaitForItsFirst() {
        ProducerStates states = new ProducerStates();
        for (int i = 1; i < 5; i++) {
            assertThat(error(states.check(batch(2000, 0, 31 * i, 31))))
                    .as("batch %d before batch 0", i)
                    .isEqualTo(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER);
        }
        for (int i = 0; i < 5; i++) {
            assertThat(states.check(batch(2000, 0, 31 * i, 31))).isInstanceOf(ProducerStates.Verdict.Append.class);
            states.update(batch(2000, 0, 31 * i, 31), 31L * i, 31L * i + 30);
        }
        assertThat(states.check(batch(2000, 0, 0, 31))).isEqualTo(new ProducerStates.Verdict.Duplicate(0, 30));
        // A coordinator's marker for a producer unknown here carries no sequence and is appended.
        assertThat(states.check(new ProducerStates.BatchInfo(
                        3000, (short) 0, RecordBatch.NO_SEQUENCE, RecordBatch.NO_SEQUENCE, true, true, 1L)))
                .isInstanceOf(ProducerStates.Verdict.Append.class);
    }

    @Test
    void remembersOnlyTheLastFiveBatchesAndWrapsSequences() {
        int seq = Integer.MAX_VALUE - 3;
        // a producer that wrote sequences up to just before seq (its state as a snapshot restores it)
        ProducerStates states = new ProducerStates(List.of(new ProducerStateEntry(
                1, (short) 0, List.of(new ProducerStateEntry.BatchMetadata(0, seq - 1, 0, 0, 1L)), -1, 1L)));
        for (int i = 0; i < 7; i++) {
            ProducerStates.BatchInfo b = new ProducerStates.BatchInfo(1, (short) 0, seq, seq, false, false, 1L);
            assertThat(states.check(b)).as("batch %d", i).isInstanceOf(ProducerStates.Verdict.Append.class);
            states.update(b, i, i);
            seq = seq == Integer.MAX_VALUE ? 0 : seq + 1;
        }
        assertThat(states.get(1).batches()).hasSize(5);
        ProducerStates.BatchInfo oldest = new ProducerStates.BatchInfo(
                1, (short) 0, Integer.MAX_VALUE - 3, Integer.MAX_VALUE - 3, false, false, 1L);
        assertThat(error(states.check(oldest))).isEqualTo(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER);
        assertThat(states.copy().get(1)).isEqualTo(states.get(1));
    }
}
