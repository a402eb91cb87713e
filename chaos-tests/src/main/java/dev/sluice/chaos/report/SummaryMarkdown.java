package dev.sluice.chaos.report;

import dev.sluice.chaos.check.Anomaly;
import dev.sluice.chaos.check.Statistics;
import dev.sluice.chaos.check.Verdict;
import dev.sluice.chaos.history.History;
import dev.sluice.chaos.history.NemesisEvent;
import dev.sluice.chaos.history.RunInfo;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/**
 * The one-page {@code summary.md} of a run: what ran, the verdict, anomaly counts, cluster checks, statistics,
 * throughput and latency over time with the faults of each bucket, the nemesis log and a few examples per
 * anomaly. Stateless.
 */
final class SummaryMarkdown {
    /** The table stays near this many rows; the bucket width follows. */
    static final int TABLE_BUCKETS = 30;

    static final int EXAMPLES_SHOWN = 5;

    private SummaryMarkdown() {}

    static String render(History history, Verdict verdict) {
        StringBuilder md = new StringBuilder();
        RunInfo info = history.info();
        md.append("# Chaos run ")
                .append(cell(info.name()))
                .append(": ")
                .append(verdict.valid() ? "VALID" : "INVALID")
                .append("\n\n");
        runInfo(md, history);
        anomalies(md, verdict);
        clusterChecks(md, verdict);
        statistics(md, verdict.stats());
        timeline(md, Timeline.withAtMost(history, TABLE_BUCKETS));
        nemesis(md, history);
        examples(md, verdict);
        return md.toString();
    }

    private static void runInfo(StringBuilder md, History history) {
        RunInfo info = history.info();
        md.append("| run | |\n|---|---|\n");
        row(md, "name", cell(info.name()));
        row(md, "seed", Long.toString(info.seed()));
        row(md, "nodes", Integer.toString(info.nodes()));
        row(md, "faults", info.faults().isEmpty() ? "none" : cell(String.join(", ", info.faults())));
        row(md, "workload", cell(info.workload()));
        row(md, "started", Instant.ofEpochMilli(info.startedAtEpochMs()).toString());
        row(md, "fault phase", seconds(info.durationMs() * 1_000_000L) + " s planned");
        row(md, "history span", seconds(Timeline.spanNs(history)) + " s");
        md.append('\n');
    }

    private static void anomalies(StringBuilder md, Verdict verdict) {
        md.append("## Verdict: ").append(verdict.valid() ? "VALID" : "INVALID").append("\n\n");
        md.append("| anomaly | count |\n|---|---:|\n");
        verdict.counts().forEach((anomaly, count) -> row(md, anomaly.jsonName(), Long.toString(count)));
        md.append('\n');
    }

    private static void clusterChecks(StringBuilder md, Verdict verdict) {
        md.append("## Cluster checks\n\n");
        list(md, "Replica segment mismatches", verdict.replicaMismatches());
        list(md, "`sluice dump --verify` failures", verdict.verifyFailures());
        list(
                md,
                "Problems of the run (nodes, settling, final reads, the workload's own checks)",
                verdict.runProblems());
        md.append('\n');
    }

    private static void list(StringBuilder md, String title, List<String> items) {
        md.append("- ")
                .append(title)
                .append(": ")
                .append(items.isEmpty() ? "none" : items.size())
                .append('\n');
        items.forEach(item -> md.append("  - ").append(cell(item)).append('\n'));
    }

    private static void statistics(StringBuilder md, Statistics stats) {
        md.append("## Statistics\n\n| statistic | value |\n|---|---:|\n");
        row(md, "sends ok / fail / info", stats.sendsOk() + " / " + stats.sendsFail() + " / " + stats.sendsInfo());
        row(md, "acknowledged values checked", Long.toString(stats.acknowledgedChecked()));
        row(md, "polls", Long.toString(stats.polls()));
        row(md, "records returned by polls", Long.toString(stats.pollRecords()));
        row(md, "records returned by final reads", Long.toString(stats.finalReadRecords()));
        row(md, "distinct values read", Long.toString(stats.distinctValuesRead()));
        row(
                md,
                "transactions committed / aborted / unknown",
                stats.txnsCommitted() + " / " + stats.txnsAborted() + " / " + stats.txnsUnknown());
        row(md, "subscribe-mode rewinds (informational)", Long.toString(stats.subscribeNonmonotonicPolls()));
        row(md, "subscribe-mode skips (informational)", Long.toString(stats.subscribePollSkips()));
        md.append('\n');
        if (!stats.finalReads().isEmpty()) {
            md.append("| final read | isolation | log start | end | records |\n|---|---|---:|---:|---:|\n");
            for (Statistics.FinalReadStats f : stats.finalReads()) {
                md.append("| ")
                        .append(cell(f.topic() + "-" + f.partition()))
                        .append(" | ")
                        .append(f.isolation())
                        .append(" | ")
                        .append(f.logStartOffset())
                        .append(" | ")
                        .append(f.endOffset())
                        .append(" | ")
                        .append(f.records())
                        .append(" |\n");
            }
            md.append('\n');
        }
    }

