package dev.sluice.broker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.broker.kafka.PartitionApis;
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
import org.apache.kafka.common.message.DescribeProducersRequestData;
import org.apache.kafka.common.message.DescribeProducersResponseData.PartitionResponse;
import org.apache.kafka.common.message.DescribeProducersResponseData.ProducerState;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.requests.DescribeProducersRequest;
import org.apache.kafka.common.requests.DescribeProducersResponse;
import org.apache.kafka.common.requests.InitProducerIdRequest;
import org.apache.kafka.common.requests.InitProducerIdResponse;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.ProduceResponse;
import org.apache.kafka.common.requests.TransactionResult;
import org.apache.kafka.common.requests.WriteTxnMarkersRequest;
import org.apache.kafka.common.requests.WriteTxnMarkersResponse;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The partition-side transaction admin APIs on a 3-node cluster, with raw requests: DescribeProducers shows a
 * transaction left open by a producer, WriteTxnMarkers aborts it (the last stable offset moves past it and a
 * read_committed consumer never sees its records), and a marker of an older producer or coordinator epoch is
 * refused as Kafka refuses it.
 */
@Timeout(value = 150, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class TransactionAdminApisTest {
    private static final String TOPIC = "ledger";
    private static final TopicPartition TP = new TopicPartition(TOPIC, 0);
    private static final TopicPartition MISSING = new TopicPartition("missing", 0);

    @TempDir
    Path dir;

    final List<SluiceNode> nodes = new ArrayList<>();
    String bootstrap;

    @AfterEach
    void stop() {
        nodes.forEach(SluiceNode::close);
    }

    @Test
    void shouldDescribeAnOpenTransactionAndAbortItWithWriteTxnMarkers() throws Exception {
        bootstrap = InProcessCluster.start(dir, 3, Map.of(), nodes);
        // the partition side alone: no transaction coordinator knows this producer's transactions
        nodes.forEach(n -> n.partitionApis().setTransactionVerifier(PartitionApis.TransactionVerifier.ALLOW));
        createTopic();
        long producerId = initProducerId();

        produce("t-hanging", txn(producerId, 0, "h0", "h1")); // 0-1, left open
        produce(null, MemoryRecords.withRecords(Compression.NONE, new SimpleRecord("p0".getBytes()))); // 2

        ProducerState open = onlyProducer(describeProducers(leader().kafkaPort()));
        assertThat(open.producerId()).isEqualTo(producerId);
        assertThat(open.producerEpoch()).isZero();
        assertThat(open.lastSequence()).isEqualTo(1);
        assertThat(open.coordinatorEpoch()).isEqualTo(-1);
        assertThat(open.currentTxnStartOffset()).isZero();
        assertThat(open.lastTimestamp()).isPositive();
        assertThat(leader().raft().stateMachine(TP).lastStableOffset()).isZero();

        // Admin.abortTransaction's request, here sent to a follower: any node writes the marker through Raft
        Map<TopicPartition, Errors> aborted = writeMarker(
                follower().kafkaPort(), producerId, (short) 0, 5, TransactionResult.ABORT, (short) 1, TP, MISSING);
        assertThat(aborted).containsEntry(TP, Errors.NONE).containsEntry(MISSING, Errors.UNKNOWN_TOPIC_OR_PARTITION);

        ProducerState ended = onlyProducer(describeProducers(leader().kafkaPort()));
        assertThat(ended.currentTxnStartOffset()).isEqualTo(-1);
        assertThat(ended.coordinatorEpoch()).isEqualTo(5);
        awaitLastStableOffset(4); // h0, h1, p0, the ABORT marker
        assertThat(readCommitted(4)).containsExactly("p0");
    }

    @Test
    void shouldRefuseMarkersOfAnOlderCoordinatorOrProducerEpoch() throws Exception {
        bootstrap = InProcessCluster.start(dir, 3, Map.of(), nodes);
        nodes.forEach(n -> n.partitionApis().setTransactionVerifier(PartitionApis.TransactionVerifier.ALLOW));
        createTopic();
        long producerId = initProducerId();
        produce("t-fenced", txn(producerId, 0, "a0")); // 0
        assertThat(writeMarker(leader().kafkaPort(), producerId, (short) 0, 3, TransactionResult.COMMIT, (short) 2, TP))
                .containsEntry(TP, Errors.NONE); // 1

        produce("t-fenced", txn(producerId, 1, "a1")); // 2
        assertThat(writeMarker(leader().kafkaPort(), producerId, (short) 0, 2, TransactionResult.ABORT, (short) 2, TP))
                .containsEntry(TP, Errors.TRANSACTION_COORDINATOR_FENCED);
        assertThat(onlyProducer(describeProducers(leader().kafkaPort())).currentTxnStartOffset())
                .isEqualTo(2);

        // a marker of a newer producer epoch ends the transaction and fences the older epoch's markers
        assertThat(writeMarker(leader().kafkaPort(), producerId, (short) 1, 3, TransactionResult.ABORT, (short) 1, TP))
                .containsEntry(TP, Errors.NONE); // 3
        assertThat(writeMarker(leader().kafkaPort(), producerId, (short) 0, 3, TransactionResult.ABORT, (short) 1, TP))
                .containsEntry(TP, Errors.INVALID_PRODUCER_EPOCH);
        ProducerState state = onlyProducer(describeProducers(leader().kafkaPort()));
        assertThat(state.producerEpoch()).isEqualTo(1);
        assertThat(state.currentTxnStartOffset()).isEqualTo(-1);
        awaitLastStableOffset(4);
        assertThat(readCommitted(4)).containsExactly("a0");
    }

    @Test
    void shouldAnswerDescribeProducersOnlyOnThePartitionsLeader() throws Exception {
        bootstrap = InProcessCluster.start(dir, 3, Map.of(), nodes);
        createTopic();
        assertThat(describeProducers(leader().kafkaPort()).errorCode()).isEqualTo(Errors.NONE.code());
        assertThat(describeProducers(leader().kafkaPort()).activeProducers()).isEmpty();
        PartitionResponse onFollower = describeProducers(follower().kafkaPort());
        assertThat(Errors.forCode(onFollower.errorCode())).isEqualTo(Errors.NOT_LEADER_OR_FOLLOWER);

        DescribeProducersRequestData missing = new DescribeProducersRequestData();
        missing.topics()
                .add(new DescribeProducersRequestData.TopicRequest()
                        .setName(MISSING.topic())
                        .setPartitionIndexes(List.of(0)));
        DescribeProducersResponse response = (DescribeProducersResponse) InProcessCluster.sendRaw(
                leader().kafkaPort(), new DescribeProducersRequest.Builder(missing).build((short) 0));
        assertThat(Errors.forCode(
                        response.data().topics().get(0).partitions().get(0).errorCode()))
                .isEqualTo(Errors.UNKNOWN_TOPIC_OR_PARTITION);
    }

    // ---- helpers ----------------------------------------------------------------------------------

    private void createTopic() throws Exception {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(props)) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 3))).all().get(30, TimeUnit.SECONDS);
        }
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

    private SluiceNode follower() {
        SluiceNode leader = leader();
        return nodes.stream().filter(n -> n != leader).findFirst().orElseThrow();
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
        long nowMs = System.currentTimeMillis();
        for (int i = 0; i < values.length; i++) {
            records[i] = new SimpleRecord(nowMs, null, values[i].getBytes(StandardCharsets.UTF_8));
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

    private static PartitionResponse describeProducers(int port) throws Exception {
        DescribeProducersRequestData data = new DescribeProducersRequestData();
        data.topics()
                .add(new DescribeProducersRequestData.TopicRequest()
                        .setName(TOPIC)
                        .setPartitionIndexes(List.of(0)));
        DescribeProducersResponse response = (DescribeProducersResponse)
                InProcessCluster.sendRaw(port, new DescribeProducersRequest.Builder(data).build((short) 0));
        assertThat(response.data().topics()).hasSize(1);
        return response.data().topics().get(0).partitions().get(0);
    }

    private static ProducerState onlyProducer(PartitionResponse partition) {
        assertThat(Errors.forCode(partition.errorCode())).isEqualTo(Errors.NONE);
        assertThat(partition.activeProducers()).hasSize(1);
        return partition.activeProducers().get(0);
    }

    private static Map<TopicPartition, Errors> writeMarker(
            int port,
            long producerId,
            short producerEpoch,
            int coordinatorEpoch,
            TransactionResult result,
            short version,
            TopicPartition... partitions)
            throws Exception {
        assertThat(version)
                .isBetween(ApiKeys.WRITE_TXN_MARKERS.oldestVersion(), ApiKeys.WRITE_TXN_MARKERS.latestVersion());
        WriteTxnMarkersRequest request = new WriteTxnMarkersRequest.Builder(
                        List.of(new WriteTxnMarkersRequest.TxnMarkerEntry(
                                producerId, producerEpoch, coordinatorEpoch, result, List.of(partitions), (short) 0)))
                .build(version);
        WriteTxnMarkersResponse response = (WriteTxnMarkersResponse) InProcessCluster.sendRaw(port, request);
        return response.errorsByProducerId().get(producerId);
    }

    private void awaitLastStableOffset(long expected) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (leader().raft().stateMachine(TP).lastStableOffset() != expected) {
            assertThat(System.nanoTime())
                    .as("last stable offset %d within 30 s", expected)
                    .isLessThan(deadline);
            sleep(50);
        }
    }

    /** Reads the partition read_committed from the start up to {@code endOffset}. */
    private List<String> readCommitted(long endOffset) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props)) {
            consumer.assign(List.of(TP));
            consumer.seekToBeginning(List.of(TP));
            assertThat(consumer.endOffsets(List.of(TP)).get(TP)).isEqualTo(endOffset);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (consumer.position(TP) < endOffset && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
                    values.add(record.value());
                }
            }
            assertThat(consumer.position(TP)).isEqualTo(endOffset);
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
