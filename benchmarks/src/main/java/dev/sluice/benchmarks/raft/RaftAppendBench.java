package dev.sluice.benchmarks.raft;

import dev.sluice.partitionstore.BatchValidator;
import dev.sluice.partitionstore.Clock;
import dev.sluice.partitionstore.LogConfig;
import dev.sluice.raft.AppendOutcome;
import dev.sluice.raft.RaftNode;
import dev.sluice.raft.RaftSettings;
import dev.sluice.raft.ReplicaStatus;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.Errors;
import org.apache.ratis.protocol.RaftPeer;

/**
 * Replicated append throughput and latency: three {@link RaftNode}s in this JVM on 127.0.0.1, {@code
 * --partitions} groups with every node a replica (replication factor 3, leaders spread by priority), and
 * a closed-loop driver that keeps {@code --inflight} appends outstanding per partition, each submitted to
 * the partition's leader. After {@code --warmup-s} it measures for {@code --duration-s}: every append
 * that completes in that window counts, with its latency from submission to the committed-and-applied
 * answer. Prints one {@code RESULT} line. The data directory is deleted at the end.
 *
 * <p>Each append gets its own copy of the batch, as a broker decodes each request into its own buffer
 * (the state machine assigns offsets in place).
 */
public final class RaftAppendBench {
    private static final List<String> IDS = List.of("n1", "n2", "n3");

    private RaftAppendBench() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> defaults = new LinkedHashMap<>();
        defaults.put("partitions", "1");
        defaults.put("rpc", "grpc");
        defaults.put("single-write", "true");
        defaults.put("inflight", "8");
        defaults.put("warmup-s", "5");
        defaults.put("duration-s", "20");
        defaults.put("record-bytes", "1024");
        defaults.put("batch-bytes", "16384");
        defaults.put("spread", "true");
        defaults.put("ratis-log-level", "WARN");
        BenchOptions options;
        try {
            options = BenchOptions.parse(args, defaults);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        RaftBenchSupport.requireProjectJvmFlags();
        RaftBenchSupport.ratisLogLevel(options.get("ratis-log-level"));
        Path root = RaftBenchSupport.tempDir("raft-append");
        List<RaftNode> nodes = new ArrayList<>();
        try {
            run(options, root, nodes);
        } finally {
            for (RaftNode node : nodes) {
                try {
                    node.close();
                } catch (Exception e) {
                    System.err.println("closing " + node + ": " + e);
                }
            }
            RaftBenchSupport.deleteRecursively(root);
        }
        System.exit(0); // Ratis and gRPC leave non-daemon threads behind
    }

    private static void run(BenchOptions options, Path root, List<RaftNode> nodes) throws Exception {
        int partitions = options.getInt("partitions");
        Map<String, Object> settings = new HashMap<>(options.raftSettings());
        settings.put(RaftSettings.RPC_TYPE, options.get("rpc"));
        settings.put(RaftSettings.SINGLE_WRITE, options.get("single-write"));
        RaftSettings raftSettings = RaftSettings.parse(settings);
        LogConfig logConfig = LogConfig.parse(Map.of());
        List<Integer> ports = new ArrayList<>();
        for (String id : IDS) {
            int port = RaftBenchSupport.freePort();
            ports.add(port);
            nodes.add(RaftNode.start(
                    id, RaftBenchSupport.HOST, port, root.resolve(id), raftSettings, logConfig, Clock.SYSTEM));
        }
        long createStart = System.nanoTime();
        TopicPartition[] tps = new TopicPartition[partitions];
        for (int p = 0; p < partitions; p++) {
            tps[p] = new TopicPartition("bench", p);
            List<RaftPeer> replicas = RaftBenchSupport.replicas(p, IDS, ports, options.getBoolean("spread"));
            for (RaftNode node : nodes) {
                node.addPartition(tps[p], replicas, logConfig);
            }
        }
        RaftNode[] leaders = awaitLeaders(nodes, tps, options.getBoolean("spread"));
        System.err.printf(
                "created %d groups and elected leaders in %.1f s; leaders: %s%n",
                partitions, (System.nanoTime() - createStart) / 1e9, distribution(leaders));

        ByteBuffer template = RaftBenchSupport.batch(
                options.getInt("record-bytes"), options.getInt("batch-bytes"), System.currentTimeMillis());
        Driver driver = new Driver(nodes, tps, leaders, template, options.getInt("inflight"));
        Driver.Result r = driver.run(options.getLong("warmup-s") * 1000, options.getLong("duration-s") * 1000);
        double seconds = r.windowNs / 1e9;
        System.out.printf(
                "RESULT rpc=%s singleWrite=%s partitions=%d inflight=%d batchBytes=%d leaders=%s batches=%d"
                        + " batches/s=%.1f MB/s=%.2f p50ms=%.2f p99ms=%.2f p99.9ms=%.2f maxms=%.2f errors=%d"
                        + " cpu=%.0f%% (sys %.0f%%) diskWriteMB/s=%.1f%n",
                options.get("rpc"),
                options.get("single-write"),
                partitions,
                options.getInt("inflight"),
                template.remaining(),
                distribution(leaders),
                r.batches,
                r.batches / seconds,
                r.bytes / seconds / 1e6,
                RaftBenchSupport.percentileMs(r.latenciesNs, 0.50),
                RaftBenchSupport.percentileMs(r.latenciesNs, 0.99),
                RaftBenchSupport.percentileMs(r.latenciesNs, 0.999),
                RaftBenchSupport.percentileMs(r.latenciesNs, 1.0),
                r.errors,
                100.0 * r.cpuNs / r.windowNs,
                100.0 * r.cpuNs / r.windowNs * r.systemTicks / Math.max(1, r.totalTicks),
                r.diskWriteBytes / seconds / 1e6);
    }