    private static void timeline(StringBuilder md, Timeline timeline) {
        md.append("## Throughput and latency (")
                .append(seconds(timeline.bucketNs()))
                .append(" s buckets)\n\n");
        if (timeline.buckets().isEmpty()) {
            md.append("No sends.\n\n");
            return;
        }
        md.append("Latency is of acknowledged sends, by completion time. `timeline.png` draws the same in finer"
                + " buckets.\n\n");
        md.append("| from s | to s | acked/s | fail | info | p50 ms | p99 ms | max ms | faults |\n");
        md.append("|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
        for (Timeline.Bucket b : timeline.buckets()) {
            md.append("| ")
                    .append(seconds(b.startNs()))
                    .append(" | ")
                    .append(seconds(b.endNs()))
                    .append(" | ")
                    .append(format("%.1f", b.ackedPerSecond()))
                    .append(" | ")
                    .append(b.failed())
                    .append(" | ")
                    .append(b.indeterminate())
                    .append(" | ")
                    .append(millis(b.p50Ms()))
                    .append(" | ")
                    .append(millis(b.p99Ms()))
                    .append(" | ")
                    .append(millis(b.maxMs()))
                    .append(" | ")
                    .append(cell(String.join(", ", b.faults())))
                    .append(" |\n");
        }
        md.append('\n');
    }

    private static void nemesis(StringBuilder md, History history) {
        md.append("## Nemesis\n\n");
        if (history.nemesis().isEmpty()) {
            md.append("No faults were injected.\n\n");
            return;
        }
        md.append("| # | start s | end s | kind | target | detail |\n|---:|---:|---:|---|---|---|\n");
        int n = 1;
        for (NemesisEvent event : history.nemesis()) {
            md.append("| ")
                    .append(n++)
                    .append(" | ")
                    .append(seconds(event.startNs()))
                    .append(" | ")
                    .append(event.endNs() < 0 ? "never healed" : seconds(event.endNs()))
                    .append(" | ")
                    .append(cell(event.kind()))
                    .append(" | ")
                    .append(cell(event.target()))
                    .append(" | ")
                    .append(cell(event.detail()))
                    .append(" |\n");
        }
        md.append('\n');
    }

    private static void examples(StringBuilder md, Verdict verdict) {
        List<Anomaly> found = verdict.anomalies();
        if (found.isEmpty()) {
            return;
        }
        md.append("## Examples\n\n");
        for (Anomaly anomaly : found) {
            md.append("### ")
                    .append(anomaly.jsonName())
                    .append(" (")
                    .append(verdict.count(anomaly))
                    .append(")\n\n");
            verdict.examples().get(anomaly).stream()
                    .limit(EXAMPLES_SHOWN)
                    .forEach(e -> md.append("- ").append(cell(e)).append('\n'));
            md.append('\n');
        }
    }

    private static void row(StringBuilder md, String name, String value) {
        md.append("| ").append(name).append(" | ").append(value).append(" |\n");
    }

    /** Makes text safe inside a table cell or list item: no pipes, no line breaks. */
    static String cell(String text) {
        if (text == null) {
            return "";
        }
        return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ");
    }

    private static String seconds(long ns) {
        return format("%.1f", ns / 1e9);
    }

    private static String millis(double ms) {
        return Double.isNaN(ms) ? "-" : format("%.1f", ms);
    }

    private static String format(String pattern, Object... args) {
        return String.format(Locale.ROOT, pattern, args);
    }
}
