package dev.sluice.tools;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
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
 * A 3-node cluster of real node processes ({@code sluice node}, one JVM each, on loopback) driven by real
 * Kafka clients: {@code kcat} (librdkafka) produces and consumes, Kafka's {@code ProducerPerformance} and
 * {@code ConsumerPerformance} run, and the Apache Kafka Java client keeps producing while the leader of the busiest partition is
 * killed with SIGKILL.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 8, unit = TimeUnit.MINUTES)
class ProcessClusterTest {
    private static final int RECORDS = 100_000;
    private static final int PARTITIONS = 6;
    private static final int KEYS = 1_000;

    private Path dir;
    private NodeProcesses cluster;
    private Admin admin;

    @BeforeAll
    void startCluster() throws Exception {
        // Under target/ rather than a temporary directory, so that the node logs outlive a failed run.
        dir = Path.of("target", "process-cluster").toAbsolutePath();
        deleteRecursively(dir);
        cluster = NodeProcesses.start(dir, 3);
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

    @Test
    @Order(1)
    void kcatListsTheClusterAndRoundTripsRecords() throws Exception {
        assumeThat(kcatAvailable()).as("kcat is on PATH (.ci/run installs it)").isTrue();
        String bootstrap = cluster.bootstrapServers();

        String metadata = run(null, "kcat", "-b", bootstrap, "-L");
        assertThat(metadata).contains("3 brokers:");
        for (int n = 1; n <= 3; n++) {
            assertThat(metadata).contains("broker " + n + " at 127.0.0.1:" + cluster.kafkaPort(n));
        }

        admin.createTopics(List.of(new NewTopic("kcat", 3, (short) 3))).all().get(30, TimeUnit.SECONDS);
        String lines = IntStream.range(0, 300)
                .mapToObj(i -> "key-" + i + ":value-" + i)
                .collect(Collectors.joining("\n", "", "\n"));
        run(
                lines,
                "kcat",
                "-b",
                bootstrap,
                "-t",
                "kcat",
                "-P",
                "-K",
                ":",
                "-X",
                "acks=all",
                "-X",
                "enable.idempotence=true");

        String consumed = run(
                null, "kcat", "-b", bootstrap, "-t", "kcat", "-C", "-o", "beginning", "-e", "-q", "-f", "%k=%s@%p\\n");
        Map<String, String> byKey = new HashMap<>();
        Map<Integer, List<Integer>> orderByPartition = new TreeMap<>();
        for (String line : consumed.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            String[] kv = line.split("=", 2);
            String[] vp = kv[1].split("@", 2);
            assertThat(byKey.put(kv[0], vp[0])).as("duplicate %s", kv[0]).isNull();
            orderByPartition
                    .computeIfAbsent(Integer.parseInt(vp[1]), p -> new ArrayList<>())
                    .add(Integer.parseInt(kv[0].substring("key-".length())));
        }
        assertThat(byKey).hasSize(300);
        byKey.forEach((k, v) -> assertThat(v).isEqualTo("value-" + k.substring("key-".length())));
        orderByPartition.values().forEach(ids -> assertThat(ids).isSorted());

        // The Java client reads what librdkafka wrote, and the keys hash to the same partitions.
        try (KafkaConsumer<String, String> consumer = consumer()) {
            List<TopicPartition> tps = List.of(
                    new TopicPartition("kcat", 0), new TopicPartition("kcat", 1), new TopicPartition("kcat", 2));
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            Map<String, Integer> seen = new HashMap<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (seen.size() < 300 && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    seen.put(r.key(), r.partition());
                }
            }
            assertThat(seen).hasSize(300);
            orderByPartition.forEach((p, ids) ->
                    ids.forEach(id -> assertThat(seen.get("key-" + id)).isEqualTo(p)));
        }
    }

