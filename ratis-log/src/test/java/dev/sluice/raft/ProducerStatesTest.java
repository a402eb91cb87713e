package dev.sluice.raft;

import static org.assertj.core.api.Assertions.assertThat;

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
        // An unknown producer may start anywhere (its state may have expired).
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

    @Test
    void remembersOnlyTheLastFiveBatchesAndWrapsSequences() {
        ProducerStates states = new ProducerStates();
        int seq = Integer.MAX_VALUE - 3;
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
