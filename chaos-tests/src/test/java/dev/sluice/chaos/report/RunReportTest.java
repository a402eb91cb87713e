package dev.sluice.chaos.report;

import static dev.sluice.chaos.check.HistoryBuilder.MS;
import static dev.sluice.chaos.check.HistoryBuilder.r;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.chaos.check.Anomaly;
import dev.sluice.chaos.check.Checker;
import dev.sluice.chaos.check.HistoryBuilder;
import dev.sluice.chaos.check.Verdict;
import dev.sluice.chaos.check.VerdictJson;
import dev.sluice.chaos.history.History;
import dev.sluice.chaos.history.Isolation;
import dev.sluice.chaos.history.Outcome;
import dev.sluice.chaos.history.Send;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunReportTest {
    @TempDir
    Path dir;

    /** 60 seconds of sends, 20 a second, slower and partly failing during a pause from 20 s to 30 s. */
    static History minuteWithAPause() {
        HistoryBuilder history = new HistoryBuilder();
        long offset = 0;
        for (long ms = 0; ms < 60_000; ms += 50) {
            boolean paused = ms >= 20_000 && ms < 30_000;
            long latencyMs = paused ? 400 : 5 + ms % 7;
            Outcome outcome = paused && ms % 200 == 0 ? Outcome.INFO : Outcome.OK;
            history.send(new Send(
                    1,
                    HistoryBuilder.TOPIC,
                    0,
                    "k",
                    10_000 + ms,
                    ms * MS,
                    (ms + latencyMs) * MS,
                    outcome,
                    outcome == Outcome.OK ? offset++ : -1,
                    null,
                    -1));
        }
        return history.nemesis(20_000 * MS, 30_000 * MS, "pause", "node 2 | leader of chaos-0")
                .nemesis(40_000 * MS, -1, "kill", "node 3")
                .build();
    }

    @Test
    void shouldWriteTheVerdictTheSummaryAndTheTimeline() throws IOException {
        History history = minuteWithAPause();
        Verdict verdict = new Checker().check(history).withClusterChecks(List.of(), List.of("node-1: CRC"));

        RunReport.write(dir.resolve("run"), history, verdict);

        Path run = dir.resolve("run");
        assertThat(VerdictJson.read(run.resolve(RunReport.VERDICT_FILE))).isEqualTo(verdict);
        String summary = Files.readString(run.resolve(RunReport.SUMMARY_FILE));
        assertThat(summary)
                .contains("# Chaos run test-run: INVALID")
                .contains("| anomaly | count |")
                .contains("| unseen | " + verdict.count(Anomaly.UNSEEN) + " |")
                .contains("| lost-write | 0 |")
                .contains("node-1: CRC")
                .contains("| seed | 42 |")
                .contains("| # | start s | end s | kind | target | detail |")
                .contains("| 1 | 20.0 | 30.0 | pause | node 2 \\| leader of chaos-0 |")
                .contains("| 2 | 40.0 | never healed | kill | node 3 |")
                .contains("### unseen (");
        BufferedImage image = ImageIO.read(run.resolve(RunReport.TIMELINE_FILE).toFile());
        assertThat(image).isNotNull();
        assertThat(image.getWidth()).isEqualTo(TimelineChart.WIDTH);
        assertThat(image.getHeight()).isEqualTo(TimelineChart.HEIGHT);
    }

    @Test
    void shouldMarkTheFaultsOfEachBucketInTheThroughputTable() throws IOException {
        History history = minuteWithAPause();

        RunReport.write(dir, history, new Checker().check(history));

        List<String> rows = Files.readAllLines(dir.resolve(RunReport.SUMMARY_FILE)).stream()
                .filter(line -> line.matches("\\| \\d+\\.\\d \\| \\d+\\.\\d \\| .*"))
                .toList();
        assertThat(rows).hasSize(30); // 60 s in 2 s buckets
        assertThat(rows.get(0)).startsWith("| 0.0 | 2.0 | 20.0 | 0 | 0 |").endsWith("|  |");
        assertThat(rows.get(10)).startsWith("| 20.0 | 22.0 |").endsWith("| pause |");
        assertThat(rows.get(20)).startsWith("| 40.0 | 42.0 |").endsWith("| kill |");
    }

    @Test
    void shouldDrawThePauseAsAShadedBand() throws IOException {
        RunReport.write(dir, minuteWithAPause(), new Checker().check(minuteWithAPause()));

        BufferedImage image = ImageIO.read(dir.resolve(RunReport.TIMELINE_FILE).toFile());
        // The pause covers 20..30 s of the 60 s plotted; 10 s in lies outside any band. Just above the bottom
        // of the throughput panel no line or grid line passes (throughput stays between 9 and 26 per second).
        int y = TimelineChart.TOP_PANEL_BOTTOM - 20;
        int width = TimelineChart.RIGHT - TimelineChart.LEFT;
        int inPause = TimelineChart.LEFT + (int) (width * 25.0 / 60);
        int beforePause = TimelineChart.LEFT + (int) (width * 10.0 / 60);
        assertThat(image.getRGB(inPause, y) & 0xffffff).isNotEqualTo(0xffffff);
        assertThat(image.getRGB(beforePause, y) & 0xffffff).isEqualTo(0xffffff);
    }

    @Test
    void shouldWriteAReportForAnEmptyHistory() throws IOException {
        History empty = new HistoryBuilder().build();

        RunReport.write(dir, empty, new Checker().check(empty));

        assertThat(Files.readString(dir.resolve(RunReport.SUMMARY_FILE)))
                .contains("VALID")
                .contains("No sends.")
                .contains("No faults were injected.");
        BufferedImage image = ImageIO.read(dir.resolve(RunReport.TIMELINE_FILE).toFile());
        assertThat(image.getWidth()).isEqualTo(TimelineChart.WIDTH);
    }

    @Test
    void shouldWriteAReportForATinyHistory() throws IOException {
        History tiny = new HistoryBuilder()
                .ok(1, 0, 100, 0)
                .assign(2, Isolation.READ_UNCOMMITTED, r(0, 0, 100))
                .build();

        RunReport.write(dir, tiny, new Checker().check(tiny));

        assertThat(Files.readString(dir.resolve(RunReport.SUMMARY_FILE))).contains("| 0.0 | 1.0 |");
        assertThat(ImageIO.read(dir.resolve(RunReport.TIMELINE_FILE).toFile()).getHeight())
                .isEqualTo(TimelineChart.HEIGHT);
    }
}
