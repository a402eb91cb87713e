package dev.sluice.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.DeleteRecordsRequestData;
import org.apache.kafka.common.message.DeleteRecordsRequestData.DeleteRecordsPartition;
import org.apache.kafka.common.message.DeleteRecordsRequestData.DeleteRecordsTopic;
import org.apache.kafka.common.message.DeleteRecordsResponseData;
import org.apache.kafka.common.message.DeleteRecordsResponseData.DeleteRecordsPartitionResult;
import org.apache.kafka.common.message.DeleteRecordsResponseData.DeleteRecordsTopicResult;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.DeleteRecordsRequest;
import org.apache.kafka.common.requests.DeleteRecordsResponse;
import org.apache.kafka.common.requests.FetchRequest;
import org.apache.kafka.common.requests.FetchResponse;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.ProduceResponse;
import org.apache.kafka.common.requests.RequestHeader;
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
        bootstrap = InProcessCluster.start(dir, count, Map.of(), nodes);
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
        assertNotLeaderAnswersNameTheLeader();
    }

    /**
     * KIP-951: a Produce (v10+) or Fetch (v12+) sent to a node that does not lead the partition is answered
     * NOT_LEADER_OR_FOLLOWER with the current leader and epoch, and (Produce v10+, Fetch v16+) the leader's
     * address, so that clients move on without a metadata refresh.
     */
    private void assertNotLeaderAnswersNameTheLeader() throws Exception {
        // Leadership may move between the lookup and the request (preferred-leader balancing): look again.
        for (int attempt = 1; ; attempt++) {
            try {
                checkNotLeaderAnswers();
                return;
            } catch (AssertionError e) {
                if (attempt == 5) {
                    throw e;
                }
                Thread.sleep(1_000);
            }
        }
    }

    private void checkNotLeaderAnswers() throws Exception {
        TopicPartitionInfo info;
        Uuid topicId;
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(props)) {
            TopicDescription description = admin.describeTopics(List.of("events"))
                    .allTopicNames()
                    .get(30, TimeUnit.SECONDS)
                    .get("events");
            info = description.partitions().get(0);
            topicId = description.topicId();
        }
        int leader = info.leader().id();
        int follower = info.replicas().stream()
                .mapToInt(org.apache.kafka.common.Node::id)
                .filter(id -> id != leader)
                .findFirst()
                .orElseThrow();
        int followerPort = nodes.get(follower - 1).kafkaPort();

        ProduceRequestData produce =
                new ProduceRequestData().setAcks((short) -1).setTimeoutMs(10_000);
        produce.topicData()
                .add(new ProduceRequestData.TopicProduceData()
                        .setName("events")
                        .setPartitionData(List.of(new ProduceRequestData.PartitionProduceData()
                                .setIndex(0)
                                .setRecords(MemoryRecords.withRecords(
                                        Compression.NONE, new SimpleRecord("v".getBytes(StandardCharsets.UTF_8)))))));
        ProduceResponseData produced = ((ProduceResponse)
                        InProcessCluster.sendRaw(followerPort, new ProduceRequest(produce, (short) 12)))
                .data();
        ProduceResponseData.PartitionProduceResponse p0 =
                produced.responses().iterator().next().partitionResponses().get(0);
        assertThat(Errors.forCode(p0.errorCode())).isEqualTo(Errors.NOT_LEADER_OR_FOLLOWER);
        assertThat(p0.currentLeader().leaderId()).isEqualTo(leader);
        assertThat(p0.currentLeader().leaderEpoch()).isGreaterThanOrEqualTo(0);
        assertThat(produced.nodeEndpoints().find(leader).port())
                .isEqualTo(nodes.get(leader - 1).kafkaPort());

        FetchRequestData fetch =
                new FetchRequestData().setReplicaId(-1).setMaxWaitMs(0).setMaxBytes(1 << 20);
        fetch.topics()
                .add(new FetchRequestData.FetchTopic()
                        .setTopicId(topicId)
                        .setPartitions(List.of(new FetchRequestData.FetchPartition()
                                .setPartition(0)
                                .setFetchOffset(0)
                                .setPartitionMaxBytes(1 << 20))));
        FetchResponseData fetched = ((FetchResponse)
                        InProcessCluster.sendRaw(followerPort, new FetchRequest.SimpleBuilder(fetch).build((short) 16)))
                .data();
        FetchResponseData.PartitionData f0 =
                fetched.responses().get(0).partitions().get(0);
        assertThat(Errors.forCode(f0.errorCode())).isEqualTo(Errors.NOT_LEADER_OR_FOLLOWER);
        assertThat(f0.currentLeader().leaderId()).isEqualTo(leader);
        assertThat(fetched.nodeEndpoints().find(leader).port())
                .isEqualTo(nodes.get(leader - 1).kafkaPort());
    }

    /**
     * DeleteRecords through the Admin client on one node: the low watermark it answers is where a consumer
     * starting from the beginning starts and what ListOffsets(EARLIEST) reports; a fetch below it is out
     * of range. Every request version parses its answer, with the per-partition errors. The node's metrics
     * then show the Raft commit latency and the bytes produced and fetched.
     */
    @Test
    void deleteRecordsMovesTheLogStartOffsetAndTheDataPathIsMeasured() throws Exception {
        startCluster(1);
        TopicPartition tp = new TopicPartition("trimmed", 0);
        Properties common = new Properties();
        common.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        Properties producerProps = new Properties();
        producerProps.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        producerProps.put(ProducerConfig.ACKS_CONFIG, "all");
        Properties consumerProps = new Properties();
        consumerProps.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        consumerProps.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
        try (Admin admin = Admin.create(common)) {
            admin.createTopics(List.of(new NewTopic(tp.topic(), 1, (short) 1)))
                    .all()
                    .get(30, TimeUnit.SECONDS);
            try (KafkaProducer<String, String> producer =
                    new KafkaProducer<>(producerProps, new StringSerializer(), new StringSerializer())) {
                List<Future<RecordMetadata>> acks = new ArrayList<>();
                for (int i = 0; i < 100; i++) {
                    acks.add(producer.send(new ProducerRecord<>(tp.topic(), 0, "key", "value-" + i)));
                }
                for (Future<RecordMetadata> ack : acks) {
                    ack.get(30, TimeUnit.SECONDS);
                }
            }

            long lowWatermark = admin.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(40)))
                    .lowWatermarks()
                    .get(tp)
                    .get(30, TimeUnit.SECONDS)
                    .lowWatermark();
            assertThat(lowWatermark).isEqualTo(40);
            assertThatThrownBy(() -> admin.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(101)))
                            .all()
                            .get(30, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(org.apache.kafka.common.errors.OffsetOutOfRangeException.class);
            assertThat(admin.listOffsets(Map.of(tp, OffsetSpec.earliest()))
                            .partitionResult(tp)
                            .get(30, TimeUnit.SECONDS)
                            .offset())
                    .isEqualTo(40);
        }
        for (short version = ApiKeys.DELETE_RECORDS.oldestVersion();
                version <= ApiKeys.DELETE_RECORDS.latestVersion();
                version++) {
            DeleteRecordsResponseData answer = deleteRecordsRaw(nodes.get(0).kafkaPort(), version, tp.topic());
            assertThat(answer.topics().find("nowhere").partitions().find(0))
                    .as("v%d, an unknown topic", version)
                    .isEqualTo(new DeleteRecordsPartitionResult()
                            .setPartitionIndex(0)
                            .setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code())
                            .setLowWatermark(-1));
            DeleteRecordsTopicResult trimmed = answer.topics().find(tp.topic());
            assertThat(trimmed.partitions().find(7).errorCode())
                    .as("v%d, an unknown partition", version)
                    .isEqualTo(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
            assertThat(trimmed.partitions().find(0))
                    .as("v%d, below the log start offset", version)
                    .isEqualTo(new DeleteRecordsPartitionResult()
                            .setPartitionIndex(0)
                            .setErrorCode(Errors.NONE.code())
                            .setLowWatermark(40));
        }

        try (KafkaConsumer<String, String> consumer =
                new KafkaConsumer<>(consumerProps, new StringDeserializer(), new StringDeserializer())) {
            consumer.assign(List.of(tp));
            consumer.seek(tp, 10);
            assertThatThrownBy(() -> {
                        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                        while (System.nanoTime() < deadline) {
                            consumer.poll(Duration.ofMillis(200));
                        }
                    })
                    .isInstanceOf(OffsetOutOfRangeException.class);

            consumer.seekToBeginning(List.of(tp));
            List<ConsumerRecord<String, String>> received = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (received.size() < 60 && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(received::add);
            }
            assertThat(received).hasSize(60);
            assertThat(received.get(0).offset()).isEqualTo(40);
            assertThat(received.get(0).value()).isEqualTo("value-40");
        }

        String metrics = scrapeMetrics(nodes.get(0));
        assertThat(sample(metrics, "sluice_raft_commit_latency_ms_count")).isPositive();
        assertThat(sample(metrics, "sluice_produce_bytes_total{topic=\"trimmed\"}"))
                .isPositive();
        assertThat(sample(metrics, "sluice_fetch_bytes_total{topic=\"trimmed\"}"))
                .isPositive();
    }

    /** DeleteRecords at {@code version} over a plain socket: unknown topic, unknown partition, offset 10. */
    private static DeleteRecordsResponseData deleteRecordsRaw(int port, short version, String topic)
            throws IOException {
        DeleteRecordsRequestData data = new DeleteRecordsRequestData().setTimeoutMs(10_000);
        data.topics()
                .add(new DeleteRecordsTopic()
                        .setName("nowhere")
                        .setPartitions(List.of(new DeleteRecordsPartition().setPartitionIndex(0))));
        data.topics()
                .add(new DeleteRecordsTopic()
                        .setName(topic)
                        .setPartitions(List.of(
                                new DeleteRecordsPartition().setPartitionIndex(7),
                                new DeleteRecordsPartition()
                                        .setPartitionIndex(0)
                                        .setOffset(10))));
        RequestHeader header = new RequestHeader(ApiKeys.DELETE_RECORDS, version, "raw", 7);
        ByteBuffer request =
                new DeleteRecordsRequest.Builder(data).build(version).serializeWithHeader(header);
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            socket.setSoTimeout(30_000);
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            out.writeInt(request.remaining());
            out.write(request.array(), request.arrayOffset() + request.position(), request.remaining());
            out.flush();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            byte[] frame = new byte[in.readInt()];
            in.readFully(frame);
            return ((DeleteRecordsResponse) AbstractResponse.parseResponse(ByteBuffer.wrap(frame), header)).data();
        }
    }

    private static String scrapeMetrics(SluiceNode node) throws Exception {
        HttpClient client =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpPort() + "/metrics"))
                .timeout(Duration.ofSeconds(10))
                .build();
        HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        return response.body();
    }

    /** The value of the sample line whose name and labels are exactly {@code series}. */
    private static double sample(String exposition, String series) {
        Matcher matcher =
                Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(exposition);
        assertThat(matcher.find()).as("a sample %s in%n%s", series, exposition).isTrue();
        return Double.parseDouble(matcher.group(1));
    }
}
