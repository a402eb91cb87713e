package dev.sluice.broker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.raft.RaftNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real nodes in one JVM: a node that stays away longer than {@code node.failure.timeout.ms} has its
 * replicas replaced on the live nodes (a Raft membership change), so every partition is back to three
 * in-sync replicas with all its records; deleting the topic then removes its groups and files everywhere.
 */
@Timeout(value = 240, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class NodeFailureTest {
    private static final String TOPIC = "moving";
    private static final String QUIET = "quiet";
    private static final int PARTITIONS = 4;

    @TempDir
    Path dir;

    final List<SluiceNode> nodes = new ArrayList<>();

    @AfterEach
    void stop() {
        nodes.forEach(SluiceNode::close);
    }

    @Test
    void aDeadNodesReplicasMoveToLiveNodesAndDeletionRemovesEverything() throws Exception {
        String bootstrap = InProcessCluster.start(dir, 4, Map.of(BrokerConfig.NODE_FAILURE_TIMEOUT_MS, "4000"), nodes);
        Properties common = new Properties();
        common.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(common)) {
            admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 3)))
                    .all()
                    .get(30, TimeUnit.SECONDS);
            Map<Integer, Integer> produced = produce(bootstrap, TOPIC, 400, 16384);

            // Node 4 (not a coordinator voter) holds replicas of most partitions; it goes away for good.
            SluiceNode victim = nodes.remove(3);
            victim.close();

            List<TopicPartitionInfo> partitions = List.of();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (System.nanoTime() < deadline) {
                partitions = describe(admin).partitions();
                if (partitions.stream()
                        .allMatch(p -> ids(p.replicas()).size() == 3
                                && !ids(p.replicas()).contains(4)
                                && ids(p.isr()).size() == 3
                                && p.leader() != null
                                && p.leader().id() != 4)) {
                    break;
                }
                Thread.sleep(500);
            }
            assertThat(partitions)
                    .as("every partition back to three in-sync replicas on live nodes")
                    .allSatisfy(p -> {
                        assertThat(ids(p.replicas())).hasSize(3).doesNotContain(4);
                        assertThat(ids(p.isr())).hasSize(3);
                    });
            assertThat(consume(bootstrap, TOPIC)).isEqualTo(produced);

            admin.deleteTopics(List.of(TOPIC)).all().get(30, TimeUnit.SECONDS);
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (System.nanoTime() < deadline && !leftovers().isEmpty()) {
                Thread.sleep(200);
            }
            assertThat(leftovers()).as("groups and files of the deleted topic").isEmpty();
        }
    }

    /**
     * {@code sluice chaos} seed 201: node 5 went away for good and its replicas moved to live nodes, but the
     * new replicas never caught up — a partition whose leader had no snapshot sent the new replica an install
     * it could not do, and new replicas, created before their leader added them, were shut down by Ratis and
     * stayed closed. Here five nodes on the Netty transport (as chaos runs), one topic whose leaders have
     * purged their Raft logs behind snapshots (a new replica must install) and one with a few records (no
     * snapshot anywhere), writes going on throughout: every partition is back to three in-sync replicas on
     * live nodes, with every acknowledged record, and no live node keeps a closed replica.
     */
    @Test
    void aRemovedNodesReplicasAreReplacedWhileWritesContinueWithOrWithoutSnapshots() throws Exception {
        Map<String, String> settings = new HashMap<>();
        settings.put(BrokerConfig.NODE_FAILURE_TIMEOUT_MS, "4000");
        settings.put("raft.rpc.type", "netty");
        settings.put("raft.snapshot.threshold.entries", "40");
        settings.put("raft.log.purge.gap.entries", "10");
        settings.put("raft.log.segment.bytes", "8192");
        settings.put("log.segment.bytes", "16384");
        String bootstrap = InProcessCluster.start(dir, 5, settings, nodes);
        Properties common = new Properties();
        common.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(common)) {
            admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 3), new NewTopic(QUIET, 3, (short) 3)))
                    .all()
                    .get(30, TimeUnit.SECONDS);
            Map<Integer, Integer> produced = produce(bootstrap, TOPIC, 800, 1); // a Raft entry per record
            Map<Integer, Integer> quiet = produce(bootstrap, QUIET, 3, 16384);
            awaitLeadersPurged(TOPIC);

            // Node 5 (not a coordinator voter) goes away for good while a producer keeps writing.
            int unacknowledged;
            try (BackgroundProducer writes = new BackgroundProducer(bootstrap)) {
                nodes.remove(4).close();
                awaitReplaced(admin, List.of(TOPIC, QUIET), 5);
                writes.stop().forEach((partition, count) -> produced.merge(partition, count, Integer::sum));
                unacknowledged = writes.failed.get();
            }
            Map<Integer, Integer> consumed = consume(bootstrap, TOPIC);
            if (unacknowledged == 0) {
                assertThat(consumed).isEqualTo(produced);
            } else { // a send that failed may have been written
                produced.forEach((partition, count) ->
                        assertThat(consumed.getOrDefault(partition, 0)).isGreaterThanOrEqualTo(count));
            }
            assertThat(consume(bootstrap, QUIET)).isEqualTo(quiet);
            assertThat(closedReplicas())
                    .as("replicas Ratis closed on live nodes")
                    .isEmpty();
        }
    }

    /** Waits until no leader of the topic's partitions holds its Raft log from the start (snapshots purged it). */
    private void awaitLeadersPurged(String topic) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        List<String> unpurged = List.of("?");
        while (System.nanoTime() < deadline && !unpurged.isEmpty()) {
            unpurged = new ArrayList<>();
            for (int p = 0; p < PARTITIONS; p++) {
                TopicPartition tp = new TopicPartition(topic, p);
                boolean purged = false;
                for (SluiceNode node : nodes) {
                    var status = node.raft().status(tp);
                    if (status != null && status.isLeader()) {
                        purged = node.raft()
                                        .division(RaftNode.groupIdOf(tp))
                                        .getRaftLog()
                                        .getStartIndex()
                                > 0;
                    }
                }
                if (!purged) {
                    unpurged.add(tp.toString());
                }
            }
            Thread.sleep(200);
        }
        assertThat(unpurged)
                .as("partitions whose leader still has its whole Raft log")
                .isEmpty();
    }

    private void awaitReplaced(Admin admin, List<String> topics, int gone) throws Exception {
        List<TopicPartitionInfo> partitions = List.of();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            partitions = admin.describeTopics(topics).allTopicNames().get(30, TimeUnit.SECONDS).values().stream()
                    .flatMap(d -> d.partitions().stream())
                    .toList();
            if (partitions.stream()
                    .allMatch(p -> ids(p.replicas()).size() == 3
                            && !ids(p.replicas()).contains(gone)
                            && ids(p.isr()).size() == 3
                            && p.leader() != null
                            && p.leader().id() != gone)) {
                break;
            }
            Thread.sleep(500);
        }
        assertThat(partitions)
                .as("every partition back to three in-sync replicas on live nodes")
                .allSatisfy(p -> {
                    assertThat(ids(p.replicas())).hasSize(3).doesNotContain(gone);
                    assertThat(ids(p.isr())).hasSize(3);
                });
    }

    /** The replicas live nodes hold whose Raft division Ratis closed. */
    private List<String> closedReplicas() throws Exception {
        List<String> closed = new ArrayList<>();
        for (SluiceNode node : nodes) {
            for (TopicPartition tp : node.raft().partitions()) {
                var state =
                        node.raft().division(RaftNode.groupIdOf(tp)).getInfo().getLifeCycleState();
                if (state.isClosingOrClosed()) {
                    closed.add("node " + node.config().nodeId() + " " + tp + " " + state);
                }
            }
        }
        return closed;
    }

    /** Writes records to {@link #TOPIC} one after another until stopped; counts the acknowledged ones. */
    private static final class BackgroundProducer implements AutoCloseable {
        private final KafkaProducer<String, String> producer;
        private final Map<Integer, Integer> acknowledged = new java.util.concurrent.ConcurrentHashMap<>();
        private final java.util.concurrent.atomic.AtomicBoolean running =
                new java.util.concurrent.atomic.AtomicBoolean(true);
        final java.util.concurrent.atomic.AtomicInteger failed = new java.util.concurrent.atomic.AtomicInteger();
        private final Thread thread;

        BackgroundProducer(String bootstrap) {
            Properties props = new Properties();
            props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            props.put(ProducerConfig.ACKS_CONFIG, "all");
            props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
            props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "120000");
            producer = new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
            thread = new Thread(
                    () -> {
                        for (int i = 0; running.get(); i++) {
                            try {
                                RecordMetadata ack = producer.send(new ProducerRecord<>(TOPIC, "more-" + i, "v" + i))
                                        .get(120, TimeUnit.SECONDS);
                                acknowledged.merge(ack.partition(), 1, Integer::sum);
                                Thread.sleep(20);
                            } catch (InterruptedException e) {
                                return;
                            } catch (Exception e) {
                                failed.incrementAndGet(); // not acknowledged; it may still have been written once
                            }
                        }
                    },
                    "background-producer");
            thread.start();
        }

        /** Stops writing; the acknowledged records by partition. */
        Map<Integer, Integer> stop() throws InterruptedException {
            running.set(false);
            thread.join(150_000);
            return Map.copyOf(acknowledged);
        }

        @Override
        public void close() {
            running.set(false);
            try {
                thread.join(150_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            producer.close(Duration.ofSeconds(10));
        }
    }

    /** What any live node still holds of the topic: its groups, and files under the data directory. */
    private List<String> leftovers() throws Exception {
        List<String> found = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            int node = i + 1;
            nodes.get(i).raft().partitions().stream()
                    .filter(tp -> tp.topic().equals(TOPIC))
                    .forEach(tp -> found.add("node " + node + " group " + tp));
            try (Stream<Path> walk = Files.walk(dir.resolve("node-" + node))) {
                walk.filter(p -> p.getFileName().toString().startsWith(TOPIC + "-"))
                        .forEach(p -> found.add("node " + node + " file " + p));
            }
        }
        return found;
    }

    private static TopicDescription describe(Admin admin) throws Exception {
        return admin.describeTopics(List.of(TOPIC))
                .allTopicNames()
                .get(30, TimeUnit.SECONDS)
                .get(TOPIC);
    }

    private static List<Integer> ids(List<Node> nodes) {
        return nodes.stream().map(Node::id).toList();
    }

    private static Map<Integer, Integer> produce(String bootstrap, String topic, int records, int batchBytes)
            throws Exception {
        Properties props = new Properties();
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, Integer.toString(batchBytes));
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        Map<Integer, Integer> counts = new HashMap<>();
        try (KafkaProducer<String, String> producer =
                new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
            List<java.util.concurrent.Future<RecordMetadata>> acks = new ArrayList<>();
            for (int i = 0; i < records; i++) {
                acks.add(producer.send(new ProducerRecord<>(topic, "key-" + i, "value-" + i)));
            }
            for (var ack : acks) {
                counts.merge(ack.get(60, TimeUnit.SECONDS).partition(), 1, Integer::sum);
            }
        }
        return new HashMap<>(counts);
    }

    private static Map<Integer, Integer> consume(String bootstrap, String topic) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        Map<Integer, Integer> counts = new HashMap<>();
        try (KafkaConsumer<String, String> consumer =
                new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> tps = new ArrayList<>();
            for (var info : consumer.partitionsFor(topic)) {
                tps.add(new TopicPartition(topic, info.partition()));
            }
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            Map<TopicPartition, Long> ends = consumer.endOffsets(tps, Duration.ofSeconds(30));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!tps.stream().allMatch(tp -> consumer.position(tp) >= ends.get(tp))
                    && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    counts.merge(r.partition(), 1, Integer::sum);
                }
            }
        }
        return counts;
    }
}
