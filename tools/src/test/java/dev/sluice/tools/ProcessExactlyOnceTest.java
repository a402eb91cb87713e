package dev.sluice.tools;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * Exactly-once consume-transform-produce on three real node processes while nodes are killed with SIGKILL:
 * first the transaction coordinator's node, then, once it is back, another node leading a partition of the
 * pipeline. A read_committed consumer then finds every input record transformed exactly once, in order, and
 * the group's committed offsets at the input's end. Its own cluster, since it kills nodes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ProcessExactlyOnceTest {
    private static final String INPUT = "eos-input";
    private static final String OUTPUT = "eos-output";
    private static final int PARTITIONS = 3;
    private static final int RECORDS = 6_000;
    private static final String GROUP = "eos-pipeline";
    private static final String TRANSACTIONAL_ID = "eos-pipeline-txn";
    private static final Duration PIPELINE_TIMEOUT = Duration.ofSeconds(120);
    private static final long DOWN_MS = 3_000;

    private NodeProcesses cluster;
    private Admin admin;
    /** Restarts of killed nodes, awaited before the cluster is closed so that none starts after it. */
    private final List<CompletableFuture<Void>> restarts = new CopyOnWriteArrayList<>();

    @BeforeAll
    void startCluster() throws Exception {
        Path dir = Path.of("target", "process-exactly-once").toAbsolutePath();
        ProcessTransactionsTest.deleteRecursively(dir);
        cluster = NodeProcesses.start(
                dir,
                3,
                Map.of(
                        "transaction.abort.timed.out.transaction.cleanup.interval.ms", "1000",
                        "group.initial.rebalance.delay.ms", "0",
                        "offsets.topic.num.partitions", "3"));
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 20_000);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
        admin = Admin.create(props);
        admin.createTopics(List.of(
                        new NewTopic(INPUT, PARTITIONS, (short) 3), new NewTopic(OUTPUT, PARTITIONS, (short) 3)))
                .all()
                .get(30, TimeUnit.SECONDS);
    }

    @AfterAll
    void stopCluster() {
        for (CompletableFuture<Void> restart : restarts) {
            try {
                restart.get(180, TimeUnit.SECONDS);
            } catch (Exception e) {
                // reported by the test; the node, if it started, is stopped below
            }
        }
        if (admin != null) {
            admin.close(Duration.ofSeconds(5));
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    /**
     * A transactional pipeline copies {@value #RECORDS} records from {@value #INPUT} to {@value #OUTPUT}
     * ({@code "out-" + value}, same partition), committing its consumed offsets in each transaction. A
     * quarter of the way through, the transaction coordinator's node is killed (and restarted 3 s later);
     * half-way, once that node is back, another node leading a partition of the output (or input) topic. Both
     * die in the middle of a transaction, between its sends and its commit. Every input record ends up in the
     * output exactly once, at its place, and the group's offsets at the input's end.
     */
    @Test
    void everyInputRecordIsTransformedExactlyOnceWhileNodesAreKilled() throws Exception {
        Map<TopicPartition, List<String>> input = fillInput();
        Map<TopicPartition, Long> inputEnd = new HashMap<>();
        input.forEach((tp, values) -> inputEnd.put(tp, (long) values.size()));

        Pipeline pipeline = new Pipeline(inputEnd);
        long startNs = System.nanoTime();
        pipeline.run();
        long pipelineMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs);
        System.out.println("EOS pipeline " + pipelineMs + " ms: " + pipeline.commits + " commits, " + pipeline.aborts
                + " aborts, " + pipeline.recreations + " producer/consumer recreations; killed coordinator node "
                + pipeline.killedCoordinator + " then partition leader node " + pipeline.killedLeader);
        assertThat(pipeline.killedCoordinator)
                .as("the transaction coordinator's node was killed")
                .isPositive();
        assertThat(pipeline.killedLeader).as("a partition leader was killed").isPositive();
        pipeline.awaitRestarts();

        Map<TopicPartition, List<String>> output = readAll(OUTPUT, "read_committed");
        for (int p = 0; p < PARTITIONS; p++) {
            List<String> expected = input.get(new TopicPartition(INPUT, p)).stream()
                    .map(value -> "out-" + value)
                    .toList();
            List<String> actual = output.get(new TopicPartition(OUTPUT, p));
            assertThat(actual)
                    .as("output partition %d: every input record of partition %d exactly once, in order", p, p)
                    .containsExactlyElementsOf(expected);
        }
        Map<TopicPartition, Long> committed = new HashMap<>();
        admin.listConsumerGroupOffsets(GROUP)
                .partitionsToOffsetAndMetadata()
                .get(30, TimeUnit.SECONDS)
                .forEach((tp, offset) -> committed.put(tp, offset.offset()));
        assertThat(committed).as("the group's committed offsets").isEqualTo(inputEnd);
    }

    /** Fills the input topic with unique records, partition by partition; returns each partition's values. */
    private Map<TopicPartition, List<String>> fillInput() throws Exception {
        Map<TopicPartition, List<String>> values = new LinkedHashMap<>();
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.LINGER_MS_CONFIG, 10);
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 60_000);
        try (KafkaProducer<String, String> producer =
                new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < RECORDS; i++) {
                int partition = i % PARTITIONS;
                String value = String.format("record-%05d", i);
                sent.add(producer.send(new ProducerRecord<>(INPUT, partition, "key-" + i, value)));
                values.computeIfAbsent(new TopicPartition(INPUT, partition), tp -> new ArrayList<>())
                        .add(value);
            }
            producer.flush();
            for (Future<RecordMetadata> future : sent) {
                future.get(60, TimeUnit.SECONDS);
            }
        }
        // What the log holds is what the pipeline reads: check it is what was sent.
        assertThat(readAll(INPUT, "read_uncommitted")).isEqualTo(values);
        return values;
    }

    /**
     * The consume-transform-produce loop as the Kafka documentation prescribes it, with the two kills driven
     * from it (so they happen mid-stream however fast it runs). Not thread-safe; run once.
     */
    private final class Pipeline {
        private final Map<TopicPartition, Long> inputEnd;
        private KafkaProducer<String, String> producer;
        private KafkaConsumer<String, String> consumer;
        private long committedRecords;
        int commits;
        int aborts;
        int recreations;
        int killedCoordinator = -1;
        int killedLeader = -1;
        private CompletableFuture<Void> coordinatorBack;
        private CompletableFuture<Void> leaderBack;

        Pipeline(Map<TopicPartition, Long> inputEnd) {
            this.inputEnd = inputEnd;
        }

        void run() throws Exception {
            long deadline = System.nanoTime() + PIPELINE_TIMEOUT.toNanos();
            try {
                while (true) {
                    assertThat(System.nanoTime())
                            .as(
                                    "pipeline done within %s (%d records committed, %d commits, %d aborts, %d"
                                            + " recreations)",
                                    PIPELINE_TIMEOUT, committedRecords, commits, aborts, recreations)
                            .isLessThan(deadline);
                    if (!ensureClients()) {
                        continue;
                    }
                    ConsumerRecords<String, String> records;
                    try {
                        records = consumer.poll(Duration.ofMillis(200));
                    } catch (KafkaException e) {
                        recreate("poll", e);
                        continue;
                    }
                    if (records.isEmpty()) {
                        if (consumedToEnd()) {
                            return;
                        }
                        continue;
                    }
                    transact(records);
                }
            } finally {
                closeClients();
            }
        }

        /** Creates the producer (and initialises its transactions) and the consumer when missing. */
        private boolean ensureClients() {
            if (producer == null) {
                producer = transactionalProducer();
                try {
                    producer.initTransactions();
                } catch (UnsupportedVersionException e) {
                    throw e;
                } catch (KafkaException e) {
                    recreate("initTransactions", e);
                    return false;
                }
            }
            if (consumer == null) {
                consumer = groupConsumer();
                consumer.subscribe(List.of(INPUT));
            }
            return true;
        }

        private void transact(ConsumerRecords<String, String> records) throws Exception {
            if (killedCoordinator > 0 && killedLeader < 0 && committedRecords >= RECORDS / 2) {
                // Never two nodes down at once: the second kill waits, outside a transaction, until the first
                // node is back.
                await(coordinatorBack, "node " + killedCoordinator + " back");
            }
            Map<TopicPartition, OffsetAndMetadata> next = new HashMap<>();
            for (TopicPartition tp : records.partitions()) {
                List<ConsumerRecord<String, String>> partitionRecords = records.records(tp);
                long last = partitionRecords.get(partitionRecords.size() - 1).offset();
                next.put(tp, new OffsetAndMetadata(last + 1));
            }
            try {
                producer.beginTransaction();
                for (ConsumerRecord<String, String> record : records) {
                    producer.send(
                            new ProducerRecord<>(OUTPUT, record.partition(), record.key(), "out-" + record.value()));
                }
                maybeKill();
                producer.sendOffsetsToTransaction(next, consumer.groupMetadata());
                producer.commitTransaction();
                commits++;
                committedRecords += records.count();
            } catch (UnsupportedVersionException e) {
                throw e; // an API the node does not serve: retrying cannot help
            } catch (ProducerFencedException | OutOfOrderSequenceException | AuthorizationException e) {
                recreate("transaction (fatal)", e);
            } catch (KafkaException e) {
                try {
                    producer.abortTransaction();
                    aborts++;
                    rewind();
                } catch (KafkaException abortFailure) {
                    e.addSuppressed(abortFailure);
                    recreate("transaction, then abort", e);
                }
            }
        }

        /** Moves the consumer back to the group's committed offsets after an abort. */
        private void rewind() {
            Map<TopicPartition, OffsetAndMetadata> committed =
                    consumer.committed(consumer.assignment(), Duration.ofSeconds(30));
            for (TopicPartition tp : consumer.assignment()) {
                OffsetAndMetadata offset = committed.get(tp);
                if (offset == null) {
                    consumer.seekToBeginning(List.of(tp));
                } else {
                    consumer.seek(tp, offset);
                }
            }
        }

        private boolean consumedToEnd() {
            try {
                if (consumer.assignment().size() != PARTITIONS) {
                    return false;
                }
                for (TopicPartition tp : consumer.assignment()) {
                    if (consumer.position(tp, Duration.ofSeconds(10)) < inputEnd.get(tp)) {
                        return false;
                    }
                }
                return true;
            } catch (KafkaException e) {
                recreate("position", e);
                return false;
            }
        }

        /** Closes both clients after an error that leaves them unusable; the next round creates new ones. */
        private void recreate(String where, KafkaException e) {
            recreations++;
            System.out.println("EOS recreating the producer and consumer after " + where + ": " + e);
            closeClients();
        }

        private void closeClients() {
            if (producer != null) {
                producer.close(Duration.ofSeconds(5));
                producer = null;
            }
            if (consumer != null) {
                consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
                consumer = null;
            }
        }

        /**
         * The kills, in the middle of a transaction whose records are sent but whose offsets and commit are
         * not: the coordinator's node once the records are on the partitions (the new coordinator must end a
         * transaction it did not begin), the partition leader while they may still be in flight.
         */
        private void maybeKill() throws Exception {
            if (killedCoordinator < 0 && committedRecords >= RECORDS / 4) {
                producer.flush();
                int node = admin.describeTransactions(List.of(TRANSACTIONAL_ID))
                        .description(TRANSACTIONAL_ID)
                        .get(20, TimeUnit.SECONDS)
                        .coordinatorId();
                killedCoordinator = node;
                coordinatorBack = killAndRestart(node);
            } else if (killedLeader < 0 && killedCoordinator > 0 && committedRecords >= RECORDS / 2) {
                int node = leaderOtherThan(killedCoordinator);
                killedLeader = node;
                leaderBack = killAndRestart(node);
            }
        }

        void awaitRestarts() throws Exception {
            await(coordinatorBack, "node " + killedCoordinator + " back");
            await(leaderBack, "node " + killedLeader + " back");
        }

        private CompletableFuture<Void> killAndRestart(int node) throws Exception {
            System.out.println("EOS killing node " + node + " after " + committedRecords
                    + " records committed, in the middle of a transaction");
            cluster.kill(node);
            CompletableFuture<Void> restart = CompletableFuture.runAsync(() -> {
                try {
                    Thread.sleep(DOWN_MS);
                    cluster.startNode(node);
                    cluster.awaitReady(node);
                } catch (Exception e) {
                    throw new CompletionException(e);
                }
            });
            restarts.add(restart);
            return restart;
        }

        private void await(CompletableFuture<Void> restart, String what) throws Exception {
            if (restart == null) {
                return;
            }
            try {
                restart.get(180, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                throw new AssertionError("not within 180 s: " + what, e);
            }
        }
    }

    /** A node leading a partition of the output topic (else of the input topic) other than {@code excluded}. */
    private int leaderOtherThan(int excluded) throws Exception {
        Map<String, TopicDescription> topics =
                admin.describeTopics(List.of(OUTPUT, INPUT)).allTopicNames().get(20, TimeUnit.SECONDS);
        for (String topic : List.of(OUTPUT, INPUT)) {
            for (TopicPartitionInfo partition : topics.get(topic).partitions()) {
                if (partition.leader() != null && partition.leader().id() != excluded) {
                    return partition.leader().id();
                }
            }
        }
        throw new AssertionError("every partition of " + OUTPUT + " and " + INPUT + " is led by node " + excluded
                + " (or has no leader): " + topics);
    }

    private KafkaProducer<String, String> transactionalProducer() {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, TRANSACTIONAL_ID);
        props.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 15_000);
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000);
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000);
        props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    }

    private KafkaConsumer<String, String> groupConsumer() {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, GROUP);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 100);
        props.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 6_000);
        props.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 1_000);
        props.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 240_000);
        props.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000);
        props.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        return new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
    }

    /** Every record of {@code topic} from the beginning to the end offsets, in assign mode, per partition. */
    private Map<TopicPartition, List<String>> readAll(String topic, String isolationLevel) throws InterruptedException {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolationLevel);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000);
        Map<TopicPartition, List<String>> values = new LinkedHashMap<>();
        List<TopicPartition> tps = new ArrayList<>();
        for (int p = 0; p < PARTITIONS; p++) {
            tps.add(new TopicPartition(topic, p));
            values.put(tps.get(p), new ArrayList<>());
        }
        try (KafkaConsumer<String, String> consumer =
                new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            // EndTxn is answered before the markers are written: wait until no transaction is open, so the
            // last stable offsets are the high watermarks and the last commit is included
            Properties uncommitted = (Properties) props.clone();
            uncommitted.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
            Map<TopicPartition, Long> end = consumer.endOffsets(tps, Duration.ofSeconds(30));
            try (KafkaConsumer<String, String> probe =
                    new KafkaConsumer<>(uncommitted, new StringDeserializer(), new StringDeserializer())) {
                while (!end.equals(probe.endOffsets(tps, Duration.ofSeconds(30)))) {
                    assertThat(System.nanoTime())
                            .as("every transaction on %s ended within 60 s", topic)
                            .isLessThan(deadline);
                    Thread.sleep(100);
                    end = consumer.endOffsets(tps, Duration.ofSeconds(30));
                }
            }
            Map<TopicPartition, Long> stable = end;
            while (tps.stream().anyMatch(tp -> consumer.position(tp) < stable.get(tp))) {
                assertThat(System.nanoTime())
                        .as("%s read to %s within 60 s", topic, stable)
                        .isLessThan(deadline);
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
                    values.get(new TopicPartition(record.topic(), record.partition()))
                            .add(record.value());
                }
            }
        }
        return values;
    }
}
