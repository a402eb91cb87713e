package dev.sluice.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.RangeAssignor;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.message.DeleteGroupsRequestData;
import org.apache.kafka.common.message.DescribeGroupsRequestData;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.FindCoordinatorResponseData;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.LeaveGroupRequestData;
import org.apache.kafka.common.message.ListGroupsRequestData;
import org.apache.kafka.common.message.ListGroupsResponseData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetDeleteRequestData;
import org.apache.kafka.common.message.OffsetFetchRequestData;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.DeleteGroupsRequest;
import org.apache.kafka.common.requests.DescribeGroupsRequest;
import org.apache.kafka.common.requests.FindCoordinatorRequest;
import org.apache.kafka.common.requests.FindCoordinatorRequest.CoordinatorType;
import org.apache.kafka.common.requests.FindCoordinatorResponse;
import org.apache.kafka.common.requests.HeartbeatRequest;
import org.apache.kafka.common.requests.JoinGroupRequest;
import org.apache.kafka.common.requests.LeaveGroupRequest;
import org.apache.kafka.common.requests.ListGroupsRequest;
import org.apache.kafka.common.requests.ListGroupsResponse;
import org.apache.kafka.common.requests.OffsetCommitRequest;
import org.apache.kafka.common.requests.OffsetCommitResponse;
import org.apache.kafka.common.requests.OffsetDeleteRequest;
import org.apache.kafka.common.requests.OffsetFetchRequest;
import org.apache.kafka.common.requests.OffsetFetchResponse;
import org.apache.kafka.common.requests.SyncGroupRequest;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Consumer groups end to end: three real nodes in one JVM on 127.0.0.1, Kafka's Java consumers in one group
 * (classic protocol), Kafka's Admin client looking at the group.
 */
