package dev.sluice.chaos;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import dev.sluice.chaos.nemesis.FaultKind;
import dev.sluice.chaos.nemesis.Nemesis;
import dev.sluice.chaos.run.Campaign;
import dev.sluice.chaos.run.ChaosRun;
import dev.sluice.chaos.run.RunConfig;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sluice chaos}: a campaign of chaos runs against fresh local clusters of node processes, each with a
 * workload of real Kafka clients, a seeded nemesis, a final read of everything and a Jepsen-style check; prints
 * the verdict of each run and writes each run's directory and a campaign summary.
 */
@Command(
        name = "chaos",
        mixinStandardHelpOptions = true,
        description = {
            "Run chaos campaigns: fresh local clusters of node processes on 127.0.0.1, Kafka clients writing and"
                    + " reading, a seeded nemesis injecting faults, then a check of the history for lost,"
                    + " duplicated, reordered or aborted reads, byte-identical replicas and sluice dump --verify.",
            "Each run writes OUT/NAME/ (history.jsonl, nemesis.log, verdict.json, summary.md, timeline.png);"
                    + " the campaign writes OUT/campaign.md."
        },
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:every run valid", "1:a run found an anomaly or could not finish", "2:bad arguments"})
public final class ChaosCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Option(
            names = "--nodes",
            split = ",",
            defaultValue = "3",
            paramLabel = "N[,N...]",
            description =
                    "Nodes per cluster; the runs take every combination of nodes and workload in turn (default: ${DEFAULT-VALUE}).")
    List<Integer> nodes;

    @Option(
            names = "--duration",
            defaultValue = "60s",
            paramLabel = "TIME",
            description =
                    "How long the nemesis works in each run: 90s, 10m, 1h or ISO-8601 (default: ${DEFAULT-VALUE}).")
    String duration;

    @Option(
            names = "--seed",
            paramLabel = "S",
            description = "The first run's seed; run i uses S+i (default: the time).")
    Long seed;

    @Option(
            names = "--faults",
            defaultValue = "all",
            paramLabel = "F[,F...]",
            description = "Fault kinds the nemesis chooses from: all, kill, term, pause, partition, latency, loss,"
                    + " disk, membership, restart (default: ${DEFAULT-VALUE}).")
    String faults;

    @Option(names = "--runs", defaultValue = "1", paramLabel = "N", description = "Runs (default: ${DEFAULT-VALUE}).")
    int runs;

    @Option(
            names = "--workload",
            split = ",",
            defaultValue = "queue,txn",
            paramLabel = "W[,W...]",
            description =
                    "queue and/or txn; the runs take every combination of nodes and workload in turn (default: ${DEFAULT-VALUE}).")
    List<String> workloads;

    @Option(
            names = "--rate",
            defaultValue = "150",
            paramLabel = "R",
            description = "Records per second the producers send together (default: ${DEFAULT-VALUE}).")
    double rate;

    @Option(
            names = "--out",
            defaultValue = "chaos-runs",
            paramLabel = "DIR",
            description = "Where the runs' directories go (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--keep-data", description = "Keep the nodes' data directories of valid runs too.")
    boolean keepData;

    @Option(
            names = "--set",
            paramLabel = "KEY=VALUE",
            description = "A node setting for every node of every run (repeatable).")
    List<String> settings = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter outWriter = spec.commandLine().getOut();
        // The clients' retry warnings are what faults look like from a client; the history records outcomes.
        ((Logger) LoggerFactory.getLogger("org.apache.kafka")).setLevel(Level.ERROR);
        List<RunConfig> plan;
        try {
            plan = plan();
        } catch (IllegalArgumentException e) {
            err.println("sluice chaos: " + e.getMessage());
            return 2;
        }
        List<ChaosRun.Result> results = Campaign.run(plan, out, line -> {
            err.println("sluice chaos: " + line);
            err.flush();
        });
        for (ChaosRun.Result result : results) {
            outWriter.println(Campaign.line(result));
        }
        long valid = results.stream().filter(r -> r.verdict().valid()).count();
        outWriter.printf(
                "%d of %d runs valid; summary in %s%n",
                valid, plan.size(), out.resolve("campaign.md").toAbsolutePath());
        outWriter.flush();
        return valid == plan.size() ? 0 : 1;
    }

    private List<RunConfig> plan() {
        long durationMs = parseDuration(duration);
        List<FaultKind> kinds = FaultKind.parse(faults);
        if (runs < 1) {
            throw new IllegalArgumentException("--runs must be at least 1, got " + runs);
        }
        for (int n : nodes) {
            if (n < 1 || n > 9) {
                throw new IllegalArgumentException("--nodes must be between 1 and 9, got " + n);
            }
        }
        for (String w : workloads) {
            if (!RunConfig.WORKLOADS.contains(w)) {
                throw new IllegalArgumentException(
                        "--workload: unknown workload '" + w + "'; allowed: " + RunConfig.WORKLOADS);
            }
        }
        if (!(rate > 0)) {
            throw new IllegalArgumentException("--rate must be positive, got " + rate);
        }
        Map<String, String> nodeSettings = new LinkedHashMap<>();
        for (String setting : settings) {
            int eq = setting.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("--set takes KEY=VALUE, got '" + setting + "'");
            }
            nodeSettings.put(
                    setting.substring(0, eq).trim(), setting.substring(eq + 1).trim());
        }
        long first = seed != null ? seed : System.currentTimeMillis() % 1_000_000;
        List<RunConfig> plan = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            // Every combination in turn: with --nodes 3,5 --workload queue,txn the runs go 3n queue, 5n queue,
            // 3n txn, 5n txn, and again.
            int n = nodes.get(i % nodes.size());
            String workload = workloads.get((i / nodes.size()) % workloads.size());
            long runSeed = first + i;
            plan.add(new RunConfig(
                    String.format(Locale.ROOT, "run-%03d-seed-%d-%dn-%s", i + 1, runSeed, n, workload),
                    out,
                    n,
                    runSeed,
                    kinds,
                    durationMs,
                    workload,
                    Nemesis.Timing.DEFAULT,
                    rate,
                    nodeSettings,
                    nodeJavaCommand(),
                    System.getProperty("java.class.path"),
                    keepData));
        }
        return plan;
    }

    /** The JVM running this command and its options (module opens and the like), for the node processes. */
    public static List<String> nodeJavaCommand() {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!arg.startsWith("-javaagent") && !arg.startsWith("-Xmx") && !arg.startsWith("-Xms")) {
                command.add(arg);
            }
        }
        command.add("-Xmx384m");
        command.add("-XX:TieredStopAtLevel=1");
        return command;
    }

    /** Parses {@code 90s}, {@code 10m}, {@code 1h}, {@code 500ms} or an ISO-8601 duration into milliseconds. */
    static long parseDuration(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        try {
            if (t.startsWith("p")) {
                return Duration.parse(text.trim().toUpperCase(Locale.ROOT)).toMillis();
            }
            if (t.endsWith("ms")) {
                return Long.parseLong(t.substring(0, t.length() - 2));
            }
            long n = Long.parseLong(t.substring(0, t.length() - 1));
            return switch (t.charAt(t.length() - 1)) {
                case 's' -> n * 1_000;
                case 'm' -> n * 60_000;
                case 'h' -> n * 3_600_000;
                default -> throw new NumberFormatException();
            };
        } catch (NumberFormatException | DateTimeParseException | StringIndexOutOfBoundsException e) {
            throw new IllegalArgumentException(
                    "--duration: cannot read '" + text + "'; use 90s, 10m, 1h, 500ms or ISO-8601 like PT10M");
        }
    }
}
