package dev.sluice.tools;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.partitionstore.Clock;
import dev.sluice.partitionstore.LogReadResult;
import dev.sluice.partitionstore.LogSegmentInfo;
import dev.sluice.partitionstore.NodeStore;
import dev.sluice.partitionstore.PartitionLog;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/**
 * Kills a real writer process with SIGKILL at random points, damages files the way crashes and bad
 * disks do, and checks recovery: no complete batch lost, nothing corrupt served, and {@code sluice dump
 * --verify} reports the damage.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class CrashRecoveryTest {
    @TempDir
    Path dataDir;

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4, 5, 6})
    void shouldLoseNoAcknowledgedBatchWhenTheWriterIsKilled(long seed) throws Exception {
        Random random = new Random(seed);
        long lastAcked = -1;
        for (int round = 0; round < 3; round++) {
            lastAcked = Math.max(lastAcked, runAndKill(seed * 31 + round, 20 + random.nextInt(300)));
        }
        try (NodeStore store = NodeStore.open(dataDir, Clock.SYSTEM)) {
            PartitionLog log = store.openPartition(CrashWriter.TP, CrashWriter.CONFIG);
            assertThat(log.logEndOffset()).isGreaterThan(lastAcked);
            assertEveryRecordIsTheOneWritten(log);
        }
        assertThat(dump("--verify", partitionDir().toString())).isZero();
    }

    @Test
    void shouldCutATornTailAndServeOnlyIntactBatches() throws Exception {
        long lastAcked = runAndKill(99, 400);
        long logEndOffset;
        try (NodeStore store = NodeStore.open(dataDir, Clock.SYSTEM)) {
            logEndOffset =
                    store.openPartition(CrashWriter.TP, CrashWriter.CONFIG).logEndOffset();
            assertThat(logEndOffset).isGreaterThan(lastAcked);
        }
        Random random = new Random(99);
        for (int i = 0; i < 5; i++) {
            Path active = newestSegment();
            long size = Files.size(active);
            truncate(active, Math.max(0, size - 1 - random.nextInt((int) Math.min(size, 5000))));
            try (NodeStore store = NodeStore.open(dataDir, Clock.SYSTEM)) {
                PartitionLog log = store.openPartition(CrashWriter.TP, CrashWriter.CONFIG);
                assertThat(log.logEndOffset()).isLessThan(logEndOffset);
                assertThat(log.recoveryReport().clean()).isFalse();
                assertEveryRecordIsTheOneWritten(log);
                logEndOffset = log.logEndOffset();
            }
            assertThat(dump("--verify", partitionDir().toString())).isZero();
        }
    }

    @Test
    void shouldReportAFlippedBitAndNeverServeTheDamagedBatch() throws Exception {
        runAndKill(7, 600);
        Path closed;
        long position;
        try (NodeStore store = NodeStore.open(dataDir, Clock.SYSTEM)) {
            List<LogSegmentInfo> segments =
                    store.openPartition(CrashWriter.TP, CrashWriter.CONFIG).segments();
            assertThat(segments.size()).isGreaterThan(1);
            closed = segments.get(0).path();
            position = middleBatchBody(closed, segments.get(0).sizeInBytes());
        }
        flipBit(closed, position);

        StringWriter report = new StringWriter();
        int status = dump(report, "--verify", partitionDir().toString());
        assertThat(status).isEqualTo(1);
        assertThat(report.toString())
                .contains("PROBLEM " + closed)
                .contains("CRC mismatch")
                .contains("expected 0x");

        try (NodeStore store = NodeStore.open(dataDir, Clock.SYSTEM)) {
            PartitionLog log = store.openPartition(CrashWriter.TP, CrashWriter.CONFIG);
            long offset = log.logStartOffset();
            boolean sawError = false;
            while (offset < log.logEndOffset()) {
                LogReadResult read = log.read(offset, 1 << 16, Long.MAX_VALUE);
                if (read.error() == Errors.KAFKA_STORAGE_ERROR) {
                    sawError = true;
                    assertThat(read.errorMessage()).contains(closed.toString()).contains("CRC mismatch");
                    offset = nextBatchAfterDamage(log, offset);
                    continue;
                }
                assertThat(read.error()).isEqualTo(Errors.NONE);
                offset = checkRecords(read, offset);
            }
            assertThat(sawError).isTrue();
        }
    }

    private long nextBatchAfterDamage(PartitionLog log, long offset) {
        for (long probe = offset + 1; probe < log.logEndOffset(); probe++) {
            if (log.read(probe, 1, Long.MAX_VALUE).error() == Errors.NONE) {
                return probe;
            }
        }
        return log.logEndOffset();
    }

    /** Runs the writer until it has acknowledged {@code acks} appends, kills it, returns the last acked offset. */
    private long runAndKill(long seed, int acks) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(Arrays.asList(
                Files.readString(Path.of("target", "jvm.flags")).trim().split("\\s+")));
        command.addAll(List.of(
                "-cp",
                System.getProperty("java.class.path"),
                CrashWriter.class.getName(),
                dataDir.toString(),
                Long.toString(seed),
                Integer.toString(acks + 10_000)));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        long lastAcked = -1;
        int seen = 0;
        try (BufferedReader lines =
                new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while (seen < acks && (line = lines.readLine()) != null) {
                if (line.startsWith("acked ")) {
                    lastAcked = Long.parseLong(line.substring(6));
                    seen++;
                } else if (line.startsWith("failed")) {
                    throw new AssertionError("the writer failed: " + line);
                }
            }
            process.destroyForcibly(); // SIGKILL: no shutdown hook, no flush
            assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(seen).as("acknowledged appends before the kill").isEqualTo(acks);
        return lastAcked;
    }

    private static void assertEveryRecordIsTheOneWritten(PartitionLog log) {
        long offset = log.logStartOffset();
        while (offset < log.logEndOffset()) {
            LogReadResult read = log.read(offset, 1 << 16, Long.MAX_VALUE);
            assertThat(read.error()).as(read.errorMessage()).isEqualTo(Errors.NONE);
            assertThat(read.sizeInBytes()).isPositive();
            offset = checkRecords(read, offset);
        }
        assertThat(offset).isEqualTo(log.logEndOffset());
    }

    /** Checks every record read is the one written at its offset; returns the offset after them. */
    private static long checkRecords(LogReadResult read, long expectedFrom) {
        long next = expectedFrom;
        for (RecordBatch batch : read.memoryRecords().batches()) {
            assertThat(batch.isValid()).isTrue();
            for (Record record : batch) {
                byte[] value = new byte[record.valueSize()];
                record.value().get(value);
                assertThat(new String(value, StandardCharsets.UTF_8))
                        .isEqualTo(new String(CrashWriter.valueFor(record.offset()), StandardCharsets.UTF_8));
                if (record.offset() >= expectedFrom) {
                    assertThat(record.offset()).isEqualTo(next);
                    next++;
                }
            }
        }
        return next;
    }

    private Path partitionDir() {
        return NodeStore.partitionDir(dataDir, CrashWriter.TP);
    }

    private Path newestSegment() throws IOException {
        try (var files = Files.list(partitionDir())) {
            return files.filter(p -> p.toString().endsWith(".log"))
                    .sorted()
                    .reduce((a, b) -> b)
                    .orElseThrow();
        }
    }

    /** A position inside the records of a batch near the middle of the segment (not its header). */
    private static long middleBatchBody(Path segment, int size) throws IOException {
        java.nio.ByteBuffer data = java.nio.ByteBuffer.wrap(Files.readAllBytes(segment));
        int position = 0;
        while (position < size / 2) {
            position += dev.sluice.partitionstore.BatchHeader.sizeInBytes(data, position);
        }
        return position + dev.sluice.partitionstore.BatchHeader.HEADER_BYTES + 4;
    }

    private static void truncate(Path path, long size) throws IOException {
        try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
            file.setLength(size);
        }
    }

    private static void flipBit(Path path, long position) throws IOException {
        try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
            file.seek(position);
            int b = file.read();
            file.seek(position);
            file.write(b ^ 0x10);
        }
    }

    private static int dump(String... args) {
        return dump(new StringWriter(), args);
    }

    private static int dump(StringWriter output, String... args) {
        CommandLine commandLine = SluiceTool.commandLine();
        commandLine.setOut(new PrintWriter(output));
        commandLine.setErr(new PrintWriter(output));
        String[] full = new String[args.length + 1];
        full[0] = "dump";
        System.arraycopy(args, 0, full, 1, args.length);
        return commandLine.execute(full);
    }
}
