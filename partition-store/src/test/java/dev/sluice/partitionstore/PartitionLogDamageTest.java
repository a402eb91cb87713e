package dev.sluice.partitionstore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.partitionstore.BatchValidator.Origin;
import dev.sluice.partitionstore.testing.Batches;
import dev.sluice.partitionstore.testing.LogFixture;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.errors.KafkaStorageException;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.CompressionType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Damage to a partition's files: found by the scrub and by reads, repaired from a replica's bytes. */
class PartitionLogDamageTest {
    private static final long T0 = 1_700_000_000_000L;

    @TempDir
    Path dir;

    private LogFixture fixture;
    private final List<SegmentCorruption> reported = new ArrayList<>();

    @BeforeEach
    void open() {
        fixture = new LogFixture(dir.resolve("a"), LogConfig.defaults().with(LogConfig.SEGMENT_BYTES, 2048));
        fixture.log().onCorruption(reported::add);
    }

    @AfterEach
    void close() {
        fixture.close();
        FaultPoints.disarmAll();
    }

    private PartitionLog log() {
        return fixture.log();
    }

    private void appendBatches(PartitionLog log, int count, int leaderEpoch) {
        for (int i = 0; i < count; i++) {
            AppendResult result =
                    log.append(Batches.batch(CompressionType.NONE, 3, T0 + i), leaderEpoch, Origin.CLIENT);
            assertThat(result.error()).isEqualTo(Errors.NONE);
        }
    }

