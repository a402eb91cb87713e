package dev.sluice.broker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.raft.ReplicaStatus;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * An idempotent acks=all producer of the Java client (five requests in flight, 16 KiB batches of 512-byte
 * records) writing to a topic from the moment it is created, while leadership moves: first the preferred-
 * leader transfers, then transfers forced by the test. Every send must succeed and every record be read
 * back exactly once, in order. A replica that answers one request NOT_LEADER_OR_FOLLOWER just before its
 * leadership is ready and appends the next ones used to leave the producer retrying its first batch with
 * OUT_OF_ORDER_SEQUENCE_NUMBER for ever (see {@code ProducerStates}).
 */
@Timeout(value = 150, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class IdempotentProduceAcrossLeaderMovesTest {
    private static final String TOPIC = "perf";
    private static final int PARTITIONS = 6;
    private static final int ROUNDS = 4;
    private static final int RECORDS_PER_ROUND = 3_000;

    @TempDir
    Path dir;

    final List<SluiceNode> nodes = new ArrayList<>();
    String bootstrap;

    @AfterEach
    void stop() {
        nodes.forEach(SluiceNode::close);
    }

    @Test
    void everyRecordIsWrittenOnceAndInOrder() throws Exception {
        startCluster(3);
        int moves = 0;
        for (int round = 0; round < ROUNDS; round++) {
            moves += produceToANewTopic(TOPIC + "-" + round);
        }
        assertThat(moves).as("leadership moves forced").isPositive();
    }

    /** Creates the topic and produces to it at once, leaders moving; returns the moves forced. */
    private int produceToANewTopic(String topic) throws Exception {
        Properties common = new Properties();
        common.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(common)) {
            admin.createTopics(List.of(new NewTopic(topic, PARTITIONS, (short) 3)))
                    .all()
                    .get(30, TimeUnit.SECONDS);
        }

        Properties producerProps = new Properties();
        producerProps.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        producerProps.put(ProducerConfig.ACKS_CONFIG, "all");
        producerProps.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        producerProps.put(ProducerConfig.LINGER_MS_CONFIG, "0");
        producerProps.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "20000");
        producerProps.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
        producerProps.put(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, "10");
        int records = RECORDS_PER_ROUND;
        AtomicBoolean moving = new AtomicBoolean(true);
        AtomicInteger moves = new AtomicInteger();
        Thread mover = new Thread(() -> moveLeaders(topic, moving, moves), "leader-mover");
        mover.start();
        Map<Integer, List<Integer>> sent = new HashMap<>();
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(producerProps, new ByteArraySerializer(), new ByteArraySerializer())) {
            List<Future<RecordMetadata>> acks = new ArrayList<>();
            for (int i = 0; i < records; i++) {
                acks.add(producer.send(new ProducerRecord<>(topic, i % PARTITIONS, null, value(i))));
            }
            for (int i = 0; i < records; i++) {
                RecordMetadata metadata = acks.get(i).get(60, TimeUnit.SECONDS);
                sent.computeIfAbsent(metadata.partition(), p -> new ArrayList<>())
                        .add(i);
            }
        } finally {
            moving.set(false);
            mover.join(10_000);
        }

        Properties consumerProps = new Properties();
        consumerProps.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        consumerProps.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        Map<Integer, List<Integer>> received = new HashMap<>();
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(consumerProps, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (int p = 0; p < PARTITIONS; p++) {
                partitions.add(new TopicPartition(topic, p));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            int count = 0;
            while (count < records && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    received.computeIfAbsent(r.partition(), p -> new ArrayList<>())
                            .add(index(r.value()));
                    count++;
                }
            }
        }
        assertThat(received)
                .as("%s read back after %d forced leader moves", topic, moves.get())
                .isEqualTo(sent);
        return moves.get();
    }

    /** Moves the leadership of every partition to another replica, over and over. */
    private void moveLeaders(String topic, AtomicBoolean moving, AtomicInteger moves) {
        int round = 0;
        while (moving.get()) {
            for (int p = 0; p < PARTITIONS && moving.get(); p++) {
                TopicPartition tp = new TopicPartition(topic, p);
                for (SluiceNode node : nodes) {
                    ReplicaStatus status = node.raft().status(tp);
                    if (status != null && status.isLeader()) {
                        int self = node.config().nodeId();
                        int target = (self + round % 2) % nodes.size() + 1;
                        try {
                            if (node.raft().transferLeadership(tp, Integer.toString(target), 2_000)) {
                                moves.incrementAndGet();
                            }
                        } catch (IOException | RuntimeException e) {
                            // not moved this time
                        }
                        break;
                    }
                }
            }
            round++;
            try {
                Thread.sleep(round < 20 ? 20 : 200); // often while the producers are new
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private static byte[] value(int index) {
        byte[] value = new byte[512];
        Arrays.fill(value, (byte) 'x');
        byte[] prefix = String.format("%10d", index).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(prefix, 0, value, 0, prefix.length);
        return value;
    }

    private static int index(byte[] value) {
        return Integer.parseInt(new String(value, 0, 10, StandardCharsets.US_ASCII).trim());
    }

    private void startCluster(int count) throws Exception {
        bootstrap = InProcessCluster.start(dir, count, Map.of(), nodes);
    }
}
