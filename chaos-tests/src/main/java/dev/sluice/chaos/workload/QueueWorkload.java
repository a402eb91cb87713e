package dev.sluice.chaos.workload;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;

/**
 * Jepsen's queue workload on Kafka: idempotent acks=all producers write unique values to the partitions of
 * one topic (the partition's key is {@code k<partition>}); readers in assign mode follow every partition from
 * the beginning, and a consumer group of two members reads and commits. What must hold: every acknowledged
 * value is read, at the offset it was acknowledged with, exactly once per offset, in order.
 */
public final class QueueWorkload implements Workload {
    /** The workload's topic. */
    public static final String TOPIC = "queue";

    /** The workload's consumer group. */
    public static final String GROUP = "queue-group";

    private final RunContext run;
    private final int partitions;
    private final int replicationFactor;
    private final int producers;
    private final double ratePerSecond;
    private final long seed;
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong acked = new AtomicLong();
    private final CopyOnWriteArrayList<String> problems = new CopyOnWriteArrayList<>();
    private final List<ProducerThread> writers = new ArrayList<>();
    private final List<AssignReader> assignReaders = new ArrayList<>();
    private final List<GroupReader> groupReaders = new ArrayList<>();

    /**
     * @param partitions the topic's partitions
     * @param replicationFactor its replication factor
     * @param producers how many producer threads
     * @param ratePerSecond the sends per second of all producers together
     */
    public QueueWorkload(
            RunContext run, int partitions, int replicationFactor, int producers, double ratePerSecond, long seed) {
        this.run = run;
        this.partitions = partitions;
        this.replicationFactor = replicationFactor;
        this.producers = producers;
        this.ratePerSecond = ratePerSecond;
        this.seed = seed;
    }

    @Override
    public String name() {
        return "queue";
    }

    @Override
    public List<String> topics() {
        return List.of(TOPIC);
    }

    @Override
    public List<String> groups() {
        return List.of(GROUP);
    }

    @Override
    public void setUp(Admin admin) throws Exception {
        admin.createTopics(List.of(new NewTopic(TOPIC, partitions, (short) replicationFactor)
                        .configs(Map.of("min.insync.replicas", Integer.toString(Math.min(2, replicationFactor))))))
                .all()
                .get(60, TimeUnit.SECONDS);
    }

    @Override
    public void start() {
        List<TopicPartition> all = IntStream.range(0, partitions)
                .mapToObj(p -> new TopicPartition(TOPIC, p))
                .toList();
        for (int i = 0; i < producers; i++) {
            writers.add(new ProducerThread(
                    run, "producer-" + i, TOPIC, partitions, ratePerSecond / producers, seed * 1_000 + i, sent, acked));
        }
        assignReaders.add(new AssignReader(run, "assign-reader-0", all, false, problems));
        assignReaders.add(new AssignReader(run, "assign-reader-1", all, false, problems));
        groupReaders.add(new GroupReader(run, "group-reader-0", List.of(TOPIC), GROUP, false));
        groupReaders.add(new GroupReader(run, "group-reader-1", List.of(TOPIC), GROUP, false));
        writers.forEach(ClientThread::begin);
        assignReaders.forEach(ClientThread::begin);
        groupReaders.forEach(ClientThread::begin);
    }

    @Override
    public void stopWriters() throws InterruptedException {
        for (ProducerThread writer : writers) {
            writer.halt(Clients.DELIVERY_TIMEOUT_MS + 30_000L);
        }
    }

    @Override
    public boolean awaitReadersCaughtUp(long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        Map<TopicPartition, Long> ends;
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", run.bootstrap()))) {
            Map<TopicPartition, OffsetSpec> latest = new java.util.HashMap<>();
            IntStream.range(0, partitions).forEach(p -> latest.put(new TopicPartition(TOPIC, p), OffsetSpec.latest()));
            try {
                ends = new java.util.HashMap<>();
                admin.listOffsets(latest)
                        .all()
                        .get(30, TimeUnit.SECONDS)
                        .forEach((tp, info) -> ends.put(tp, info.offset()));
            } catch (Exception e) {
                return false;
            }
        }
        while (System.nanoTime() < deadline) {
            boolean all = assignReaders.stream().allMatch(r -> ends.entrySet().stream()
                    .allMatch(e -> e.getValue() == 0 || r.positions().getOrDefault(e.getKey(), 0L) >= e.getValue()));
            if (all) {
                return true;
            }
            Thread.sleep(200);
        }
        return false;
    }

    @Override
    public void stopReaders() throws InterruptedException {
        for (ClientThread reader : assignReaders) {
            reader.halt(30_000);
        }
        for (ClientThread reader : groupReaders) {
            reader.halt(30_000);
        }
    }

    @Override
    public List<String> ownChecks() {
        return List.copyOf(problems);
    }

    @Override
    public String describe() {
        return "queue: " + sent.get() + " sent, " + acked.get() + " acknowledged";
    }

    @Override
    public void close() {
        List<ClientThread> all = new ArrayList<>(writers);
        all.addAll(assignReaders);
        all.addAll(groupReaders);
        for (ClientThread t : all) {
            try {
                t.halt(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
