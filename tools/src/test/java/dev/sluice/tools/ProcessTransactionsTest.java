package dev.sluice.tools;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
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

/**
 * Kafka transactions on a 3-node cluster of real node processes, driven by real clients: the Apache Kafka
 * Java client (interleaved commits and aborts over six partitions of two topics read back record by record
 * with both isolation levels, the fencing of a zombie producer, the abort of a transaction that outlived its
 * timeout, transactions sent as many pipelined batches) and librdkafka (a transactional producer in Python,
 * {@code txn_client.py}).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ProcessTransactionsTest {
    private static final String PYTHON = "/usr/bin/python3";
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(60);

    private NodeProcesses cluster;
    private Admin admin;

    @BeforeAll
    void startCluster() throws Exception {
        // Under target/ rather than a temporary directory, so that the node logs outlive a failed run.
        Path dir = Path.of("target", "process-transactions").toAbsolutePath();
        deleteRecursively(dir);
        // Timed-out transactions are looked for every second rather than every 10 s, so that the timeout test
        // stays short.
        cluster = NodeProcesses.start(
                dir, 3, Map.of("transaction.abort.timed.out.transaction.cleanup.interval.ms", "1000"));
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        admin = Admin.create(props);
    }

    @AfterAll
    void stopCluster() {
        if (admin != null) {
            admin.close(Duration.ofSeconds(5));
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    /**
     * Forty transactions over six partitions of two topics, committed and aborted in turn, each writing a
     * different subset of the partitions: a read_committed reader sees exactly the committed records of each
     * partition in the order they were sent, a read_uncommitted reader every record, and neither a control
     * record; each partition holds one marker per transaction that wrote to it.
     */
    @Test
    @Order(1)
    void readCommittedSeesExactlyTheCommittedTransactionsAndReadUncommittedSeesAll() throws Exception {
        createTopic("txn-left", 3);
        createTopic("txn-right", 3);
        List<TopicPartition> tps = new ArrayList<>();
        for (String topic : List.of("txn-left", "txn-right")) {
            for (int p = 0; p < 3; p++) {
                tps.add(new TopicPartition(topic, p));
            }
        }
        Map<TopicPartition, List<String>> committed = emptyLists(tps);
        Map<TopicPartition, List<String>> all = emptyLists(tps);
        Map<TopicPartition, Integer> transactionsTouching = new HashMap<>();
        int transactions = 40;
        try (KafkaProducer<String, String> producer = transactionalProducer("interleaved", 30_000)) {
            producer.initTransactions();
            for (int t = 0; t < transactions; t++) {
                boolean commit = t % 2 == 0;
                producer.beginTransaction();
                for (int i = 0; i < tps.size(); i++) {
                    // Each transaction writes 1-3 records to four of the six partitions, a different four
                    // from one transaction to the next.
                    if ((t + i) % 3 == 0) {
                        continue;
                    }
                    TopicPartition tp = tps.get(i);
                    transactionsTouching.merge(tp, 1, Integer::sum);
                    int records = 1 + (t + 2 * i) % 3;
                    for (int r = 0; r < records; r++) {
                        String value = String.format("txn-%02d-%s-%s-%d", t, commit ? "c" : "a", tp, r);
                        producer.send(new ProducerRecord<>(tp.topic(), tp.partition(), "k" + t, value));
                        all.get(tp).add(value);
                        if (commit) {
                            committed.get(tp).add(value);
                        }
                    }
                }
                if (commit) {
                    producer.commitTransaction();
                } else {
                    // Written to the partitions first, then aborted (unsent records would just be dropped).
                    producer.flush();
                    producer.abortTransaction();
                }
            }
        }
        Map<TopicPartition, List<ConsumerRecord<String, String>>> readCommitted = readAll(tps, "read_committed");
        Map<TopicPartition, List<ConsumerRecord<String, String>>> readUncommitted = readAll(tps, "read_uncommitted");
        Map<TopicPartition, Long> logEnd = endOffsets(tps, "read_uncommitted");
        for (TopicPartition tp : tps) {
            assertThat(values(readCommitted.get(tp)))
                    .as("read_committed records of %s", tp)
                    .containsExactlyElementsOf(committed.get(tp));
            assertThat(values(readUncommitted.get(tp)))
                    .as("read_uncommitted records of %s", tp)
                    .containsExactlyElementsOf(all.get(tp));
            assertThat(logEnd.get(tp))
                    .as("log end offset of %s: its records plus one marker per transaction writing to it", tp)
                    .isEqualTo(all.get(tp).size() + transactionsTouching.get(tp));
        }
    }

    /**
     * A producer taking over a transactional id fences the one that held it: the open transaction of the
     * zombie is aborted by the coordinator, the zombie's next write or commit fails as fenced, and only the
     * new producer's committed records are read committed.
     */
    @Test
    @Order(2)
    void aNewProducerWithTheSameTransactionalIdFencesTheZombie() throws Exception {
        createTopic("txn-fencing", 2);
        List<TopicPartition> tps = List.of(new TopicPartition("txn-fencing", 0), new TopicPartition("txn-fencing", 1));
        KafkaProducer<String, String> zombie = transactionalProducer("fenced-id", 30_000);
        Throwable zombieFailure;
        try {
            zombie.initTransactions();
            zombie.beginTransaction();
            for (TopicPartition tp : tps) {
                zombie.send(new ProducerRecord<>(tp.topic(), tp.partition(), "k", "zombie-before-" + tp.partition()))
                        .get(30, TimeUnit.SECONDS);
            }
            try (KafkaProducer<String, String> successor = transactionalProducer("fenced-id", 30_000)) {
                successor.initTransactions();
                zombieFailure = catchThrowable(() -> {
                    zombie.send(new ProducerRecord<>("txn-fencing", 0, "k", "zombie-after"))
                            .get(30, TimeUnit.SECONDS);
                    zombie.commitTransaction();
                });
                successor.beginTransaction();
                for (TopicPartition tp : tps) {
                    successor.send(
                            new ProducerRecord<>(tp.topic(), tp.partition(), "k", "successor-" + tp.partition()));
                }
                successor.commitTransaction();
            }
        } finally {
            zombie.close(Duration.ZERO);
        }
        assertThat(zombieFailure)
                .as("the zombie's write or commit after the fencing")
                .isNotNull();
        System.out.println("TXN-FENCING the zombie got " + causes(zombieFailure));
        assertThat(causes(zombieFailure))
                .as("causes of %s", zombieFailure)
                .anyMatch(cause ->
                        cause instanceof ProducerFencedException || cause instanceof InvalidProducerEpochException);
        Map<TopicPartition, List<ConsumerRecord<String, String>>> readCommitted = readAll(tps, "read_committed");
        Map<TopicPartition, List<ConsumerRecord<String, String>>> readUncommitted = readAll(tps, "read_uncommitted");
        for (TopicPartition tp : tps) {
            assertThat(values(readCommitted.get(tp)))
                    .as("read_committed records of %s", tp)
                    .containsExactly("successor-" + tp.partition());
            assertThat(values(readUncommitted.get(tp)))
                    .as("read_uncommitted records of %s: the zombie's first write is in the log, aborted", tp)
                    .containsExactly("zombie-before-" + tp.partition(), "successor-" + tp.partition());
        }
    }

    /**
     * A transaction left open beyond its {@code transaction.timeout.ms} is aborted by the coordinator: a
     * read_committed reader gets past it (to a record written after it) within seconds, never sees its records,
     * and the admin client lists the transactional id as aborted.
     */
    @Test
    @Order(3)
    void theCoordinatorAbortsATransactionThatOutlivesItsTimeout() throws Exception {
        createTopic("txn-timeout", 1);
        TopicPartition tp = new TopicPartition("txn-timeout", 0);
        // Long enough that the three sends finish well inside it on a slow, busy machine.
        int timeoutMs = 10_000;
        KafkaProducer<String, String> abandoned = transactionalProducer("abandoned", timeoutMs);
        long startNs;
        long beginNs;
        try {
            abandoned.initTransactions();
            beginNs = System.nanoTime();
            abandoned.beginTransaction();
            for (int r = 0; r < 3; r++) {
                abandoned
                        .send(new ProducerRecord<>(tp.topic(), tp.partition(), "k", "abandoned-" + r))
                        .get(30, TimeUnit.SECONDS);
            }
            startNs = System.nanoTime();
            try (KafkaProducer<String, String> plain = idempotentProducer()) {
                plain.send(new ProducerRecord<>(tp.topic(), tp.partition(), "k", "after"))
                        .get(30, TimeUnit.SECONDS);
            }
            List<String> seen = new ArrayList<>();
            try (KafkaConsumer<String, String> consumer = consumer("read_committed")) {
                consumer.assign(List.of(tp));
                consumer.seekToBeginning(List.of(tp));
                long deadline = startNs + TimeUnit.MILLISECONDS.toNanos(timeoutMs) + TimeUnit.SECONDS.toNanos(15);
                while (!seen.contains("after") && System.nanoTime() < deadline) {
                    consumer.poll(Duration.ofMillis(200)).forEach(record -> seen.add(record.value()));
                }
            }
            long readPastNs = System.nanoTime();
            long elapsedMs = TimeUnit.NANOSECONDS.toMillis(readPastNs - startNs);
            long sinceBeginMs = TimeUnit.NANOSECONDS.toMillis(readPastNs - beginNs);
            assertThat(seen)
                    .as("read_committed within 15 s of the abandoned transaction's timeout (after %d ms)", elapsedMs)
                    .containsExactly("after");
            assertThat(sinceBeginMs)
                    .as("ms from beginTransaction to reading past the transaction: not aborted before its timeout")
                    .isGreaterThanOrEqualTo(timeoutMs);
            System.out.println("TXN-TIMEOUT aborted and read past " + elapsedMs + " ms after its last write, "
                    + sinceBeginMs + " ms after beginTransaction");
        } finally {
            abandoned.close(Duration.ZERO);
        }
        assertThat(admin.listTransactions().all().get(30, TimeUnit.SECONDS).stream()
                        .map(TransactionListing::transactionalId))
                .contains("abandoned");
        TransactionDescription description = admin.describeTransactions(List.of("abandoned"))
                .description("abandoned")
                .get(30, TimeUnit.SECONDS);
        assertThat(description.state()).isIn(TransactionState.COMPLETE_ABORT, TransactionState.EMPTY);
        assertThat(description.topicPartitions()).isEmpty();
        assertThat(values(readAll(List.of(tp), "read_uncommitted").get(tp)))
                .containsExactly("abandoned-0", "abandoned-1", "abandoned-2", "after");
    }

    /**
     * A transaction whose records travel as many small batches, several in flight at once to each partition
     * (the Java client pipelines up to five requests per connection): every transaction commits, and
     * read_committed returns every record in send order. The first batches of a transaction on a partition
     * are checked with the transaction coordinator before they are appended; that check must not let a later
     * batch overtake an earlier one of the same producer.
     */
    @Test
    @Order(4)
    void transactionsWithSeveralBatchesInFlightPerPartitionCommitInOrder() throws Exception {
        createTopic("txn-pipelined", 2);
        List<TopicPartition> tps =
                List.of(new TopicPartition("txn-pipelined", 0), new TopicPartition("txn-pipelined", 1));
        Map<TopicPartition, List<String>> sent = emptyLists(tps);
        String padding = "x".repeat(1000);
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "pipelined");
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 60_000);
        props.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5);
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, 4096); // about three 1 KiB records per batch
        props.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        try (KafkaProducer<String, String> producer =
                new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
            producer.initTransactions();
            for (int t = 0; t < 10; t++) {
                producer.beginTransaction();
                for (int r = 0; r < 60; r++) {
                    TopicPartition tp = tps.get(r % 2);
                    String value = String.format("pipelined-%02d-%03d-%s", t, r, padding);
                    producer.send(new ProducerRecord<>(tp.topic(), tp.partition(), null, value));
                    sent.get(tp).add(value);
                }
                producer.commitTransaction();
            }
        }
        Map<TopicPartition, List<ConsumerRecord<String, String>>> readCommitted = readAll(tps, "read_committed");
        for (TopicPartition tp : tps) {
            assertThat(values(readCommitted.get(tp)))
                    .as("read_committed records of %s", tp)
                    .containsExactlyElementsOf(sent.get(tp));
        }
    }

    /**
     * librdkafka's transactional producer ({@code txn_client.py}, Python's confluent-kafka): it commits one
     * transaction and aborts another, and a read_committed Java consumer reads exactly the committed values.
     */
    @Test
    @Order(5)
    void librdkafkaCommitsAndAbortsTransactions() throws Exception {
        assumeThat(confluentKafkaAvailable())
                .as(PYTHON + " can import confluent_kafka (.ci/run installs python3-confluent-kafka)")
                .isTrue();
        createTopic("txn-librdkafka", 3);
        Path script = resource("txn_client.py");
        Process process = new ProcessBuilder(
                        PYTHON, script.toString(), cluster.bootstrapServers(), "txn-librdkafka", "librdkafka-id")
                .redirectErrorStream(true)
                .start();
        boolean exited = process.waitFor(90, TimeUnit.SECONDS);
        if (!exited) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(exited)
                .as("txn_client.py finished within 90 s; output:%n%s", output)
                .isTrue();
        assertThat(process.exitValue())
                .as("txn_client.py exit code; output:%n%s", output)
                .isZero();
        List<TopicPartition> tps = new ArrayList<>();
        for (int p = 0; p < 3; p++) {
            tps.add(new TopicPartition("txn-librdkafka", p));
        }
        List<String> committed = new ArrayList<>();
        readAll(tps, "read_committed").values().forEach(records -> committed.addAll(values(records)));
        List<String> uncommitted = new ArrayList<>();
        readAll(tps, "read_uncommitted").values().forEach(records -> uncommitted.addAll(values(records)));
        List<String> expectedCommitted = new ArrayList<>();
        List<String> expectedAborted = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            expectedCommitted.add("librdkafka-committed-" + i);
            expectedAborted.add("librdkafka-aborted-" + i);
        }
        assertThat(committed)
                .as("output of txn_client.py:%n%s", output)
                .containsExactlyInAnyOrderElementsOf(expectedCommitted);
        List<String> everything = new ArrayList<>(expectedCommitted);
        everything.addAll(expectedAborted);
        assertThat(uncommitted).containsExactlyInAnyOrderElementsOf(everything);
    }

    private static boolean confluentKafkaAvailable() {
        if (!Files.isExecutable(Path.of(PYTHON))) {
            return false;
        }
        try {
            Process check = new ProcessBuilder(PYTHON, "-c", "import confluent_kafka")
                    .redirectErrorStream(true)
                    .start();
            check.getInputStream().readAllBytes();
            if (!check.waitFor(30, TimeUnit.SECONDS)) {
                check.destroyForcibly();
                return false;
            }
            return check.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private void createTopic(String name, int partitions) throws Exception {
        admin.createTopics(List.of(new NewTopic(name, partitions, (short) 3)))
                .all()
                .get(30, TimeUnit.SECONDS);
    }

    private KafkaProducer<String, String> transactionalProducer(String transactionalId, int transactionTimeoutMs) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        props.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, transactionTimeoutMs);
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 60_000);
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 15_000);
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 45_000);
        return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    }

    private KafkaProducer<String, String> idempotentProducer() {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 60_000);
        return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    }

    private KafkaConsumer<String, String> consumer(String isolationLevel) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolationLevel);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000);
        return new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
    }

    /**
     * Waits until the last stable offset of every partition is its high watermark: EndTxn is answered before
     * the transaction's markers are written, so a reader right after the last commit could stop short of it.
     */
    private void awaitNoOpenTransaction(List<TopicPartition> tps) {
        long deadline = System.nanoTime() + READ_TIMEOUT.toNanos();
        while (!endOffsets(tps, "read_committed").equals(endOffsets(tps, "read_uncommitted"))) {
            assertThat(System.nanoTime())
                    .as("every transaction on %s ended within %s", tps, READ_TIMEOUT)
                    .isLessThan(deadline);
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private Map<TopicPartition, Long> endOffsets(List<TopicPartition> tps, String isolationLevel) {
        try (KafkaConsumer<String, String> consumer = consumer(isolationLevel)) {
            return consumer.endOffsets(tps, Duration.ofSeconds(30));
        }
    }

    /**
     * Every record of {@code tps} from the beginning to the end offsets (the last stable offsets under
     * read_committed), read in assign mode.
     */
    private Map<TopicPartition, List<ConsumerRecord<String, String>>> readAll(
            List<TopicPartition> tps, String isolationLevel) {
        Map<TopicPartition, List<ConsumerRecord<String, String>>> records = new LinkedHashMap<>();
        tps.forEach(tp -> records.put(tp, new ArrayList<>()));
        if (isolationLevel.equals("read_committed")) {
            awaitNoOpenTransaction(tps);
        }
        try (KafkaConsumer<String, String> consumer = consumer(isolationLevel)) {
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            Map<TopicPartition, Long> end = consumer.endOffsets(tps, Duration.ofSeconds(30));
            long deadline = System.nanoTime() + READ_TIMEOUT.toNanos();
            while (tps.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                assertThat(System.nanoTime())
                        .as("%s read to %s within %s (read %s)", isolationLevel, end, READ_TIMEOUT, records)
                        .isLessThan(deadline);
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
                    records.get(new TopicPartition(record.topic(), record.partition()))
                            .add(record);
                }
            }
        }
        return records;
    }

    private static List<String> values(List<ConsumerRecord<String, String>> records) {
        return records.stream().map(ConsumerRecord::value).toList();
    }

    private static Map<TopicPartition, List<String>> emptyLists(List<TopicPartition> tps) {
        Map<TopicPartition, List<String>> lists = new HashMap<>();
        tps.forEach(tp -> lists.put(tp, new ArrayList<>()));
        return lists;
    }

    private static List<Throwable> causes(Throwable failure) {
        List<Throwable> causes = new ArrayList<>();
        for (Throwable t = failure; t != null && !causes.contains(t); t = t.getCause()) {
            causes.add(t);
        }
        return causes;
    }

    static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }

    static Path resource(String name) throws URISyntaxException {
        return Path.of(ProcessTransactionsTest.class.getResource("/" + name).toURI());
    }
}
