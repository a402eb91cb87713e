package dev.sluice.chaos.workload;

import dev.sluice.chaos.history.FinalRead;
import dev.sluice.chaos.history.History;
import dev.sluice.chaos.history.Isolation;
import dev.sluice.chaos.history.Read;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;

/**
 * The transactional workload: two transactional producers write transactions of one to five values to
 * {@code txn-in}, committing most and aborting some; two consume-transform-produce processors (a consumer
 * group, read_committed) turn every committed input record into one output record on {@code txn-out} in a
 * transaction that also commits the consumed offsets; a read_committed reader in assign mode follows both
 * topics. What must hold, besides the queue properties: no aborted or uncommitted value is ever read under
 * read_committed, transactions form no write-read cycle, and every committed input record has exactly one
 * committed output record (checked here from the final reads, via the output's {@code in:<value>} key).
 */
public final class TxnWorkload implements Workload {
    public static final String INPUT = "txn-in";
    public static final String OUTPUT = "txn-out";
    public static final String GROUP = "txn-processors";

    private final RunContext run;
    private final int partitions;
    private final int replicationFactor;
    private final double ratePerSecond;
    private final long seed;
    private final AtomicLong txnIds = new AtomicLong();
    private final AtomicLong committed = new AtomicLong();
    private final AtomicLong processed = new AtomicLong();
    private final CopyOnWriteArrayList<String> problems = new CopyOnWriteArrayList<>();
    private final List<ClientThread> writers = new ArrayList<>();
    private final List<ClientThread> readers = new ArrayList<>();

    public TxnWorkload(RunContext run, int partitions, int replicationFactor, double ratePerSecond, long seed) {
        this.run = run;
        this.partitions = partitions;
        this.replicationFactor = replicationFactor;
        this.ratePerSecond = ratePerSecond;
        this.seed = seed;
    }

    @Override
    public String name() {
        return "txn";
    }

    @Override
    public List<String> topics() {
        return List.of(INPUT, OUTPUT);
    }

    @Override
    public List<String> groups() {
        return List.of(GROUP);
    }

    @Override
    public void setUp(Admin admin) throws Exception {
        Map<String, String> configs = Map.of("min.insync.replicas", Integer.toString(Math.min(2, replicationFactor)));
        admin.createTopics(List.of(
                        new NewTopic(INPUT, partitions, (short) replicationFactor).configs(configs),
                        new NewTopic(OUTPUT, partitions, (short) replicationFactor).configs(configs)))
                .all()
                .get(60, TimeUnit.SECONDS);
    }

    @Override
    public void start() {
        // About three records per transaction: the rate in records becomes a rate in transactions.
        double txnsPerWriter = Math.max(0.5, ratePerSecond / 3 / 2);
        for (int i = 0; i < 2; i++) {
            writers.add(new TxnWriter(
                    run, "txn-writer-" + i, INPUT, partitions, txnsPerWriter, seed * 1_000 + i, txnIds, committed));
        }
        for (int i = 0; i < 2; i++) {
            readers.add(new TxnProcessor(run, "txn-processor-" + i, INPUT, OUTPUT, GROUP, txnIds, processed));
        }
        List<TopicPartition> all = new ArrayList<>();
        for (String topic : topics()) {
            IntStream.range(0, partitions).forEach(p -> all.add(new TopicPartition(topic, p)));
        }
        readers.add(new AssignReader(run, "committed-reader", all, true, problems));
        writers.forEach(ClientThread::begin);
        readers.forEach(ClientThread::begin);
    }

    @Override
    public void stopWriters() throws InterruptedException {
        for (ClientThread writer : writers) {
            writer.halt(120_000);
        }
    }

    /** Waits until the processors' group has committed offsets up to the input's last stable offsets. */
    @Override
    public boolean awaitReadersCaughtUp(long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, run.bootstrap());
        try (Admin admin = Admin.create(props)) {
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            IntStream.range(0, partitions).forEach(p -> latest.put(new TopicPartition(INPUT, p), OffsetSpec.latest()));
            while (System.nanoTime() < deadline) {
                try {
                    Map<TopicPartition, Long> stable = new HashMap<>();
                    admin.listOffsets(latest, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED))
                            .all()
                            .get(10, TimeUnit.SECONDS)
                            .forEach((tp, info) -> stable.put(tp, info.offset()));
                    Map<TopicPartition, OffsetAndMetadata> done = admin.listConsumerGroupOffsets(GROUP)
                            .partitionsToOffsetAndMetadata()
                            .get(10, TimeUnit.SECONDS);
                    boolean caughtUp = stable.entrySet().stream()
                            .allMatch(e -> e.getValue() == 0
                                    || (done.get(e.getKey()) != null
                                            && done.get(e.getKey()).offset() >= e.getValue()));
                    if (caughtUp) {
                        return true;
                    }
                } catch (Exception e) {
                    // the cluster is settling: ask again
                }
                Thread.sleep(500);
            }
        }
        return false;
    }

    @Override
    public void stopReaders() throws InterruptedException {
        for (ClientThread reader : readers) {
            reader.halt(60_000);
        }
    }

    /**
     * Exactly once through the processors: from the final read_committed reads, every committed input value
     * has exactly one committed output record, and every committed output record comes from a committed input.
     */
    @Override
    public List<String> ownChecks() {
        List<String> result = new ArrayList<>(problems);
        History history = run.history().snapshot();
        Map<Long, Integer> outputs = new HashMap<>();
        List<Long> inputs = new ArrayList<>();
        for (FinalRead read : history.finalReads()) {
            if (read.isolation() != Isolation.READ_COMMITTED) {
                continue;
            }
            for (Read r : read.records()) {
                if (read.topic().equals(INPUT)) {
                    inputs.add(r.value());
                } else if (read.topic().equals(OUTPUT)
                        && r.key() != null
                        && r.key().startsWith("in:")) {
                    outputs.merge(Long.parseLong(r.key().substring(3)), 1, Integer::sum);
                }
            }
        }
        long missing = 0;
        long duplicated = 0;
        List<String> examples = new ArrayList<>();
        for (long in : inputs) {
            int n = outputs.getOrDefault(in, 0);
            if (n != 1) {
                if (n == 0) {
                    missing++;
                } else {
                    duplicated++;
                }
                if (examples.size() < 5) {
                    examples.add(in + " -> " + n + " outputs");
                }
            }
        }
        java.util.Set<Long> inputSet = new java.util.HashSet<>(inputs);
        long orphans =
                outputs.keySet().stream().filter(v -> !inputSet.contains(v)).count();
        if (missing + duplicated + orphans > 0) {
            result.add("exactly-once through the processors broken: " + missing + " committed inputs without output, "
                    + duplicated + " with several, " + orphans + " outputs of no committed input; e.g. " + examples);
        }
        return result;
    }

    @Override
    public String describe() {
        return "txn: " + txnIds.get() + " transactions, " + committed.get() + " writer commits, " + processed.get()
                + " records processed exactly once";
    }

    @Override
    public void close() {
        List<ClientThread> all = new ArrayList<>(writers);
        all.addAll(readers);
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
