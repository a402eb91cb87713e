package dev.sluice.chaos.run;

import dev.sluice.chaos.nemesis.FaultKind;
import dev.sluice.chaos.nemesis.Nemesis;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * One chaos run: a fresh cluster, a workload, a nemesis, and the checks.
 *
 * @param name the run's name, also its directory's name under {@code outDir}
 * @param outDir where the run's directory is made
 * @param nodes how many node processes the cluster starts with (3 or 5 in campaigns)
 * @param seed every random choice of the run (nemesis, workload, injectors) comes from it
 * @param faults the kinds the nemesis chooses from
 * @param durationMs how long the nemesis works
 * @param workload {@code queue} or {@code txn}
 * @param timing the nemesis's quiet and fault windows
 * @param ratePerSecond the producers' sends per second, all together
 * @param nodeSettings node settings added to the harness's own (see {@link ChaosRun#NODE_DEFAULTS})
 * @param javaCommand the JVM and its options for node processes
 * @param classpath the classpath holding {@code dev.sluice.tools.SluiceTool}
 * @param keepData keep the nodes' data directories of a run that passed (a failed run always keeps them)
 */
public record RunConfig(
        String name,
        Path outDir,
        int nodes,
        long seed,
        List<FaultKind> faults,
        long durationMs,
        String workload,
        Nemesis.Timing timing,
        double ratePerSecond,
        Map<String, String> nodeSettings,
        List<String> javaCommand,
        String classpath,
        boolean keepData) {
    /** The workloads {@link #workload} may name. */
    public static final List<String> WORKLOADS = List.of("queue", "txn");

    public RunConfig {
        if (nodes < 1) {
            throw new IllegalArgumentException("nodes must be >= 1, got " + nodes);
        }
        if (!WORKLOADS.contains(workload)) {
            throw new IllegalArgumentException("unknown workload '" + workload + "'; allowed: " + WORKLOADS);
        }
        faults = List.copyOf(faults);
        nodeSettings = Map.copyOf(nodeSettings);
        javaCommand = List.copyOf(javaCommand);
    }

    /** @return the run's directory */
    public Path dir() {
        return outDir.resolve(name);
    }
}