    /**
     * Kafka's own {@code ProducerPerformance} (from kafka-tools, as its users run it: a separate JVM) sends
     * to an RF-3 topic with acks=all and reports every record sent; {@code ConsumerPerformance} (a consumer
     * group) reads them all back.
     */
    @Test
    @Order(2)
    void kafkaPerformanceToolsRunAgainstTheCluster() throws Exception {
        admin.createTopics(List.of(new NewTopic("perf", PARTITIONS, (short) 3)))
                .all()
                .get(30, TimeUnit.SECONDS);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String out = run(
                null,
                java,
                "-Xmx256m",
                "-cp",
                System.getProperty("java.class.path"),
                "org.apache.kafka.tools.ProducerPerformance",
                "--topic",
                "perf",
                "--num-records",
                "20000",
                "--record-size",
                "512",
                "--throughput",
                "-1",
                "--producer-props",
                "bootstrap.servers=" + cluster.bootstrapServers(),
                "acks=all");
        String[] lines = out.strip().split("\n");
        assertThat(lines[lines.length - 1]).startsWith("20000 records sent,").contains("ms 99th");
        Map<TopicPartition, org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo> ends =
                admin.listOffsets(IntStream.range(0, PARTITIONS)
                                .boxed()
                                .collect(Collectors.toMap(
                                        p -> new TopicPartition("perf", p),
                                        p -> org.apache.kafka.clients.admin.OffsetSpec.latest())))
                        .all()
                        .get(30, TimeUnit.SECONDS);
        assertThat(ends.values().stream().mapToLong(i -> i.offset()).sum()).isEqualTo(20_000);

        // ConsumerPerformance subscribes with a consumer group and reads the 20,000 records back.
        String consumed = run(
                null,
                java,
                "-Xmx256m",
                "-cp",
                System.getProperty("java.class.path"),
                "org.apache.kafka.tools.ConsumerPerformance",
                "--bootstrap-server",
                cluster.bootstrapServers(),
                "--topic",
                "perf",
                "--num-records",
                "20000",
                "--timeout",
                "60000");
        String[] rows = consumed.strip().split("\n");
        // start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, ...
        String[] columns = rows[rows.length - 1].split(",\\s*");
        assertThat(Long.parseLong(columns[4].strip())).isEqualTo(20_000);
    }

    /**
     * An idempotent acks=all producer sends 100,000 keyed records to a 6-partition RF-3 topic; once a third
     * are acknowledged, the node leading the partition with the most records is killed with SIGKILL. Every
     * record must be acknowledged (the producer retries through the failover), read back exactly once and
     * in send order per partition at the offset the producer was told; the killed node, restarted, catches
     * up; and the segment files of every partition are then byte-identical on the three replicas.
     */
    @Test
    @Order(4) // last: it kills a node and restarts it
    void noAcknowledgedRecordIsLostWhenTheBusiestLeaderIsKilled() throws Exception {
        String topic = "failover";
        admin.createTopics(List.of(new NewTopic(topic, PARTITIONS, (short) 3)))
                .all()
                .get(30, TimeUnit.SECONDS);
        awaitLeaders(topic);

        Map<Integer, List<long[]>> acked = new ConcurrentHashMap<>(); // partition -> [record id, offset]
        AtomicInteger ackedCount = new AtomicInteger();
        AtomicReference<Exception> firstFailure = new AtomicReference<>();
        AtomicInteger failures = new AtomicInteger();
        int killed = -1;
        try (KafkaProducer<String, String> producer = producer()) {
            for (int i = 0; i < RECORDS; i++) {
                final long id = i;
                producer.send(new ProducerRecord<>(topic, "key-" + (i % KEYS), value(i)), (metadata, e) -> {
                    if (e != null) {
                        failures.incrementAndGet();
                        firstFailure.compareAndSet(null, e);
                        return;
                    }
                    // Callbacks of one partition run in send order on the producer's I/O thread.
                    acked.computeIfAbsent(metadata.partition(), p -> new ArrayList<>())
                            .add(new long[] {id, metadata.offset()});
                    ackedCount.incrementAndGet();
                });
                if (i == RECORDS / 2) { // half sent: kill once a third is acknowledged, mid-stream
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                    while (ackedCount.get() < RECORDS / 3 && System.nanoTime() < deadline) {
                        Thread.sleep(1);
                    }
                    killed = killBusiestLeader(topic, acked);
                }
            }
            producer.flush();
        }
        assertThat(killed).as("a leader was killed").isPositive();
        assertThat(failures.get())
                .as("failed sends (first: %s)", firstFailure.get())
                .isZero();
        assertThat(ackedCount.get()).isEqualTo(RECORDS);

        cluster.startNode(killed);
        cluster.awaitReady(killed);
        assertEveryAcknowledgedRecordReadOnceInOrder(topic, acked);
        awaitFullIsr(topic);
        awaitIdenticalReplicas(topic);
    }