    private static void flipBit(Path file, long position) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(position);
            int b = raf.read();
            raf.seek(position);
            raf.write(b ^ 0x04);
        }
    }

    private static long insideSecondBatch(LogSegmentInfo segment) throws IOException {
        ByteBuffer data = ByteBuffer.wrap(Files.readAllBytes(segment.path()));
        return BatchHeader.sizeInBytes(data, 0) + BatchHeader.HEADER_BYTES + 3;
    }

    @Test
    void shouldFindAFlippedBitInAClosedSegmentByScrubAndReportItOnce() throws IOException {
        appendBatches(log(), 40, 1);
        LogSegmentInfo closed = log().segments().get(0);
        long position = insideSecondBatch(closed);
        flipBit(closed.path(), position);

        ScrubProgress progress;
        do {
            progress = log().scrub(512);
        } while (!progress.complete() && progress.corruption() == null);
        assertThat(progress.corruption()).isNotNull();
        assertThat(progress.corruption().file()).isEqualTo(closed.path());
        assertThat(progress.corruption().problem()).isEqualTo(SegmentScanner.Problem.CRC_MISMATCH);
        assertThat(progress.corruption().description()).contains("expected 0x").contains("actual 0x");
        assertThat(reported).hasSize(1);

        // A read of it fails, and reports nothing new.
        LogReadResult read = log().read(3, 1 << 20, Long.MAX_VALUE);
        assertThat(read.error()).isEqualTo(Errors.KAFKA_STORAGE_ERROR);
        while (!log().scrub(1 << 20).complete()) {
            // the rest of the segments are intact
        }
        assertThat(reported).hasSize(1);
        assertThat(log().corruptions()).hasSize(1);
    }

    @Test
    void shouldFindALeaderEpochThatDisagreesWithTheHistory() throws IOException {
        appendBatches(log(), 40, 1);
        LogSegmentInfo closed = log().segments().get(0);
        // The partition leader epoch is not covered by the CRC; only the leader-epoch history tells.
        flipBit(closed.path(), BatchHeader.PARTITION_LEADER_EPOCH_OFFSET + 3);
        while (!log().scrub(1 << 20).complete()) {
            // until the pass ends
        }
        assertThat(reported).singleElement().satisfies(c -> assertThat(c.description())
                .contains("leader epoch 5")
                .contains("history says 1"));
    }

    @Test
    void shouldReportDamageAReadRunsInto() throws IOException {
        appendBatches(log(), 40, 1);
        LogSegmentInfo closed = log().segments().get(0);
        flipBit(closed.path(), insideSecondBatch(closed));
        LogReadResult first = log().read(0, 1 << 20, Long.MAX_VALUE);
        assertThat(first.error()).isEqualTo(Errors.NONE); // the intact batch before the damage
        assertThat(reported).singleElement().satisfies(c -> assertThat(c.segmentBaseOffset())
                .isEqualTo(closed.baseOffset()));
    }

    @Test
    void shouldReplaceADamagedClosedSegmentWithAGoodCopyOnly() throws IOException {
        appendBatches(log(), 40, 1);
        LogSegmentInfo closed = log().segments().get(0);
        Path good = dir.resolve("good.log");
        Files.copy(closed.path(), good);
        Path wrong = dir.resolve("wrong.log");
        Files.copy(closed.path(), wrong);
        flipBit(wrong, insideSecondBatch(closed) + 5);
        flipBit(closed.path(), insideSecondBatch(closed));
        assertThat(log().read(3, 1 << 20, Long.MAX_VALUE).error()).isEqualTo(Errors.KAFKA_STORAGE_ERROR);
        ByteBuffer held = log().read(0, 1, Long.MAX_VALUE).records(); // a reader's view of the old file

        assertThatThrownBy(() -> log().replaceClosedSegment(closed.baseOffset(), wrong))
                .isInstanceOf(KafkaStorageException.class)
                .hasMessageContaining("CRC mismatch");
        assertThat(log().corruptions()).hasSize(1);

        log().replaceClosedSegment(closed.baseOffset(), good);
        assertThat(log().corruptions()).isEmpty();
        assertThat(Files.exists(good)).isFalse();
        LogReadResult read = log().read(3, 1 << 20, Long.MAX_VALUE);
        assertThat(read.error()).isEqualTo(Errors.NONE);
        assertThat(Batches.offsets(read.records())).startsWith(3L, 4L, 5L);
        assertThat(held.remaining()).isPositive(); // still readable
        assertThat(PartitionVerifier.verifyDataDir(dir.resolve("a"))).isEmpty();
    }

    @Test
    void shouldContinueTheLogWithAReplicasBytesSplitWhereItsSegmentsAre() throws IOException {
        appendBatches(log(), 40, 1);
        appendBatches(log(), 20, 2);
        List<LogSegmentInfo> replicaSegments = log().segments();
        fixture.close();
        try (LogFixture other =
                new LogFixture(dir.resolve("b"), LogConfig.defaults().with(LogConfig.SEGMENT_BYTES, 2048))) {
            PartitionLog copy = other.log();
            appendBatches(copy, 10, 1); // the same first batches, as another replica of the log has them
            long from = copy.logEndOffset();
            for (LogSegmentInfo segment : replicaSegments) {
                if (segment.nextOffset() <= from) {
                    continue;
                }
                ByteBuffer data = ByteBuffer.wrap(Files.readAllBytes(segment.path()));
                int start = segment.baseOffset() < from ? positionOf(data, from) : 0;
                copy.appendReplicated(segment.baseOffset(), data.position(start).slice());
            }
            assertThat(copy.logEndOffset()).isEqualTo(180);
            assertThat(copy.leaderEpochs()).containsEntry(1, 0L).containsEntry(2, 120L);
            assertThat(copy.segments()).hasSameSizeAs(replicaSegments);
            copy.close();
            for (LogSegmentInfo segment : replicaSegments) {
                assertThat(other.partitionDir().resolve(segment.path().getFileName()))
                        .hasSameBinaryContentAs(segment.path());
            }
        }
        assertThat(PartitionVerifier.verifyDataDir(dir.resolve("b"))).isEmpty();
        fixture = new LogFixture(dir.resolve("a"), LogConfig.defaults().with(LogConfig.SEGMENT_BYTES, 2048));
    }

    /** The position of the batch starting at {@code offset} in a segment's bytes. */
    private static int positionOf(ByteBuffer data, long offset) {
        int position = 0;
        while (BatchHeader.baseOffset(data, position) != offset) {
            position += BatchHeader.sizeInBytes(data, position);
        }
        return position;
    }

    @Test
    void shouldRefuseReplicatedBytesThatDoNotContinueTheLog() {
        appendBatches(log(), 3, 1);
        ByteBuffer stray = Batches.batch(CompressionType.NONE, 3, T0); // offsets from 0, not from 9
        assertThatThrownBy(() -> log().appendReplicated(log().segments().get(0).baseOffset(), stray))
                .isInstanceOf(KafkaStorageException.class)
                .hasMessageContaining("does not follow");
        assertThat(log().logEndOffset()).isEqualTo(9);
    }

    @Test
    void shouldLocateTheBatchHoldingAnOffset() {
        appendBatches(log(), 40, 1);
        OffsetPosition at = log().locate(61);
        assertThat(at).isNotNull();
        assertThat(at.offset()).isEqualTo(60);
        assertThat(log().locate(120)).isNull();
    }

    @Test
    void shouldCheckACutClosedSegmentWholeAndContinueFromItsEnd() throws IOException {
        appendBatches(log(), 40, 1);
        List<LogSegmentInfo> segments = log().segments();
        LogSegmentInfo second = segments.get(1);
        fixture.close();
        // The second closed segment loses its last batch and a half; the later segments no longer continue it.
        try (RandomAccessFile raf = new RandomAccessFile(second.path().toFile(), "rw")) {
            raf.setLength(second.sizeInBytes() - 100);
        }
        PartitionLog reopened = fixture.reopen();
        assertThat(reopened.recoveryReport().clean()).isFalse();
        assertThat(reopened.segments()).hasSize(2);
        assertThat(reopened.logEndOffset()).isLessThan(second.nextOffset());
        // The cut segment is the active one again: appends continue it.
        appendBatches(reopened, 1, 1);
        assertThat(reopened.segments()).hasSize(2);
        assertThat(PartitionVerifier.verifyDataDir(dir.resolve("a"))).isEmpty();
    }

    @Test
    void shouldRecordSyncedLengthsWhenTheUnsyncedWriteFaultPointFires() throws IOException {
        List<Path> written = new ArrayList<>();
        FaultPoints.arm(
                FaultPoints.Point.UNSYNCED_SEGMENT_WRITE, 25, () -> written.addAll(FaultPoints.recordSyncedLengths()));
        PartitionLog log = fixture.reopen();
        appendBatches(log, 20, 1);
        log.flush();
        long flushedEnd = log.logEndOffset();
        appendBatches(log, 5, 1); // the fault point fires after the last of these

        assertThat(written).containsExactly(dir.resolve("a").resolve(FaultPoints.SYNCED_LENGTHS_FILE));
        Map<Path, Long> synced = FaultPoints.readSyncedLengths(dir.resolve("a"));
        LogSegmentInfo active = log.segments().get(log.segments().size() - 1);
        assertThat(synced).containsKey(active.path());
        assertThat(synced.get(active.path())).isLessThan(active.sizeInBytes());

        // Cut every listed file to its synced length, as a power loss would: the log recovers the flushed end.
        fixture.crashAndReopen(() -> {
            for (Map.Entry<Path, Long> file : synced.entrySet()) {
                try (RandomAccessFile raf = new RandomAccessFile(file.getKey().toFile(), "rw")) {
                    raf.setLength(file.getValue());
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        });
        assertThat(fixture.log().logEndOffset()).isEqualTo(flushedEnd);
    }
}
