package dev.sluice.propertytests;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.partitionstore.OffsetPosition;
import dev.sluice.partitionstore.PartitionMetadataStore;
import dev.sluice.partitionstore.TimestampOffset;
import dev.sluice.partitionstore.rocksdb.RocksDbNodeMetadata;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.lifecycle.AfterProperty;
import net.jqwik.api.lifecycle.BeforeProperty;
import org.apache.kafka.common.TopicPartition;

/**
 * The sparse offset and time indexes in the node's RocksDB against {@link TreeMap}: {@code
 * floorOffsetIndex} is {@code floorEntry}, {@code lastTimeIndexBefore} is {@code lowerEntry}, deletes
 * are range clears, and partitions sharing one RocksDB never see each other's entries.
 *
 * <p>One RocksDB serves every try of a property; each try uses partitions of its own topic, so the
 * entries earlier tries left behind are neighbours a wrong key range would trip over.
 */
class SparseIndexProperties {
    private Path dataDir;
    private RocksDbNodeMetadata node;
    private int tryNumber;

    @BeforeProperty
    void openRocksDb() {
        dataDir = TempDirs.create("sluice-index-");
        node = RocksDbNodeMetadata.open(dataDir.resolve("rocksdb"));
    }

    @AfterProperty
    void closeRocksDb() {
        try {
            node.close();
        } finally {
            TempDirs.delete(dataDir);
        }
    }

    /** A topic no other try uses ("t7-" and "t7-x" cannot be another try's names). */
    private String freshTopic() {
        return "t" + (tryNumber++) + "-";
    }

    // ---- offset index -------------------------------------------------------------------------------

    sealed interface IndexOp {}

    /** {@code partition} picks which of the try's partitions the operation goes to. */
    record Put(int partition, long offset, long segmentBaseOffset, int position) implements IndexOp {}

    record Floor(int partition, long offset) implements IndexOp {}

    record DeleteFrom(int partition, long offset) implements IndexOp {}

    record DeleteBefore(int partition, long offset) implements IndexOp {}

    /** Offsets are never negative; many are small so that puts, lookups and deletes meet. */
    static Arbitrary<Long> offsets() {
        return Arbitraries.frequencyOf(
                Tuple.of(70, Arbitraries.longs().between(0, 64)),
                Tuple.of(20, Arbitraries.longs().between(0, Long.MAX_VALUE)),
                Tuple.of(10, Arbitraries.of(0L, 1L, 255L, 256L, 65_535L, 65_536L, Long.MAX_VALUE - 1, Long.MAX_VALUE)));
    }

    static Arbitrary<List<IndexOp>> indexOps(int partitions) {
        Arbitrary<Integer> partition = Arbitraries.integers().between(0, partitions - 1);
        Arbitrary<IndexOp> put = Combinators.combine(
                        partition,
                        offsets(),
                        Arbitraries.longs().between(0, Long.MAX_VALUE),
                        Arbitraries.integers().between(0, Integer.MAX_VALUE))
                .as(Put::new);
        Arbitrary<IndexOp> floor = Combinators.combine(partition, offsets()).as(Floor::new);
        Arbitrary<IndexOp> deleteFrom =
                Combinators.combine(partition, offsets()).as(DeleteFrom::new);
        Arbitrary<IndexOp> deleteBefore =
                Combinators.combine(partition, offsets()).as(DeleteBefore::new);
        return Arbitraries.frequencyOf(
                        Tuple.of(50, put), Tuple.of(35, floor), Tuple.of(8, deleteFrom), Tuple.of(7, deleteBefore))
                .list()
                .ofMaxSize(60)
                .withSizeDistribution(RandomDistribution.uniform());
    }

    @Provide
    Arbitrary<List<IndexOp>> onePartition() {
        return indexOps(1);
    }

    @Provide
    Arbitrary<List<IndexOp>> twoPartitions() {
        return indexOps(2);
    }

    /** How a try's two partitions sit next to each other in key order. */
    enum Neighbours {
        /** Partitions p and p + 1 of one topic: adjacent key ranges. */
        SAME_TOPIC_NEXT_PARTITION,
        /** Partitions 0 and Integer.MAX_VALUE of one topic. */
        SAME_TOPIC_FAR_PARTITIONS,
        /** Topic "tN-" and "tN-x", same partition: one topic name is a prefix of the other. */
        TOPIC_NAME_PREFIX
    }

    @Property(tries = 300)
    void offsetIndexFloorAgreesWithTreeMapFloorEntry(
            @ForAll("onePartition") List<IndexOp> ops, @ForAll Neighbours layout) {
        runOffsetIndex(ops, partitions(layout));
    }

    @Property(tries = 300)
    void partitionsSharingOneRocksDbNeverSeeEachOthersOffsetIndex(
            @ForAll("twoPartitions") List<IndexOp> ops, @ForAll Neighbours layout) {
        runOffsetIndex(ops, partitions(layout));
    }

