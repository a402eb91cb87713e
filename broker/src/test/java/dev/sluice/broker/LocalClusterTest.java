package dev.sluice.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
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
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three real nodes in one JVM on 127.0.0.1 (real Ratis servers, RocksDB, segment files), driven by the
 * Apache Kafka Java client: topics created through the Admin client, an idempotent acks=all producer,
 * a consumer in assign mode reading everything back in order.
 */
@Timeout(value = 180, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class LocalClusterTest {
    @TempDir
    Path dir;

    final List<SluiceNode> nodes = new ArrayList<>();
    String bootstrap;

    @AfterEach
    void stop() {
        nodes.forEach(SluiceNode::close);
    }

    private void startCluster(int count) throws Exception {
        int[] kafka = new int[count];
        int[] raft = new int[count];
        int[] http = new int[count];
        StringBuilder voters = new StringBuilder();
        StringBuilder servers = new StringBuilder();
        for (int i = 0; i < count; i++) {
            kafka[i] = freePort();
            raft[i] = freePort();
            http[i] = freePort();
            voters.append(i > 0 ? "," : "").append(i + 1).append("@127.0.0.1:").append(raft[i]);
            servers.append(i > 0 ? "," : "").append("127.0.0.1:").append(kafka[i]);
        }
        bootstrap = servers.toString();
        for (int i = 0; i < count; i++) {
            Map<String, String> settings = new HashMap<>();
            settings.put(BrokerConfig.NODE_ID, Integer.toString(i + 1));
            settings.put(BrokerConfig.LISTENERS, "127.0.0.1:" + kafka[i]);
            settings.put(BrokerConfig.RAFT_LISTENER, "127.0.0.1:" + raft[i]);
            settings.put(BrokerConfig.HTTP_LISTENER, "127.0.0.1:" + http[i]);
            settings.put(BrokerConfig.DATA_DIR, dir.resolve("node-" + (i + 1)).toString());
            settings.put(BrokerConfig.COORDINATOR_VOTERS, voters.toString());
            settings.put(BrokerConfig.DEFAULT_REPLICATION_FACTOR, Integer.toString(Math.min(3, count)));
            settings.put("raft.election.timeout.min.ms", "500");
            settings.put("raft.election.timeout.max.ms", "1000");
            nodes.add(SluiceNode.start(BrokerConfig.parse(settings)));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!nodes.stream().allMatch(SluiceNode::ready)) {
            assertThat(System.nanoTime()).as("every node ready within 60 s").isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    @Test
    void aProducerAndAConsumerOfTheJavaClientWorkAgainstThreeNodes() throws Exception {
        startCluster(3);
        Properties common = new Properties();
        common.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(common)) {
            admin.createTopics(List.of(new NewTopic("events", 6, (short) 3)))
                    .all()
                    .get(30, TimeUnit.SECONDS);
            TopicDescription description = admin.describeTopics(List.of("events"))
                    .allTopicNames()
                    .get(30, TimeUnit.SECONDS)
                    .get("events");
            assertThat(description.partitions()).hasSize(6);
            assertThat(admin.describeCluster().nodes().get(30, TimeUnit.SECONDS))
                    .hasSize(3);
        }

        Properties producerProps = new Properties();
        producerProps.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        producerProps.put(ProducerConfig.ACKS_CONFIG, "all");
        producerProps.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        producerProps.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "60000");
        int records = 2_000;
        Map<Integer, List<String>> sent = new HashMap<>();
        try (KafkaProducer<String, String> producer =
                new KafkaProducer<>(producerProps, new StringSerializer(), new StringSerializer())) {
            List<Future<RecordMetadata>> acks = new ArrayList<>();
            for (int i = 0; i < records; i++) {
                acks.add(producer.send(new ProducerRecord<>("events", "key-" + (i % 37), "value-" + i)));
            }
            for (int i = 0; i < records; i++) {
                RecordMetadata metadata = acks.get(i).get(60, TimeUnit.SECONDS);
                sent.computeIfAbsent(metadata.partition(), p -> new ArrayList<>())
                        .add("value-" + i);
            }
        }

        Properties consumerProps = new Properties();
        consumerProps.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        consumerProps.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        Map<Integer, List<String>> received = new HashMap<>();
        try (KafkaConsumer<String, String> consumer =
                new KafkaConsumer<>(consumerProps, new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (int p = 0; p < 6; p++) {
                partitions.add(new TopicPartition("events", p));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            int count = 0;
            while (count < records && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    received.computeIfAbsent(r.partition(), p -> new ArrayList<>())
                            .add(r.value());
                    count++;
                }
            }
        }
        assertThat(received).isEqualTo(sent);
    }
}