@Timeout(value = 240, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ConsumerGroupsTest {
    private static final String TOPIC = "events";

    @TempDir
    Path dir;

    final List<SluiceNode> nodes = new ArrayList<>();
    final List<AutoCloseable> clients = new ArrayList<>();
    String bootstrap;

    @AfterEach
    void stop() {
        for (AutoCloseable client : clients) {
            try {
                client.close();
            } catch (Exception e) {
                // already closed
            }
        }
        nodes.forEach(SluiceNode::close);
    }

    @Test
    void consumersOfOneGroupSplitThePartitionsAndResumeFromCommittedOffsets() throws Exception {
        startCluster(3);
        Admin admin = admin();
        admin.createTopics(List.of(new NewTopic(TOPIC, 6, (short) 3))).all().get(30, TimeUnit.SECONDS);
        KafkaProducer<String, String> producer = producer();

        KafkaConsumer<String, String> first = consumer("split");
        KafkaConsumer<String, String> second = consumer("split");
        first.subscribe(List.of(TOPIC));
        second.subscribe(List.of(TOPIC));
        List<String> received = new ArrayList<>();
        awaitWhilePolling(
                () -> first.assignment().size() + second.assignment().size() == 6
                        && !first.assignment().isEmpty()
                        && !second.assignment().isEmpty(),
                received,
                first,
                second);
        produce(producer, 0, 60);
        awaitWhilePolling(() -> received.size() >= 60, received, first, second);
        Set<TopicPartition> overlap = new HashSet<>(first.assignment());
        overlap.retainAll(second.assignment());
        assertThat(overlap).as("no partition owned twice").isEmpty();
        assertThat(received).as("every record consumed once").hasSize(60).doesNotHaveDuplicates();
        first.commitSync();
        second.commitSync();

        Collection<GroupListing> listed = admin.listGroups().all().get(30, TimeUnit.SECONDS);
        assertThat(listed).extracting(GroupListing::groupId).contains("split");
        ConsumerGroupDescription description = admin.describeConsumerGroups(List.of("split"))
                .describedGroups()
                .get("split")
                .get(30, TimeUnit.SECONDS);
        assertThat(description.members()).hasSize(2);
        assertThat(description.groupState()).isEqualTo(GroupState.STABLE);

        second.close();
        clients.remove(second);
        received.clear();
        awaitWhilePolling(() -> first.assignment().size() == 6, received, first);
        assertThat(received)
                .as("the survivor resumes from the committed offsets")
                .isEmpty();

        produce(producer, 60, 30);
        awaitWhilePolling(() -> received.size() >= 30, received, first);
        assertThat(received).hasSize(30).allMatch(v -> Integer.parseInt(v) >= 60);
        first.commitSync();
        first.close();
        clients.remove(first);

        KafkaConsumer<String, String> third = consumer("split");
        third.subscribe(List.of(TOPIC));
        received.clear();
        awaitWhilePolling(() -> third.assignment().size() == 6, received, third);
        produce(producer, 90, 10);
        awaitWhilePolling(() -> received.size() >= 10, received, third);
        pollFor(Duration.ofSeconds(1), received, third);
        assertThat(received)
                .as("a new member re-reads nothing committed")
                .hasSize(10)
                .allMatch(v -> Integer.parseInt(v) >= 90);
    }

    /**
     * Static membership with the Java client: a member with a {@code group.instance.id} that restarts within
     * the session timeout gets its partitions back without a rebalance (the other member sees no callback),
     * and a second consumer with an instance id in use takes it over: the one it replaced is fenced.
     */
    @Test
    void aStaticMemberRestartsWithoutARebalanceAndADuplicateIsFenced() throws Exception {
        startCluster(3);
        Admin admin = admin();
        admin.createTopics(List.of(new NewTopic(TOPIC, 6, (short) 3))).all().get(30, TimeUnit.SECONDS);
        List<String> callbacks = java.util.Collections.synchronizedList(new ArrayList<>());
        KafkaConsumer<String, String> a = staticConsumer("static", "instance-a");
        KafkaConsumer<String, String> b = staticConsumer("static", "instance-b");
        a.subscribe(List.of(TOPIC));
        b.subscribe(List.of(TOPIC), recordingListener("b", callbacks));
        List<String> received = new ArrayList<>();
        awaitWhilePolling(() -> a.assignment().size() == 3 && b.assignment().size() == 3, received, a, b);
        Set<TopicPartition> assignedToA = new HashSet<>(a.assignment());
        pollFor(Duration.ofSeconds(1), received, a, b);
        callbacks.clear();

        a.close(); // a static member sends no LeaveGroup: its session keeps its place
        clients.remove(a);
        KafkaConsumer<String, String> restarted = staticConsumer("static", "instance-a");
        restarted.subscribe(List.of(TOPIC));
        awaitWhilePolling(() -> restarted.assignment().size() == 3, received, restarted, b);
        pollFor(Duration.ofSeconds(2), received, restarted, b);
        assertThat(restarted.assignment())
                .as("the same partitions, no rebalance")
                .isEqualTo(assignedToA);
        assertThat(callbacks).as("the other member's rebalance callbacks").isEmpty();
        ConsumerGroupDescription description = admin.describeConsumerGroups(List.of("static"))
                .describedGroups()
                .get("static")
                .get(30, TimeUnit.SECONDS);
        assertThat(description.members())
                .extracting(m -> m.groupInstanceId().orElse(null))
                .containsExactlyInAnyOrder("instance-a", "instance-b");

        KafkaConsumer<String, String> duplicate = staticConsumer("static", "instance-b");
        duplicate.subscribe(List.of(TOPIC));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        Throwable fenced = null;
        while (fenced == null) {
            assertThat(System.nanoTime())
                    .as("the replaced member is fenced within 60 s")
                    .isLessThan(deadline);
            duplicate.poll(Duration.ofMillis(100));
            restarted.poll(Duration.ofMillis(100));
            try {
                b.poll(Duration.ofMillis(100));
            } catch (org.apache.kafka.common.errors.FencedInstanceIdException e) {
                fenced = e;
            }
        }
        awaitWhilePolling(() -> duplicate.assignment().size() == 3, received, duplicate, restarted);
    }

    private KafkaConsumer<String, String> staticConsumer(String groupId, String instanceId) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        props.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, instanceId);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "30000");
        props.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "1000");
        props.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, RangeAssignor.class.getName());
        KafkaConsumer<String, String> consumer =
                new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
        clients.add(consumer);
        return consumer;
    }

    private static ConsumerRebalanceListener recordingListener(String name, List<String> callbacks) {
        return new ConsumerRebalanceListener() {
            @Override
            public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                if (!partitions.isEmpty()) {
                    callbacks.add(name + " revoked " + partitions);
                }
            }

            @Override
            public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                if (!partitions.isEmpty()) {
                    callbacks.add(name + " assigned " + partitions);
                }
            }
        };
    }

    @Test
    void committedOffsetsSurviveTheLossOfTheGroupCoordinator() throws Exception {
        startCluster(3);
        Admin admin = admin();
        admin.createTopics(List.of(new NewTopic(TOPIC, 6, (short) 3))).all().get(30, TimeUnit.SECONDS);
        KafkaProducer<String, String> producer = producer();
        produce(producer, 0, 60);
        KafkaConsumer<String, String> consumer = consumer("failover");
        consumer.subscribe(List.of(TOPIC));
        List<String> received = new ArrayList<>();
        awaitWhilePolling(() -> received.size() >= 60, received, consumer);
        consumer.commitSync();
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets("failover")
                .partitionsToOffsetAndMetadata()
                .get(30, TimeUnit.SECONDS);
        assertThat(committed.values().stream()
                        .mapToLong(OffsetAndMetadata::offset)
                        .sum())
                .isEqualTo(60);
        // every replica of the group's offsets partition holds the commits in its node's RocksDB
        awaitMaterializedEverywhere("failover", committed);

        int coordinatorId = admin.describeConsumerGroups(List.of("failover"))
                .describedGroups()
                .get("failover")
                .get(30, TimeUnit.SECONDS)
                .coordinator()
                .id();
        SluiceNode coordinatorNode = nodes.get(coordinatorId - 1);
        nodes.remove(coordinatorNode);
        coordinatorNode.close();

        Admin survivorAdmin = admin();
        Map<TopicPartition, OffsetAndMetadata> afterFailover = survivorAdmin
                .listConsumerGroupOffsets("failover")
                .partitionsToOffsetAndMetadata()
                .get(60, TimeUnit.SECONDS);
        assertThat(afterFailover).isEqualTo(committed);

        received.clear();
        produce(producer, 60, 12);
        awaitWhilePolling(() -> received.size() >= 12, received, consumer);
        consumer.commitSync(Duration.ofSeconds(60));
        assertThat(received).hasSize(12).allMatch(v -> Integer.parseInt(v) >= 60);
        Map<TopicPartition, OffsetAndMetadata> after = survivorAdmin
                .listConsumerGroupOffsets("failover")
                .partitionsToOffsetAndMetadata()
                .get(60, TimeUnit.SECONDS);
        assertThat(after.values().stream().mapToLong(OffsetAndMetadata::offset).sum())
                .isEqualTo(72);
        awaitMaterializedEverywhere("failover", after);
    }

    private void awaitMaterializedEverywhere(String groupId, Map<TopicPartition, OffsetAndMetadata> committed)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (SluiceNode node : nodes) {
            while (true) {
                Map<TopicPartition, Long> materialized = new HashMap<>();
                node.raft()
                        .store()
                        .metadata()
                        .committedOffsets(groupId)
                        .forEach((tp, offset) -> materialized.put(tp, offset.offset()));
                Map<TopicPartition, Long> expected = new HashMap<>();
                committed.forEach((tp, offset) -> expected.put(tp, offset.offset()));
                if (materialized.equals(expected)) {
                    break;
                }
                assertThat(System.nanoTime())
                        .as(
                                "node %s materializes the commits of %s: has %s, expected %s",
                                node.config().nodeId(), groupId, materialized, expected)
                        .isLessThan(deadline);
                Thread.sleep(50);
            }
        }
    }

    /**
     * FindCoordinator at every version, single and batched: the first call creates the offsets topic (and
     * answers COORDINATOR_NOT_AVAILABLE until its partition has a leader), a transaction key finds the
     * coordinator group's leader. The offsets topic is internal in Metadata and refuses clients' records.
     */
    @Test
    void findCoordinatorAnswersEveryVersionAndTheOffsetsTopicIsInternal() throws Exception {
        startCluster(1);
        int port = nodes.get(0).kafkaPort();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        List<String> keys = List.of("group-0", "group-1", "group-2", "group-3", "group-4", "group-5", "group-6");
        while (!((FindCoordinatorResponse) InProcessCluster.sendRaw(
                        port,
                        new FindCoordinatorRequest.Builder(new FindCoordinatorRequestData()
                                        .setCoordinatorKeys(keys)
                                        .setKeyType(CoordinatorType.GROUP.id()))
                                .build((short) 6)))
                .data().coordinators().stream().allMatch(c -> c.errorCode() == Errors.NONE.code())) {
            assertThat(System.nanoTime())
                    .as("every offsets partition led within 30 s")
                    .isLessThan(deadline);
            Thread.sleep(100);
        }
        for (short version = 0; version <= 6; version++) {
            FindCoordinatorResponseData.Coordinator found = findGroupCoordinator(port, version, "group-" + version);
            assertThat(found.errorCode()).as("v%d", version).isEqualTo(Errors.NONE.code());
            assertThat(found.nodeId()).isEqualTo(1);
            assertThat(found.port()).isEqualTo(port);
        }
        for (short version = 1; version <= 3; version++) {
            FindCoordinatorResponse response = (FindCoordinatorResponse) InProcessCluster.sendRaw(
                    port,
                    new FindCoordinatorRequest.Builder(new FindCoordinatorRequestData()
                                    .setKey("txn")
                                    .setKeyType(CoordinatorType.TRANSACTION.id()))
                            .build(version));
            // transactional ids are coordinated by the coordinator group's leader: the only node here
            assertThat(response.error()).as("v%d", version).isEqualTo(Errors.NONE);
            assertThat(response.data().nodeId()).isEqualTo(1);
        }
        FindCoordinatorResponse batched = (FindCoordinatorResponse) InProcessCluster.sendRaw(
                port,
                new FindCoordinatorRequest.Builder(new FindCoordinatorRequestData()
                                .setCoordinatorKeys(List.of("group-1", "group-2", "group-3"))
                                .setKeyType(CoordinatorType.GROUP.id()))
                        .build((short) 6));
        assertThat(batched.data().coordinators())
                .extracting(FindCoordinatorResponseData.Coordinator::key)
                .containsExactly("group-1", "group-2", "group-3");
        assertThat(batched.data().coordinators()).allMatch(c -> c.errorCode() == 0 && c.nodeId() == 1);

        Admin admin = admin();
        TopicDescription offsets = admin.describeTopics(List.of("__consumer_offsets"))
                .allTopicNames()
                .get(30, TimeUnit.SECONDS)
                .get("__consumer_offsets");
        assertThat(offsets.isInternal()).isTrue();
        assertThat(offsets.partitions()).hasSize(4);
        assertThat(admin.listTopics().names().get(30, TimeUnit.SECONDS)).doesNotContain("__consumer_offsets");

        KafkaProducer<String, String> producer = producer();
        assertThatThrownBy(() -> producer.send(new ProducerRecord<>("__consumer_offsets", "k", "v"))
                        .get(30, TimeUnit.SECONDS))
                .hasCauseInstanceOf(InvalidTopicException.class);
        // the offsets topic can be neither deleted nor given more partitions (that would move groups)
        assertThatThrownBy(() ->
                        admin.deleteTopics(List.of("__consumer_offsets")).all().get(30, TimeUnit.SECONDS))
                .hasCauseInstanceOf(InvalidTopicException.class)
                .hasMessageContaining("internal");
        assertThatThrownBy(() -> admin.createPartitions(Map.of("__consumer_offsets", NewPartitions.increaseTo(8)))
                        .all()
                        .get(30, TimeUnit.SECONDS))
                .hasCauseInstanceOf(InvalidTopicException.class)
                .hasMessageContaining("fixed");
        assertThat(admin.describeTopics(List.of("__consumer_offsets"))
                        .allTopicNames()
                        .get(30, TimeUnit.SECONDS)
                        .get("__consumer_offsets")
                        .partitions())
                .hasSize(4);
    }

    /**
     * Every version of every group API a node advertises gets a response that parses at that version (a field
     * set beyond its versions would close the connection instead).
     */
    @Test
    void everyVersionOfTheGroupApisIsAnswered() throws Exception {
        startCluster(1);
        int port = nodes.get(0).kafkaPort();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!((FindCoordinatorResponse) InProcessCluster.sendRaw(
                        port,
                        new FindCoordinatorRequest.Builder(new FindCoordinatorRequestData()
                                        .setCoordinatorKeys(List.of("probe"))
                                        .setKeyType(CoordinatorType.GROUP.id()))
                                .build((short) 6)))
                .data().coordinators().stream().allMatch(c -> c.errorCode() == Errors.NONE.code())) {
            assertThat(System.nanoTime()).as("a coordinator within 30 s").isLessThan(deadline);
            Thread.sleep(100);
        }
        List<String> groupIds = new ArrayList<>(List.of("none"));
        for (int i = 0; i <= 10; i++) {
            groupIds.add("join-" + i);
            groupIds.add("commit-" + i);
        }
        awaitGroupsServed(port, groupIds);
        Admin admin = admin();
        admin.createTopics(List.of(new NewTopic("t", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        Uuid topicId = admin.describeTopics(List.of("t"))
                .allTopicNames()
                .get(30, TimeUnit.SECONDS)
                .get("t")
                .topicId();
        for (short v = 0; v <= 9; v++) {
            JoinGroupRequestData join = new JoinGroupRequestData()
                    .setGroupId("join-" + v)
                    .setMemberId("")
                    .setProtocolType("consumer")
                    .setSessionTimeoutMs(10_000)
                    .setRebalanceTimeoutMs(10_000);
            join.protocols()
                    .add(new JoinGroupRequestData.JoinGroupRequestProtocol()
                            .setName("range")
                            .setMetadata(new byte[0]));
            assertAnswered(port, new JoinGroupRequest.Builder(join).build(v));
        }
        for (short v = 0; v <= 5; v++) {
            assertAnswered(
                    port,
                    new SyncGroupRequest.Builder(new SyncGroupRequestData()
                                    .setGroupId("join-0")
                                    .setGenerationId(1)
                                    .setMemberId("nobody")
                                    .setProtocolType("consumer")
                                    .setProtocolName("range"))
                            .build(v));
        }
        for (short v = 0; v <= 4; v++) {
            assertAnswered(
                    port,
                    new HeartbeatRequest.Builder(new HeartbeatRequestData()
                                    .setGroupId("join-0")
                                    .setGenerationId(1)
                                    .setMemberId("nobody"))
                            .build(v));
        }
        for (short v = 0; v <= 5; v++) {
            assertAnswered(
                    port,
                    new LeaveGroupRequest.Builder(
                                    "join-1", List.of(new LeaveGroupRequestData.MemberIdentity().setMemberId("nobody")))
                            .build(v));
        }
        for (short v = 2; v <= 10; v++) {
            OffsetCommitRequestData commit = new OffsetCommitRequestData()
                    .setGroupId("commit-" + v)
                    .setGenerationIdOrMemberEpoch(-1)
                    .setMemberId("");
            commit.topics()
                    .add(new OffsetCommitRequestData.OffsetCommitRequestTopic()
                            .setName(v < 10 ? "t" : "")
                            .setTopicId(v < 10 ? Uuid.ZERO_UUID : topicId)
                            .setPartitions(List.of(new OffsetCommitRequestData.OffsetCommitRequestPartition()
                                    .setPartitionIndex(0)
                                    .setCommittedOffset(5))));
            OffsetCommitResponse committed = (OffsetCommitResponse) assertAnswered(
                    port, OffsetCommitRequest.Builder.forTopicIdsOrNames(commit).build(v));
            assertThat(committed.errorCounts()).containsOnlyKeys(Errors.NONE);
        }
        for (short v = 1; v <= 10; v++) {
            OffsetFetchRequestData fetch = new OffsetFetchRequestData()
                    .setGroups(List.of(new OffsetFetchRequestData.OffsetFetchRequestGroup()
                            .setGroupId("commit-" + Math.max(2, v))
                            .setTopics(List.of(new OffsetFetchRequestData.OffsetFetchRequestTopics()
                                    .setName(v < 10 ? "t" : "")
                                    .setTopicId(v < 10 ? Uuid.ZERO_UUID : topicId)
                                    .setPartitionIndexes(List.of(0))))));
            OffsetFetchResponse fetched = (OffsetFetchResponse) assertAnswered(
                    port,
                    OffsetFetchRequest.Builder.forTopicIdsOrNames(fetch, false).build(v));
            assertThat(fetched.errorCounts()).containsOnlyKeys(Errors.NONE);
            if (v >= 8) {
                assertThat(fetched.data()
                                .groups()
                                .get(0)
                                .topics()
                                .get(0)
                                .partitions()
                                .get(0)
                                .committedOffset())
                        .isEqualTo(5);
            }
        }
        Map<TopicPartition, OffsetAndMetadata> viaAdmin = admin.listConsumerGroupOffsets("commit-10")
                .partitionsToOffsetAndMetadata()
                .get(30, TimeUnit.SECONDS);
        assertThat(viaAdmin).containsEntry(new TopicPartition("t", 0), new OffsetAndMetadata(5));
        OffsetCommitRequestData unknownTopic = new OffsetCommitRequestData()
                .setGroupId("commit-10")
                .setGenerationIdOrMemberEpoch(-1)
                .setMemberId("");
        unknownTopic
                .topics()
                .add(new OffsetCommitRequestData.OffsetCommitRequestTopic()
                        .setTopicId(Uuid.randomUuid())
                        .setPartitions(List.of(new OffsetCommitRequestData.OffsetCommitRequestPartition()
                                .setPartitionIndex(0)
                                .setCommittedOffset(1))));
        OffsetCommitResponse rejected = (OffsetCommitResponse) assertAnswered(
                port,
                OffsetCommitRequest.Builder.forTopicIdsOrNames(unknownTopic).build((short) 10));
        assertThat(rejected.errorCounts()).containsOnlyKeys(Errors.UNKNOWN_TOPIC_ID);
        for (short v = 0; v <= 5; v++) {
            ListGroupsResponse listed = (ListGroupsResponse)
                    assertAnswered(port, new ListGroupsRequest.Builder(new ListGroupsRequestData()).build(v));
            assertThat(listed.data().groups())
                    .extracting(ListGroupsResponseData.ListedGroup::groupId)
                    .contains("commit-9");
        }
        for (short v = 0; v <= 6; v++) {
            assertAnswered(
                    port,
                    new DescribeGroupsRequest.Builder(
                                    new DescribeGroupsRequestData().setGroups(List.of("join-0", "commit-9", "none")))
                            .build(v));
        }
        for (short v = 0; v <= 2; v++) {
            assertAnswered(
                    port,
                    new DeleteGroupsRequest.Builder(new DeleteGroupsRequestData().setGroupsNames(List.of("none")))
                            .build(v));
        }
        OffsetDeleteRequestData delete = new OffsetDeleteRequestData().setGroupId("commit-9");
        delete.topics()
                .add(new OffsetDeleteRequestData.OffsetDeleteRequestTopic()
                        .setName("t")
                        .setPartitions(List.of(
                                new OffsetDeleteRequestData.OffsetDeleteRequestPartition().setPartitionIndex(0))));
        assertAnswered(port, new OffsetDeleteRequest.Builder(delete).build((short) 0));
    }

    /** Waits until the coordinators of these groups (all on this one node) have loaded their partitions. */
    private static void awaitGroupsServed(int port, List<String> groupIds) throws Exception {
        List<OffsetFetchRequestData.OffsetFetchRequestGroup> groups = new ArrayList<>();
        groupIds.forEach(g -> groups.add(new OffsetFetchRequestData.OffsetFetchRequestGroup().setGroupId(g)));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            OffsetFetchResponse response = (OffsetFetchResponse) InProcessCluster.sendRaw(
                    port,
                    OffsetFetchRequest.Builder.forTopicNames(new OffsetFetchRequestData().setGroups(groups), false)
                            .build((short) 9));
            if (response.data().groups().stream().allMatch(g -> g.errorCode() == Errors.NONE.code())) {
                return;
            }
            assertThat(System.nanoTime()).as("every group served within 30 s").isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    private static AbstractResponse assertAnswered(int port, AbstractRequest request) throws IOException {
        try {
            return InProcessCluster.sendRaw(port, request);
        } catch (IOException e) {
            throw new AssertionError(request.apiKey() + " v" + request.version() + " was not answered: " + e, e);
        }
    }

    private static FindCoordinatorResponseData.Coordinator findGroupCoordinator(int port, short version, String group)
            throws IOException {
        FindCoordinatorRequestData data = new FindCoordinatorRequestData().setKeyType(CoordinatorType.GROUP.id());
        if (version >= 4) {
            data.setCoordinatorKeys(List.of(group));
        } else {
            data.setKey(group);
        }
        FindCoordinatorResponse response = (FindCoordinatorResponse)
                InProcessCluster.sendRaw(port, new FindCoordinatorRequest.Builder(data).build(version));
        if (version >= 4) {
            assertThat(response.data().coordinators()).hasSize(1);
            return response.data().coordinators().get(0);
        }
        return new FindCoordinatorResponseData.Coordinator()
                .setKey(group)
                .setErrorCode(response.data().errorCode())
                .setNodeId(response.data().nodeId())
                .setHost(response.data().host())
                .setPort(response.data().port());
    }

    // ---- helpers ----

    private void startCluster(int count) throws Exception {
        bootstrap = InProcessCluster.start(
                dir,
                count,
                Map.of(BrokerConfig.OFFSETS_TOPIC_NUM_PARTITIONS, "4", "group.initial.rebalance.delay.ms", "0"),
                nodes);
    }

    private Admin admin() {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        Admin admin = Admin.create(props);
        clients.add(admin);
        return admin;
    }

    private KafkaProducer<String, String> producer() {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        KafkaProducer<String, String> producer =
                new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
        clients.add(producer);
        return producer;
    }

    private KafkaConsumer<String, String> consumer(String groupId) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, "30000");
        props.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "10000");
        props.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "1000");
        KafkaConsumer<String, String> consumer =
                new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
        clients.add(consumer);
        return consumer;
    }

    private static void produce(KafkaProducer<String, String> producer, int from, int count) throws Exception {
        for (int i = from; i < from + count; i++) {
            producer.send(new ProducerRecord<>(TOPIC, "key-" + i, Integer.toString(i)));
        }
        producer.flush();
    }

    @SafeVarargs
    private static void awaitWhilePolling(
            BooleanSupplier done, List<String> received, KafkaConsumer<String, String>... consumers) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (!done.getAsBoolean()) {
            assertThat(System.nanoTime()).as("condition reached within 90 s").isLessThan(deadline);
            for (KafkaConsumer<String, String> consumer : consumers) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(100))) {
                    received.add(record.value());
                }
            }
        }
    }

    @SafeVarargs
    private static void pollFor(Duration duration, List<String> received, KafkaConsumer<String, String>... consumers) {
        long end = System.nanoTime() + duration.toNanos();
        while (System.nanoTime() < end) {
            for (KafkaConsumer<String, String> consumer : consumers) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(100))) {
                    received.add(record.value());
                }
            }
        }
    }
}
