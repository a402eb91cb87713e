package dev.sluice.tools;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.broker.HangingTransactionWriter;
import dev.sluice.broker.InProcessCluster;
import dev.sluice.broker.SluiceNode;
import dev.sluice.tools.kafka.CommandRun;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
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
 * {@code sluice transactions} against three real nodes in this JVM: a producer begins a transaction, writes
 * two records to {@code payments-0} and never ends it, which leaves the partition's last stable offset stuck
 * at 0. The tests run in order: the transaction is listed, described, and seen among the partition's
 * producers; then {@code abort --start-offset 0} ends it on the partition. Last, a transaction no coordinator
 * knows of is left open on {@code ledger-0}: {@code find-hanging} finds it and {@code abort} by producer ends it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class TransactionsCommandTest {
    private static final String TOPIC = "payments";
    private static final String TRANSACTIONAL_ID = "stuck-payments";
    private static final TopicPartition TP = new TopicPartition(TOPIC, 0);
    private static final TopicPartition LEDGER = new TopicPartition("ledger", 0);

    @TempDir
    static Path dir;

    final List<SluiceNode> nodes = new ArrayList<>();
    String bootstrap;
    Admin admin;
    KafkaProducer<String, String> producer;
    long producerId;

    @BeforeAll
    void startClusterAndLeaveATransactionOpen() throws Exception {
        bootstrap = InProcessCluster.start(dir, 3, Map.of(), nodes);
        Properties adminProps = new Properties();
        adminProps.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        admin = Admin.create(adminProps);
        admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 3))).all().get(30, TimeUnit.SECONDS);
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, TRANSACTIONAL_ID);
        props.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 600_000); // the coordinator will not end it
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 60_000);
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        producer = new KafkaProducer<>(props);
        producer.initTransactions();
        producer.beginTransaction();
        producer.send(new ProducerRecord<>(TOPIC, 0, "k", "v0"));
        producer.send(new ProducerRecord<>(TOPIC, 0, "k", "v1"));
        producer.flush(); // written (offsets 0 and 1), never committed nor aborted
        producerId = admin.describeTransactions(List.of(TRANSACTIONAL_ID))
                .description(TRANSACTIONAL_ID)
                .get(30, TimeUnit.SECONDS)
                .producerId();
    }

    @AfterAll
    void stop() {
        if (producer != null) {
            producer.close(Duration.ZERO); // a forced close leaves the transaction to the coordinator
        }
        if (admin != null) {
            admin.close(Duration.ofSeconds(5));
        }
        nodes.forEach(SluiceNode::close);
    }

    @Test
    @Order(1)
    void shouldListTheOngoingTransactionWithItsCoordinatorAndProducerId() {
        CommandRun run = transactions("list");

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).startsWith("TRANSACTIONAL-ID  COORDINATOR  PRODUCER-ID  STATE");
        List<List<String>> rows = rows(run.out());
        assertThat(rows).hasSize(1);
        assertThat(rows.get(0).get(0)).isEqualTo(TRANSACTIONAL_ID);
        assertThat(Integer.parseInt(rows.get(0).get(1))).isBetween(1, 3);
        assertThat(rows.get(0).subList(2, 4)).containsExactly(Long.toString(producerId), "Ongoing");
    }

    @Test
    @Order(2)
    void shouldDescribeTheTransactionOrSayTheIdIsUnknown() {
        CommandRun run = transactions("describe", "--transactional-id", TRANSACTIONAL_ID);
        CommandRun unknown = transactions("describe", "--transactional-id", "nobody");

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(cells(run.out().lines().findFirst().orElseThrow()))
                .containsExactly(
                        "COORDINATOR",
                        "TRANSACTIONAL-ID",
                        "PRODUCER-ID",
                        "PRODUCER-EPOCH",
                        "STATE",
                        "TIMEOUT-MS",
                        "START-TIME-MS",
                        "DURATION-MS",
                        "TOPIC-PARTITIONS");
        List<String> row = rows(run.out()).get(0);
        assertThat(row.subList(1, 6))
                .containsExactly(TRANSACTIONAL_ID, Long.toString(producerId), "0", "Ongoing", "600000");
        assertThat(Long.parseLong(row.get(6))).isPositive();
        assertThat(Long.parseLong(row.get(7))).isNotNegative();
        assertThat(row.get(8)).isEqualTo("payments-0");
        assertThat(unknown.exitCode()).isEqualTo(1);
        assertThat(unknown.err()).contains("transactional id 'nobody' does not exist");
    }

    @Test
    @Order(3)
    void shouldShowTheProducerWithItsOpenTransactionsStartOffset() {
        CommandRun run = transactions("describe-producers", "--topic", TOPIC, "--partition", "0");
        CommandRun missing = transactions("describe-producers", "--topic", "nothing", "--partition", "0");

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out())
                .startsWith("PRODUCER-ID  PRODUCER-EPOCH  COORDINATOR-EPOCH  LAST-SEQUENCE  LAST-TIMESTAMP"
                        + "  TXN-START-OFFSET");
        List<String> row = rows(run.out()).get(0);
        assertThat(row.subList(0, 4)).containsExactly(Long.toString(producerId), "0", "-", "1");
        assertThat(row.get(5)).isEqualTo("0");
        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.err()).contains("topic 'nothing' does not exist");
    }

    @Test
    @Order(4)
    void shouldFindNoHangingTransactionWhileTheCoordinatorStillOwnsIt() {
        CommandRun run = transactions("find-hanging", "--topic", TOPIC, "--max-transaction-timeout", "0");
        CommandRun unscoped = transactions("find-hanging");

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out().strip())
                .isEqualTo("TOPIC  PARTITION  PRODUCER-ID  PRODUCER-EPOCH  COORDINATOR-EPOCH  START-OFFSET"
                        + "  LAST-TIMESTAMP  DURATION-MIN");
        assertThat(unscoped.exitCode()).isEqualTo(2);
    }

    @Test
    @Order(5)
    void shouldRefuseAnAbortThatNamesNoOpenTransaction() {
        CommandRun wrongOffset = transactions("abort", "--topic", TOPIC, "--partition", "0", "--start-offset", "1");
        CommandRun unnamed = transactions("abort", "--topic", TOPIC, "--partition", "0");
        CommandRun partial = transactions("abort", "--topic", TOPIC, "--partition", "0", "--producer-id", "7");

        assertThat(wrongOffset.exitCode()).isEqualTo(1);
        assertThat(wrongOffset.err()).contains("no open transaction starts at offset 1 on payments-0");
        assertThat(unnamed.exitCode()).isEqualTo(2);
        assertThat(unnamed.err()).contains("--start-offset");
        assertThat(partial.exitCode()).isEqualTo(2);
        assertThat(partial.err()).contains("must be given together");
    }

    @Test
    @Order(6)
    void shouldAbortTheHangingTransactionByItsStartOffset() throws Exception {
        assertThat(lastStableOffset()).isZero();

        CommandRun run = transactions("abort", "--topic", TOPIC, "--partition", "0", "--start-offset", "0");

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out())
                .contains("Aborted the transaction of producer " + producerId + " (epoch 0, coordinator epoch 0) on"
                        + " payments-0 that started at offset 0.");
        assertThat(lastStableOffset()).isEqualTo(3); // v0, v1 and the ABORT marker
        List<String> row = rows(transactions("describe-producers", "--topic", TOPIC, "--partition", "0")
                        .out())
                .get(0);
        assertThat(row.get(2)).isEqualTo("0");
        assertThat(row.get(5)).isEqualTo("-");
    }

    @Test
    @Order(7)
    void shouldFindATransactionNoCoordinatorKnowsAndAbortItByProducer() throws Exception {
        admin.createTopics(List.of(new NewTopic(LEDGER.topic(), 1, (short) 3)))
                .all()
                .get(30, TimeUnit.SECONDS);
        long ghost = HangingTransactionWriter.write(
                nodes, LEDGER, "ghost", System.currentTimeMillis() - 180_000, "g0", "g1"); // offsets 0-1

        CommandRun found = transactions("find-hanging", "--broker-id", "1", "--max-transaction-timeout", "1");

        assertThat(found.exitCode()).as(found.err()).isZero();
        List<List<String>> rows = rows(found.out());
        assertThat(rows).hasSize(1);
        assertThat(rows.get(0).subList(0, 6)).containsExactly("ledger", "0", Long.toString(ghost), "0", "-", "0");
        assertThat(Long.parseLong(rows.get(0).get(7))).isGreaterThanOrEqualTo(3);

        CommandRun abort = transactions(
                "abort",
                "--topic",
                "ledger",
                "--partition",
                "0",
                "--producer-id",
                Long.toString(ghost),
                "--producer-epoch",
                "0",
                "--coordinator-epoch",
                "-1");

        assertThat(abort.exitCode()).as(abort.err()).isZero();
        assertThat(abort.out()).contains("Aborted the transaction of producer " + ghost);
        assertThat(lastStableOffset(LEDGER)).isEqualTo(3);
        assertThat(rows(transactions("find-hanging", "--topic", "ledger", "--max-transaction-timeout", "1")
                        .out()))
                .isEmpty();
    }

    private long lastStableOffset() throws Exception {
        return lastStableOffset(TP);
    }

    private long lastStableOffset(TopicPartition tp) throws Exception {
        return admin.listOffsets(Map.of(tp, OffsetSpec.latest()), new ListOffsetsOptions(IsolationLevel.READ_COMMITTED))
                .partitionResult(tp)
                .get(30, TimeUnit.SECONDS)
                .offset();
    }

    private CommandRun transactions(String... args) {
        List<String> all = new ArrayList<>(List.of("transactions"));
        all.addAll(Arrays.asList(args));
        all.addAll(List.of("--bootstrap-server", bootstrap));
        return CommandRun.of(all.toArray(String[]::new));
    }

    /** The table's data rows, each split into its cells. */
    private static List<List<String>> rows(String out) {
        List<String> lines = out.lines().toList();
        return lines.subList(1, lines.size()).stream()
                .map(TransactionsCommandTest::cells)
                .toList();
    }

    private static List<String> cells(String line) {
        return List.of(line.trim().split("\\s{2,}"));
    }
}
