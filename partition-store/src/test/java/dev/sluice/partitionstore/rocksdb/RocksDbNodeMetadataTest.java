package dev.sluice.partitionstore.rocksdb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.partitionstore.AbortedTxn;
import dev.sluice.partitionstore.CommittedOffset;
import dev.sluice.partitionstore.OffsetPosition;
import dev.sluice.partitionstore.PartitionMetadataStore;
import dev.sluice.partitionstore.PartitionState;
import dev.sluice.partitionstore.ProducerStateEntry;
import dev.sluice.partitionstore.ProducerStateEntry.BatchMetadata;
import dev.sluice.partitionstore.TimestampOffset;
import java.nio.file.Path;
import java.util.List;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.KafkaStorageException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RocksDbNodeMetadataTest {
    private static final TopicPartition A = new TopicPartition("orders", 0);
    private static final TopicPartition B = new TopicPartition("orders", 1);

    @TempDir
    Path dir;

    @Test
    void shouldKeepEachPartitionsEntriesApart() {
        try (RocksDbNodeMetadata metadata = RocksDbNodeMetadata.open(dir)) {
            PartitionMetadataStore a = metadata.partition(A);
            PartitionMetadataStore b = metadata.partition(B);
            a.putOffsetIndex(new OffsetPosition(10, 0, 100));
            b.putOffsetIndex(new OffsetPosition(5, 0, 50));
            assertThat(a.floorOffsetIndex(7)).isNull();
            assertThat(a.floorOffsetIndex(-1)).isNull();
            assertThat(a.floorOffsetIndex(12)).isEqualTo(new OffsetPosition(10, 0, 100));
            assertThat(b.floorOffsetIndex(1000)).isEqualTo(new OffsetPosition(5, 0, 50));
            a.deleteAll();
            assertThat(a.floorOffsetIndex(12)).isNull();
            assertThat(b.floorOffsetIndex(1000)).isNotNull();
            assertThat(metadata.partitions()).isEmpty();
            b.saveState(new PartitionState(1, 2, 3, 4));
            assertThat(metadata.partitions()).containsExactly(B);
        }
    }

    @Test
    void shouldFindTimeEntriesStrictlyBeforeATimestamp() {
        try (RocksDbNodeMetadata metadata = RocksDbNodeMetadata.open(dir)) {
            PartitionMetadataStore store = metadata.partition(A);
            store.putTimeIndex(new TimestampOffset(-5, 1));
            store.putTimeIndex(new TimestampOffset(100, 10));
            store.putTimeIndex(new TimestampOffset(200, 20));
            assertThat(store.lastTimeIndexBefore(-5)).isNull();
            assertThat(store.lastTimeIndexBefore(100)).isEqualTo(new TimestampOffset(-5, 1));
            assertThat(store.lastTimeIndexBefore(101)).isEqualTo(new TimestampOffset(100, 10));
            assertThat(store.lastTimeIndex()).isEqualTo(new TimestampOffset(200, 20));
            store.deleteTimeIndexAbove(10);
            assertThat(store.lastTimeIndex()).isEqualTo(new TimestampOffset(100, 10));
            store.deleteTimeIndexUpTo(10);
            assertThat(store.lastTimeIndex()).isNull();
        }
    }

    @Test
    void shouldStoreProducerStateAbortedTransactionsAndEpochs() {
        try (RocksDbNodeMetadata metadata = RocksDbNodeMetadata.open(dir)) {
            PartitionMetadataStore store = metadata.partition(A);
            ProducerStateEntry producer = new ProducerStateEntry(
                    7,
                    (short) 2,
                    List.of(new BatchMetadata(0, 4, 100, 104, 1000), new BatchMetadata(5, 9, 110, 114, 1001)),
                    -1,
                    1001);
            store.putProducer(producer);
            assertThat(store.producer(7)).isEqualTo(producer);
            assertThat(store.producers()).containsExactly(producer);
            store.deleteProducer(7);
            assertThat(store.producer(7)).isNull();
            ProducerStateEntry transactional = new ProducerStateEntry(8, (short) 3, List.of(), 250, 1002, 9, 240);
            store.putProducer(transactional);
            assertThat(store.producer(8)).isEqualTo(transactional);

            store.putAbortedTxn(new AbortedTxn(1, 10, 20, 21));
            store.putAbortedTxn(new AbortedTxn(2, 30, 40, 41));
            assertThat(store.abortedTxns(0, 15))
                    .extracting(AbortedTxn::producerId)
                    .containsExactly(1L);
            assertThat(store.abortedTxns(21, 100))
                    .extracting(AbortedTxn::producerId)
                    .containsExactly(2L);
            store.deleteAbortedTxnsBefore(25);
            assertThat(store.abortedTxns(0, 100))
                    .extracting(AbortedTxn::producerId)
                    .containsExactly(2L);
            store.deleteAbortedTxnsFrom(30);
            assertThat(store.abortedTxns(0, 100)).isEmpty();

            store.putLeaderEpoch(1, 0);
            store.putLeaderEpoch(3, 50);
            assertThat(store.leaderEpochs()).containsEntry(1, 0L).containsEntry(3, 50L);
            store.deleteLeaderEpochsFrom(50);
            assertThat(store.leaderEpochs()).containsOnlyKeys(1);
        }
    }

    @Test
    void shouldStoreCommittedOffsetsAndGroupMetadataPerGroup() {
        try (RocksDbNodeMetadata metadata = RocksDbNodeMetadata.open(dir)) {
            CommittedOffset offset = new CommittedOffset(42, 3, "checkpoint", 1000, -1);
            metadata.putCommittedOffset("billing", A, offset);
            metadata.putCommittedOffset("billing", B, new CommittedOffset(7, -1, "", 1001, -1));
            metadata.putCommittedOffset("audit", A, new CommittedOffset(1, -1, "", 1002, -1));
            metadata.putGroupMetadata("billing", new byte[] {1, 2, 3});
            assertThat(metadata.committedOffset("billing", A)).isEqualTo(offset);
            assertThat(metadata.committedOffsets("billing")).containsOnlyKeys(A, B);
            metadata.deleteGroup("billing");
            assertThat(metadata.committedOffsets("billing")).isEmpty();
            assertThat(metadata.groupMetadata("billing")).isNull();
            assertThat(metadata.committedOffset("audit", A)).isNotNull();
            metadata.sync();
        }
        try (RocksDbNodeMetadata readOnly = RocksDbNodeMetadata.openReadOnly(dir)) {
            assertThat(readOnly.committedOffset("audit", A).offset()).isEqualTo(1);
            assertThatThrownBy(() -> readOnly.putGroupMetadata("x", new byte[0]))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("read-only");
        }
    }

    @Test
    void shouldListEveryGroupOnceWhetherItHasMetadataOffsetsOrBoth() {
        try (RocksDbNodeMetadata metadata = RocksDbNodeMetadata.open(dir)) {
            assertThat(metadata.groupIds()).isEmpty();
            metadata.putCommittedOffset("billing", A, new CommittedOffset(1, -1, "", 1, -1));
            metadata.putCommittedOffset("billing", B, new CommittedOffset(2, -1, "", 1, -1));
            metadata.putGroupMetadata("billing", new byte[] {1});
            metadata.putGroupMetadata("empty", new byte[] {2});
            metadata.putCommittedOffset("standalone", A, new CommittedOffset(3, -1, "", 1, -1));
            // a group id that is a prefix of another one, and a longer one that sorts before it
            metadata.putCommittedOffset("bill", A, new CommittedOffset(4, -1, "", 1, -1));
            metadata.putGroupMetadata("\u00e9t\u00e9-group", new byte[] {3});
            assertThat(metadata.groupIds())
                    .containsExactlyInAnyOrder("billing", "empty", "standalone", "bill", "\u00e9t\u00e9-group");
            metadata.deleteGroupMetadata("empty");
            assertThat(metadata.groupIds()).doesNotContain("empty").hasSize(4);
            metadata.deleteGroupMetadata("billing");
            assertThat(metadata.groupIds()).contains("billing");
            assertThat(metadata.committedOffsets("billing")).containsOnlyKeys(A, B);
            metadata.deleteGroup("billing");
            assertThat(metadata.groupIds()).doesNotContain("billing").hasSize(3);
        }
    }

    @Test
    void shouldKeepTheGroupViewOffsetPerPartitionUntilThePartitionIsDeleted() {
        try (RocksDbNodeMetadata metadata = RocksDbNodeMetadata.open(dir)) {
            PartitionMetadataStore a = metadata.partition(A);
            assertThat(a.groupViewOffset()).isZero();
            a.saveGroupViewOffset(17);
            metadata.partition(B).saveGroupViewOffset(3);
            assertThat(metadata.partition(A).groupViewOffset()).isEqualTo(17);
            a.deleteAll();
            assertThat(a.groupViewOffset()).isZero();
            assertThat(metadata.partition(B).groupViewOffset()).isEqualTo(3);
        }
    }

    @Test
    void shouldExplainWhenTheStoreIsMissingOrLocked() {
        assertThatThrownBy(() -> RocksDbNodeMetadata.openReadOnly(dir.resolve("missing")))
                .isInstanceOf(KafkaStorageException.class)
                .hasMessageContaining("missing");
        try (RocksDbNodeMetadata first = RocksDbNodeMetadata.open(dir)) {
            first.sync();
            assertThatThrownBy(() -> RocksDbNodeMetadata.open(dir))
                    .isInstanceOf(KafkaStorageException.class)
                    .hasMessageContaining("another process");
        }
    }
}
