package dev.sluice.chaos.run;

import dev.sluice.chaos.check.Anomaly;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * A campaign: chaos runs one after the other, each against a fresh cluster, and a summary of them all in
 * {@code campaign.md} in the output directory (a row per run: seed, nodes, workload, faults injected,
 * records checked, verdict; anomaly totals per kind).
 */
public final class Campaign {
    private Campaign() {}

    /** Runs every config in order; returns their results. A run that crashes the harness counts as failed. */
    public static List<ChaosRun.Result> run(List<RunConfig> runs, Path outDir, Consumer<String> progress)
            throws IOException, InterruptedException {
        Files.createDirectories(outDir);
        List<ChaosRun.Result> results = new ArrayList<>();
        List<String> crashed = new ArrayList<>();
        for (int i = 0; i < runs.size(); i++) {
            RunConfig config = runs.get(i);
            progress.accept("run " + (i + 1) + "/" + runs.size() + ": " + config.name());
            try {
                ChaosRun.Result result = ChaosRun.run(config, progress);
                results.add(result);
                progress.accept(line(result));
            } catch (IOException | RuntimeException e) {
                crashed.add(config.name() + ": " + e);
                progress.accept(config.name() + ": the harness failed: " + e);
            }
            writeSummary(outDir, runs, results, crashed);
        }
        return results;
    }

    /** @return one line about a run's verdict */
    public static String line(ChaosRun.Result result) {
        StringBuilder anomalies = new StringBuilder();
        result.verdict().counts().forEach((kind, count) -> {
            if (count > 0) {
                anomalies.append(' ').append(kind.jsonName()).append('=').append(count);
            }
        });
        return String.format(
                "%s: %s in %d s (seed %d, %d nodes, %s)%s",
                result.config().name(),
                result.verdict().valid() ? "VALID" : "INVALID",
                result.seconds(),
                result.config().seed(),
                result.config().nodes(),
                result.workload(),
                anomalies);
    }

    private static void writeSummary(
            Path outDir, List<RunConfig> planned, List<ChaosRun.Result> results, List<String> crashed)
            throws IOException {
        StringBuilder md = new StringBuilder("# Chaos campaign\n\n");
        long valid = results.stream().filter(r -> r.verdict().valid()).count();
        md.append(String.format(
                "%d of %d runs done: %d valid, %d invalid, %d crashed.%n%n",
                results.size() + crashed.size(), planned.size(), valid, results.size() - valid, crashed.size()));
        md.append("| run | seed | nodes | workload | faults injected | acknowledged values checked | verdict | seconds"
                + " | what it did |\n");
        md.append("|---|---:|---:|---|---|---:|---|---:|---|\n");
        Map<Anomaly, Long> totals = new EnumMap<>(Anomaly.class);
        Map<String, Integer> faultRuns = new TreeMap<>();
        Map<String, Integer> faultTotals = new TreeMap<>();
        long checked = 0;
        for (ChaosRun.Result r : results) {
            r.faults().forEach((kind, n) -> {
                faultRuns.merge(kind, 1, Integer::sum);
                faultTotals.merge(kind, n, Integer::sum);
            });
            checked += r.verdict().stats().acknowledgedChecked();
            md.append(String.format(
                    "| [%s](%s/summary.md) | %d | %d | %s | %s | %d | %s | %d | %s |%n",
                    r.config().name(),
                    r.config().name(),
                    r.config().seed(),
                    r.config().nodes(),
                    r.config().workload(),
                    r.faults(),
                    r.verdict().stats().acknowledgedChecked(),
                    r.verdict().valid() ? "VALID" : "**INVALID**",
                    r.seconds(),
                    r.workload()));
            r.verdict().counts().forEach((kind, count) -> totals.merge(kind, count, Long::sum));
        }
        md.append("\nAcknowledged values checked in all: ").append(checked).append(".\n");
        md.append("\n| fault kind | runs with it | injected in all |\n|---|---:|---:|\n");
        faultRuns.forEach((kind, runs) -> md.append("| ")
                .append(kind)
                .append(" | ")
                .append(runs)
                .append(" | ")
                .append(faultTotals.get(kind))
                .append(" |\n"));
        md.append("\n| anomaly | total |\n|---|---:|\n");
        totals.forEach((kind, count) -> md.append("| ")
                .append(kind.jsonName())
                .append(" | ")
                .append(count)
                .append(" |\n"));
        if (!crashed.isEmpty()) {
            md.append("\n## Runs the harness could not finish\n\n");
            crashed.forEach(c -> md.append("- ").append(c).append('\n'));
        }
        Files.writeString(outDir.resolve("campaign.md"), md, StandardCharsets.UTF_8);
    }
}
