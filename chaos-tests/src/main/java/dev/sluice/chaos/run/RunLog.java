package dev.sluice.chaos.run;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.function.Consumer;

/**
 * A run's logs: {@code run.log} gets every line, {@code nemesis.log} the nemesis's lines, each stamped with
 * the wall-clock time and the seconds since the run began; phase lines also go to the progress sink (the
 * terminal of {@code sluice chaos}). Thread-safe.
 */
final class RunLog implements Consumer<String>, AutoCloseable {
    private final long zeroNs = System.nanoTime();
    private final BufferedWriter run;
    private final BufferedWriter nemesis;
    private final Consumer<String> progress;

    RunLog(Path dir, Consumer<String> progress) {
        try {
            this.run = Files.newBufferedWriter(dir.resolve("run.log"), StandardCharsets.UTF_8);
            this.nemesis = Files.newBufferedWriter(dir.resolve("nemesis.log"), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the logs in " + dir, e);
        }
        this.progress = progress;
    }

    @Override
    public synchronized void accept(String line) {
        String stamped = String.format("%s %8.3f %s", Instant.now(), (System.nanoTime() - zeroNs) / 1e9, line);
        try {
            run.write(stamped);
            run.newLine();
            run.flush();
            if (line.startsWith("nemesis:")) {
                nemesis.write(stamped);
                nemesis.newLine();
                nemesis.flush();
            }
        } catch (IOException e) {
            // a full disk must not end the run; the history and verdict are written separately
        }
    }

    /** Logs a phase of the run, also to the progress sink. */
    void phase(String line) {
        accept("== " + line);
        progress.accept(line);
    }

    @Override
    public synchronized void close() {
        try {
            run.close();
            nemesis.close();
        } catch (IOException e) {
            // closing anyway
        }
    }
}
