package dev.sluice.chaos.history;

import static dev.sluice.chaos.check.HistoryBuilder.MS;
import static dev.sluice.chaos.check.HistoryBuilder.r;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.chaos.check.HistoryBuilder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HistoryFileTest {
    @TempDir
    Path dir;

    static History sample() {
        return new HistoryBuilder()
                .ok(1, 0, 100, 0)
                .send(2, 1, 101, Outcome.INFO, -1, -1)
                .send(10, 0, 102, Outcome.OK, 1, 7)
                .txn(7, 10, true, Outcome.OK, 20 * MS)
                .assign(20, Isolation.READ_UNCOMMITTED, r(0, 0, 100), r(0, 1, 102))
                .pollAt(30 * MS, 21, Isolation.READ_COMMITTED, 7, r(0, 0, 100))
                .finalReads(0, 3, r(0, 0, 100), r(0, 1, 102))
                .nemesis(5 * MS, 9 * MS, "kill", "node 2")
                .nemesis(12 * MS, -1, "pause", "node 1")
                .build();
    }

    @Test
    void shouldReadBackEveryEntryItWrote() throws IOException {
        Path file = dir.resolve("history.jsonl");
        History history = sample();

        HistoryFile.write(file, history);

        assertThat(HistoryFile.read(file)).isEqualTo(history);
    }

    @Test
    void shouldIgnoreATornLastLine() throws IOException {
        Path file = dir.resolve("history.jsonl");
        History history = sample();
        HistoryFile.write(file, history);
        Files.writeString(
                file, "{\"type\":\"send\",\"process\":1,\"to", StandardCharsets.UTF_8, StandardOpenOption.APPEND);

        assertThat(HistoryFile.read(file)).isEqualTo(history);
    }

    @Test
    void shouldRecordWhatTheRecorderWasGiven() throws IOException {
        Path file = dir.resolve("history.jsonl");
        History history = sample();
        try (HistoryRecorder recorder = new HistoryRecorder(history.info(), file)) {
            history.sends().forEach(recorder::send);
            history.polls().forEach(recorder::poll);
            history.txns().forEach(recorder::txn);
            history.finalReads().forEach(recorder::finalRead);
            history.nemesis().forEach(recorder::nemesis);
            assertThat(recorder.snapshot()).isEqualTo(history);
        }

        assertThat(HistoryFile.read(file)).isEqualTo(history);
    }
}
