package dev.sluice.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.raft.RaftSettings;
import dev.sluice.raft.transport.FaultInjector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
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
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.requests.MetadataRequest;
import org.apache.kafka.common.requests.MetadataResponse;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three real nodes in one JVM on the faulty transport, all naming one injector (so they share one
 * switchboard, {@link FaultInjector#registerShared}), controlled over each node's HTTP endpoint as a chaos
 * harness does: the same operation sent to every node. An isolated partition leader loses its leadership to
 * another replica while a Kafka producer bootstrapped on the other nodes keeps writing; healing brings it back
 * into the ISR. {@code GET /status} agrees with Kafka's Metadata.
 *
 * <p>Isolation cuts the Raft traffic between nodes, not the Kafka clients' connections. An isolated former
 * leader knows it no longer leads (its Raft replica has no leader) but not who does, and its Metadata answer
 * still names itself, from the coordinator's last leadership table; a producer whose only connection is to
 * that node (the Java client asks an idle connected node for metadata) then retries against it until the
 * network heals. The test therefore only requires that producer's records after the heal.
 */
@Timeout(value = 300, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class FaultControlClusterTest {
    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private final List<SluiceNode> nodes = new ArrayList<>();
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private String injectorName;
    private String bootstrap;

    @BeforeEach
    void start() throws Exception {
        injectorName = "in-process-" + UUID.randomUUID();
        Map<String, String> settings = new HashMap<>();
        settings.put(RaftSettings.RPC_TYPE, "faulty");
        settings.put(RaftSettings.FAULT_INJECTOR, injectorName);
        settings.put(RaftSettings.FAULT_SEED, "11");
        bootstrap = InProcessCluster.start(dir, 3, settings, nodes);
    }

    @AfterEach
    void stop() {
        FaultInjector.lookup(injectorName).ifPresent(FaultInjector::healAll);
        nodes.forEach(SluiceNode::close);
        assertThat(FaultInjector.lookup(injectorName))
                .as("the last node to close unregisters the shared injector")
                .isEmpty();
    }

    @Test
    void shouldFlipTheSharedSwitchesOverHttpAndRefuseBadParameters() throws Exception {
        for (SluiceNode node : nodes) {
            JsonNode state = JSON.readTree(get(node, "/faults").body());
            assertThat(state.get("self").asText())
                    .isEqualTo(Integer.toString(node.config().nodeId()));
            assertThat(state.get("injector").asText()).isEqualTo(injectorName);
            assertThat(state.get("seed").asLong()).isEqualTo(11);
        }

        HttpResponse<String> cut = post(nodes.get(0), "/faults/cut?from=1&to=2");
        assertThat(cut.statusCode()).as(cut.body()).isEqualTo(200);
        assertThat(JSON.readTree(get(nodes.get(2), "/faults").body())
                        .get("cuts")
                        .toString())
                .as("nodes of one JVM share one switchboard")
                .isEqualTo("[[\"1\",\"2\"]]");

        HttpResponse<String> bad = post(nodes.get(1), "/faults/link?from=1&to=3&drop=2");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.body()).contains("'drop'").contains("[0, 1]");
        assertThat(post(nodes.get(1), "/faults/isolate").statusCode()).isEqualTo(400);
        assertThat(get(nodes.get(1), "/faults/isolate?peer=1").statusCode()).isEqualTo(405);

        HttpResponse<String> reset = post(nodes.get(2), "/faults/reset");
        assertThat(reset.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(reset.body()).get("cuts")).isEmpty();
    }

    @Test
    void shouldReportTheLeadersKafkaMetadataReports() throws Exception {
        String topic = "status";
        createTopic(topic, 3);

        awaitUntil("every node's /status to agree with Kafka Metadata on " + topic, () -> {
            Map<Integer, Leadership> fromStatus = leadersFromStatus(topic);
            Map<Integer, Leadership> fromMetadata = leadersFromMetadata(topic);
            return fromStatus.size() == 3 && fromStatus.equals(fromMetadata);
        });

        List<Integer> coordinatorLeaders = new ArrayList<>();
        for (SluiceNode node : nodes) {
            JsonNode status = status(node);
            assertThat(status.get("nodeId").asInt()).isEqualTo(node.config().nodeId());
            assertThat(status.get("coordinatorVoter").asBoolean()).isTrue();
            assertThat(status.get("replicas").asInt()).isGreaterThanOrEqualTo(3);
            coordinatorLeaders.add(status.get("coordinatorLeader").asInt());
        }
        int coordinatorLeader = nodes.stream()
                .filter(n -> n.coordinator().isLeader())
                .mapToInt(n -> n.config().nodeId())
                .findFirst()
                .orElse(-1);
        assertThat(coordinatorLeaders).containsOnly(coordinatorLeader);
    }

    /**
     * A coordinator group leader cut off from the others still believes it leads for a while, and clients (and
     * the partitions' transaction checks) may still reach it. It must not answer a query from its own state,
     * which the majority may already have moved past (a transaction it thinks ongoing may be over). Ratis's
     * read-only queries do (even linearizable ones, once a read has confirmed the leader's commit index, for as
     * long as that index does not move), so a transaction's record is read through the log.
     */
    @Test
    void anIsolatedCoordinatorLeaderAnswersNoTransactionRead() throws Exception {
        awaitUntil("a coordinator group leader", () -> nodes.stream()
                .anyMatch(n -> n.coordinator().isLeader()));
        SluiceNode leader = nodes.stream()
                .filter(n -> n.coordinator().isLeader())
                .findFirst()
                .orElseThrow();
        assertThat(leader.coordinator()
                        .readTransaction("t", 10_000)
                        .get(15, TimeUnit.SECONDS)
                        .record())
                .as("a transactional id nobody used")
                .isNull();

        postToEveryNode("/faults/isolate?peer=" + leader.config().nodeId());
        assertThat(leader.coordinator().isLeader())
                .as(
                        "node %d still believes it leads right after the cut",
                        leader.config().nodeId())
                .isTrue();
        assertThatThrownBy(
                        () -> leader.coordinator().readTransaction("t", 3_000).get(10, TimeUnit.SECONDS))
                .as("the isolated leader's answer")
                .isInstanceOf(ExecutionException.class);

        awaitUntil("another node to lead the coordinator group", () -> nodes.stream()
                .anyMatch(n -> n != leader && n.coordinator().isLeader()));
        SluiceNode other = nodes.stream()
                .filter(n -> n != leader && n.coordinator().isLeader())
                .findFirst()
                .orElseThrow();
        assertThat(other.coordinator()
                        .readTransaction("t", 10_000)
                        .get(15, TimeUnit.SECONDS)
                        .record())
                .isNull();
    }

    /**
     * The producer that was writing when its leader was cut off must get every record in once the network
     * heals, but not necessarily sooner: the isolated node only knows it no longer leads, so a client whose
     * one connection is to that node can keep asking it (see the class comment). A producer that starts on the
     * other nodes during the isolation writes at once.
     */
    @Test
    void shouldMoveLeadershipAwayFromAnIsolatedLeaderAndTakeItBackIntoTheIsrWhenHealed() throws Exception {
        String topic = "isolated";
        TopicPartition tp = new TopicPartition(topic, 0);
        createTopic(topic, 1);
        awaitUntil("a leader of " + tp + " in /status and in Metadata", () -> {
            Map<Integer, Leadership> fromStatus = leadersFromStatus(topic);
            return fromStatus.size() == 1 && fromStatus.equals(leadersFromMetadata(topic));
        });
        int isolated = leadersFromStatus(topic).get(0).node();
        String others = othersBootstrap(isolated);

        List<String> early = new ArrayList<>();
        List<String> during = new ArrayList<>();
        try (KafkaProducer<String, String> writing = producer(others)) {
            sendAll(writing, tp, "early-", 0, 10, early);

            postToEveryNode("/faults/isolate?peer=" + isolated);
            awaitUntil("a node other than " + isolated + " to lead " + tp, () -> {
                Leadership leader = leadersFromStatus(topic).get(0);
                return leader != null && leader.node() != isolated;
            });
            List<Future<RecordMetadata>> pending = new ArrayList<>();
            for (int i = 10; i < 15; i++) {
                pending.add(writing.send(new ProducerRecord<>(topic, 0, null, "early-" + i)));
                early.add("early-" + i);
            }
            try (KafkaProducer<String, String> fresh = producer(others)) {
                sendAll(fresh, tp, "during-", 0, 10, during);
            }

            postToEveryNode("/faults/heal-all");
            awaitUntil("node " + isolated + " back in the ISR of " + tp, () -> {
                TopicPartitionInfo info = describe(topic);
                return info.isr().stream().map(Node::id).toList().contains(isolated)
                        && info.isr().size() == 3;
            });
            for (Future<RecordMetadata> ack : pending) {
                ack.get(150, TimeUnit.SECONDS);
            }
            sendAll(writing, tp, "early-", 15, 20, early);
        }
        List<String> consumed = consume(tp, early.size() + during.size());
        assertThat(consumed).containsExactlyInAnyOrderElementsOf(concat(early, during));
        assertThat(consumed.stream().filter(v -> v.startsWith("early-")).toList())
                .containsExactlyElementsOf(early);
        assertThat(consumed.stream().filter(v -> v.startsWith("during-")).toList())
                .containsExactlyElementsOf(during);
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    // ---- the cluster --------------------------------------------------------------------------------------

    private record Leadership(int node, long leaderEpoch) {}

    /** Partition -> the node whose /status says it leads it (nodes that all say so for one partition: the last). */
    private Map<Integer, Leadership> leadersFromStatus(String topic) {
        Map<Integer, Leadership> leaders = new TreeMap<>();
        for (SluiceNode node : nodes) {
            JsonNode status;
            try {
                status = status(node);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            for (JsonNode leadership : status.get("leaders")) {
                if (leadership.get("topic").asText().equals(topic)) {
                    Leadership previous = leaders.put(
                            leadership.get("partition").asInt(),
                            new Leadership(
                                    node.config().nodeId(),
                                    leadership.get("leaderEpoch").asLong()));
                    if (previous != null) {
                        return Map.of(); // two nodes lead one partition for a moment: not settled yet
                    }
                }
            }
        }
        return leaders;
    }

    /** Partition -> leader and leader epoch, as every node's Metadata answer says (empty when they differ). */
    private Map<Integer, Leadership> leadersFromMetadata(String topic) {
        Map<Integer, Leadership> agreed = null;
        for (SluiceNode node : nodes) {
            MetadataResponse response;
            try {
                response = (MetadataResponse) InProcessCluster.sendRaw(
                        node.kafkaPort(), new MetadataRequest.Builder(List.of(topic), false).build((short) 12));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            Map<Integer, Leadership> leaders = new TreeMap<>();
            for (MetadataResponse.TopicMetadata metadata : response.topicMetadata()) {
                for (MetadataResponse.PartitionMetadata partition : metadata.partitionMetadata()) {
                    partition.leaderId.ifPresent(leader -> leaders.put(
                            partition.partition(), new Leadership(leader, partition.leaderEpoch.orElse(-1))));
                }
            }
            if (agreed != null && !agreed.equals(leaders)) {
                return Map.of();
            }
            agreed = leaders;
        }
        return agreed;
    }

    private void createTopic(String topic, int partitions) throws Exception {
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 3)))
                    .all()
                    .get(30, TimeUnit.SECONDS);
        }
    }

    private TopicPartitionInfo describe(String topic) throws Exception {
        try (Admin admin = admin()) {
            return admin.describeTopics(List.of(topic))
                    .allTopicNames()
                    .get(30, TimeUnit.SECONDS)
                    .get(topic)
                    .partitions()
                    .get(0);
        }
    }

    private Admin admin() {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        return Admin.create(props);
    }

    private String othersBootstrap(int excluded) {
        return String.join(
                ",",
                nodes.stream()
                        .filter(n -> n.config().nodeId() != excluded)
                        .map(n -> "127.0.0.1:" + n.kafkaPort())
                        .toList());
    }

    private static KafkaProducer<String, String> producer(String bootstrapServers) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "120000");
        props.put(ProducerConfig.METADATA_MAX_AGE_CONFIG, "1000");
        return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    }

    /** Sends {@code prefix + i} for i from {@code from} to {@code to} (exclusive), waiting for each ack. */
    private static void sendAll(
            KafkaProducer<String, String> producer,
            TopicPartition tp,
            String prefix,
            int from,
            int to,
            List<String> sent)
            throws Exception {
        for (int i = from; i < to; i++) {
            String value = prefix + i;
            producer.send(new ProducerRecord<>(tp.topic(), tp.partition(), null, value))
                    .get(150, TimeUnit.SECONDS);
            sent.add(value);
        }
    }

    private List<String> consume(TopicPartition tp, int count) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer =
                new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (values.size() < count && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(500))) {
                    values.add(record.value());
                }
            }
        }
        return values;
    }

    // ---- HTTP ---------------------------------------------------------------------------------------------

    private JsonNode status(SluiceNode node) throws Exception {
        HttpResponse<String> response = get(node, "/status");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return JSON.readTree(response.body());
    }

    /** Sends one operation to every node, as the chaos harness does, and checks each answered 200. */
    private void postToEveryNode(String pathAndQuery) throws Exception {
        for (SluiceNode node : nodes) {
            HttpResponse<String> response = post(node, pathAndQuery);
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        }
    }

    private HttpResponse<String> get(SluiceNode node, String pathAndQuery) throws Exception {
        return send(node, "GET", pathAndQuery);
    }

    private HttpResponse<String> post(SluiceNode node, String pathAndQuery) throws Exception {
        return send(node, "POST", pathAndQuery);
    }

    private HttpResponse<String> send(SluiceNode node, String method, String pathAndQuery) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpPort() + pathAndQuery))
                .timeout(Duration.ofSeconds(10))
                .method(method, HttpRequest.BodyPublishers.noBody())
                .build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    /** A condition to wait for; an exception counts as not yet. */
    @FunctionalInterface
    private interface Condition {
        boolean holds() throws Exception;
    }

    private static void awaitUntil(String what, Condition condition) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try {
                if (condition.holds()) {
                    return;
                }
            } catch (Exception e) {
                last = e;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("waited " + WAIT + " for " + what, last);
    }
}
