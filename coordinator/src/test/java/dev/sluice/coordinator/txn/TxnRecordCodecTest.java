package dev.sluice.coordinator.txn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.coordinator.txn.TxnRecord.TxnMetadata;
import dev.sluice.coordinator.txn.TxnRecord.TxnTombstone;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class TxnRecordCodecTest {
    private static final TxnMetadata ONGOING = new TxnMetadata(
            "txn-é",
            1L << 40,
            7,
            -1,
            (short) 32767,
            (short) -1,
            60_000,
            TxnState.ONGOING,
            List.of(new TopicPartition("u", 3), new TopicPartition("t", 1), new TopicPartition("t", 0)),
            123L,
            456L);

    private static final List<TxnRecord> EXAMPLES = List.of(
            ONGOING,
            new TxnMetadata("e", 0, -1, -1, (short) 0, (short) -1, 1, TxnState.EMPTY, List.of(), -1, 0),
            new TxnMetadata("c", 5, 5, -1, (short) 3, (short) 2, 1, TxnState.COMPLETE_ABORT, List.of(), 9, 10),
            new TxnTombstone("gone"));

    @Test
    void shouldRoundTripEveryRecordType() {
        for (TxnRecord record : EXAMPLES) {
            assertThat(TxnRecordCodec.decode(TxnRecordCodec.encode(record))).isEqualTo(record);
        }
    }

    @Test
    void shouldSortAndDeduplicatePartitions() {
        assertThat(ONGOING.partitions())
                .containsExactly(new TopicPartition("t", 0), new TopicPartition("t", 1), new TopicPartition("u", 3));
    }

    @Test
    void shouldRoundTripABatch() {
        assertThat(TxnRecordCodec.decodeBatch(TxnRecordCodec.encodeBatch(EXAMPLES)))
                .isEqualTo(EXAMPLES);
        assertThat(TxnRecordCodec.decodeBatch(TxnRecordCodec.encodeBatch(List.of())))
                .isEmpty();
    }

    @Test
    void shouldGiveARecordAndItsTombstoneTheSameKey() {
        assertThat(new TxnTombstone("txn-é").key()).isEqualTo(ONGOING.key());
        assertThat(new TxnTombstone("a").key()).isNotEqualTo(new TxnTombstone("b").key());
    }

    @Test
    void shouldRejectAnUnknownVersionTypeOrState() {
        byte[] bytes = TxnRecordCodec.encode(new TxnTombstone("g"));
        bytes[0] = 9;
        assertThatThrownBy(() -> TxnRecordCodec.decode(bytes)).hasMessageContaining("version 9");
        bytes[0] = TxnRecordCodec.VERSION;
        bytes[1] = 42;
        assertThatThrownBy(() -> TxnRecordCodec.decode(bytes)).hasMessageContaining("unknown type 42");

        byte[] metadata = TxnRecordCodec.encode(
                new TxnMetadata("x", 1, -1, -1, (short) 0, (short) -1, 1, TxnState.EMPTY, List.of(), -1, 0));
        int stateAt = 2 + 1 + 1 + 8 + 8 + 8 + 2 + 2 + 4;
        metadata[stateAt] = 6;
        assertThatThrownBy(() -> TxnRecordCodec.decode(metadata)).hasMessageContaining("never persisted");
        metadata[stateAt] = 99;
        assertThatThrownBy(() -> TxnRecordCodec.decode(metadata)).hasMessageContaining("state code 99");
    }

    @Test
    void shouldRejectTruncatedAndTrailingBytes() {
        byte[] bytes = TxnRecordCodec.encode(ONGOING);
        for (int length = 0; length < bytes.length; length++) {
            byte[] cut = Arrays.copyOf(bytes, length);
            assertThatThrownBy(() -> TxnRecordCodec.decode(cut)).isInstanceOf(IllegalArgumentException.class);
        }
        byte[] longer = Arrays.copyOf(bytes, bytes.length + 1);
        assertThatThrownBy(() -> TxnRecordCodec.decode(longer)).hasMessageContaining("trailing");
    }

    @Property(tries = 300)
    void everyMetadataRecordRoundTrips(@ForAll("metadata") TxnMetadata record) {
        assertThat(TxnRecordCodec.decode(TxnRecordCodec.encode(record))).isEqualTo(record);
    }

    @Provide
    Arbitrary<TxnMetadata> metadata() {
        Arbitrary<List<TopicPartition>> partitions = Combinators.combine(
                        Arbitraries.of("a", "b", "topic-ü"),
                        Arbitraries.integers().between(0, 100))
                .as(TopicPartition::new)
                .list()
                .ofMaxSize(8)
                .map(ArrayList::new);
        Arbitrary<TxnState> states = Arbitraries.of(
                TxnState.EMPTY,
                TxnState.ONGOING,
                TxnState.PREPARE_COMMIT,
                TxnState.PREPARE_ABORT,
                TxnState.COMPLETE_COMMIT,
                TxnState.COMPLETE_ABORT);
        return Combinators.combine(
                        Arbitraries.strings().ofMinLength(1).ofMaxLength(20),
                        Arbitraries.longs().between(0, Long.MAX_VALUE),
                        Arbitraries.shorts().between((short) 0, Short.MAX_VALUE),
                        Arbitraries.shorts().between((short) -1, Short.MAX_VALUE),
                        states,
                        partitions,
                        Arbitraries.longs())
                .as((id, pid, epoch, last, state, tps, ts) ->
                        new TxnMetadata(id, pid, pid - 1, -1, epoch, last, 1000, state, tps, ts, ts ^ 5));
    }
}
