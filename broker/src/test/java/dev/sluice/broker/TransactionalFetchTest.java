package dev.sluice.broker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.broker.kafka.PartitionApis;
import dev.sluice.raft.AppendOutcome;
import dev.sluice.raft.RaftNode;
import dev.sluice.raft.ReplicaStatus;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.requests.InitProducerIdRequest;
import org.apache.kafka.common.requests.InitProducerIdResponse;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.ProduceResponse;
import org.apache.kafka.common.requests.TransactionResult;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.ratis.protocol.RaftPeer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The partition side of transactions end to end on a 3-node cluster: transactional batches produced with
 * raw Produce requests, COMMIT/ABORT markers written with {@link RaftNode#writeTxnMarker} (the transaction
 * coordinator's job), and real Kafka consumers: read_committed sees exactly the committed records, in
 * order, and stops at the open transaction; read_uncommitted sees every data record.
 */
@Timeout(value = 150, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class TransactionalFetchTest {
    private static final String TOPIC = "ledger";
    private static final TopicPartition TP = new TopicPartition(TOPIC, 0);

    @TempDir
    Path dir;

    final List<SluiceNode> nodes = new ArrayList<>();
    String bootstrap;

    @AfterEach
    void stop() {
        nodes.forEach(SluiceNode::close);
    }

    @Test
    void readCommittedSeesExactlyTheCommittedRecordsAndStopsAtTheOpenTransaction() throws Exception {
        bootstrap = InProcessCluster.start(dir, 3, Map.of(), nodes);
        // the partition side alone: no transaction coordinator knows these transactional ids
        nodes.forEach(n -> n.partitionApis().setTransactionVerifier(PartitionApis.TransactionVerifier.ALLOW));
        Properties adminProps = new Properties();
        adminProps.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(adminProps)) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 3))).all().get(30, TimeUnit.SECONDS);
        }
        long a = initProducerId();
        long b = initProducerId();
        long c = initProducerId();

        produce("t-a", txn(a, 0, "a0", "a1", "a2")); // 0-2
        produce("t-b", txn(b, 0, "b0", "b1")); // 3-4
        produce(null, MemoryRecords.withRecords(Compression.NONE, new SimpleRecord("p0".getBytes()))); // 5
        assertThat(marker(a, TransactionResult.COMMIT).firstOffset()).isEqualTo(6);
        assertThat(marker(b, TransactionResult.ABORT).firstOffset()).isEqualTo(7);
        produce("t-a", txn(a, 3, "a3")); // 8
        assertThat(marker(a, TransactionResult.COMMIT).firstOffset()).isEqualTo(9);
        produce("t-c", txn(c, 0, "c0")); // 10, left open
        produce(null, MemoryRecords.withRecords(Compression.NONE, new SimpleRecord("p1".getBytes()))); // 11
        produce("t-b", txn(b, 2, "b2")); // 12
        assertThat(marker(b, TransactionResult.COMMIT).firstOffset()).isEqualTo(13);

        // Kafka refuses transactional batches without a transactional id, and a plain batch of a producer
        // whose transaction is open.
        assertThat(produceError(null, txn(c, 1, "c1"))).isEqualTo(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
        assertThat(produceError(
                        null,
                        MemoryRecords.withIdempotentRecords(
                                Compression.NONE, c, (short) 0, 1, new SimpleRecord("x".getBytes()))))
                .isEqualTo(Errors.INVALID_TXN_STATE);

        assertThat(consume("read_committed", 5)).containsExactly("a0", "a1", "a2", "p0", "a3");
        assertThat(consume("read_uncommitted", 10))
                .containsExactly("a0", "a1", "a2", "b0", "b1", "p0", "a3", "c0", "p1", "b2");
    }

    private SluiceNode leader() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            for (SluiceNode node : nodes) {
                ReplicaStatus status = node.raft().status(TP);
                if (status != null && status.isLeader()) {
                    return node;
                }
            }
            sleep(50);
        }
        throw new AssertionError("no leader of " + TP);
    }

    private long initProducerId() throws Exception {
        InitProducerIdRequest request = new InitProducerIdRequest.Builder(new InitProducerIdRequestData()
                        .setTransactionalId(null)
                        .setTransactionTimeoutMs(60_000)
                        .setProducerId(-1)
                        .setProducerEpoch((short) -1))
                .build((short) 4);
        InitProducerIdResponse response =
                (InitProducerIdResponse) InProcessCluster.sendRaw(nodes.get(0).kafkaPort(), request);
        assertThat(response.error()).isEqualTo(Errors.NONE);
        return response.data().producerId();
    }

    private static MemoryRecords txn(long producerId, int sequence, String... values) {
        SimpleRecord[] records = new SimpleRecord[values.length];
        for (int i = 0; i < values.length; i++) {
            records[i] = new SimpleRecord(values[i].getBytes(StandardCharsets.UTF_8));
        }
        return MemoryRecords.withTransactionalRecords(Compression.NONE, producerId, (short) 0, sequence, records);
    }

    /** Produces, again while the leadership moves (a refused batch was not appended, so resending is safe). */
    private void produce(String transactionalId, MemoryRecords records) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        Errors error = produceError(transactionalId, records);
        while (error == Errors.NOT_LEADER_OR_FOLLOWER && System.nanoTime() < deadline) {
            Thread.sleep(100);
            error = produceError(transactionalId, records);
        }
        assertThat(error).isEqualTo(Errors.NONE);
    }

    private Errors produceError(String transactionalId, MemoryRecords records) throws Exception {
        ProduceRequestData data = new ProduceRequestData()
                .setAcks((short) -1)
                .setTimeoutMs(30_000)
                .setTransactionalId(transactionalId);
        ProduceRequestData.TopicProduceData topic = new ProduceRequestData.TopicProduceData().setName(TOPIC);
        topic.partitionData()
                .add(new ProduceRequestData.PartitionProduceData().setIndex(0).setRecords(records));
        data.topicData().add(topic);
        ProduceResponse response =
                (ProduceResponse) InProcessCluster.sendRaw(leader().kafkaPort(), new ProduceRequest(data, (short) 11));
        var partition = response.data()
                .responses()
                .iterator()
                .next()
                .partitionResponses()
                .get(0);
        return Errors.forCode(partition.errorCode());
    }

    /** What the transaction coordinator will do: write a marker through Raft, from any node. */
    private AppendOutcome marker(long producerId, TransactionResult result) throws Exception {
        RaftNode from = nodes.get(2).raft();
        List<RaftPeer> replicas = new ArrayList<>(
                leader().raft().division(RaftNode.groupIdOf(TP)).getGroup().getPeers());
        AppendOutcome outcome = from.writeTxnMarker(TP, replicas, producerId, (short) 0, 0, result, 30_000)
                .get(40, TimeUnit.SECONDS);
        assertThat(outcome.error()).as(outcome.errorMessage()).isEqualTo(Errors.NONE);
        return outcome;
    }

    /** Reads the partition from the start until {@code expected} records arrived and 2 s pass with no more. */
    private List<String> consume(String isolation, int expected) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props)) {
            consumer.assign(List.of(TP));
            consumer.seekToBeginning(List.of(TP));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            long quietUntil = Long.MAX_VALUE;
            while (System.nanoTime() < Math.min(deadline, quietUntil)) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
                    values.add(record.value());
                }
                if (values.size() >= expected && quietUntil == Long.MAX_VALUE) {
                    quietUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
                }
            }
            long end = consumer.endOffsets(List.of(TP)).get(TP);
            assertThat(end)
                    .as("end offset under %s", isolation)
                    .isEqualTo(isolation.equals("read_committed") ? 10 : 14);
            assertThat(consumer.position(TP)).as("position under %s", isolation).isEqualTo(end);
        }
        return values;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
