package dev.sluice.tools.txn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.apache.kafka.clients.admin.AbortTransactionSpec;
import org.apache.kafka.clients.admin.ProducerState;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class AbortPlannerTest {
    private static final TopicPartition TP = new TopicPartition("orders", 2);

    @Test
    void shouldAbortTheProducerWhoseTransactionStartsAtTheOffset() {
        List<ProducerState> producers = List.of(
                producer(7, 1, OptionalInt.of(4), OptionalLong.of(10)),
                producer(8, 3, OptionalInt.of(5), OptionalLong.of(12)),
                producer(9, 0, OptionalInt.empty(), OptionalLong.empty()));

        AbortTransactionSpec spec = AbortPlanner.byStartOffset(TP, producers, 12);

        assertThat(spec).isEqualTo(new AbortTransactionSpec(TP, 8, (short) 3, 5));
    }

    @Test
    void shouldUseCoordinatorEpochZeroForAProducerNoMarkerNamedYet() {
        List<ProducerState> producers = List.of(producer(7, 0, OptionalInt.empty(), OptionalLong.of(0)));

        assertThat(AbortPlanner.byStartOffset(TP, producers, 0).coordinatorEpoch())
                .isZero();
        assertThat(AbortPlanner.byProducer(TP, 7, (short) 0, -1).coordinatorEpoch())
                .isZero();
    }

    @Test
    void shouldRefuseAStartOffsetWhereNoTransactionStarts() {
        List<ProducerState> producers = List.of(producer(7, 1, OptionalInt.of(4), OptionalLong.of(10)));

        assertThatThrownBy(() -> AbortPlanner.byStartOffset(TP, producers, 11))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no open transaction starts at offset 11 on orders-2")
                .hasMessageContaining("1 open transaction(s)");
        assertThatThrownBy(() -> AbortPlanner.byStartOffset(TP, List.of(), 0))
                .hasMessageContaining("the partition has no open transaction");
    }

    static ProducerState producer(
            long producerId, int producerEpoch, OptionalInt coordinatorEpoch, OptionalLong txnStartOffset) {
        return new ProducerState(producerId, producerEpoch, 3, 1_000L, coordinatorEpoch, txnStartOffset);
    }
}
