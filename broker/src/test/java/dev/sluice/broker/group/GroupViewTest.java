package dev.sluice.broker.group;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.coordinator.group.GroupCoordinatorConfig;
import dev.sluice.coordinator.group.GroupCoordinatorState;
import dev.sluice.coordinator.group.GroupRecord;
import dev.sluice.partitionstore.AppendResult;
import dev.sluice.partitionstore.BatchValidator;
import dev.sluice.partitionstore.Clock;
import dev.sluice.partitionstore.LogConfig;
import dev.sluice.partitionstore.NodeStore;
import dev.sluice.partitionstore.PartitionLog;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.KafkaStorageException;

/**
 * The node's group view against the real store (segment files, RocksDB): loading a partition's groups from the
 * view gives the state a replay of the partition's whole log gives, however the view was fed.
 */
class GroupViewTest {
    private static final int PARTITIONS = 3;
    private static final TopicPartition TP = new TopicPartition(GroupCoordinatorService.OFFSETS_TOPIC, 1);
    private static final List<String> GROUPS = groupsOf(TP.partition(), 4);

    /**
     * Random histories of group records, written as the coordinator writes them (one batch per step, load
     * markers in between); the view is told of only some of the batches (it missed entries applied before it
     * listened) and loses its latest writes once (a crash before RocksDB synced them). Loading from the view
     * equals replaying the log, every time.
     */
    @Property(tries = 40)
    void loadingFromTheViewEqualsReplayingTheLog(
            @ForAll("seeds") long seed, @ForAll @IntRange(min = 1, max = 60) int steps) throws IOException {
        Random random = new Random(seed);
        withLog(store -> {
            PartitionLog log = store.partition(TP);
            GroupView view = new GroupView(store.metadata());
            History history = new History(random);
            int crashAt = random.nextInt(steps);
            for (int step = 0; step < steps; step++) {
                long first = log.logEndOffset();
                append(log, history.step());
                if (random.nextInt(4) != 0) {
                    view.applied(TP, log, first, log.logEndOffset());
                }
                if (step == crashAt) {
                    // RocksDB kept a prefix of its writes: the view's offset moves back (never forward), and here
                    // its records even stay newer than that offset; the node restarts with a new view
                    long viewOffset = log.metadata().groupViewOffset();
                    log.metadata().saveGroupViewOffset(random.nextLong(viewOffset + 1));
                    view = new GroupView(store.metadata());
                }
            }
            GroupCoordinatorState loaded = loadFromView(view, log);
            GroupCoordinatorState replayed = replayLog(log);
            assertThat(persisted(loaded)).isEqualTo(persisted(replayed));
            assertThat(pending(loaded)).isEqualTo(pending(replayed));
            assertThat(log.metadata().groupViewOffset()).isEqualTo(log.logEndOffset());
        });
    }

    @Property(tries = 5)
    void aViewThatWasNeverToldCatchesUpFromTheLog(@ForAll("seeds") long seed) throws IOException {
        Random random = new Random(seed);
        withLog(store -> {
            PartitionLog log = store.partition(TP);
            History history = new History(random);
            for (int step = 0; step < 30; step++) {
                append(log, history.step());
            }
            GroupView view = new GroupView(store.metadata());
            assertThat(view.catchUp(TP, log, log.logEndOffset())).isPositive();
            assertThat(view.catchUp(TP, log, log.logEndOffset())).isZero();
            assertThat(persisted(loadFromView(view, log))).isEqualTo(persisted(replayLog(log)));
        });
    }

    /** Only the records of groups on the loaded partition are replayed; other partitions' groups stay out. */
    @Property(tries = 1)
    void loadsOnlyTheGroupsOfItsPartition() throws IOException {
        withLog(store -> {
            PartitionLog log = store.partition(TP);
            String other = groupsOf(0, 1).get(0);
            String mine = GROUPS.get(0);
            append(
                    log,
                    GroupView.batchOf(List.of(
                            commit(mine, "orders", 0, 10),
                            commit(other, "orders", 0, 20),
                            commit(mine, "orders", 1, 5))));
            GroupView view = new GroupView(store.metadata());
            view.applied(TP, log, 0, log.logEndOffset());
            GroupCoordinatorState state = new GroupCoordinatorState(GroupCoordinatorConfig.defaults());
            assertThat(view.load(TP, log, log.logEndOffset(), PARTITIONS, state).records())
                    .isEqualTo(2);
            assertThat(state.groupIds()).containsExactly(mine);
        });
    }

