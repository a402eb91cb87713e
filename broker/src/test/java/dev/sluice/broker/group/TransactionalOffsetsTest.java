package dev.sluice.broker.group;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.broker.InProcessCluster;
import dev.sluice.broker.SluiceNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsOptions;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsSpec;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A smoke test of transactional offset commits through the real path (TxnOffsetCommit to the group's
 * coordinator, a transactional batch in its {@code __consumer_offsets} partition, the transaction coordinator's
 * markers): a Kafka producer's {@code sendOffsetsToTransaction} commits with its transaction and not on abort.
 */
@Timeout(value = 180, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class TransactionalOffsetsTest {
    private static final String GROUP = "txn-group";

    @TempDir
    Path dir;

    private final List<SluiceNode> nodes = new ArrayList<>();
    private String bootstrap;

    @AfterEach
    void stop() {
        nodes.forEach(SluiceNode::close);
    }

    @Test
    void offsetsSentToATransactionAreCommittedWithItAndDroppedOnAbort() throws Exception {
        bootstrap = InProcessCluster.start(dir, 3, Map.of(), nodes);
        TopicPartition orders = new TopicPartition("orders", 0);
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic("orders", 1, (short) 3)))
                    .all()
                    .get(30, TimeUnit.SECONDS);
        }
        try (KafkaProducer<String, String> producer = producer("tx-offsets")) {
            producer.initTransactions();

            producer.beginTransaction();
            producer.send(new ProducerRecord<>("orders", 0, "k", "v1"));
            producer.sendOffsetsToTransaction(Map.of(orders, new OffsetAndMetadata(10, "first")), group());
            producer.commitTransaction();
            assertThat(committed(orders)).isEqualTo(10);

            producer.beginTransaction();
            producer.sendOffsetsToTransaction(Map.of(orders, new OffsetAndMetadata(20)), group());
            producer.abortTransaction();
            assertThat(committed(orders)).isEqualTo(10);

            producer.beginTransaction();
            producer.sendOffsetsToTransaction(Map.of(orders, new OffsetAndMetadata(30)), group());
            producer.commitTransaction();
            assertThat(committed(orders)).isEqualTo(30);
        }
    }

    /**
     * The offsets partition of the group changes leader while the transaction is open: the new coordinator loads
     * the pending offset from its view, and the COMMIT marker that arrives later makes it the committed offset.
     */
    @Test
    void pendingOffsetsSurviveAMoveOfTheOffsetsPartitionsLeader() throws Exception {
        bootstrap = InProcessCluster.start(dir, 3, Map.of(), nodes);
        TopicPartition orders = new TopicPartition("orders", 0);
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic("orders", 1, (short) 3)))
                    .all()
                    .get(30, TimeUnit.SECONDS);
        }
        try (KafkaProducer<String, String> producer = producer("tx-failover")) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>("orders", 0, "k", "v1"));
            producer.sendOffsetsToTransaction(Map.of(orders, new OffsetAndMetadata(40)), group());

            moveLeaderOf(offsetsPartitionOf(GROUP));

            producer.commitTransaction();
            assertThat(committed(orders)).isEqualTo(40);
        }
    }

    private TopicPartition offsetsPartitionOf(String groupId) {
        long count = nodes.get(0).raft().partitions().stream()
                .filter(tp -> tp.topic().equals(GroupCoordinatorService.OFFSETS_TOPIC))
                .count();
        return new TopicPartition(
                GroupCoordinatorService.OFFSETS_TOPIC,
                dev.sluice.coordinator.group.GroupCoordinatorState.partitionFor(groupId, (int) count));
    }

    private void moveLeaderOf(TopicPartition tp) throws Exception {
        long deadlineMs = System.currentTimeMillis() + 30_000;
        while (System.currentTimeMillis() < deadlineMs) {
            for (SluiceNode node : nodes) {
                dev.sluice.raft.ReplicaStatus status = node.raft().status(tp);
                if (status != null && status.isLeader()) {
                    int self = node.config().nodeId();
                    int target = self % nodes.size() + 1;
                    try {
                        if (node.raft().transferLeadership(tp, Integer.toString(target), 5_000)) {
                            return;
                        }
                    } catch (java.io.IOException | RuntimeException e) {
                        // try again
                    }
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the leadership of " + tp + " did not move");
    }

    /**
     * The group's committed offset once stable: EndTxn does not wait for the markers, so while the marker has
     * not reached the offsets partition a stable fetch answers UNSTABLE_OFFSET_COMMIT for the partition (which
     * the admin client reports as no offset) and the fetch is repeated.
     */
    private long committed(TopicPartition tp) throws Exception {
        long deadlineMs = System.currentTimeMillis() + 30_000;
        try (Admin admin = admin()) {
            while (true) {
                OffsetAndMetadata offset = admin.listConsumerGroupOffsets(
                                Map.of(GROUP, new ListConsumerGroupOffsetsSpec().topicPartitions(List.of(tp))),
                                new ListConsumerGroupOffsetsOptions().requireStable(true))
                        .partitionsToOffsetAndMetadata(GROUP)
                        .get(30, TimeUnit.SECONDS)
                        .get(tp);
                if (offset != null || System.currentTimeMillis() > deadlineMs) {
                    return offset == null ? -1 : offset.offset();
                }
                Thread.sleep(100);
            }
        }
    }

    /** A group's metadata as a consumer outside the group protocol gives it (tests build it themselves). */
    @SuppressWarnings("removal")
    private static ConsumerGroupMetadata group() {
        return new ConsumerGroupMetadata(GROUP);
    }

    private KafkaProducer<String, String> producer(String transactionalId) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        props.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 20_000);
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 60_000);
        return new KafkaProducer<>(props);
    }

    private Admin admin() {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        return Admin.create(props);
    }
}
