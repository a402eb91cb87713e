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
import java.util.List;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.errors.OffsetOutOfRangeException;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.CompressionType;
import org.apache.kafka.common.record.internal.ControlRecordType;
import org.apache.kafka.common.record.internal.EndTransactionMarker;
import org.apache.kafka.common.record.internal.FileRecords;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class PartitionLogTest {
    private static final long T0 = 1_700_000_000_000L;

    @TempDir
    Path dir;

    private LogFixture fixture;

    @BeforeEach
    void open() {
        fixture = new LogFixture(dir, LogConfig.defaults().with(LogConfig.SEGMENT_BYTES, 8192));
    }

    @AfterEach
    void close() {
        fixture.close();
    }

    private PartitionLog log() {
        return fixture.log();
    }

    private AppendResult append(ByteBuffer batch) {
        return log().append(batch, 3, Origin.CLIENT);
    }

    @Test
    void shouldAssignConsecutiveOffsetsAndReadBatchesBack() {
        AppendResult first = append(Batches.batch(CompressionType.NONE, 3, T0));
        AppendResult second = append(Batches.batch(CompressionType.NONE, 2, T0 + 10));

        assertThat(first.error()).isEqualTo(Errors.NONE);
        assertThat(first.firstOffset()).isEqualTo(0);
        assertThat(first.lastOffset()).isEqualTo(2);
        assertThat(second.firstOffset()).isEqualTo(3);
        assertThat(second.lastOffset()).isEqualTo(4);
        assertThat(log().logEndOffset()).isEqualTo(5);

        LogReadResult read = log().read(0, 1 << 20, Long.MAX_VALUE);
        assertThat(read.error()).isEqualTo(Errors.NONE);
        assertThat(Batches.offsets(read.records())).containsExactly(0L, 1L, 2L, 3L, 4L);
        assertThat(Batches.values(read.records()))
                .containsExactly("value-0", "value-1", "value-2", "value-0", "value-1");
        for (RecordBatch batch : read.memoryRecords().batches()) {
            assertThat(batch.isValid()).isTrue();
            assertThat(batch.partitionLeaderEpoch()).isEqualTo(3);
        }
    }

    @Test
    void shouldServeReadsAsReadOnlyViewsOfTheMappedFile() {
        append(Batches.batch(CompressionType.NONE, 3, T0));
        LogReadResult read = log().read(0, 1 << 20, Long.MAX_VALUE);
        assertThat(read.records().isDirect()).isTrue();
        assertThat(read.records().isReadOnly()).isTrue();
    }

    @Test
    void shouldStartReadsAtTheBatchHoldingTheFetchOffset() {
        append(Batches.batch(CompressionType.NONE, 3, T0));
        append(Batches.batch(CompressionType.NONE, 3, T0));
        LogReadResult read = log().read(4, 1 << 20, Long.MAX_VALUE);
        assertThat(Batches.offsets(read.records())).containsExactly(3L, 4L, 5L);
    }

    @Test
    void shouldReturnAtLeastOneWholeBatchThenStayWithinMaxBytes() {
        for (int i = 0; i < 3; i++) {
            append(Batches.batch(CompressionType.NONE, 5, T0));
        }
        LogReadResult one = log().read(0, 1, Long.MAX_VALUE);
        assertThat(Batches.offsets(one.records())).hasSize(5);
        int batchBytes = one.sizeInBytes();
        LogReadResult two = log().read(0, 2 * batchBytes + 1, Long.MAX_VALUE);
        assertThat(Batches.offsets(two.records())).hasSize(10);
    }

    @Test
    void shouldNotReadAtOrPastTheHighWatermark() {
        append(Batches.batch(CompressionType.NONE, 2, T0));
        append(Batches.batch(CompressionType.NONE, 2, T0));
        assertThat(Batches.offsets(log().read(0, 1 << 20, 2).records())).containsExactly(0L, 1L);
        assertThat(log().read(2, 1 << 20, 2).sizeInBytes()).isZero();
        assertThat(log().read(4, 1 << 20, Long.MAX_VALUE).sizeInBytes()).isZero();
    }

    @Test
    void shouldAnswerOffsetOutOfRangeOutsideTheLog() {
        append(Batches.batch(CompressionType.NONE, 2, T0));
        assertThat(log().read(3, 100, Long.MAX_VALUE).error()).isEqualTo(Errors.OFFSET_OUT_OF_RANGE);
        assertThat(log().read(-1, 100, Long.MAX_VALUE).error()).isEqualTo(Errors.OFFSET_OUT_OF_RANGE);
    }

    @ParameterizedTest
    @EnumSource(CompressionType.class)
    void shouldAppendAndReadEveryCompressionCodec(CompressionType compression) {
        append(Batches.batch(compression, 50, T0));
        append(Batches.batch(compression, 50, T0));
        LogReadResult read = log().read(0, 1 << 20, Long.MAX_VALUE);
        assertThat(Batches.offsets(read.records()))
                .hasSize(100)
                .startsWith(0L, 1L)
                .endsWith(99L);
        for (RecordBatch batch : read.memoryRecords().batches()) {
            assertThat(batch.compressionType()).isEqualTo(compression);
        }
    }

    @Test
    void shouldRejectABatchWithABadCrcAndLeaveThePartitionUntouched() {
        append(Batches.batch(CompressionType.NONE, 2, T0));
        ByteBuffer bad = Batches.batch(CompressionType.NONE, 2, T0);
        bad.put(bad.limit() - 1, (byte) (bad.get(bad.limit() - 1) ^ 0x40));
        AppendResult result = append(bad);
        assertThat(result.error()).isEqualTo(Errors.CORRUPT_MESSAGE);
        assertThat(result.errorMessage()).contains("CRC");
        assertThat(log().logEndOffset()).isEqualTo(2);
        assertThat(log().sizeInBytes())
                .isEqualTo(log().read(0, 1 << 20, Long.MAX_VALUE).sizeInBytes());
    }

    @Test
    void shouldRejectATruncatedBatch() {
        ByteBuffer batch = Batches.batch(CompressionType.NONE, 3, T0);
        batch.limit(batch.limit() - 5);
        assertThat(append(batch).error()).isEqualTo(Errors.CORRUPT_MESSAGE);
        assertThat(log().logEndOffset()).isZero();
    }

    @Test
    void shouldRejectAnUnknownCompressionCodec() {
        ByteBuffer batch = Batches.batch(CompressionType.NONE, 1, T0);
        short attributes = batch.getShort(BatchHeader.ATTRIBUTES_OFFSET);
        batch.putShort(BatchHeader.ATTRIBUTES_OFFSET, (short) (attributes | 0x06));
        rewriteCrc(batch);
        assertThat(append(batch).error()).isEqualTo(Errors.UNSUPPORTED_COMPRESSION_TYPE);
    }

    @Test
    void shouldRejectAnOldMagic() {
        ByteBuffer batch = MemoryRecords.withRecords(
                        RecordBatch.MAGIC_VALUE_V1,
                        Compression.NONE,
                        new org.apache.kafka.common.record.internal.SimpleRecord(T0, null, new byte[] {1}))
                .buffer();
        assertThat(append(batch).error()).isEqualTo(Errors.INVALID_RECORD);
    }

    @Test
    void shouldRejectControlBatchesFromClientsButNotFromTheCoordinator() {
        ByteBuffer marker = MemoryRecords.withEndTransactionMarker(
                        0, T0, 0, 42L, (short) 0, new EndTransactionMarker(ControlRecordType.COMMIT, 0))
                .buffer();
        assertThat(log().append(Batches.copy(marker), 0, Origin.CLIENT).error()).isEqualTo(Errors.INVALID_RECORD);
        assertThat(log().append(marker, 0, Origin.COORDINATOR).error()).isEqualTo(Errors.NONE);
    }

    @Test
    void shouldRejectBatchesLargerThanMaxMessageBytesOrTheSegment() {
        fixture.reopen(
                LogConfig.defaults().with(LogConfig.SEGMENT_BYTES, 4096).with(LogConfig.MAX_MESSAGE_BYTES, 2048));
        assertThat(append(Batches.sized(100, 3000, T0)).error()).isEqualTo(Errors.MESSAGE_TOO_LARGE);
        assertThat(append(Batches.sized(100, 6000, T0)).error()).isEqualTo(Errors.RECORD_LIST_TOO_LARGE);
        assertThat(append(ByteBuffer.allocate(0)).error()).isEqualTo(Errors.INVALID_RECORD);
    }

    @Test
    void shouldRollOnSegmentBytesIntoTrimmedKafkaReadableSegments() throws IOException {
        for (int i = 0; i < 10; i++) {
            append(Batches.sized(100, 2000, T0));
        }
        List<LogSegmentInfo> segments = log().segments();
        assertThat(segments.size()).isGreaterThan(2);
        long expectedBase = 0;
        for (LogSegmentInfo segment : segments) {
            assertThat(segment.baseOffset()).isEqualTo(expectedBase);
            assertThat(segment.path().getFileName().toString()).isEqualTo(String.format("%020d.log", expectedBase));
            expectedBase = segment.nextOffset();
            if (!segment.active()) {
                assertThat(Files.size(segment.path())).isEqualTo(segment.sizeInBytes());
                assertThat(segment.sizeInBytes()).isLessThanOrEqualTo(8192);
                try (FileRecords kafka = FileRecords.open(segment.path().toFile())) {
                    long next = segment.baseOffset();
                    for (RecordBatch batch : kafka.batches()) {
                        batch.ensureValid();
                        assertThat(batch.baseOffset()).isEqualTo(next);
                        next = batch.lastOffset() + 1;
                    }
                    assertThat(next).isEqualTo(segment.nextOffset());
                }
            }
        }
        assertThat(Batches.offsets(log().read(0, 1 << 20, Long.MAX_VALUE).records()))
                .first()
                .isEqualTo(0L);
    }

    @Test
    void shouldRollOnSegmentMs() {
        fixture.reopen(LogConfig.defaults().with(LogConfig.SEGMENT_MS, 1000));
        append(Batches.batch(CompressionType.NONE, 1, T0));
        fixture.clock().advance(999);
        append(Batches.batch(CompressionType.NONE, 1, T0));
        assertThat(log().segments()).hasSize(1);
        fixture.clock().advance(1);
        append(Batches.batch(CompressionType.NONE, 1, T0));
        assertThat(log().segments()).extracting(LogSegmentInfo::baseOffset).containsExactly(0L, 2L);
    }

    @Test
    void shouldReadAcrossSegmentBoundariesOneSegmentAtATime() {
        for (int i = 0; i < 10; i++) {
            append(Batches.sized(100, 2000, T0));
        }
        long second = log().segments().get(1).baseOffset();
        LogReadResult read = log().read(second - 1, 1 << 20, Long.MAX_VALUE);
        assertThat(Batches.offsets(read.records())).last().isEqualTo(second - 1);
        assertThat(Batches.offsets(log().read(second, 1 << 20, Long.MAX_VALUE).records()))
                .first()
                .isEqualTo(second);
    }

    @Test
    void shouldDeleteSegmentsPastRetentionMs() {
        fixture.reopen(LogConfig.defaults().with(LogConfig.SEGMENT_BYTES, 4096).with(LogConfig.RETENTION_MS, 60_000));
        for (int i = 0; i < 6; i++) {
            append(Batches.sized(100, 2000, fixture.clock().nowMs()));
            fixture.clock().advance(30_000);
        }
        int before = log().segments().size();
        int deleted = log().deleteExpiredSegments();
        assertThat(deleted).isPositive();
        assertThat(log().segments()).hasSize(before - deleted);
        assertThat(log().logStartOffset()).isEqualTo(log().segments().get(0).baseOffset());
        assertThat(log().read(0, 100, Long.MAX_VALUE).error()).isEqualTo(Errors.OFFSET_OUT_OF_RANGE);
        for (LogSegmentInfo segment : log().segments()) {
            if (!segment.active()) {
                assertThat(fixture.clock().nowMs() - segment.maxTimestamp()).isLessThanOrEqualTo(60_000);
            }
        }
    }

    @Test
    void shouldDeleteOldestSegmentsPastRetentionBytes() {
        fixture.reopen(LogConfig.defaults().with(LogConfig.SEGMENT_BYTES, 4096).with(LogConfig.RETENTION_BYTES, 5000));
        for (int i = 0; i < 10; i++) {
            append(Batches.sized(100, 2000, T0));
        }
        log().deleteExpiredSegments();
        assertThat(log().sizeInBytes()).isLessThan(5000 + 4096);
        assertThat(log().segments().get(0).baseOffset()).isEqualTo(log().logStartOffset());
        assertThat(log().segments().get(log().segments().size() - 1).active()).isTrue();
    }

    @Test
    void shouldAdvanceLogStartOffsetOnDeleteRecords() {
        for (int i = 0; i < 10; i++) {
            append(Batches.sized(100, 2000, T0));
        }
        long mid = log().segments().get(2).baseOffset() + 1;
        assertThat(log().deleteRecordsBefore(mid)).isEqualTo(mid);
        assertThat(log().segments().get(0).baseOffset()).isEqualTo(mid - 1);
        assertThat(log().read(mid - 1, 100, Long.MAX_VALUE).error()).isEqualTo(Errors.OFFSET_OUT_OF_RANGE);
        assertThat(log().read(mid, 100, Long.MAX_VALUE).error()).isEqualTo(Errors.NONE);
        assertThatThrownBy(() -> log().deleteRecordsBefore(log().logEndOffset() + 1))
                .isInstanceOf(OffsetOutOfRangeException.class);
        assertThat(fixture.reopen().logStartOffset()).isEqualTo(mid);
    }

    @Test
    void shouldHideRecordsBelowAnAdvancedLogStartOffsetButKeepThemForTheRaftLayerUntilRetention() {
        for (int i = 0; i < 10; i++) {
            append(Batches.sized(100, 2000, T0));
        }
        int segments = log().segments().size();
        long mid = log().segments().get(2).baseOffset() + 1;

        assertThat(log().advanceLogStartOffset(mid)).isEqualTo(mid);
        assertThat(log().advanceLogStartOffset(mid - 1)).as("never moves back").isEqualTo(mid);
        assertThat(log().segments()).hasSize(segments);
        assertThat(log().read(0, 100, Long.MAX_VALUE).error()).isEqualTo(Errors.OFFSET_OUT_OF_RANGE);
        LogReadResult retained = log().readRetained(0, 100, Long.MAX_VALUE);
        assertThat(retained.error()).isEqualTo(Errors.NONE);
        assertThat(retained.logStartOffset()).isEqualTo(mid);
        assertThat(Batches.offsets(retained.records())).first().isEqualTo(0L);
        assertThatThrownBy(() -> log().advanceLogStartOffset(log().logEndOffset() + 1))
                .isInstanceOf(OffsetOutOfRangeException.class);

        assertThat(fixture.reopen().logStartOffset()).isEqualTo(mid);
        assertThat(log().readRetained(0, 100, Long.MAX_VALUE).error()).isEqualTo(Errors.NONE);

        assertThat(log().deleteExpiredSegments(Long.MAX_VALUE))
                .as("nothing expired")
                .isZero();
        LogSegmentInfo second = log().segments().get(1);
        assertThat(log().deleteSegmentsBelowStart(second.nextOffset() - 1))
                .as("only what the Raft layer no longer needs")
                .isEqualTo(1);
        assertThat(log().segments().get(0).baseOffset()).isEqualTo(second.baseOffset());
        assertThat(log().deleteSegmentsBelowStart(Long.MAX_VALUE)).isEqualTo(1);
        assertThat(log().segments().get(0).baseOffset()).isEqualTo(mid - 1);
        assertThat(log().logStartOffset()).isEqualTo(mid);

        // Raft dropping an uncommitted suffix right at the log start offset keeps what lies below it.
        long end = log().logEndOffset();
        log().advanceLogStartOffset(end);
        append(Batches.sized(100, 2000, T0));
        assertThat(log().truncateTo(end)).isEqualTo(end);
        assertThat(log().logStartOffset()).isEqualTo(end);
        assertThat(log().readRetained(mid, 100, Long.MAX_VALUE).error()).isEqualTo(Errors.NONE);
    }

    @Test
    void shouldTruncateWholeBatchesAndAcceptNewAppendsAfterwards() {
        for (int i = 0; i < 10; i++) {
            append(Batches.batch(CompressionType.NONE, 100, T0 + i));
        }
        long end = log().truncateTo(250);
        assertThat(end).isEqualTo(200);
        assertThat(log().logEndOffset()).isEqualTo(200);
        assertThat(Batches.offsets(log().read(100, 1 << 20, Long.MAX_VALUE).records()))
                .last()
                .isEqualTo(199L);
        AppendResult again = append(Batches.batch(CompressionType.NONE, 5, T0));
        assertThat(again.firstOffset()).isEqualTo(200);
        PartitionLog reopened = fixture.reopen();
        assertThat(reopened.logEndOffset()).isEqualTo(205);
        assertThat(reopened.recoveryReport().clean()).isTrue();
    }

    @Test
    void shouldTruncateIntoAClosedSegmentAndReopenItForAppends() {
        for (int i = 0; i < 10; i++) {
            append(Batches.sized(100, 2000, T0));
        }
        LogSegmentInfo first = log().segments().get(0);
        long end = log().truncateTo(first.nextOffset() - 1);
        assertThat(log().segments()).hasSize(1);
        assertThat(log().segments().get(0).active()).isTrue();
        append(Batches.batch(CompressionType.NONE, 2, T0));
        assertThat(log().logEndOffset()).isEqualTo(end + 2);
        assertThat(fixture.reopen().logEndOffset()).isEqualTo(end + 2);
    }

    @Test
    void shouldRestartEmptyAtAnOffset() {
        append(Batches.batch(CompressionType.NONE, 5, T0));
        log().truncateFullyAndStartAt(1000);
        assertThat(log().leaderEpochs()).isEmpty();
        assertThat(log().logStartOffset()).isEqualTo(1000);
        assertThat(log().logEndOffset()).isEqualTo(1000);
        assertThat(append(Batches.batch(CompressionType.NONE, 1, T0)).firstOffset())
                .isEqualTo(1000);
        assertThat(fixture.reopen().logEndOffset()).isEqualTo(1001);
    }

    @Test
    void shouldFindTheFirstRecordAtOrAfterATimestamp() {
        for (int i = 0; i < 20; i++) {
            append(Batches.batch(CompressionType.NONE, 10, T0 + i * 10L));
        }
        TimestampAndOffset found = log().offsetForTimestamp(T0 + 55);
        assertThat(found.offset()).isEqualTo(55);
        assertThat(found.timestamp()).isEqualTo(T0 + 55);
        assertThat(found.leaderEpoch()).isEqualTo(3);
        assertThat(log().offsetForTimestamp(0).offset()).isZero();
        assertThat(log().offsetForTimestamp(T0 + 10_000)).isNull();
        assertThat(log().maxTimestampAndOffset().offset()).isEqualTo(199);
    }

    @Test
    void shouldStampLogAppendTime() {
        fixture.reopen(LogConfig.defaults().with(LogConfig.MESSAGE_TIMESTAMP_TYPE, "LogAppendTime"));
        AppendResult result = append(Batches.batch(CompressionType.LZ4, 3, 5));
        assertThat(result.logAppendTimeMs()).isEqualTo(fixture.clock().nowMs());
        for (RecordBatch batch :
                log().read(0, 1 << 20, Long.MAX_VALUE).memoryRecords().batches()) {
            assertThat(batch.timestampType()).isEqualTo(TimestampType.LOG_APPEND_TIME);
            assertThat(batch.maxTimestamp()).isEqualTo(fixture.clock().nowMs());
            assertThat(batch.isValid()).isTrue();
        }
    }

    @Test
    void shouldAnswerOffsetsForLeaderEpoch() {
        log().append(Batches.batch(CompressionType.NONE, 5, T0), 1, Origin.CLIENT);
        log().append(Batches.batch(CompressionType.NONE, 5, T0), 1, Origin.CLIENT);
        log().append(Batches.batch(CompressionType.NONE, 5, T0), 4, Origin.CLIENT);
        assertThat(log().leaderEpochs()).containsEntry(1, 0L).containsEntry(4, 10L);
        assertThat(log().endOffsetForEpoch(1)).isEqualTo(new PartitionLog.EpochEndOffset(1, 10));
        assertThat(log().endOffsetForEpoch(3)).isEqualTo(new PartitionLog.EpochEndOffset(1, 10));
        assertThat(log().endOffsetForEpoch(4)).isEqualTo(new PartitionLog.EpochEndOffset(4, 15));
        assertThat(log().endOffsetForEpoch(0)).isNull();
        assertThat(fixture.reopen().leaderEpochs()).containsEntry(4, 10L);
    }

    @Test
    void shouldKeepEverythingAcrossACleanRestart() {
        for (int i = 0; i < 10; i++) {
            append(Batches.sized(100, 2000, T0 + i));
        }
        ByteBuffer before = Batches.copy(log().read(0, 1 << 20, Long.MAX_VALUE).records());
        long end = log().logEndOffset();
        PartitionLog reopened = fixture.reopen();
        assertThat(reopened.logEndOffset()).isEqualTo(end);
        assertThat(reopened.recoveryReport().clean()).isTrue();
        // Only the batches after the last sparse index entry below the recovery point are checked again.
        assertThat(reopened.recoveryReport().scannedBytes())
                .isLessThanOrEqualTo(reopened.config().indexIntervalBytes() + 2000L);
        assertThat(reopened.read(0, 1 << 20, Long.MAX_VALUE).records()).isEqualTo(before);
        assertThat(reopened.offsetForTimestamp(T0 + 5)).isNotNull();
    }

    @Test
    void shouldCutATornTailOnRecovery() {
        for (int i = 0; i < 3; i++) {
            append(Batches.batch(CompressionType.NONE, 10, T0));
        }
        log().flush();
        append(Batches.batch(CompressionType.NONE, 10, T0));
        Path active = activeSegment();
        long size = log().segments().get(log().segments().size() - 1).sizeInBytes();
        PartitionLog recovered = fixture.crashAndReopen(() -> truncateFile(active, size - 7));
        assertThat(recovered.logEndOffset()).isEqualTo(30);
        assertThat(recovered.recoveryReport().clean()).isFalse();
        assertThat(recovered.recoveryReport().problems().get(0)).contains("truncated batch");
        assertThat(Batches.offsets(recovered.read(0, 1 << 20, Long.MAX_VALUE).records()))
                .hasSize(30);
        assertThat(recovered
                        .append(Batches.batch(CompressionType.NONE, 1, T0), 3, Origin.CLIENT)
                        .firstOffset())
                .isEqualTo(30);
    }

    @Test
    void shouldRecoverUnflushedButCompleteBatchesAfterAProcessCrash() {
        append(Batches.batch(CompressionType.NONE, 10, T0));
        log().flush();
        append(Batches.batch(CompressionType.NONE, 10, T0));
        append(Batches.batch(CompressionType.NONE, 10, T0));
        PartitionLog recovered = fixture.crashAndReopen(() -> {});
        assertThat(recovered.logEndOffset()).isEqualTo(30);
        assertThat(recovered.recoveryReport().clean()).isTrue();
        assertThat(recovered.recoveryReport().scannedBatches()).isGreaterThanOrEqualTo(2);
    }

    @Test
    void shouldReportACorruptBatchWithItsPositionAndCrcsInsteadOfServingIt() throws IOException {
        append(Batches.batch(CompressionType.NONE, 10, T0));
        append(Batches.batch(CompressionType.NONE, 10, T0));
        log().flush();
        int firstBatchBytes = log().read(0, 1, Long.MAX_VALUE).sizeInBytes();
        Path active = activeSegment();
        try (RandomAccessFile file = new RandomAccessFile(active.toFile(), "rw")) {
            long at = firstBatchBytes + 70;
            file.seek(at);
            int b = file.read();
            file.seek(at);
            file.write(b ^ 0x01);
        }
        LogReadResult first = log().read(0, 1, Long.MAX_VALUE);
        assertThat(first.error()).isEqualTo(Errors.NONE);
        LogReadResult second = log().read(10, 1 << 20, Long.MAX_VALUE);
        assertThat(second.error()).isEqualTo(Errors.KAFKA_STORAGE_ERROR);
        assertThat(second.errorMessage())
                .contains(active.toString())
                .contains("position " + firstBatchBytes)
                .contains("expected 0x")
                .contains("actual 0x");
        LogReadResult both = log().read(0, 1 << 20, Long.MAX_VALUE);
        assertThat(Batches.offsets(both.records())).hasSize(10);
    }

    @Test
    void shouldServeConsistentReadsWhileTheWriterAppendsRollsAndDeletes() throws Exception {
        fixture.reopen(
                LogConfig.defaults().with(LogConfig.SEGMENT_BYTES, 4096).with(LogConfig.RETENTION_BYTES, 20_000));
        java.util.concurrent.atomic.AtomicReference<Throwable> failure =
                new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicBoolean writing = new java.util.concurrent.atomic.AtomicBoolean(true);
        java.util.concurrent.atomic.AtomicLong batchesRead = new java.util.concurrent.atomic.AtomicLong();
        Thread reader = new Thread(() -> {
            try {
                while (writing.get()) {
                    long start = log().logStartOffset();
                    LogReadResult read = log().read(start, 1 << 16, Long.MAX_VALUE);
                    if (read.error() == Errors.OFFSET_OUT_OF_RANGE) {
                        continue; // retention moved the start between the two calls
                    }
                    assertThat(read.error()).isEqualTo(Errors.NONE);
                    for (RecordBatch batch : read.memoryRecords().batches()) {
                        assertThat(batch.isValid()).isTrue();
                        batchesRead.incrementAndGet();
                    }
                }
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        reader.start();
        for (int i = 0; i < 300; i++) {
            append(Batches.sized(100, 1500, T0));
            if (i % 10 == 0) {
                log().deleteExpiredSegments();
            }
        }
        writing.set(false);
        reader.join(30_000);
        assertThat(failure.get()).isNull();
        assertThat(batchesRead.get()).isPositive();
        log().deleteExpiredSegments();
        assertThat(log().sizeInBytes()).isLessThan(20_000 + 4096);
    }

    @Test
    void shouldRejectUnknownAndInvalidSettingsNamingTheKey() {
        assertThatThrownBy(() -> LogConfig.parse(java.util.Map.of("segment.byte", "10")))
                .hasMessageContaining("segment.byte");
        assertThatThrownBy(() -> LogConfig.parse(java.util.Map.of("segment.bytes", "10")))
                .hasMessageContaining("segment.bytes");
        assertThatThrownBy(() -> LogConfig.parse(java.util.Map.of("message.timestamp.type", "Now")))
                .hasMessageContaining("message.timestamp.type");
        assertThat(LogConfig.parse(LogConfig.defaults().toMap())).isEqualTo(LogConfig.defaults());
    }

    private Path activeSegment() {
        return log().segments().get(log().segments().size() - 1).path();
    }

    private static void truncateFile(Path path, long size) {
        try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
            file.setLength(size);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void rewriteCrc(ByteBuffer batch) {
        long crc = BatchHeader.computeCrc(batch, 0, batch.remaining());
        batch.putInt(BatchHeader.CRC_OFFSET, (int) crc);
    }
}