    /**
     * A replica materializes a transaction's offsets only at its COMMIT marker, drops an aborted one's, and keeps
     * the offsets of a transaction still open across a restart: a coordinator loading the partition then holds
     * them pending, and the marker that arrives after the load commits them.
     */
    @Property(tries = 1)
    void pendingOffsetsBecomeCommittedAtTheMarkerAndSurviveARestart() throws IOException {
        withLog(store -> {
            PartitionLog log = store.partition(TP);
            String group = GROUPS.get(0);
            GroupView view = new GroupView(store.metadata());
            List<String> markers = new ArrayList<>();
            view.setMarkerListener((tp, producerId, epoch, commit, offset) ->
                    markers.add(producerId + (commit ? " COMMIT at " : " ABORT at ") + offset));
            TopicPartition orders0 = new TopicPartition("orders", 0);
            TopicPartition orders1 = new TopicPartition("orders", 1);
            appendAndApply(view, log, GroupView.batchOf(List.of(commit(group, "orders", 0, 5))));
            appendAndApply(view, log, GroupView.batchOf(List.of(txn(7, group, "orders", 0, 10))));
            appendAndApply(view, log, GroupView.batchOf(List.of(txn(8, group, "orders", 1, 20))));
            assertThat(store.metadata().committedOffset(group, orders0).offset())
                    .isEqualTo(5);
            assertThat(store.metadata().committedOffset(group, orders1)).isNull();

            appendAndApply(view, log, marker(7, true));
            appendAndApply(view, log, GroupView.batchOf(List.of(txn(9, group, "orders", 1, 30))));
            appendAndApply(view, log, marker(8, false));
            assertThat(store.metadata().committedOffset(group, orders0).offset())
                    .isEqualTo(10);
            assertThat(store.metadata().committedOffset(group, orders1)).isNull();
            assertThat(markers).containsExactly("7 COMMIT at 3", "8 ABORT at 5");
            assertThat(store.metadata().pendingTxnOffsets(TP)).containsOnlyKeys(9L);

            // a restart: a new view reads the pending offsets back; a coordinator loads them
            GroupView restarted = new GroupView(store.metadata());
            GroupCoordinatorState state = new GroupCoordinatorState(GroupCoordinatorConfig.defaults());
            GroupView.Loaded loaded = restarted.load(TP, log, log.logEndOffset(), PARTITIONS, state);
            assertThat(loaded.viewOffset()).isEqualTo(log.logEndOffset());
            assertThat(state.hasPendingTxnOffsets(group, "orders", 1)).isTrue();
            state.activate(2_000L);
            state.replayEndTransactionMarker(9, (short) 0, true);
            assertThat(state.persistedRecords()).contains(commit(group, "orders", 1, 30));
            appendAndApply(restarted, log, marker(9, true));
            assertThat(store.metadata().committedOffset(group, orders1).offset())
                    .isEqualTo(30);
            assertThat(store.metadata().pendingTxnOffsets(TP)).isEmpty();
        });
    }

    /** Kafka's rule: between a plain and a transactional commit of a partition, the later record wins. */
    @Property(tries = 1)
    void theLaterRecordWinsBetweenAPlainAndATransactionalCommit() throws IOException {
        withLog(store -> {
            PartitionLog log = store.partition(TP);
            String group = GROUPS.get(0);
            GroupView view = new GroupView(store.metadata());
            TopicPartition orders0 = new TopicPartition("orders", 0);
            TopicPartition orders1 = new TopicPartition("orders", 1);
            appendAndApply(view, log, GroupView.batchOf(List.of(commit(group, "orders", 1, 1))));
            appendAndApply(
                    view,
                    log,
                    GroupView.batchOf(List.of(txn(7, group, "orders", 0, 10), txn(7, group, "orders", 1, 10))));
            appendAndApply(view, log, GroupView.batchOf(List.of(commit(group, "orders", 0, 3))));
            appendAndApply(view, log, marker(7, true));
            // orders-0: the plain commit came after the transactional one; orders-1: before it
            assertThat(store.metadata().committedOffset(group, orders0).offset())
                    .isEqualTo(3);
            assertThat(store.metadata().committedOffset(group, orders1).offset())
                    .isEqualTo(10);
        });
    }

    // ---- helpers ----

    private static void appendAndApply(GroupView view, PartitionLog log, java.nio.ByteBuffer batch) {
        long first = log.logEndOffset();
        append(log, batch);
        view.applied(TP, log, first, log.logEndOffset());
    }