    /**
     * librdkafka's balanced consumer ({@code kcat -G}): two members of one group split a topic's partitions
     * (each gets some, none gets one the other has), read every record once between them, and commit what
     * they read when they stop (SIGTERM: kcat closes its consumer, which commits).
     */
    @Test
    @Order(3)
    void kcatBalancedConsumersSplitTheTopicAndCommit() throws Exception {
        assumeThat(kcatAvailable()).as("kcat is on PATH (.ci/run installs it)").isTrue();
        String topic = "kcat-group";
        String group = "kcat-balanced";
        int records = 600;
        admin.createTopics(List.of(new NewTopic(topic, PARTITIONS, (short) 3)))
                .all()
                .get(30, TimeUnit.SECONDS);
        awaitLeaders(topic);
        Path runs = Files.createDirectories(dir.resolve("runs"));
        List<Process> members = new ArrayList<>();
        List<Path> outputs = new ArrayList<>();
        try {
            for (int m = 0; m < 2; m++) {
                Path out = Files.createTempFile(runs, "kcat-member-" + m, ".txt");
                Path err = Files.createTempFile(runs, "kcat-member-" + m, ".err");
                outputs.add(out);
                members.add(new ProcessBuilder(
                                "kcat",
                                "-b",
                                cluster.bootstrapServers(),
                                "-G",
                                group,
                                "-q",
                                "-u",
                                "-X",
                                "auto.offset.reset=earliest",
                                "-X",
                                "session.timeout.ms=10000",
                                "-X",
                                "auto.commit.interval.ms=1000",
                                "-f",
                                "%p %s\\n",
                                topic)
                        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                        .redirectOutput(out.toFile())
                        .redirectError(err.toFile())
                        .start());
            }
            awaitTwoMembersSharing(group);
            try (KafkaProducer<String, String> producer = producer()) {
                for (int i = 0; i < records; i++) {
                    producer.send(new ProducerRecord<>(topic, "key-" + i, "value-" + i));
                }
                producer.flush();
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (lines(outputs).size() < records) {
                assertThat(System.nanoTime())
                        .as(
                                "both members read %d records within 60 s (read: %d)",
                                records, lines(outputs).size())
                        .isLessThan(deadline);
                Thread.sleep(200);
            }
            List<java.util.Set<Integer>> partitionsOf = new ArrayList<>();
            java.util.Set<String> values = new java.util.HashSet<>();
            int read = 0;
            for (Path out : outputs) {
                java.util.Set<Integer> partitions = new java.util.TreeSet<>();
                for (String line : Files.readAllLines(out)) {
                    if (!line.isBlank()) {
                        String[] parts = line.split(" ", 2);
                        partitions.add(Integer.parseInt(parts[0]));
                        values.add(parts[1]);
                        read++;
                    }
                }
                partitionsOf.add(partitions);
            }
            assertThat(read).as("every record read once").isEqualTo(records);
            assertThat(values).hasSize(records);
            assertThat(partitionsOf.get(0)).as("member 1 read partitions").isNotEmpty();
            assertThat(partitionsOf.get(1)).as("member 2 read partitions").isNotEmpty();
            assertThat(partitionsOf.get(0)).doesNotContainAnyElementsOf(partitionsOf.get(1));
        } finally {
            for (Process member : members) {
                member.destroy(); // SIGTERM: kcat leaves the group and commits
            }
            for (Process member : members) {
                if (!member.waitFor(30, TimeUnit.SECONDS)) {
                    member.destroyForcibly();
                }
            }
        }
        Map<TopicPartition, org.apache.kafka.clients.consumer.OffsetAndMetadata> committed =
                admin.listConsumerGroupOffsets(group)
                        .partitionsToOffsetAndMetadata()
                        .get(30, TimeUnit.SECONDS);
        assertThat(committed.values().stream().mapToLong(o -> o.offset()).sum())
                .as("committed offsets of %s: %s", group, committed)
                .isEqualTo(records);
    }

    private void awaitTwoMembersSharing(String group) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try {
                var description = admin.describeConsumerGroups(List.of(group))
                        .describedGroups()
                        .get(group)
                        .get(10, TimeUnit.SECONDS);
                if (description.groupState() == org.apache.kafka.common.GroupState.STABLE
                        && description.members().size() == 2
                        && description.members().stream()
                                .allMatch(m -> !m.assignment().topicPartitions().isEmpty())) {
                    return;
                }
            } catch (java.util.concurrent.ExecutionException e) {
                // the coordinator may still be loading
            }
            assertThat(System.nanoTime())
                    .as("two kcat members of %s share the partitions within 60 s", group)
                    .isLessThan(deadline);
            Thread.sleep(200);
        }
    }

    private static List<String> lines(List<Path> outputs) throws IOException {
        List<String> lines = new ArrayList<>();
        for (Path out : outputs) {
            for (String line : Files.readAllLines(out)) {
                if (!line.isBlank()) {
                    lines.add(line);
                }
            }
        }
        return lines;
    }

    private int killBusiestLeader(String topic, Map<Integer, List<long[]>> acked) throws Exception {
        int busiest = acked.entrySet().stream()
                .max(Map.Entry.comparingByValue((a, b) -> Integer.compare(a.size(), b.size())))
                .map(Map.Entry::getKey)
                .orElseThrow();
        TopicDescription description = admin.describeTopics(List.of(topic))
                .allTopicNames()
                .get(30, TimeUnit.SECONDS)
                .get(topic);
        int leader = description.partitions().get(busiest).leader().id();
        cluster.kill(leader);
        return leader;
    }

    private void assertEveryAcknowledgedRecordReadOnceInOrder(String topic, Map<Integer, List<long[]>> acked) {
        try (KafkaConsumer<String, String> consumer = consumer()) {
            List<TopicPartition> tps = new ArrayList<>();
            for (int p = 0; p < PARTITIONS; p++) {
                tps.add(new TopicPartition(topic, p));
            }
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            Map<TopicPartition, Long> ends = consumer.endOffsets(tps, Duration.ofSeconds(30));
            Map<Integer, List<ConsumerRecord<String, String>>> read = new HashMap<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (!tps.stream().allMatch(tp -> consumer.position(tp) >= ends.get(tp))
                    && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    read.computeIfAbsent(r.partition(), p -> new ArrayList<>()).add(r);
                }
            }
            int total = 0;
            for (int p = 0; p < PARTITIONS; p++) {
                List<ConsumerRecord<String, String>> records = read.getOrDefault(p, List.of());
                List<long[]> sent = acked.getOrDefault(p, List.of());
                assertThat(records).as("records read from partition %d", p).hasSameSizeAs(sent);
                for (int i = 0; i < sent.size(); i++) {
                    ConsumerRecord<String, String> r = records.get(i);
                    assertThat(r.value()).as("partition %d, index %d", p, i).isEqualTo(value(sent.get(i)[0]));
                    assertThat(r.offset())
                            .as("offset of record %d", sent.get(i)[0])
                            .isEqualTo(sent.get(i)[1]);
                    assertThat(r.key()).isEqualTo("key-" + (sent.get(i)[0] % KEYS));
                }
                total += records.size();
            }
            assertThat(total).isEqualTo(RECORDS);
        }
    }

    private void awaitLeaders(String topic) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            TopicDescription d;
            try {
                d = admin.describeTopics(List.of(topic))
                        .allTopicNames()
                        .get(30, TimeUnit.SECONDS)
                        .get(topic);
            } catch (java.util.concurrent.ExecutionException e) {
                if (!(e.getCause() instanceof org.apache.kafka.common.errors.UnknownTopicOrPartitionException)) {
                    throw e;
                }
                Thread.sleep(200); // the node asked has not applied the creation yet
                continue;
            }
            if (d.partitions().stream()
                    .allMatch(p -> p.leader() != null && !p.leader().isEmpty())) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError(topic + " has partitions without a leader after 60 s");
    }

    private void awaitFullIsr(String topic) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        List<TopicPartitionInfo> partitions = List.of();
        while (System.nanoTime() < deadline) {
            partitions = admin.describeTopics(List.of(topic))
                    .allTopicNames()
                    .get(30, TimeUnit.SECONDS)
                    .get(topic)
                    .partitions();
            if (partitions.stream().allMatch(p -> p.isr().size() == 3)) {
                return;
            }
            Thread.sleep(500);
        }
        throw new AssertionError("the restarted node did not rejoin every ISR within 120 s: " + partitions);
    }

    /**
     * Waits until each partition's segment files are the same on the three nodes, then stops the cluster
     * gracefully (which trims active segments to their data) and compares the files byte for byte.
     */
    private void awaitIdenticalReplicas(String topic) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline && !replicasMatch(topic, false)) {
            Thread.sleep(500);
        }
        for (int n = 1; n <= 3; n++) {
            cluster.stop(n);
        }
        assertThat(replicasMatch(topic, true)).isTrue();
    }

    private boolean replicasMatch(String topic, boolean assertion) throws IOException {
        for (int p = 0; p < PARTITIONS; p++) {
            Map<Integer, Map<String, byte[]>> byNode = new TreeMap<>();
            for (int n = 1; n <= 3; n++) {
                byNode.put(n, segments(cluster.dataDir(n).resolve("partitions").resolve(topic + "-" + p), !assertion));
            }
            Map<String, byte[]> first = byNode.get(1);
            for (int n = 2; n <= 3; n++) {
                Map<String, byte[]> other = byNode.get(n);
                boolean same = first.keySet().equals(other.keySet())
                        && first.keySet().stream().allMatch(f -> Arrays.equals(first.get(f), other.get(f)));
                if (assertion) {
                    assertThat(other.keySet())
                            .as("segments of %s-%d on node %d vs node 1", topic, p, n)
                            .isEqualTo(first.keySet());
                    for (String f : first.keySet()) {
                        assertThat(other.get(f))
                                .as("%s-%d/%s on node %d vs node 1", topic, p, f, n)
                                .isEqualTo(first.get(f));
                    }
                    assertThat(first).as("segments of %s-%d", topic, p).isNotEmpty();
                } else if (!same) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * The partition's segment files by name. While a node runs ({@code live}), its active segment is longer
     * than its data by zeroed, preallocated space, which is left out; a stopped node's files are whole.
     */
    private static Map<String, byte[]> segments(Path partitionDir, boolean live) throws IOException {
        Map<String, byte[]> files = new TreeMap<>();
        if (!Files.isDirectory(partitionDir)) {
            return files;
        }
        try (Stream<Path> list = Files.list(partitionDir)) {
            for (Path f : list.filter(f -> f.getFileName().toString().endsWith(".log"))
                    .toList()) {
                byte[] bytes = Files.readAllBytes(f);
                files.put(f.getFileName().toString(), live ? trimTrailingZeros(bytes) : bytes);
            }
        }
        return files;
    }

    private static byte[] trimTrailingZeros(byte[] bytes) {
        int end = bytes.length;
        while (end > 0 && bytes[end - 1] == 0) {
            end--;
        }
        return end == bytes.length ? bytes : Arrays.copyOf(bytes, end);
    }

    private static void deleteRecursively(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    private static String value(long id) {
        return "record-" + id + "-" + "x".repeat(80);
    }

    private KafkaProducer<String, String> producer() {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 180_000);
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 30_000);
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 120_000);
        return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    }

    private KafkaConsumer<String, String> consumer() {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        return new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
    }

    private static boolean kcatAvailable() {
        try {
            Process p =
                    new ProcessBuilder("kcat", "-V").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Runs a command with {@code stdin} (or none), bounded to 60 s; returns stdout, fails on a non-zero exit. */
    private String run(String stdin, String... command) throws Exception {
        Path runs = Files.createDirectories(dir.resolve("runs"));
        Path out = Files.createTempFile(runs, "out", ".txt");
        Path err = Files.createTempFile(runs, "err", ".txt");
        ProcessBuilder builder =
                new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
        if (stdin == null) {
            builder.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        }
        Process p = builder.start();
        if (stdin != null) {
            try (var in = p.getOutputStream()) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
        }
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(
                    String.join(" ", command) + " did not finish in 60 s; stderr: " + Files.readString(err));
        }
        assertThat(p.exitValue())
                .as("%s exit code; stderr: %s", String.join(" ", command), Files.readString(err))
                .isZero();
        return Files.readString(out);
    }
}