    /** Waits until every partition has a ready leader (with spread: the preferred one, for up to 30 s). */
    private static RaftNode[] awaitLeaders(List<RaftNode> nodes, TopicPartition[] tps, boolean spread)
            throws InterruptedException {
        long anyDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        long preferredDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            RaftNode[] leaders = new RaftNode[tps.length];
            boolean all = true;
            boolean preferred = true;
            for (int p = 0; p < tps.length; p++) {
                leaders[p] = leaderOf(nodes, tps[p]);
                all &= leaders[p] != null;
                preferred &= leaders[p] != null && leaders[p] == nodes.get(p % nodes.size());
            }
            long now = System.nanoTime();
            if (all && (!spread || preferred || now > preferredDeadline)) {
                return leaders;
            }
            if (now > anyDeadline) {
                throw new IllegalStateException("not every group elected a leader within 120 s");
            }
            Thread.sleep(100);
        }
    }

    static RaftNode leaderOf(List<RaftNode> nodes, TopicPartition tp) {
        for (RaftNode node : nodes) {
            ReplicaStatus status = node.status(tp);
            if (status != null && status.isLeader()) {
                return node;
            }
        }
        return null;
    }

    private static String distribution(RaftNode[] leaders) {
        Map<String, Integer> counts = new TreeMap<>();
        for (RaftNode leader : leaders) {
            counts.merge(leader == null ? "none" : leader.id(), 1, Integer::sum);
        }
        StringBuilder text = new StringBuilder();
        counts.forEach((id, n) -> text.append(text.length() == 0 ? "" : ",")
                .append(id)
                .append(':')
                .append(n));
        return text.toString();
    }

    /**
     * The closed loop. Submissions and completions run on one driver thread (completions are handed to it
     * from Ratis's threads), so the bookkeeping needs no locks.
     */
    private static final class Driver {
        record Result(
                long batches,
                long bytes,
                long errors,
                long[] latenciesNs,
                long windowNs,
                long cpuNs,
                long systemTicks,
                long totalTicks,
                long diskWriteBytes) {}

        private final List<RaftNode> nodes;
        private final TopicPartition[] tps;
        private final RaftNode[] leaders;
        private final ByteBuffer template;
        private final int inflight;
        private final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "bench-driver");
            thread.setDaemon(true);
            return thread;
        });
        private long measureStartNs;
        private long measureEndNs;
        private long batches;
        private long bytes;
        private long errors;
        private long failuresPrinted;
        private long[] latencies = new long[1 << 16];
        private int latencyCount;
        private CountDownLatch slots;

        Driver(List<RaftNode> nodes, TopicPartition[] tps, RaftNode[] leaders, ByteBuffer template, int inflight) {
            this.nodes = nodes;
            this.tps = tps;
            this.leaders = leaders;
            this.template = template;
            this.inflight = inflight;
        }

        Result run(long warmupMs, long durationMs) throws InterruptedException {
            long start = System.nanoTime();
            measureStartNs = start + TimeUnit.MILLISECONDS.toNanos(warmupMs);
            measureEndNs = measureStartNs + TimeUnit.MILLISECONDS.toNanos(durationMs);
            slots = new CountDownLatch(tps.length * inflight);
            loop.execute(() -> {
                for (int p = 0; p < tps.length; p++) {
                    for (int i = 0; i < inflight; i++) {
                        submit(p);
                    }
                }
            });
            long sleepNs = measureStartNs - System.nanoTime();
            TimeUnit.NANOSECONDS.sleep(Math.max(0, sleepNs));
            long cpu0 = RaftBenchSupport.processCpuNs();
            long disk0 = RaftBenchSupport.diskWrittenBytes();
            long[] ticks0 = RaftBenchSupport.userAndSystemTicks();
            TimeUnit.NANOSECONDS.sleep(Math.max(0, measureEndNs - System.nanoTime()));
            long cpu1 = RaftBenchSupport.processCpuNs();
            long disk1 = RaftBenchSupport.diskWrittenBytes();
            long[] ticks1 = RaftBenchSupport.userAndSystemTicks();
            if (!slots.await(60, TimeUnit.SECONDS)) {
                System.err.println("warning: " + slots.getCount() + " appends still outstanding 60 s after the end");
            }
            CountDownLatch drained = new CountDownLatch(1);
            long[][] sorted = new long[1][];
            long[] counters = new long[3];
            loop.execute(() -> {
                sorted[0] = Arrays.copyOf(latencies, latencyCount);
                counters[0] = batches;
                counters[1] = bytes;
                counters[2] = errors;
                drained.countDown();
            });
            drained.await();
            loop.shutdownNow();
            Arrays.sort(sorted[0]);
            return new Result(
                    counters[0],
                    counters[1],
                    counters[2],
                    sorted[0],
                    measureEndNs - measureStartNs,
                    cpu1 - cpu0,
                    ticks1[1] - ticks0[1],
                    ticks1[0] - ticks0[0] + ticks1[1] - ticks0[1],
                    disk1 - disk0);
        }

        private void submit(int p) {
            long startNs = System.nanoTime();
            if (startNs >= measureEndNs) {
                slots.countDown();
                return;
            }
            RaftNode leader = leaders[p];
            if (leader == null) {
                leaders[p] = leaderOf(nodes, tps[p]);
                loop.schedule(() -> submit(p), 10, TimeUnit.MILLISECONDS);
                return;
            }
            ByteBuffer copy = ByteBuffer.allocate(template.remaining());
            copy.put(template.duplicate()).flip();
            int size = copy.remaining();
            leader.append(tps[p], copy, BatchValidator.Origin.CLIENT)
                    .whenComplete(
                            (outcome, failure) -> loop.execute(() -> completed(p, startNs, size, outcome, failure)));
        }

        private void completed(int p, long startNs, int size, AppendOutcome outcome, Throwable failure) {
            long nowNs = System.nanoTime();
            boolean ok = failure == null && outcome.succeeded();
            if (nowNs >= measureStartNs && nowNs <= measureEndNs) {
                if (ok) {
                    batches++;
                    bytes += size;
                    if (latencyCount == latencies.length) {
                        latencies = Arrays.copyOf(latencies, latencies.length * 2);
                    }
                    latencies[latencyCount++] = nowNs - startNs;
                } else {
                    errors++;
                }
            }
            if (ok) {
                submit(p);
                return;
            }
            if (failuresPrinted++ < 20) {
                System.err.println(
                        tps[p] + ": " + (failure != null ? failure : outcome.error() + " " + outcome.errorMessage()));
            }
            if (failure != null || outcome.error() == Errors.NOT_LEADER_OR_FOLLOWER) {
                leaders[p] = null;
            }
            loop.schedule(() -> submit(p), 10, TimeUnit.MILLISECONDS);
        }
    }
}