    private static GroupRecord.TxnOffsetCommit txn(
            long producerId, String group, String topic, int partition, long offset) {
        return new GroupRecord.TxnOffsetCommit(producerId, (short) 0, commit(group, topic, partition, offset));
    }

    private static java.nio.ByteBuffer marker(long producerId, boolean commit) {
        return org.apache.kafka.common.record.internal.MemoryRecords.withEndTransactionMarker(
                        producerId,
                        (short) 0,
                        new org.apache.kafka.common.record.internal.EndTransactionMarker(
                                commit
                                        ? org.apache.kafka.common.record.internal.ControlRecordType.COMMIT
                                        : org.apache.kafka.common.record.internal.ControlRecordType.ABORT,
                                0))
                .buffer();
    }

    private static GroupCoordinatorState loadFromView(GroupView view, PartitionLog log) {
        GroupCoordinatorState state = new GroupCoordinatorState(GroupCoordinatorConfig.defaults());
        view.load(TP, log, log.logEndOffset(), PARTITIONS, state);
        return state;
    }

    private static GroupCoordinatorState replayLog(PartitionLog log) {
        GroupCoordinatorState state = new GroupCoordinatorState(GroupCoordinatorConfig.defaults());
        GroupView.readRecords(TP, log, log.logStartOffset(), log.logEndOffset(), new GroupView.LogVisitor() {
            @Override
            public void record(GroupRecord record, long offset) {
                state.replay(record);
            }

            @Override
            public void marker(long producerId, short producerEpoch, boolean commit, long offset) {
                state.replayEndTransactionMarker(producerId, producerEpoch, commit);
            }
        });
        return state;
    }

    /** The pending transactional offsets by producer: each record and whether it is superseded. */
    private static Map<Long, List<String>> pending(GroupCoordinatorState state) {
        Map<Long, List<String>> pending = new java.util.TreeMap<>();
        for (long producerId : state.pendingTxnProducerIds()) {
            pending.put(
                    producerId,
                    state.pendingTxnOffsets(producerId).stream()
                            .map(e -> e.record() + (e.superseded() ? " superseded" : ""))
                            .toList());
        }
        return pending;
    }

    /** The persisted view, with byte arrays compared by content. */
    private static List<String> persisted(GroupCoordinatorState state) {
        return state.persistedRecords().stream().map(GroupViewTest::describe).toList();
    }

    private static String describe(GroupRecord record) {
        if (record instanceof GroupRecord.GroupMetadata group) {
            StringBuilder text = new StringBuilder(group.toString());
            for (GroupRecord.MemberMetadata member : group.members()) {
                text.append(' ')
                        .append(java.util.Arrays.toString(member.subscription()))
                        .append(java.util.Arrays.toString(member.assignment()));
            }
            return text.toString();
        }
        return record.toString();
    }

    private static void append(PartitionLog log, java.nio.ByteBuffer batch) {
        AppendResult result = log.append(batch, 0, BatchValidator.Origin.COORDINATOR);
        assertThat(result.error()).as("append").isEqualTo(org.apache.kafka.common.protocol.Errors.NONE);
    }

    private static GroupRecord.OffsetCommit commit(String group, String topic, int partition, long offset) {
        return new GroupRecord.OffsetCommit(group, topic, partition, offset, -1, "", 1000L, -1L);
    }

    /** Group ids whose offsets partition is {@code partition}. */
    private static List<String> groupsOf(int partition, int count) {
        List<String> groups = new ArrayList<>();
        for (int i = 0; groups.size() < count; i++) {
            String id = "group-" + i;
            if (GroupCoordinatorState.partitionFor(id, PARTITIONS) == partition) {
                groups.add(id);
            }
        }
        return groups;
    }

    @net.jqwik.api.Provide
    net.jqwik.api.Arbitrary<Long> seeds() {
        return net.jqwik.api.Arbitraries.longs();
    }

    /**
     * Steps of records as the coordinator writes them: metadata replacing metadata, commits, offset tombstones,
     * and a group's deletion as tombstones for each of its offsets and then for the group.
     */
    private static final class History {
        private final Random random;
        private final Map<String, Set<TopicPartition>> offsets = new HashMap<>();
        private final Map<Long, Short> epochs = new HashMap<>();
        private int generation;

        History(Random random) {
            this.random = random;
        }

