package dev.sluice.broker;

import static org.assertj.core.api.Assertions.assertThat;

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
 * Four real nodes in one JVM: a node that stays away longer than {@code node.failure.timeout.ms} has its
 * replicas replaced on the live nodes (a Raft membership change), so every partition is back to three
 * in-sync replicas with all its records; deleting the topic then removes its groups and files everywhere.
 */
@Timeout(value = 240, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class NodeFailureTest {
    private static final String TOPIC = "moving";
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
            Map<Integer, Integer> produced = produce(bootstrap, 400);

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
            assertThat(consume(bootstrap)).isEqualTo(produced);

            admin.deleteTopics(List.of(TOPIC)).all().get(30, TimeUnit.SECONDS);
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (System.nanoTime() < deadline && !leftovers().isEmpty()) {
                Thread.sleep(200);
            }
            assertThat(leftovers()).as("groups and files of the deleted topic").isEmpty();
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

    private static Map<Integer, Integer> produce(String bootstrap, int records) throws Exception {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        Map<Integer, Integer> counts = new HashMap<>();
        try (KafkaProducer<String, String> producer =
                new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
            List<java.util.concurrent.Future<RecordMetadata>> acks = new ArrayList<>();
            for (int i = 0; i < records; i++) {
                acks.add(producer.send(new ProducerRecord<>(TOPIC, "key-" + i, "value-" + i)));
            }
            for (var ack : acks) {
                counts.merge(ack.get(60, TimeUnit.SECONDS).partition(), 1, Integer::sum);
            }
        }
        return counts;
    }

    private static Map<Integer, Integer> consume(String bootstrap) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        Map<Integer, Integer> counts = new HashMap<>();
        try (KafkaConsumer<String, String> consumer =
                new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> tps = new ArrayList<>();
            for (int p = 0; p < PARTITIONS; p++) {
                tps.add(new TopicPartition(TOPIC, p));
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
