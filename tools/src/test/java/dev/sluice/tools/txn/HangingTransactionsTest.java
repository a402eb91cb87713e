package dev.sluice.tools.txn;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import org.apache.kafka.clients.admin.ProducerState;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class HangingTransactionsTest {
    private static final TopicPartition A0 = new TopicPartition("a", 0);
    private static final TopicPartition A1 = new TopicPartition("a", 1);
    private static final long NOW_MS = 10_000_000;
    private static final long TIMEOUT_MS = 60_000;

    @Test
    void shouldTakeOnlyOpenTransactionsOlderThanTheTimeoutAsCandidates() {
        Map<TopicPartition, List<ProducerState>> producers = Map.of(
                A0,
                List.of(
                        state(1, NOW_MS - TIMEOUT_MS - 1, 5), // old and open
                        state(2, NOW_MS - TIMEOUT_MS, 6), // exactly the timeout: may still end
                        state(3, NOW_MS - 10 * TIMEOUT_MS, -1)), // old but no open transaction
                A1,
                List.of(state(4, 0, 0)));

        List<OpenTransaction> candidates = HangingTransactions.candidates(producers, NOW_MS, TIMEOUT_MS);

        assertThat(candidates).extracting(OpenTransaction::producerId).containsExactly(1L, 4L);
        assertThat(HangingTransactions.producerIds(candidates)).containsExactly(1L, 4L);
    }

    @Test
    void shouldCallHangingWhatNoCoordinatorWillEndOnThePartition() {
        OpenTransaction unknownProducer = open(A0, 1);
        OpenTransaction unknownId = open(A0, 2);
        OpenTransaction otherPartitions = open(A1, 3);
        OpenTransaction stillOwned = open(A1, 4);

        List<OpenTransaction> hanging = HangingTransactions.hanging(
                List.of(stillOwned, otherPartitions, unknownId, unknownProducer),
                Map.of(2L, "gone", 3L, "moved-on", 4L, "busy"),
                Map.of("moved-on", Set.of(A0), "busy", Set.of(A1)));

        assertThat(hanging).containsExactly(unknownProducer, unknownId, otherPartitions);
    }

    private static ProducerState state(long producerId, long lastTimestampMs, long txnStartOffset) {
        return new ProducerState(
                producerId,
                0,
                0,
                lastTimestampMs,
                OptionalInt.empty(),
                txnStartOffset < 0 ? OptionalLong.empty() : OptionalLong.of(txnStartOffset));
    }

    private static OpenTransaction open(TopicPartition tp, long producerId) {
        return new OpenTransaction(tp, producerId, 0, -1, producerId * 10, 0);
    }
}
