package dev.sluice.chaos.run;

import dev.sluice.chaos.check.Checker;
import dev.sluice.chaos.check.Verdict;
import dev.sluice.chaos.cluster.ChaosCluster;
import dev.sluice.chaos.cluster.ClusterHealth;
import dev.sluice.chaos.cluster.ClusterSpec;
import dev.sluice.chaos.history.History;
import dev.sluice.chaos.history.HistoryRecorder;
import dev.sluice.chaos.history.Isolation;
import dev.sluice.chaos.history.RunInfo;
import dev.sluice.chaos.nemesis.FaultKind;
import dev.sluice.chaos.nemesis.Nemesis;
import dev.sluice.chaos.report.RunReport;
import dev.sluice.chaos.workload.QueueWorkload;
import dev.sluice.chaos.workload.RunContext;
import dev.sluice.chaos.workload.TxnWorkload;
import dev.sluice.chaos.workload.Values;
import dev.sluice.chaos.workload.Workload;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;

/**
 * One chaos run, start to verdict: starts a fresh cluster of node processes, sets up and starts the
 * workload, lets the nemesis inject faults for the run's duration, heals everything, waits for the cluster to
 * settle, stops the clients, reads every partition to the end, stops the nodes, compares the replicas' files
 * and verifies every node's data directory, then checks the history and writes the run's directory:
 * {@code history.jsonl}, {@code nemesis.log}, {@code run.log}, {@code verdict.json}, {@code summary.md},
 * {@code timeline.png}, and {@code cluster/node-N/} (configuration, log, and — for a failed run or with
 * {@code keepData} — data).
 */
public final class ChaosRun {
    /** The node settings every chaos cluster runs with (a run's own settings override them). */
    public static final Map<String, String> NODE_DEFAULTS = Map.of(
            // small segments, so closed segments exist for the disk nemesis and rolls happen under faults
            "log.segment.bytes", "65536",
            // frequent snapshots, so Ratis purges its log and lagging replicas install from the leader
            "raft.snapshot.threshold.entries", "2000",
            // fewer Raft groups on small machines
            "offsets.topic.num.partitions", "4",
            "group.initial.rebalance.delay.ms", "500",
            "replica.lag.time.max.ms", "10000",
            "transaction.abort.timed.out.transaction.cleanup.interval.ms", "2000");

    private static final long SETTLE_TIMEOUT_MS = 180_000;
    private static final long FINAL_READ_TIMEOUT_MS = 120_000;
    private static final long CONVERGE_TIMEOUT_MS = 60_000;

    private ChaosRun() {}

    /**
     * The outcome of a run.
     *
     * @param config what was run
     * @param verdict the checker's verdict with the cluster checks and the run's problems
     * @param workload a line about what the workload did
     * @param faults how many faults of each kind the nemesis injected
     * @param seconds how long the run took
     */
    public record Result(
            RunConfig config, Verdict verdict, String workload, Map<String, Integer> faults, long seconds) {
        public Result {
            faults = Map.copyOf(faults);
        }
    }

