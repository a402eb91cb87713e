package dev.sluice.chaos.report;

import dev.sluice.chaos.check.Verdict;
import dev.sluice.chaos.check.VerdictJson;
import dev.sluice.chaos.history.History;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes a chaos run's report into its directory: {@value #VERDICT_FILE} (the verdict as JSON, see
 * {@link VerdictJson}), {@value #SUMMARY_FILE} (a one-page Markdown summary) and {@value #TIMELINE_FILE}
 * (throughput and latency over time with the fault windows, {@value TimelineChart#WIDTH}x
 * {@value TimelineChart#HEIGHT}). Works on a headless JVM and for an empty history. Stateless and
 * thread-safe, as long as two calls do not write the same directory.
 */
public final class RunReport {
    public static final String VERDICT_FILE = "verdict.json";
    public static final String SUMMARY_FILE = "summary.md";
    public static final String TIMELINE_FILE = "timeline.png";

    private RunReport() {}

    /** Writes the three files into {@code runDir}, creating it if needed and replacing files of those names. */
    public static void write(Path runDir, History history, Verdict verdict) throws IOException {
        Files.createDirectories(runDir);
        VerdictJson.write(runDir.resolve(VERDICT_FILE), verdict);
        Files.writeString(
                runDir.resolve(SUMMARY_FILE), SummaryMarkdown.render(history, verdict), StandardCharsets.UTF_8);
        String title = "Sluice chaos run " + history.info().name() + " ("
                + history.info().workload() + "): " + (verdict.valid() ? "VALID" : "INVALID");
        TimelineChart.write(runDir.resolve(TIMELINE_FILE), history, title);
    }
}
