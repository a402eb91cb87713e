package dev.sluice.broker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.broker.ChurnConsumer.Event;
import dev.sluice.broker.ChurnConsumer.Kind;
import dev.sluice.broker.ChurnConsumer.Processed;
import dev.sluice.raft.ReplicaStatus;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.NoOffsetForPartitionException;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.kafka.clients.consumer.RangeAssignor;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Consumer-group churn with Kafka's Java clients against three real nodes in one JVM: members leave, crash and
 * join while a producer writes, under the eager and the cooperative protocol; the group coordinator's node
 * stops; auto commit and {@code auto.offset.reset}. Prints the rebalance times ({@code REBALANCE-TIME ...}) and
 * duplicate counts ({@code DUPLICATES ...}) to stdout; timing is reported, never asserted.
 *
 * <p>What "one owner per partition" means here (see {@link #ownershipViolations}): every member's listener
 * callbacks and every poll it processes go into one {@link ChurnConsumer.Timeline}, ordered by an atomic
 * counter. A member owns a partition from its {@code onPartitionsAssigned} to its {@code onPartitionsRevoked} or
 * {@code onPartitionsLost}; a crashed member owns nothing from its crash on (a dead process processes nothing;
 * the group reassigns its partitions only when its session expires, later). Replaying the timeline, no partition
 * is assigned to a member while another one owns it, and no member processes records of a partition it does not
 * own. The ordering is causal: a revocation happens before its member's JoinGroup, which happens before the
 * SyncGroup answer that runs the next owner's {@code onPartitionsAssigned}.
 */
@Timeout(value = 180, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ConsumerGroupChurnTest {
    private static final String TOPIC = "churn";
    private static final int PARTITIONS = 12;
    private static final int OFFSETS_PARTITIONS = 4;

    @TempDir
    Path dir;

    final List<SluiceNode> nodes = new ArrayList<>();
    final List<AutoCloseable> clients = new ArrayList<>();
    final List<ChurnConsumer> members = new ArrayList<>();
    final List<Runnable> stoppers = new ArrayList<>();
    String bootstrap;
    List<String> servers;

    @AfterEach
    void stop() throws Exception {
        stoppers.forEach(Runnable::run);
        for (ChurnConsumer member : members) {
            member.stop();
        }
        for (ChurnConsumer member : members) {
            try {
                member.join(Duration.ofSeconds(30));
            } catch (AssertionError e) {
                // reported by the test itself
            }
            member.closeQuietly();
        }
        for (AutoCloseable client : clients) {
            try {
                client.close();
            } catch (Exception e) {
                // already closed
            }
        }
        nodes.forEach(SluiceNode::close);
    }

    // ---- 1, 2 and 5: churn under the eager and the cooperative protocol ----

    @Test
    void eagerChurnKeepsOnePartitionOwnerAndProcessesEveryAcknowledgedRecord() throws Exception {
        Churn churn = runChurn("eager", RangeAssignor.class.getName());
        assertThat(ownershipViolations(churn.events))
                .as("one live owner per partition")
                .isEmpty();
    }

    @Test
    void cooperativeChurnRevokesOnlyPartitionsThatMove() throws Exception {
        Churn churn = runChurn("cooperative", CooperativeStickyAssignor.class.getName());
        assertThat(ownershipViolations(churn.events))
                .as("one live owner per partition")
                .isEmpty();
        assertThat(cooperativeViolations(churn.events))
                .as("every partition revoked from a member that stays goes to another member")
                .isEmpty();
        assertThat(revocationsBetween(churn.events, churn.leftAtSeq, churn.reassignedAfterLeaveSeq, Set.of("B", "C")))
                .as("a clean leave revokes nothing from the members that stay")
                .isEmpty();
        assertThat(revocationsBetween(churn.events, churn.crashedAtSeq, churn.reassignedAfterCrashSeq, Set.of("C")))
                .as("a crash revokes nothing from the member that stays")
                .isEmpty();
    }

    /** What a churn run observed. */
    private record Churn(
            List<Event> events,
            long leftAtSeq,
            long reassignedAfterLeaveSeq,
            long crashedAtSeq,
            long reassignedAfterCrashSeq) {}

    /**
     * A producer writes throughout; A, B, C consume; A closes cleanly; B crashes (see {@link
     * ChurnConsumer#crashNow}); D joins; the producer stops and C, D drain. Asserts at-least-once delivery and
     * that the only records processed twice are those a member processed and never committed: B's, on partitions
     * it owned when it crashed, and those of a member that closed while a rebalance was in progress, on the
     * partitions the Kafka consumer then reported lost; prints the rebalance times.
     */
    private Churn runChurn(String label, String assignor) throws Exception {
        startCluster();
        Admin admin = admin(bootstrap);
        admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 3)))
                .all()
                .get(30, TimeUnit.SECONDS);
        String group = "churn-" + label;
        ChurnConsumer.Timeline timeline = new ChurnConsumer.Timeline();
        ChurnProducer producer = startProducer();

        ChurnConsumer a = member("A", group, assignor, timeline);
        ChurnConsumer b = member("B", group, assignor, timeline);
        ChurnConsumer c = member("C", group, assignor, timeline);
        awaitOwnership(List.of(a, b, c), "A, B and C share the partitions");
        awaitProcessed(List.of(a, b, c), 300);

        long leaveNs = System.nanoTime();
        a.leave();
        a.join(Duration.ofSeconds(45));
        awaitOwnership(List.of(b, c), "B and C take over A's partitions");
        awaitProcessed(List.of(b, c), 200);

        b.crash();
        awaitUntil(() -> !b.isRunning(), Duration.ofSeconds(30), "B crashed");
        b.join(Duration.ofSeconds(1));
        long crashNs = eventOf(timeline.events(), seqOf(timeline.events(), "B", Kind.CRASHED))
                .nanos();
        assertStillMember(admin, group, b, crashNs);
        awaitOwnership(List.of(c), "C takes over B's partitions after B's session expires");
        awaitProcessed(List.of(c), 200);

        ChurnConsumer d = member("D", group, assignor, timeline);
        awaitOwnership(List.of(c, d), "C and D share the partitions");
        awaitProcessed(List.of(c, d), 200);

        producer.stopAndFlush();
        awaitDrained(admin, group, producer, List.of(a, b, c, d));
        c.stop();
        d.stop();
        c.join(Duration.ofSeconds(45));
        d.join(Duration.ofSeconds(45));

        List<Event> events = timeline.events();
        printTimeline(label, events);
        Map<Map.Entry<TopicPartition, Long>, Integer> duplicates = assertAtLeastOnce(producer, List.of(a, b, c, d));
        Set<Map.Entry<TopicPartition, Long>> abandoned = new HashSet<>();
        for (ChurnConsumer member : List.of(a, b, c, d)) {
            abandoned.addAll(member.abandoned);
        }
        System.out.printf(
                "DUPLICATES %s=%d (records processed and never committed: B %d, A %d, C %d, D %d; produced %d,"
                        + " acknowledged %d)%n",
                label,
                duplicates.size(),
                b.abandoned.size(),
                a.abandoned.size(),
                c.abandoned.size(),
                d.abandoned.size(),
                producer.sent.size(),
                producer.acked.size());
        assertThat(duplicates.keySet())
                .as("records processed twice are exactly those a member processed and never committed")
                .isEqualTo(abandoned);
        assertThat(b.abandoned)
                .as("B abandoned only records of partitions it owned when it crashed")
                .allSatisfy(e -> assertThat(b.ownedAtCrash()).contains(e.getKey()));
        for (ChurnConsumer live : List.of(a, c, d)) {
            // A member that closes while a rebalance is in progress (from its own point of view: it has sent a
            // JoinGroup, e.g. the second round of a cooperative rebalance, or another member's leave) gets its
            // partitions reported lost, not revoked (Kafka's ConsumerCoordinator.onLeavePrepare), and the
            // consumer refuses to commit until the rebalance completes (RebalanceInProgressException, not even
            // sent): what it processed since its last commit is processed again by the next owners. That is the
            // only way a member that does not crash may leave records uncommitted.
            long leavingSeq = events.stream()
                    .filter(e -> e.member().equals(live.name()) && e.kind() == Kind.LEAVING)
                    .mapToLong(Event::seq)
                    .min()
                    .orElse(Long.MAX_VALUE);
            Set<TopicPartition> lostWhileLeaving = events.stream()
                    .filter(e -> e.member().equals(live.name()) && e.kind() == Kind.LOST && e.seq() > leavingSeq)
                    .flatMap(e -> e.partitions().stream())
                    .collect(Collectors.toSet());
            assertThat(live.abandoned)
                    .as(live.name() + " left uncommitted only records of partitions reported lost as it closed "
                            + lostWhileLeaving)
                    .allSatisfy(e -> assertThat(lostWhileLeaving).contains(e.getKey()));
            assertThat(events)
                    .as(live.name() + " never lost partitions before leaving")
                    .noneMatch(e -> e.member().equals(live.name())
                            && e.kind() == Kind.LOST
                            && e.seq() < leavingSeq
                            && !e.partitions().isEmpty());
        }

        long leftSeq = seqOf(events, "A", Kind.LEAVING);
        long crashedSeq = seqOf(events, "B", Kind.CRASHED);
        long joinSeq = seqOf(events, "D", Kind.STARTED);
        Event afterLeave = coveredBy(events, leftSeq, Set.of("B", "C"));
        Event afterCrash = coveredBy(events, crashedSeq, Set.of("C"));
        Event afterJoin = coveredBy(events, joinSeq, Set.of("C", "D"));
        assertThat(afterLeave).as("A's partitions reassigned").isNotNull();
        assertThat(afterCrash).as("B's partitions reassigned").isNotNull();
        assertThat(afterJoin).as("D got partitions").isNotNull();
        System.out.printf(
                "REBALANCE-TIME %s-leave=%dms %s-crash=%dms %s-join=%dms (session.timeout.ms=6000, heartbeat.interval.ms=1000)%n",
                label,
                TimeUnit.NANOSECONDS.toMillis(
                        afterLeave.nanos() - eventOf(events, leftSeq).nanos()),
                label,
                TimeUnit.NANOSECONDS.toMillis(
                        afterCrash.nanos() - eventOf(events, crashedSeq).nanos()),
                label,
                TimeUnit.NANOSECONDS.toMillis(
                        afterJoin.nanos() - eventOf(events, joinSeq).nanos()));
        System.out.printf(
                "REBALANCE-EVENTS %s revocations=%d assignments=%d (leaveNs..crashNs=%dms)%n",
                label,
                events.stream()
                        .filter(e -> e.kind() == Kind.REVOKED && !e.partitions().isEmpty())
                        .count(),
                events.stream()
                        .filter(e ->
                                e.kind() == Kind.ASSIGNED && !e.partitions().isEmpty())
                        .count(),
                TimeUnit.NANOSECONDS.toMillis(crashNs - leaveNs));
        return new Churn(events, leftSeq, afterLeave.seq(), crashedSeq, afterCrash.seq());
    }

    /**
     * Right after the crash the coordinator still lists B: it never sent LeaveGroup. Only checked when the
     * answer came within B's session (otherwise the session may rightly have expired).
     */
    private static void assertStillMember(Admin admin, String group, ChurnConsumer b, long crashNs) throws Exception {
        ConsumerGroupDescription description = admin.describeConsumerGroups(List.of(group))
                .all()
                .get(30, TimeUnit.SECONDS)
                .get(group);
        long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - crashNs);
        if (elapsedMs < 4000) {
            assertThat(description.members())
                    .extracting(MemberDescription::consumerId)
                    .as("the crashed member is still in the group %d ms after its crash", elapsedMs)
                    .contains(b.memberId());
        }
    }

    // ---- 3: the coordinator's node stops ----

    @Test
    void groupResumesAfterItsCoordinatorStopsAndCommittedOffsetsNeverRegress() throws Exception {
        startCluster();
        Admin admin = admin(bootstrap);
        admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 3)))
                .all()
                .get(30, TimeUnit.SECONDS);
        String group = "failover";
        ChurnConsumer.Timeline timeline = new ChurnConsumer.Timeline();
        ChurnProducer producer = startProducer();
        List<ChurnConsumer> group3 = List.of(
                member("A", group, RangeAssignor.class.getName(), timeline),
                member("B", group, RangeAssignor.class.getName(), timeline),
                member("C", group, RangeAssignor.class.getName(), timeline));
        awaitOwnership(group3, "A, B and C share the partitions");
        awaitProcessed(group3, 300);

        int coordinatorId = admin.describeConsumerGroups(List.of(group))
                .all()
                .get(30, TimeUnit.SECONDS)
                .get(group)
                .coordinator()
                .id();
        int offsetsPartition = Utils.abs(group.hashCode()) % OFFSETS_PARTITIONS;
        int offsetsLeader = admin.describeTopics(List.of("__consumer_offsets"))
                .allTopicNames()
                .get(30, TimeUnit.SECONDS)
                .get("__consumer_offsets")
                .partitions()
                .get(offsetsPartition)
                .leader()
                .id();
        System.out.printf(
                "FAILOVER coordinator=%d leader of __consumer_offsets-%d=%d%n",
                coordinatorId, offsetsPartition, offsetsLeader);
        // What failing over needs: the survivors' replicas of the offsets partition exist and have entries. A Raft
        // group of three cannot lose one replica while another has not received its first entry: the latter's
        // vote does not count (Ratis's guard against a wiped voter), so no leader could be elected.
        TopicPartition offsetsTp = new TopicPartition("__consumer_offsets", offsetsPartition);
        awaitUntil(
                () -> nodes.stream().allMatch(node -> {
                    ReplicaStatus status = node.raft().status(offsetsTp);
                    return status != null && status.logEndOffset() > 0;
                }),
                Duration.ofSeconds(15),
                "every node holds a replica of " + offsetsTp + " with entries");
        List<String> survivors = new ArrayList<>(servers);
        survivors.remove(coordinatorId - 1);
        OffsetsWatcher watcher = new OffsetsWatcher(admin(String.join(",", survivors)), group);
        awaitUntil(() -> watcher.reads.get() > 2, Duration.ofSeconds(30), "the watcher reads the offsets");

        // The node closes gracefully (it moves its leaderships away first, which takes seconds): close it from
        // another thread so that the times below run from the moment it stops accepting connections.
        SluiceNode coordinator = nodes.get(coordinatorId - 1);
        nodes.remove(coordinator);
        long seqAtFailover = producer.seq;
        long readsBefore = watcher.reads.get();
        long stopNs = System.nanoTime();
        Thread closer = new Thread(coordinator::close, "close-coordinator");
        closer.start();
        stoppers.add(() -> joinQuietly(closer));
        awaitUntil(
                () -> processedValues(group3).stream().anyMatch(v -> seqOf(v) > seqAtFailover + 200),
                Duration.ofSeconds(60),
                "records produced after the failover are processed");
        long resumedNs = System.nanoTime();
        closer.join(60_000);
        long closedNs = System.nanoTime();
        Map<TopicPartition, Long> atClosed = Map.copyOf(watcher.max);
        try {
            awaitUntil(
                    () -> watcher.max.entrySet().stream()
                            .anyMatch(e -> e.getValue() > atClosed.getOrDefault(e.getKey(), -1L)),
                    Duration.ofSeconds(60),
                    "offsets committed to the new coordinator");
        } catch (AssertionError e) {
            printOffsetsLeadership(admin(String.join(",", survivors)), offsetsPartition);
            throw e;
        }
        long committedNs = System.nanoTime();
        System.out.printf(
                "FAILOVER-TIME resume-processing=%dms node-closed=%dms first-commit-seen-after-close=%dms"
                        + " (from the close call)%n",
                TimeUnit.NANOSECONDS.toMillis(resumedNs - stopNs),
                TimeUnit.NANOSECONDS.toMillis(closedNs - stopNs),
                TimeUnit.NANOSECONDS.toMillis(committedNs - stopNs));

        producer.stopAndFlush();
        awaitDrained(admin(String.join(",", survivors)), group, producer, group3);
        group3.forEach(ChurnConsumer::stop);
        for (ChurnConsumer m : group3) {
            m.join(Duration.ofSeconds(45));
        }
        watcher.stop();

        assertThat(watcher.regressions)
                .as("committed offsets never go backwards")
                .isEmpty();
        assertThat(watcher.reads.get()).as("offsets read after the failover").isGreaterThan(readsBefore + 2);
        assertThat(ownershipViolations(timeline.events()))
                .as("one live owner per partition")
                .isEmpty();
        Map<Map.Entry<TopicPartition, Long>, Integer> duplicates = assertAtLeastOnce(producer, group3);
        Set<Map.Entry<TopicPartition, Long>> abandoned = new HashSet<>();
        group3.forEach(m -> abandoned.addAll(m.abandoned));
        System.out.printf(
                "DUPLICATES failover=%d (abandoned: %d; produced %d, acknowledged %d; producer errors %d;"
                        + " watcher errors %d; commit errors %s)%n",
                duplicates.size(),
                abandoned.size(),
                producer.sent.size(),
                producer.acked.size(),
                producer.failed.size(),
                watcher.errors.get(),
                group3.stream().map(m -> m.name() + "=" + m.commitErrors.size()).collect(Collectors.joining(",")));
        assertThat(abandoned)
                .as("records processed twice were processed and never committed by a member")
                .containsAll(duplicates.keySet());
    }

    /** What each surviving node's Raft layer and the metadata say about the group's offsets partition. */
    private void printOffsetsLeadership(Admin admin, int offsetsPartition) {
        TopicPartition tp = new TopicPartition("__consumer_offsets", offsetsPartition);
        for (SluiceNode node : nodes) {
            System.out.printf(
                    "DIAGNOSIS node %s: %s%n",
                    node.config().nodeId(), node.raft().status(tp));
        }
        try {
            System.out.printf(
                    "DIAGNOSIS metadata: %s%n",
                    admin.describeTopics(List.of(tp.topic()))
                            .allTopicNames()
                            .get(10, TimeUnit.SECONDS)
                            .get(tp.topic())
                            .partitions()
                            .get(offsetsPartition));
        } catch (Exception e) {
            System.out.printf("DIAGNOSIS metadata: %s%n", e);
        }
    }

    /** Reads the group's committed offsets from a thread and records any offset lower than one read before. */
    private final class OffsetsWatcher {
        final Map<TopicPartition, Long> max = new ConcurrentHashMap<>();
        final ConcurrentLinkedQueue<String> regressions = new ConcurrentLinkedQueue<>();
        final java.util.concurrent.atomic.AtomicLong reads = new java.util.concurrent.atomic.AtomicLong();
        final java.util.concurrent.atomic.AtomicLong errors = new java.util.concurrent.atomic.AtomicLong();
        private volatile boolean stopped;
        private final Thread thread;

        OffsetsWatcher(Admin admin, String group) {
            thread = new Thread(
                    () -> {
                        while (!stopped) {
                            try {
                                Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group)
                                        .partitionsToOffsetAndMetadata()
                                        .get(10, TimeUnit.SECONDS);
                                offsets.forEach((tp, o) -> {
                                    if (o == null) {
                                        return;
                                    }
                                    Long before = max.get(tp);
                                    if (before != null && o.offset() < before) {
                                        regressions.add(tp + ": " + before + " -> " + o.offset());
                                    }
                                    max.merge(tp, o.offset(), Math::max);
                                });
                                reads.incrementAndGet();
                                Thread.sleep(200);
                            } catch (InterruptedException e) {
                                return;
                            } catch (Exception e) {
                                errors.incrementAndGet();
                            }
                        }
                    },
                    "offsets-watcher");
            thread.setDaemon(true);
            thread.start();
            stoppers.add(this::stop);
        }

        void stop() {
            stopped = true;
            try {
                thread.join(15_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    // ---- 4: auto commit and auto.offset.reset ----

    @Test
    void autoCommitAdvancesCommittedOffsetsToTheConsumedPositions() throws Exception {
        startCluster();
        Admin admin = admin(bootstrap);
        admin.createTopics(List.of(new NewTopic("auto", 3, (short) 3))).all().get(30, TimeUnit.SECONDS);
        KafkaProducer<String, String> producer = producer();
        for (int i = 0; i < 150; i++) {
            producer.send(new ProducerRecord<>("auto", "k-" + i, "a-" + i));
        }
        producer.flush();
        KafkaConsumer<String, String> consumer = consumer(
                "auto",
                "earliest",
                Map.of(
                        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "true",
                        ConsumerConfig.AUTO_COMMIT_INTERVAL_MS_CONFIG, "500"));
        consumer.subscribe(List.of("auto"));
        List<ConsumerRecord<String, String>> received = new ArrayList<>();
        pollUntil(consumer, received, () -> received.size() >= 150, Duration.ofSeconds(60), "150 records consumed");
        Map<TopicPartition, Long> positions = new HashMap<>();
        for (TopicPartition tp : consumer.assignment()) {
            positions.put(tp, consumer.position(tp));
        }
        assertThat(positions.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(150);
        Map<TopicPartition, Long> committed = new HashMap<>();
        pollUntil(
                consumer,
                received,
                () -> {
                    committed.clear();
                    committedOffsets(admin, "auto").forEach((tp, o) -> committed.put(tp, o.offset()));
                    return committed.equals(positions);
                },
                Duration.ofSeconds(30),
                "auto commit reaches the consumed positions");
        assertThat(received).hasSize(150);
        assertThat(committed).isEqualTo(positions);
    }

    @Test
    void autoOffsetResetAppliesToNewGroupsAndToOutOfRangeOffsets() throws Exception {
        startCluster();
        Admin admin = admin(bootstrap);
        String topic = "reset";
        TopicPartition tp = new TopicPartition(topic, 0);
        admin.createTopics(List.of(new NewTopic(topic, 1, (short) 3))).all().get(30, TimeUnit.SECONDS);
        KafkaProducer<String, String> producer = producer();
        produceSync(producer, topic, 0, 20);

        // earliest: a new group reads from offset 0
        List<ConsumerRecord<String, String>> earliest = consumeFresh("earliest-group", "earliest", topic, 20);
        assertThat(earliest.get(0).offset()).isZero();
        assertThat(earliest).extracting(ConsumerRecord::value).containsExactlyElementsOf(values(0, 20));

        // latest: a new group reads only what is produced after it has its position
        KafkaConsumer<String, String> latest = consumer("latest-group", "latest", Map.of());
        latest.subscribe(List.of(topic));
        List<ConsumerRecord<String, String>> received = new ArrayList<>();
        pollUntil(latest, received, () -> !latest.assignment().isEmpty(), Duration.ofSeconds(30), "assigned");
        assertThat(latest.position(tp)).as("latest resets to the log end").isEqualTo(20);
        produceSync(producer, topic, 20, 10);
        pollUntil(latest, received, () -> received.size() >= 10, Duration.ofSeconds(30), "the new records");
        pollFor(latest, received, Duration.ofMillis(500));
        assertThat(received).extracting(ConsumerRecord::value).containsExactlyElementsOf(values(20, 30));

        // none: a new group without committed offsets fails on poll
        assertThat(pollForException(consumer("none-group", "none", Map.of()), topic))
                .isInstanceOf(NoOffsetForPartitionException.class);

        // a committed offset past the log end: earliest resets to the log start
        alterOffset(admin, "past-end-group", tp, 1000);
        List<ConsumerRecord<String, String>> pastEnd = consumeFresh("past-end-group", "earliest", topic, 30);
        assertThat(pastEnd.get(0).offset()).isZero();
        assertThat(pastEnd).extracting(ConsumerRecord::value).containsExactlyElementsOf(values(0, 30));

        // ... and none fails with OffsetOutOfRangeException
        alterOffset(admin, "past-end-none-group", tp, 1000);
        assertThat(pollForException(consumer("past-end-none-group", "none", Map.of()), topic))
                .isInstanceOf(OffsetOutOfRangeException.class);

        // a committed offset below the log start (records deleted): earliest resets to the new log start
        alterOffset(admin, "deleted-group", tp, 5);
        alterOffset(admin, "deleted-none-group", tp, 5);
        long lowWatermark = admin.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(10)))
                .lowWatermarks()
                .get(tp)
                .get(30, TimeUnit.SECONDS)
                .lowWatermark();
        assertThat(lowWatermark).isEqualTo(10);
        assertThat(admin.listOffsets(Map.of(tp, OffsetSpec.earliest()))
                        .partitionResult(tp)
                        .get(30, TimeUnit.SECONDS)
                        .offset())
                .isEqualTo(10);
        List<ConsumerRecord<String, String>> deleted = consumeFresh("deleted-group", "earliest", topic, 20);
        assertThat(deleted.get(0).offset()).isEqualTo(10);
        assertThat(deleted).extracting(ConsumerRecord::value).containsExactlyElementsOf(values(10, 30));

        // ... and none fails with OffsetOutOfRangeException
        assertThat(pollForException(consumer("deleted-none-group", "none", Map.of()), topic))
                .isInstanceOf(OffsetOutOfRangeException.class);
    }

    private List<ConsumerRecord<String, String>> consumeFresh(String group, String reset, String topic, int count) {
        KafkaConsumer<String, String> consumer = consumer(group, reset, Map.of());
        consumer.subscribe(List.of(topic));
        List<ConsumerRecord<String, String>> received = new ArrayList<>();
        pollUntil(consumer, received, () -> received.size() >= count, Duration.ofSeconds(30), count + " records");
        pollFor(consumer, received, Duration.ofMillis(300));
        consumer.close();
        return received;
    }

    private static Exception pollForException(KafkaConsumer<String, String> consumer, String topic) {
        consumer.subscribe(List.of(topic));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            try {
                assertThat(consumer.poll(Duration.ofMillis(100)))
                        .as("no records without a position")
                        .isEmpty();
            } catch (NoOffsetForPartitionException | OffsetOutOfRangeException e) {
                return e;
            }
        }
        throw new AssertionError("poll did not fail within 30 s");
    }

    private static void alterOffset(Admin admin, String group, TopicPartition tp, long offset) throws Exception {
        admin.alterConsumerGroupOffsets(group, Map.of(tp, new OffsetAndMetadata(offset)))
                .all()
                .get(30, TimeUnit.SECONDS);
        assertThat(committedOffsets(admin, group)).containsEntry(tp, new OffsetAndMetadata(offset));
    }

    private static List<String> values(int from, int to) {
        List<String> values = new ArrayList<>();
        for (int i = from; i < to; i++) {
            values.add("r-" + i);
        }
        return values;
    }

    private static void produceSync(KafkaProducer<String, String> producer, String topic, int from, int count)
            throws Exception {
        for (int i = from; i < from + count; i++) {
            producer.send(new ProducerRecord<>(topic, "r-" + i)).get(30, TimeUnit.SECONDS);
        }
    }

    // ---- timeline checks ----

    /** Replays the timeline; see the class comment. */
    static List<String> ownershipViolations(List<Event> events) {
        Map<TopicPartition, String> owner = new HashMap<>();
        List<String> violations = new ArrayList<>();
        for (Event e : events) {
            switch (e.kind()) {
                case ASSIGNED -> {
                    for (TopicPartition p : e.partitions()) {
                        String previous = owner.put(p, e.member());
                        if (previous != null && !previous.equals(e.member())) {
                            violations.add(p + " assigned to " + e.member() + " at #" + e.seq() + " while " + previous
                                    + " owned it");
                        }
                    }
                }
                case REVOKED, LOST -> e.partitions().forEach(p -> owner.remove(p, e.member()));
                case CRASHED -> owner.values().removeIf(e.member()::equals);
                case PROCESSED -> {
                    for (TopicPartition p : e.partitions()) {
                        if (!e.member().equals(owner.get(p))) {
                            violations.add(e.member() + " processed " + p + " at #" + e.seq() + " while " + owner.get(p)
                                    + " owned it");
                        }
                    }
                }
                case STARTED, LEAVING -> {}
            }
        }
        return violations;
    }

    /**
     * Cooperative rebalancing: a partition revoked from a member that is not leaving is next assigned to another
     * member (a member never gives up a partition it gets back).
     */
    static List<String> cooperativeViolations(List<Event> events) {
        List<String> violations = new ArrayList<>();
        Set<String> leaving = new HashSet<>();
        for (int i = 0; i < events.size(); i++) {
            Event e = events.get(i);
            if (e.kind() == Kind.LEAVING) {
                leaving.add(e.member());
            }
            if (e.kind() != Kind.REVOKED || leaving.contains(e.member())) {
                continue;
            }
            for (TopicPartition p : e.partitions()) {
                Event next = null;
                for (int j = i + 1; j < events.size() && next == null; j++) {
                    Event later = events.get(j);
                    if (later.kind() == Kind.ASSIGNED && later.partitions().contains(p)) {
                        next = later;
                    }
                }
                if (next == null) {
                    violations.add(p + " revoked from " + e.member() + " at #" + e.seq() + " and never reassigned");
                } else if (next.member().equals(e.member())) {
                    violations.add(p + " revoked from " + e.member() + " at #" + e.seq() + " and given back at #"
                            + next.seq());
                }
            }
        }
        return violations;
    }

    /** Revocations of these members between two events. */
    static List<Event> revocationsBetween(List<Event> events, long fromSeq, long toSeq, Set<String> of) {
        return events.stream()
                .filter(e -> e.seq() > fromSeq && e.seq() <= toSeq)
                .filter(e -> e.kind() == Kind.REVOKED && !e.partitions().isEmpty() && of.contains(e.member()))
                .toList();
    }

    /**
     * The first assignment after {@code fromSeq} at which these members together own every partition, each of them
     * at least one; null if none.
     */
    static Event coveredBy(List<Event> events, long fromSeq, Set<String> live) {
        Map<TopicPartition, String> owner = new HashMap<>();
        for (Event e : events) {
            switch (e.kind()) {
                case ASSIGNED -> e.partitions().forEach(p -> owner.put(p, e.member()));
                case REVOKED, LOST -> e.partitions().forEach(p -> owner.remove(p, e.member()));
                case CRASHED -> owner.values().removeIf(e.member()::equals);
                default -> {}
            }
            if (e.seq() > fromSeq
                    && e.kind() == Kind.ASSIGNED
                    && owner.size() == PARTITIONS
                    && live.containsAll(owner.values())
                    && new HashSet<>(owner.values()).containsAll(live)) {
                return e;
            }
        }
        return null;
    }

    /** Prints the ownership changes (not the polls), with milliseconds since the first event. */
    private static void printTimeline(String label, List<Event> events) {
        long startNs = events.get(0).nanos();
        StringBuilder out = new StringBuilder("TIMELINE " + label + "\n");
        for (Event e : events) {
            if (e.kind() != Kind.PROCESSED) {
                out.append(String.format(
                        "  #%d +%dms %s %s %s%n",
                        e.seq(),
                        TimeUnit.NANOSECONDS.toMillis(e.nanos() - startNs),
                        e.member(),
                        e.kind(),
                        e.partitions().stream()
                                .map(TopicPartition::partition)
                                .sorted()
                                .toList()));
            }
        }
        System.out.print(out);
    }

    private static long seqOf(List<Event> events, String member, Kind kind) {
        return events.stream()
                .filter(e -> e.member().equals(member) && e.kind() == kind)
                .findFirst()
                .orElseThrow(() -> new AssertionError("no " + kind + " of " + member))
                .seq();
    }

    private static Event eventOf(List<Event> events, long seq) {
        return events.stream().filter(e -> e.seq() == seq).findFirst().orElseThrow();
    }

    // ---- at least once ----

    /**
     * Every acknowledged record was processed, at the partition and offset the producer was told; nothing was
     * processed that was not produced; a record's value is at one offset only (the idempotent producer wrote no
     * duplicates). Returns the records processed more than once, with their counts.
     */
    private static Map<Map.Entry<TopicPartition, Long>, Integer> assertAtLeastOnce(
            ChurnProducer producer, List<ChurnConsumer> consumers) {
        assertThat(producer.failure).as("the producer thread").isNull();
        Map<Map.Entry<TopicPartition, Long>, String> valueAt = new HashMap<>();
        Map<Map.Entry<TopicPartition, Long>, Integer> times = new HashMap<>();
        Map<String, Set<Map.Entry<TopicPartition, Long>>> offsetsOf = new HashMap<>();
        for (ChurnConsumer c : consumers) {
            for (Processed p : c.processed) {
                Map.Entry<TopicPartition, Long> at = Map.entry(p.tp(), p.offset());
                String before = valueAt.putIfAbsent(at, p.value());
                assertThat(before == null || before.equals(p.value()))
                        .as("one value at %s: %s and %s", at, before, p.value())
                        .isTrue();
                times.merge(at, 1, Integer::sum);
                offsetsOf.computeIfAbsent(p.value(), v -> new HashSet<>()).add(at);
            }
        }
        assertThat(offsetsOf.keySet()).as("processed ⊇ acknowledged").containsAll(producer.acked.keySet());
        assertThat(producer.sent).as("processed ⊆ produced").containsAll(offsetsOf.keySet());
        offsetsOf.forEach(
                (value, at) -> assertThat(at).as("offsets of " + value).hasSize(1));
        producer.acked.forEach((value, at) -> assertThat(offsetsOf.get(value))
                .as("where " + value + " was acknowledged")
                .containsExactly(at));
        Map<Map.Entry<TopicPartition, Long>, Integer> duplicates = new HashMap<>();
        times.forEach((at, n) -> {
            if (n > 1) {
                duplicates.put(at, n);
            }
        });
        return duplicates;
    }

    // ---- clients and waiting ----

    private void startCluster() throws Exception {
        bootstrap = InProcessCluster.start(
                dir,
                3,
                Map.of(
                        BrokerConfig.OFFSETS_TOPIC_NUM_PARTITIONS,
                        Integer.toString(OFFSETS_PARTITIONS),
                        "group.initial.rebalance.delay.ms",
                        "0"),
                nodes);
        servers = List.of(bootstrap.split(","));
    }

    private ChurnConsumer member(String name, String group, String assignor, ChurnConsumer.Timeline timeline) {
        ChurnConsumer member = new ChurnConsumer(name, bootstrap, group, TOPIC, assignor, timeline);
        members.add(member);
        return member.start();
    }

    /** Waits until these members own every partition between them, each at least one. */
    private static void awaitOwnership(List<ChurnConsumer> owners, String what) {
        awaitUntil(
                () -> {
                    Set<TopicPartition> all = new HashSet<>();
                    for (ChurnConsumer m : owners) {
                        if (m.failure != null) {
                            throw new AssertionError(m.name() + " failed", m.failure);
                        }
                        Set<TopicPartition> owned = m.owned();
                        if (owned.isEmpty()) {
                            return false;
                        }
                        all.addAll(owned);
                    }
                    return all.size() == PARTITIONS;
                },
                Duration.ofSeconds(60),
                what);
    }

    /** Waits until these members have processed {@code count} more records. */
    private static void awaitProcessed(List<ChurnConsumer> consumers, int count) {
        int before = consumers.stream().mapToInt(c -> c.processed.size()).sum();
        awaitUntil(
                () -> consumers.stream().mapToInt(c -> c.processed.size()).sum() >= before + count,
                Duration.ofSeconds(60),
                count + " more records processed");
    }

    /**
     * Waits until every acknowledged record has been processed and the group's committed offsets reached the log
     * end of every partition (the producer has stopped).
     */
    private static void awaitDrained(Admin admin, String group, ChurnProducer producer, List<ChurnConsumer> consumers)
            throws Exception {
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        for (int p = 0; p < PARTITIONS; p++) {
            latest.put(new TopicPartition(TOPIC, p), OffsetSpec.latest());
        }
        Map<TopicPartition, Long> end = new HashMap<>();
        admin.listOffsets(latest).all().get(60, TimeUnit.SECONDS).forEach((tp, info) -> end.put(tp, info.offset()));
        awaitUntil(
                () -> processedValues(consumers).containsAll(producer.acked.keySet()),
                Duration.ofSeconds(60),
                "every acknowledged record processed");
        Map<TopicPartition, Long> committed = new HashMap<>();
        awaitUntil(
                () -> {
                    committed.clear();
                    committedOffsets(admin, group).forEach((tp, o) -> committed.put(tp, o.offset()));
                    return committed.equals(end);
                },
                Duration.ofSeconds(60),
                "committed offsets reach the log end " + end + " (last read " + committed + ")");
    }

    private static Set<String> processedValues(List<ChurnConsumer> consumers) {
        Set<String> values = new HashSet<>();
        consumers.forEach(c -> c.processed.forEach(p -> values.add(p.value())));
        return values;
    }

    private static void joinQuietly(Thread thread) {
        try {
            thread.join(60_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static long seqOf(String value) {
        return Long.parseLong(value.substring(2));
    }

    private static Map<TopicPartition, OffsetAndMetadata> committedOffsets(Admin admin, String group) {
        try {
            Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>(admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata()
                    .get(10, TimeUnit.SECONDS));
            offsets.values().removeIf(java.util.Objects::isNull);
            return offsets;
        } catch (Exception e) {
            return Map.of();
        }
    }

    private static void awaitUntil(BooleanSupplier done, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!done.getAsBoolean()) {
            assertThat(System.nanoTime()).as(what + " within " + timeout).isLessThan(deadline);
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                throw new AssertionError("interrupted waiting for " + what, e);
            }
        }
    }

    private static void pollUntil(
            KafkaConsumer<String, String> consumer,
            List<ConsumerRecord<String, String>> received,
            BooleanSupplier done,
            Duration timeout,
            String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!done.getAsBoolean()) {
            assertThat(System.nanoTime()).as(what + " within " + timeout).isLessThan(deadline);
            consumer.poll(Duration.ofMillis(100)).forEach(received::add);
        }
    }

    private static void pollFor(
            KafkaConsumer<String, String> consumer, List<ConsumerRecord<String, String>> received, Duration duration) {
        long end = System.nanoTime() + duration.toNanos();
        while (System.nanoTime() < end) {
            consumer.poll(Duration.ofMillis(100)).forEach(received::add);
        }
    }

    private Admin admin(String servers) {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
        Admin admin = Admin.create(props);
        clients.add(admin);
        return admin;
    }

    private KafkaProducer<String, String> producer() {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        props.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "60000");
        KafkaProducer<String, String> producer =
                new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
        clients.add(producer);
        return producer;
    }

    private KafkaConsumer<String, String> consumer(String group, String reset, Map<String, String> extra) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, reset);
        props.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "6000");
        props.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "1000");
        props.putAll(extra);
        KafkaConsumer<String, String> consumer =
                new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
        clients.add(consumer);
        return consumer;
    }

    private ChurnProducer startProducer() {
        ChurnProducer producer = new ChurnProducer(producer());
        stoppers.add(() -> producer.stop = true);
        return producer;
    }

    /**
     * Writes {@code p-<seq>} values (keyed by the value, so spread over the partitions) from its own thread,
     * about 500 a second, until stopped; records what it sent and where each acknowledged record was written.
     */
    private static final class ChurnProducer {
        final KafkaProducer<String, String> producer;
        final Set<String> sent = ConcurrentHashMap.newKeySet();
        final Map<String, Map.Entry<TopicPartition, Long>> acked = new ConcurrentHashMap<>();
        final ConcurrentLinkedQueue<String> failed = new ConcurrentLinkedQueue<>();
        final Thread thread;
        volatile boolean stop;
        volatile long seq;
        volatile Throwable failure;

        ChurnProducer(KafkaProducer<String, String> producer) {
            this.producer = producer;
            this.thread = new Thread(this::run, "churn-producer");
            thread.setDaemon(true);
            thread.start();
        }

        private void run() {
            try {
                while (!stop) {
                    for (int i = 0; i < 5; i++) {
                        String value = "p-" + seq;
                        sent.add(value);
                        producer.send(new ProducerRecord<>(TOPIC, value, value), (metadata, exception) -> {
                            if (exception == null) {
                                acked.put(
                                        value,
                                        Map.entry(
                                                new TopicPartition(metadata.topic(), metadata.partition()),
                                                metadata.offset()));
                            } else {
                                failed.add(value + ": " + exception);
                            }
                        });
                        seq++;
                    }
                    Thread.sleep(10);
                }
                producer.flush();
            } catch (Throwable t) {
                failure = t;
            }
        }

        void stopAndFlush() throws InterruptedException {
            stop = true;
            thread.join(90_000);
            assertThat(thread.isAlive()).as("the producer stopped").isFalse();
        }
    }
}