    /** Runs {@code config}; phases go to {@code progress}. Never throws for a failed check: the verdict says it. */
    public static Result run(RunConfig config, Consumer<String> progress) throws IOException, InterruptedException {
        Path dir = config.dir();
        // A run always starts fresh nodes: what an earlier run of the same name left (its nodes' data, with
        // their old ports and cluster id, and its outputs) goes first.
        deleteTree(dir.resolve("cluster"));
        for (String output :
                List.of("history.jsonl", "nemesis.log", "run.log", "summary.md", "verdict.json", "timeline.png")) {
            Files.deleteIfExists(dir.resolve(output));
        }
        Files.createDirectories(dir);
        long startNs = System.nanoTime();
        RunInfo info = new RunInfo(
                config.name(),
                config.seed(),
                config.nodes(),
                config.faults().stream().map(FaultKind::cliName).toList(),
                config.workload(),
                System.currentTimeMillis(),
                config.durationMs());
        List<String> problems = new ArrayList<>();
        try (RunLog log = new RunLog(dir, progress);
                HistoryRecorder history = new HistoryRecorder(info, dir.resolve("history.jsonl"))) {
            log.phase(config.name() + ": starting " + config.nodes() + " nodes (seed " + config.seed() + ")");
            Map<String, String> settings = new LinkedHashMap<>(NODE_DEFAULTS);
            settings.putAll(config.nodeSettings());
            ClusterSpec spec = new ClusterSpec(
                    dir.resolve("cluster"),
                    config.nodes(),
                    config.seed(),
                    settings,
                    config.javaCommand(),
                    config.classpath());
            String workloadSummary;
            FinalPhase.Settled settled;
            ClusterHealth.Converged converged;
            ChaosCluster cluster = ChaosCluster.start(spec, log);
            try {
                RunContext context = new RunContext(history, new Values(256), cluster::bootstrapServers, log);
                try (Workload workload = workload(config, context)) {
                    setUp(workload, cluster);
                    workload.start();
                    Nemesis nemesis = new Nemesis(
                            cluster,
                            history,
                            config.faults(),
                            config.seed(),
                            config.timing(),
                            workload.topics(),
                            workload.groups(),
                            log);
                    log.phase(config.name() + ": " + workload.name() + " workload; faults " + info.faults() + " for "
                            + config.durationMs() / 1000 + " s");
                    nemesis.run(config.durationMs());
                    log.phase(config.name() + ": healing");
                    nemesis.healAll();
                    problems.addAll(nemesis.problems());
                    FinalPhase finalPhase = new FinalPhase(cluster);
                    settled = finalPhase.awaitSettled(SETTLE_TIMEOUT_MS);
                    if (settled.problem() != null) {
                        problems.add("the cluster did not settle within " + SETTLE_TIMEOUT_MS / 1000 + " s: "
                                + settled.problem());
                    }
                    log.phase(config.name() + ": final reads");
                    workload.stopWriters();
                    if (!workload.awaitReadersCaughtUp(60_000)) {
                        log.accept("the live readers did not catch up within 60 s (the final reads still check)");
                    }
                    workload.stopReaders();
                    FinalReads finalReads = new FinalReads(cluster::bootstrapServers, log);
                    if (workload.name().equals("txn")) {
                        List<String> open = finalReads.awaitTransactionsEnded(workload.topics(), 90_000);
                        open.forEach(o -> problems.add("transaction still open after 90 s: " + o));
                    }
                    problems.addAll(finalReads.read(
                            workload.topics(), Isolation.READ_UNCOMMITTED, history, FINAL_READ_TIMEOUT_MS));
                    problems.addAll(finalReads.read(
                            workload.topics(), Isolation.READ_COMMITTED, history, FINAL_READ_TIMEOUT_MS));
                    problems.addAll(workload.ownChecks());
                    workloadSummary = workload.describe();
                    if (settled.problem() == null) {
                        settled = finalPhase.awaitSettled(SETTLE_TIMEOUT_MS);
                    }
                    // Nothing is written any more: every replica must reach the same end before the files compare.
                    converged =
                            ClusterHealth.awaitConverged(cluster::status, cluster.memberNodes(), CONVERGE_TIMEOUT_MS);
                    if (converged.problem() != null) {
                        problems.add("the replicas did not converge within " + CONVERGE_TIMEOUT_MS / 1000 + " s: "
                                + converged.problem());
                    }
                }
            } finally {
                log.phase(config.name() + ": stopping the nodes");
                cluster.close();
            }
            List<String> mismatches =
                    ClusterChecks.compareReplicas(settled.replicas(), cluster::dataDir, converged.ends());
            List<String> verifyFailures = new ArrayList<>();
            for (int node : cluster.nodeIds()) {
                verifyFailures.addAll(ClusterChecks.verify(
                        node,
                        cluster.dataDir(node),
                        dir.resolve("cluster").resolve("node-" + node).resolve("verify.txt")));
            }
            History recorded = history.snapshot();
            Verdict verdict = new Checker()
                    .check(recorded)
                    .withClusterChecks(mismatches, verifyFailures)
                    .withRunProblems(problems);
            RunReport.write(dir, recorded, verdict);
            long seconds = (System.nanoTime() - startNs) / 1_000_000_000L;
            log.phase(config.name() + ": " + (verdict.valid() ? "VALID" : "INVALID") + " in " + seconds + " s; "
                    + workloadSummary + "; " + dir.resolve("summary.md"));
            if (verdict.valid() && !config.keepData()) {
                for (int node : cluster.nodeIds()) {
                    deleteTree(cluster.dataDir(node));
                }
            }
            Map<String, Integer> faults = new java.util.TreeMap<>();
            recorded.nemesis().forEach(e -> faults.merge(e.kind(), 1, Integer::sum));
            return new Result(config, verdict, workloadSummary, faults, seconds);
        }
    }

    private static void setUp(Workload workload, ChaosCluster cluster) throws IOException {
        try (Admin admin = cluster.admin()) {
            workload.setUp(admin);
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException("cannot set up the " + workload.name() + " workload: " + e, e);
        }
    }

    private static Workload workload(RunConfig config, RunContext context) {
        int replication = Math.min(3, config.nodes());
        int partitions = 2 * config.nodes();
        return switch (config.workload()) {
            case "txn" -> new TxnWorkload(context, partitions, replication, config.ratePerSecond(), config.seed());
            default -> new QueueWorkload(context, partitions, replication, 3, config.ratePerSecond(), config.seed());
        };
    }

    /** @return the names of problems, one per line, for logs */
    static String lines(List<String> problems) {
        return problems.stream().collect(Collectors.joining("\n  ", "  ", ""));
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