    private List<TopicPartition> partitions(Neighbours layout) {
        String topic = freshTopic();
        return switch (layout) {
            case SAME_TOPIC_NEXT_PARTITION -> List.of(new TopicPartition(topic, 7), new TopicPartition(topic, 8));
            case SAME_TOPIC_FAR_PARTITIONS ->
                List.of(new TopicPartition(topic, Integer.MAX_VALUE), new TopicPartition(topic, 0));
            case TOPIC_NAME_PREFIX -> List.of(new TopicPartition(topic + "x", 3), new TopicPartition(topic, 3));
        };
    }

    private void runOffsetIndex(List<IndexOp> ops, List<TopicPartition> partitions) {
        List<PartitionMetadataStore> stores = new ArrayList<>();
        List<TreeMap<Long, OffsetPosition>> models = new ArrayList<>();
        for (TopicPartition tp : partitions) {
            stores.add(node.partition(tp));
            models.add(new TreeMap<>());
        }
        for (IndexOp op : ops) {
            if (op instanceof Put put) {
                OffsetPosition entry = new OffsetPosition(put.offset(), put.segmentBaseOffset(), put.position());
                stores.get(put.partition()).putOffsetIndex(entry);
                models.get(put.partition()).put(put.offset(), entry);
            } else if (op instanceof Floor floor) {
                checkFloor(stores.get(floor.partition()), models.get(floor.partition()), floor.offset(), op);
            } else if (op instanceof DeleteFrom delete) {
                stores.get(delete.partition()).deleteOffsetIndexFrom(delete.offset());
                models.get(delete.partition()).tailMap(delete.offset(), true).clear();
            } else if (op instanceof DeleteBefore delete) {
                stores.get(delete.partition()).deleteOffsetIndexBefore(delete.offset());
                models.get(delete.partition()).headMap(delete.offset(), false).clear();
            }
        }
        for (int p = 0; p < stores.size(); p++) {
            PartitionMetadataStore store = stores.get(p);
            TreeMap<Long, OffsetPosition> model = models.get(p);
            List<OffsetPosition> stored = new ArrayList<>();
            store.forEachOffsetIndex(stored::add);
            assertThat(stored)
                    .as("every entry of %s, in offset order", partitions.get(p))
                    .containsExactlyElementsOf(model.values());
            // Lookups at, between, below and above the entries.
            TreeSet<Long> probes = new TreeSet<>(List.of(0L, 1L, Long.MAX_VALUE));
            for (long offset : model.keySet()) {
                probes.add(offset);
                probes.add(Math.max(0, offset - 1));
                probes.add(offset == Long.MAX_VALUE ? offset : offset + 1);
            }
            for (long offset : probes) {
                checkFloor(store, model, offset, "final lookup in " + partitions.get(p));
            }
        }
    }

    private static void checkFloor(
            PartitionMetadataStore store, TreeMap<Long, OffsetPosition> model, long offset, Object context) {
        Map.Entry<Long, OffsetPosition> expected = model.floorEntry(offset);
        assertThat(store.floorOffsetIndex(offset))
                .as("floorOffsetIndex(%d) at %s", offset, context)
                .isEqualTo(expected == null ? null : expected.getValue());
    }

    // ---- time index ---------------------------------------------------------------------------------

    sealed interface TimeOp {}

    record PutTime(long timestamp, long offset) implements TimeOp {}

    record LowerTime(long timestamp) implements TimeOp {}

    /** Timestamps of any sign; many are small so that puts and lookups meet. */
    static Arbitrary<Long> anyTimestamps() {
        return Arbitraries.frequencyOf(
                Tuple.of(60, Arbitraries.longs().between(-40, 40)),
                Tuple.of(30, Arbitraries.longs()),
                Tuple.of(
                        10,
                        Arbitraries.of(
                                Long.MIN_VALUE, Long.MIN_VALUE + 1, -1L, 0L, Long.MAX_VALUE - 1, Long.MAX_VALUE)));
    }

    @Provide
    Arbitrary<List<TimeOp>> timeOps() {
        Arbitrary<TimeOp> put = Combinators.combine(
                        anyTimestamps(), Arbitraries.longs().between(0, Long.MAX_VALUE))
                .as(PutTime::new);
        Arbitrary<TimeOp> lower = anyTimestamps().map(LowerTime::new);
        return Arbitraries.frequencyOf(Tuple.of(50, put), Tuple.of(50, lower))
                .list()
                .ofMaxSize(60)
                .withSizeDistribution(RandomDistribution.uniform());
    }

