package dev.sluice.tools;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.broker.BrokerConfig;
import dev.sluice.broker.InProcessCluster;
import dev.sluice.broker.SluiceNode;
import dev.sluice.tools.kafka.CommandRun;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sluice groups} against three real nodes in this JVM: a consumer group with one member that
 * committed an offset on one of its two partitions, then resets while it is inactive, then deletion. The
 * tests run in order and share the cluster and the group.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class GroupsCommandTest {
    private static final String TOPIC = "orders";
    private static final String GROUP = "billing";
    private static final TopicPartition P0 = new TopicPartition(TOPIC, 0);
    private static final TopicPartition P1 = new TopicPartition(TOPIC, 1);
    private static final int RECORDS_PER_PARTITION = 10;

    @TempDir
    static Path dir;

    final List<SluiceNode> nodes = new ArrayList<>();
    String bootstrap;
    Admin admin;
    KafkaConsumer<String, String> consumer;
    long firstTimestampMs;

    @BeforeAll
    void startClusterAndConsume() throws Exception {
        bootstrap = InProcessCluster.start(
                dir,
                3,
                Map.of(BrokerConfig.OFFSETS_TOPIC_NUM_PARTITIONS, "4", "group.initial.rebalance.delay.ms", "0"),
                nodes);
        Properties adminProps = new Properties();
        adminProps.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        admin = Admin.create(adminProps);
        admin.createTopics(List.of(new NewTopic(TOPIC, 2, (short) 3))).all().get(30, TimeUnit.SECONDS);
        // Record i of each partition is stamped firstTimestampMs + i seconds, for --to-datetime.
        firstTimestampMs = System.currentTimeMillis() - 600_000;
        try (KafkaProducer<String, String> producer = producer()) {
            for (int i = 0; i < RECORDS_PER_PARTITION; i++) {
                for (int partition = 0; partition < 2; partition++) {
                    producer.send(
                            new ProducerRecord<>(TOPIC, partition, firstTimestampMs + i * 1000L, "k" + i, "v" + i));
                }
            }
            producer.flush();
        }
        consumer = consumer();
        consumer.subscribe(List.of(TOPIC));
        int[] received = {0};
        awaitPolling(() -> consumer.assignment().size() == 2 && received[0] >= 2 * RECORDS_PER_PARTITION, received);
        consumer.commitSync(Map.of(P0, new OffsetAndMetadata(6)));
    }

    @AfterAll
    void stop() {
        if (consumer != null) {
            consumer.close();
        }
        if (admin != null) {
            admin.close(Duration.ofSeconds(5));
        }
        nodes.forEach(SluiceNode::close);
    }

    @Test
    @Order(1)
    void shouldDescribeCommittedOffsetLogEndLagAndMemberWhileTheConsumerIsActive() {
        CommandRun run = groups("describe", "--group", GROUP);

        assertThat(run.exitCode()).as(run.err()).isZero();
        String memberId = consumer.groupMetadata().memberId();
        assertThat(rows(run.out()))
                .containsExactly(
                        List.of(GROUP, TOPIC, "0", "6", "10", "4", memberId, "/127.0.0.1", clientId()),
                        List.of(GROUP, TOPIC, "1", "-", "10", "-", memberId, "/127.0.0.1", clientId()));
        assertThat(run.out())
                .startsWith("GROUP    TOPIC   PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG  CONSUMER-ID");
        assertThat(run.out()).contains("Total lag of group billing: 4");
    }

    @Test
    @Order(2)
    void shouldShowTheMembersTheStateAndTheListing() {
        CommandRun members = groups("describe", "--group", GROUP, "--members", "--verbose");
        CommandRun state = groups("describe", "--all-groups", "--state");
        CommandRun list = groups("list");

        assertThat(rows(members.out()))
                .containsExactly(List.of(
                        GROUP, consumer.groupMetadata().memberId(), "/127.0.0.1", clientId(), "2", "orders(0,1)"));
        assertThat(rows(state.out())).singleElement().satisfies(row -> {
            assertThat(row.get(row.size() - 2)).isEqualTo("Stable");
            assertThat(row.get(row.size() - 1)).isEqualTo("1");
        });
        assertThat(rows(list.out())).containsExactly(List.of(GROUP, "Stable", "consumer"));
    }

    @Test
    @Order(3)
    void shouldRefuseToResetOrDeleteWhileTheGroupHasMembers() throws Exception {
        CommandRun reset = groups("reset-offsets", "--group", GROUP, "--all-topics", "--to-earliest");
        CommandRun delete = groups("delete", "--group", GROUP);

        assertThat(reset.exitCode()).isEqualTo(1);
        assertThat(reset.err())
                .startsWith("sluice groups: consumer group 'billing' is Stable with 1 member(s)")
                .contains("stop its consumers first");
        assertThat(delete.exitCode()).isEqualTo(1);
        assertThat(delete.err())
                .startsWith("sluice groups: consumer group 'billing' is not empty")
                .contains("stop its consumers first");
        assertThat(committed()).isEqualTo(Map.of(P0, 6L));
    }

    @Test
    @Order(4)
    void shouldPlanADryRunWithoutChangingAnything() throws Exception {
        consumer.close();
        consumer = null;
        awaitTrue(() -> groups("describe", "--group", GROUP, "--state").out().contains("Empty"));

        CommandRun run = groups("reset-offsets", "--group", GROUP, "--topic", TOPIC, "--to-earliest", "--dry-run");

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(rows(run.out()))
                .containsExactly(List.of(GROUP, TOPIC, "0", "6", "0"), List.of(GROUP, TOPIC, "1", "-", "0"));
        assertThat(run.out()).contains("Dry run: no offsets changed.");
        assertThat(committed()).isEqualTo(Map.of(P0, 6L));
    }

    @Test
    @Order(5)
    void shouldResetToEarliestThenToAnOffsetClampedToTheLogEnd() throws Exception {
        CommandRun earliest = groups("reset-offsets", "--group", GROUP, "--topic", TOPIC, "--to-earliest");

        assertThat(earliest.exitCode()).as(earliest.err()).isZero();
        assertThat(earliest.out()).contains("Reset the offsets of consumer group billing on 2 partition(s).");
        assertThat(committed()).isEqualTo(Map.of(P0, 0L, P1, 0L));

        CommandRun toOffset = groups("reset-offsets", "--group", GROUP, "--topic", "orders:0", "--to-offset", "8");
        CommandRun beyondEnd = groups("reset-offsets", "--group", GROUP, "--topic", "orders:1", "--to-offset", "99");

        assertThat(toOffset.exitCode()).as(toOffset.err()).isZero();
        assertThat(beyondEnd.exitCode()).as(beyondEnd.err()).isZero();
        assertThat(rows(beyondEnd.out())).containsExactly(List.of(GROUP, TOPIC, "1", "0", "10"));
        assertThat(committed()).isEqualTo(Map.of(P0, 8L, P1, 10L));
    }

    @Test
    @Order(6)
    void shouldShiftBackClampedToTheLogStart() throws Exception {
        CommandRun run = groups("reset-offsets", "--group", GROUP, "--all-topics", "--shift-by", "-9");

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(committed()).isEqualTo(Map.of(P0, 0L, P1, 1L));
    }

    @Test
    @Order(7)
    void shouldResetToTheFirstRecordAtOrAfterADatetime() throws Exception {
        String fifth = Instant.ofEpochMilli(firstTimestampMs + 5_000).toString();
        String afterAll = Instant.ofEpochMilli(firstTimestampMs + 60_000).toString();

        CommandRun run = groups("reset-offsets", "--group", GROUP, "--all-topics", "--to-datetime", fifth);
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(committed()).isEqualTo(Map.of(P0, 5L, P1, 5L));

        CommandRun last = groups("reset-offsets", "--group", GROUP, "--topic", "orders:1", "--to-datetime", afterAll);
        assertThat(last.exitCode()).as(last.err()).isZero();
        assertThat(committed()).isEqualTo(Map.of(P0, 5L, P1, 10L));

        CommandRun hourAgo =
                groups("reset-offsets", "--group", GROUP, "--all-topics", "--by-duration", "PT1H", "--dry-run");
        assertThat(rows(hourAgo.out()))
                .containsExactly(List.of(GROUP, TOPIC, "0", "5", "0"), List.of(GROUP, TOPIC, "1", "10", "0"));
    }

    @Test
    @Order(8)
    void shouldDescribeAnInactiveGroupWithItsLag() {
        CommandRun run = groups("describe", "--group", GROUP);

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).startsWith("Consumer group 'billing' has no active members.");
        assertThat(rows(run.out()))
                .containsExactly(
                        List.of(GROUP, TOPIC, "0", "5", "10", "5", "-", "-", "-"),
                        List.of(GROUP, TOPIC, "1", "10", "10", "0", "-", "-", "-"));
        assertThat(run.out()).contains("Total lag of group billing: 5");
    }

    @Test
    @Order(9)
    void shouldDeleteTheGroup() {
        CommandRun delete = groups("delete", "--group", GROUP);
        CommandRun list = groups("list", "--names-only");
        CommandRun describe = groups("describe", "--group", GROUP);
        CommandRun again = groups("delete", "--group", GROUP);

        assertThat(delete.exitCode()).as(delete.err()).isZero();
        assertThat(delete.out()).isEqualTo("Deleted consumer group billing." + System.lineSeparator());
        assertThat(list.out()).doesNotContain(GROUP);
        assertThat(describe.exitCode()).isEqualTo(1);
        assertThat(describe.err())
                .isEqualTo("sluice groups: consumer group 'billing' does not exist" + System.lineSeparator());
        assertThat(again.exitCode()).isEqualTo(1);
        assertThat(again.err()).contains("consumer group 'billing' does not exist");
    }

    private CommandRun groups(String... args) {
        List<String> all = new ArrayList<>(List.of("groups"));
        all.addAll(Arrays.asList(args));
        all.addAll(List.of("--bootstrap-server", bootstrap));
        return CommandRun.of(all.toArray(String[]::new));
    }

    /** The table rows of the group (split at runs of spaces), without the heading. */
    private static List<List<String>> rows(String out) {
        return out.lines()
                .filter(line -> line.startsWith(GROUP + " "))
                .map(line -> List.of(line.trim().split(" {2,}")))
                .toList();
    }

    private Map<TopicPartition, Long> committed() throws Exception {
        Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(GROUP)
                .partitionsToOffsetAndMetadata()
                .get(30, TimeUnit.SECONDS);
        Map<TopicPartition, Long> committed = new java.util.HashMap<>();
        offsets.forEach((tp, offset) -> {
            if (offset != null) {
                committed.put(tp, offset.offset());
            }
        });
        return committed;
    }

    private String clientId() {
        return "consumer-" + GROUP + "-1";
    }

    private KafkaProducer<String, String> producer() {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    }

    private KafkaConsumer<String, String> consumer() {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, GROUP);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, "60000");
        // a LeaveGroup that meets a coordinator move is not retried: the session then ends the membership
        props.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "10000");
        props.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "1000");
        return new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
    }

    private void awaitPolling(BooleanSupplier condition, int[] received) {
        long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("condition within 30 s").isLessThan(deadlineNs);
            received[0] += consumer.poll(Duration.ofMillis(200)).count();
        }
    }

    private static void awaitTrue(BooleanSupplier condition) throws InterruptedException {
        long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("condition within 40 s").isLessThan(deadlineNs);
            Thread.sleep(200);
        }
    }
}
