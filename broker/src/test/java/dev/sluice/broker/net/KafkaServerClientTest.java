package dev.sluice.broker.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponseBroker;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponsePartition;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponseTopic;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.MetadataRequest;
import org.apache.kafka.common.requests.MetadataResponse;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.ProduceResponse;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The server driven by kafka-clients' own Admin and KafkaProducer, against a one-node, one-topic test cluster. */
@Timeout(60)
class KafkaServerClientTest {
    private static final int NODE_ID = 1;
    private static final String TOPIC = "events";
    private static final Uuid TOPIC_ID = Uuid.fromString("AAAAAAAAAAAAAAAAAAAAAQ");

    private final List<String> producedValues = new CopyOnWriteArrayList<>();
    private final AtomicLong logEndOffset = new AtomicLong();
    private KafkaServer server;

    @BeforeEach
    void startServer() throws InterruptedException {
        Map<ApiKeys, short[]> ranges = new EnumMap<>(ApiKeys.class);
        for (ApiKeys key : List.of(ApiKeys.API_VERSIONS, ApiKeys.METADATA, ApiKeys.PRODUCE)) {
            ranges.put(key, new short[] {key.oldestVersion(), key.latestVersion()});
        }
        server = KafkaServer.start(
                ServerSettings.defaults("127.0.0.1", 0), SupportedApis.of(ranges), this::handle, RequestObserver.NONE);
    }

    @AfterEach
    void stopServer() {
        server.close();
    }

    private CompletableFuture<AbstractResponse> handle(RequestContext context, AbstractRequest request) {
        if (request instanceof MetadataRequest metadata) {
            return CompletableFuture.completedFuture(metadata(metadata));
        }
        return CompletableFuture.completedFuture(produce((ProduceRequest) request));
    }

    private MetadataResponse metadata(MetadataRequest request) {
        MetadataResponseData data =
                new MetadataResponseData().setClusterId("sluice-test").setControllerId(NODE_ID);
        data.brokers()
                .add(new MetadataResponseBroker()
                        .setNodeId(NODE_ID)
                        .setHost("127.0.0.1")
                        .setPort(server.port()));
        if (request.isAllTopics() || request.topics().contains(TOPIC)) {
            data.topics()
                    .add(new MetadataResponseTopic()
                            .setName(TOPIC)
                            .setTopicId(TOPIC_ID)
                            .setPartitions(List.of(new MetadataResponsePartition()
                                    .setPartitionIndex(0)
                                    .setLeaderId(NODE_ID)
                                    .setLeaderEpoch(0)
                                    .setReplicaNodes(List.of(NODE_ID))
                                    .setIsrNodes(List.of(NODE_ID)))));
        }
        return new MetadataResponse(data, request.version());
    }

    /** Appends the records; answers acks=0 with no response at all, as Kafka does. */
    private ProduceResponse produce(ProduceRequest request) {
        ProduceResponseData data = new ProduceResponseData();
        for (ProduceRequestData.TopicProduceData topic : request.data().topicData()) {
            List<ProduceResponseData.PartitionProduceResponse> partitions = new ArrayList<>();
            for (ProduceRequestData.PartitionProduceData partition : topic.partitionData()) {
                long baseOffset = logEndOffset.get();
                for (Record record : ((MemoryRecords) partition.records()).records()) {
                    producedValues.add(
                            StandardCharsets.UTF_8.decode(record.value()).toString());
                    logEndOffset.incrementAndGet();
                }
                partitions.add(new ProduceResponseData.PartitionProduceResponse()
                        .setIndex(partition.index())
                        .setErrorCode(Errors.NONE.code())
                        .setBaseOffset(baseOffset));
            }
            data.responses()
                    .add(new ProduceResponseData.TopicProduceResponse()
                            .setName(topic.name())
                            .setTopicId(topic.topicId())
                            .setPartitionResponses(partitions));
        }
        return request.acks() == 0 ? null : new ProduceResponse(data);
    }

    private Properties clientProperties() {
        Properties properties = new Properties();
        properties.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + server.port());
        properties.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
        return properties;
    }

    private KafkaProducer<String, String> producer(String acks) {
        Properties properties = clientProperties();
        properties.put(ProducerConfig.ACKS_CONFIG, acks);
        properties.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);
        properties.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
        properties.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 10_000);
        properties.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        return new KafkaProducer<>(properties, new StringSerializer(), new StringSerializer());
    }

    @Test
    void adminShouldDescribeTheClusterAndListTopics() throws Exception {
        Properties properties = clientProperties();
        properties.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000);
        try (Admin admin = Admin.create(properties)) {
            DescribeClusterResult cluster = admin.describeCluster();

            assertThat(cluster.clusterId().get(10, TimeUnit.SECONDS)).isEqualTo("sluice-test");
            assertThat(cluster.nodes().get(10, TimeUnit.SECONDS))
                    .containsExactly(new Node(NODE_ID, "127.0.0.1", server.port()));
            assertThat(admin.listTopics().names().get(10, TimeUnit.SECONDS)).containsExactly(TOPIC);
        }
    }

    @Test
    void producerShouldDeliverWithAcksZeroAndThenGetOffsetsWithAcksOne() throws Exception {
        try (KafkaProducer<String, String> producer = producer("0")) {
            for (int i = 0; i < 50; i++) {
                producer.send(new ProducerRecord<>(TOPIC, 0, null, "fire-and-forget-" + i));
            }
            producer.flush();
        }
        KafkaServerTest.waitUntil(() -> producedValues.size() == 50);

        List<Future<RecordMetadata>> acknowledged = new ArrayList<>();
        try (KafkaProducer<String, String> producer = producer("1")) {
            for (int i = 0; i < 5; i++) {
                acknowledged.add(producer.send(new ProducerRecord<>(TOPIC, 0, null, "acknowledged-" + i)));
            }
            producer.flush();
        }

        List<Long> offsets = new ArrayList<>();
        for (Future<RecordMetadata> future : acknowledged) {
            offsets.add(future.get(10, TimeUnit.SECONDS).offset());
        }
        assertThat(offsets).containsExactly(50L, 51L, 52L, 53L, 54L);
        assertThat(producedValues.subList(0, 3))
                .containsExactly("fire-and-forget-0", "fire-and-forget-1", "fire-and-forget-2");
    }
}