    @Property(tries = 300)
    void timeIndexLookupAgreesWithTreeMapLowerEntry(@ForAll("timeOps") List<TimeOp> ops, @ForAll Neighbours layout) {
        List<TopicPartition> partitions = partitions(layout);
        PartitionMetadataStore store = node.partition(partitions.get(0));
        PartitionMetadataStore neighbour = node.partition(partitions.get(1));
        TreeMap<Long, Long> model = new TreeMap<>();
        // The neighbour holds entries at the extremes, which a lookup leaking out of its range would find.
        neighbour.putTimeIndex(new TimestampOffset(Long.MIN_VALUE, 5));
        neighbour.putTimeIndex(new TimestampOffset(Long.MAX_VALUE, 6));
        for (TimeOp op : ops) {
            if (op instanceof PutTime put) {
                store.putTimeIndex(new TimestampOffset(put.timestamp(), put.offset()));
                model.put(put.timestamp(), put.offset());
            } else if (op instanceof LowerTime lower) {
                checkLower(store, model, lower.timestamp());
            }
        }
        TreeSet<Long> probes = new TreeSet<>(List.of(Long.MIN_VALUE, -1L, 0L, 1L, Long.MAX_VALUE));
        for (long timestamp : model.keySet()) {
            probes.add(timestamp);
            probes.add(timestamp == Long.MIN_VALUE ? timestamp : timestamp - 1);
            probes.add(timestamp == Long.MAX_VALUE ? timestamp : timestamp + 1);
        }
        for (long timestamp : probes) {
            checkLower(store, model, timestamp);
        }
        Map.Entry<Long, Long> last = model.lastEntry();
        assertThat(store.lastTimeIndex())
                .as("lastTimeIndex")
                .isEqualTo(last == null ? null : new TimestampOffset(last.getKey(), last.getValue()));
    }

    private static void checkLower(PartitionMetadataStore store, TreeMap<Long, Long> model, long timestamp) {
        Map.Entry<Long, Long> expected = model.lowerEntry(timestamp);
        assertThat(store.lastTimeIndexBefore(timestamp))
                .as("lastTimeIndexBefore(%d)", timestamp)
                .isEqualTo(expected == null ? null : new TimestampOffset(expected.getKey(), expected.getValue()));
    }

    /** Steps on an index as the log writes it: timestamps and offsets both growing. */
    sealed interface GrowingOp {}

    record Append(int count) implements GrowingOp {}

    record DeleteAbove(int permille) implements GrowingOp {}

    record DeleteUpTo(int permille) implements GrowingOp {}

    @Provide
    Arbitrary<List<GrowingOp>> growingOps() {
        Arbitrary<Integer> permille =
                Arbitraries.integers().between(0, 1000).withDistribution(RandomDistribution.uniform());
        return Arbitraries.<GrowingOp>frequencyOf(
                        Tuple.of(60, Arbitraries.integers().between(1, 5).map(Append::new)),
                        Tuple.of(20, permille.map(DeleteAbove::new)),
                        Tuple.of(20, permille.map(DeleteUpTo::new)))
                .list()
                .ofMaxSize(30)
                .withSizeDistribution(RandomDistribution.uniform());
    }

    @Property(tries = 300)
    void timeIndexDeletesByOffsetAgreeWithTreeMap(
            @ForAll("growingOps") List<GrowingOp> ops,
            @ForAll @LongRange(min = -1000, max = 1000) long firstTimestamp) {
        PartitionMetadataStore store = node.partition(new TopicPartition(freshTopic(), 0));
        TreeMap<Long, Long> model = new TreeMap<>();
        long nextTimestamp = firstTimestamp;
        long nextOffset = 0;
        for (GrowingOp op : ops) {
            if (op instanceof Append append) {
                for (int i = 0; i < append.count(); i++) {
                    store.putTimeIndex(new TimestampOffset(nextTimestamp, nextOffset));
                    model.put(nextTimestamp, nextOffset);
                    nextTimestamp += 1 + (nextOffset % 3);
                    nextOffset += 1 + (nextTimestamp % 2 == 0 ? 0 : 10);
                }
            } else if (op instanceof DeleteAbove delete) {
                long offset = delete.permille() * (nextOffset + 1) / 1000 - 1;
                store.deleteTimeIndexAbove(offset);
                model.values().removeIf(entryOffset -> entryOffset > offset);
            } else if (op instanceof DeleteUpTo delete) {
                long offset = delete.permille() * (nextOffset + 1) / 1000 - 1;
                store.deleteTimeIndexUpTo(offset);
                model.values().removeIf(entryOffset -> entryOffset <= offset);
            }
            Map.Entry<Long, Long> last = model.lastEntry();
            assertThat(store.lastTimeIndex())
                    .as("lastTimeIndex after %s", op)
                    .isEqualTo(last == null ? null : new TimestampOffset(last.getKey(), last.getValue()));
        }
        for (long timestamp = firstTimestamp - 1; timestamp <= nextTimestamp + 1; timestamp++) {
            checkLower(store, model, timestamp);
        }
    }
}