        /** The next batch: group records, a load marker or a transaction marker. */
        java.nio.ByteBuffer step() {
            List<GroupRecord> records = new ArrayList<>();
            int kind = random.nextInt(9);
            if (kind >= 6) {
                long producerId = 1 + random.nextInt(3);
                short epoch = epochs.getOrDefault(producerId, (short) 0);
                if (kind == 8) {
                    // a COMMIT or ABORT marker, also for a producer with nothing pending
                    return org.apache.kafka.common.record.internal.MemoryRecords.withEndTransactionMarker(
                                    producerId,
                                    epoch,
                                    new org.apache.kafka.common.record.internal.EndTransactionMarker(
                                            random.nextBoolean()
                                                    ? org.apache.kafka.common.record.internal.ControlRecordType.COMMIT
                                                    : org.apache.kafka.common.record.internal.ControlRecordType.ABORT,
                                            0))
                            .buffer();
                }
                String group = GROUPS.get(random.nextInt(GROUPS.size()));
                Set<TopicPartition> live = offsets.computeIfAbsent(group, g -> new HashSet<>());
                for (int i = 0; i < 1 + random.nextInt(3); i++) {
                    TopicPartition tp = new TopicPartition("orders", random.nextInt(4));
                    live.add(tp);
                    records.add(new GroupRecord.TxnOffsetCommit(
                            producerId, epoch, commit(group, tp.topic(), tp.partition(), random.nextInt(1_000_000))));
                }
                return GroupView.batchOf(records);
            }
            String group = GROUPS.get(random.nextInt(GROUPS.size()));
            Set<TopicPartition> live = offsets.computeIfAbsent(group, g -> new HashSet<>());
            switch (kind) {
                case 0 -> records.add(metadata(group));
                case 1, 2 -> {
                    for (int i = 0; i < 1 + random.nextInt(3); i++) {
                        TopicPartition tp =
                                new TopicPartition(random.nextBoolean() ? "orders" : "audit", random.nextInt(4));
                        live.add(tp);
                        records.add(new GroupRecord.OffsetCommit(
                                group,
                                tp.topic(),
                                tp.partition(),
                                random.nextInt(1_000_000),
                                random.nextInt(5) - 1,
                                random.nextBoolean() ? "" : "meta-" + random.nextInt(100),
                                1_000L + random.nextInt(1000),
                                random.nextInt(4) == 0 ? 5_000L : -1L));
                    }
                }
                case 3 -> {
                    if (!live.isEmpty()) {
                        TopicPartition tp = live.stream()
                                .sorted(Comparator.comparing(TopicPartition::toString))
                                .toList()
                                .get(random.nextInt(live.size()));
                        live.remove(tp);
                        records.add(new GroupRecord.OffsetTombstone(group, tp.topic(), tp.partition()));
                    }
                }
                case 4 -> {
                    live.stream()
                            .sorted(Comparator.comparing(TopicPartition::toString))
                            .forEach(tp ->
                                    records.add(new GroupRecord.OffsetTombstone(group, tp.topic(), tp.partition())));
                    live.clear();
                    records.add(new GroupRecord.GroupTombstone(group));
                }
                default -> {
                    // a load marker: no records
                }
            }
            return records.isEmpty() ? GroupView.markerBatch() : GroupView.batchOf(records);
        }

        private GroupRecord.GroupMetadata metadata(String group) {
            generation++;
            List<GroupRecord.MemberMetadata> members = new ArrayList<>();
            int count = random.nextInt(3);
            for (int i = 0; i < count; i++) {
                members.add(new GroupRecord.MemberMetadata(
                        "member-" + generation + "-" + i,
                        random.nextBoolean() ? null : "instance-" + i,
                        "client-" + i,
                        "/127.0.0.1",
                        30_000,
                        10_000,
                        new byte[] {(byte) i, (byte) generation},
                        new byte[] {(byte) generation}));
            }
            return new GroupRecord.GroupMetadata(
                    group,
                    generation,
                    count == 0 ? null : "consumer",
                    count == 0 ? null : "range",
                    count == 0 ? null : members.get(0).memberId(),
                    1_000L + generation,
                    members);
        }
    }

    private interface StoreAction {
        void run(NodeStore store);
    }

    private static void withLog(StoreAction action) throws IOException {
        Path dir = Files.createTempDirectory("group-view");
        try (NodeStore store = NodeStore.open(dir, Clock.SYSTEM)) {
            store.openPartition(TP, LogConfig.defaults());
            action.run(store);
        } catch (KafkaStorageException e) {
            throw new IOException(e);
        } finally {
            try (Stream<Path> paths = Files.walk(dir)) {
                for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(path);
                }
            }
        }
    }
}
