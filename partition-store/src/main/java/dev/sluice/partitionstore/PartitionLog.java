package dev.sluice.partitionstore;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.KafkaStorageException;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.utils.CloseableIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One partition's log on one node: a directory of segment files holding Kafka record batches (magic
 * 2), with sparse offset and time indexes, log state and leader-epoch history in the node's metadata
 * store.
 *
 * <p>Invariants: {@code logStartOffset <= logEndOffset}; the first segment starts at or below the log
 * start offset (after {@link #advanceLogStartOffset}, whole segments may lie below it until they are
 * deleted); segments are contiguous (each starts at the previous one's {@code nextOffset}) and only the
 * last one, the active segment, is written; every batch on disk was CRC-checked before it was written and
 * is checked again when it is read; every index entry points at the start of a batch with that base
 * offset.
 *
 * <p>Threading: {@link #append}, {@link #roll}, {@link #truncateTo}, {@link #deleteRecordsBefore}, {@link
 * #advanceLogStartOffset}, retention, {@link #flush} and {@link #close} come from one writer thread (the
 * Raft apply thread). {@link #read}, {@link #readRetained}, {@link #offsetForTimestamp} and the offset
 * getters may come from any thread.
 */
public final class PartitionLog implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PartitionLog.class);

    private final TopicPartition topicPartition;
    private final Path directory;
    private final SegmentFile.Factory files;
    private final PartitionMetadataStore metadata;
    private final Clock clock;
    private final ConcurrentSkipListMap<Long, LogSegment> segments = new ConcurrentSkipListMap<>();
    private final NavigableMap<Integer, Long> leaderEpochs;
    private final RecoveryReport recoveryReport;
    /** Segments sealed since the last flush; flush() syncs them so rolling never waits for the disk. */
    private final List<LogSegment> sealedSinceFlush = new ArrayList<>();
    /** Damage found in closed segments, and the scrub that finds it. */
    private final SegmentDamage damage;

    private volatile LogConfig config;
    private volatile long logStartOffset;
    private volatile long logEndOffset;
    private volatile TimestampAndOffset maxTimestampAndOffset;
    /**
     * An upper bound of every record timestamp still in the segments (below the log start offset too):
     * what time-index entries claim, so it may be too high but never too low.
     */
    private long indexMaxTimestamp = RecordBatch.NO_TIMESTAMP;

    private long lastTimeIndexTimestamp = Long.MIN_VALUE;
    private long lastAppliedTerm;
    private long lastAppliedIndex;
    private volatile boolean closed;

    private PartitionLog(
            TopicPartition topicPartition,
            Path directory,
            LogConfig config,
            SegmentFile.Factory files,
            PartitionMetadataStore metadata,
            Clock clock) {
        this.topicPartition = topicPartition;
        this.directory = directory;
        this.config = config;
        this.files = files;
        this.metadata = metadata;
        this.clock = clock;
        this.leaderEpochs = new ConcurrentSkipListMap<>(metadata.leaderEpochs());
        this.damage = new SegmentDamage(topicPartition, segments, this::epochForOffset, () -> closed);
        this.recoveryReport = recover();
        FaultPoints.track(this);
    }

    /**
     * Opens the partition's log in {@code directory}, creating it when new, and recovers it: batches
     * after the last flushed point are checked (CRC, framing, offset continuity), a torn or corrupt tail
     * is cut off, and index entries are rebuilt for what remains. See {@link #recoveryReport()}.
     */
    public static PartitionLog open(
            TopicPartition topicPartition,
            Path directory,
            LogConfig config,
            SegmentFile.Factory files,
            PartitionMetadataStore metadata,
            Clock clock) {
        try {
            Files.createDirectories(directory);
        } catch (IOException e) {
            throw new KafkaStorageException(
                    "cannot create partition directory " + directory + ": " + e.getMessage(), e);
        }
        return new PartitionLog(topicPartition, directory, config, files, metadata, clock);
    }

    // ---- recovery ---------------------------------------------------------------------------------------

    private RecoveryReport recover() {
        PartitionState state = metadata.loadState();
        lastAppliedTerm = state.lastAppliedTerm();
        lastAppliedIndex = state.lastAppliedIndex();
        TreeMap<Long, Path> found = segmentFiles();
        List<String> problems = new ArrayList<>();
        if (found.isEmpty()) {
            long start = state.logStartOffset();
            if (state.recoveryPoint() > start) {
                problems.add("no segment files in " + directory + " although offsets up to " + state.recoveryPoint()
                        + " were flushed; starting empty at " + start);
            }
            found.put(start, directory.resolve(LogSegment.fileName(start)));
            files.create(found.get(start)).close();
        }
        long recoverFrom = found.floorKey(Math.max(state.recoveryPoint(), found.firstKey()));
        long truncatedBytes = 0;
        long scannedBatches = 0;
        long scannedBytes = 0;
        long rebuilt = 0;
        long expectedNext = -1;
        boolean dropRest = false;
        boolean checkRest = false;
        for (Map.Entry<Long, Path> entry : found.entrySet()) {
            long base = entry.getKey();
            Path path = entry.getValue();
            if (dropRest || (expectedNext >= 0 && base != expectedNext)) {
                problems.add(path + ": removed; it does not continue the log at offset " + expectedNext);
                truncatedBytes += sizeOf(path);
                deleteFile(path);
                metadata.deleteSegment(base);
                dropRest = true;
                continue;
            }
            boolean last = base == found.lastKey();
            if (base < recoverFrom && !checkRest) {
                SegmentMetadata known = metadata.segment(base);
                if (known != null && known.sizeInBytes() == sizeOf(path)) {
                    LogSegment segment = openClosedSegment(base, path, known);
                    segments.put(base, segment);
                    expectedNext = segment.nextOffset;
                    continue;
                }
                // Cut short, grown or unknown: the durable state no longer describes the file. Check it
                // whole (CRC, framing, continuity) and every segment after it.
                checkRest = true;
            }
            ScanOutcome outcome = scanForRecovery(base, path, base == recoverFrom ? state.recoveryPoint() : base);
            scannedBatches += outcome.batches;
            scannedBytes += outcome.bytes;
            rebuilt += outcome.indexEntries;
            if (outcome.problem != null) {
                problems.add(path + ": " + outcome.problem + "; dropped " + outcome.droppedBytes
                        + " bytes from position " + outcome.validBytes);
                truncatedBytes += outcome.droppedBytes;
                dropRest = true;
            }
            boolean writable = last || dropRest;
            SegmentFile file = files.open(path, outcome.validBytes, writable);
            LogSegment segment = new LogSegment(base, file, outcome.nextOffset, clock.nowMs());
            segment.maxTimestamp = outcome.maxTimestamp;
            segment.offsetOfMaxTimestamp = outcome.offsetOfMaxTimestamp;
            segment.bytesSinceLastIndexEntry = outcome.bytesSinceLastIndexEntry;
            segments.put(base, segment);
            if (!writable) {
                metadata.putSegment(segment.metadata());
            }
            expectedNext = outcome.nextOffset;
        }
        LogSegment active = segments.lastEntry().getValue();
        if (!active.file.writable()) {
            // The segments after a closed one were dropped: it is the active segment again.
            active = reopenWritable(active);
        }
        metadata.deleteSegment(active.baseOffset);
        logEndOffset = active.nextOffset;
        metadata.deleteOffsetIndexFrom(logEndOffset);
        metadata.deleteTimeIndexAbove(logEndOffset);
        metadata.deleteLeaderEpochsFrom(logEndOffset);
        metadata.deleteAbortedTxnsFrom(logEndOffset);
        long end = logEndOffset;
        leaderEpochs.values().removeIf(start -> start >= end);
        TimestampOffset lastTime = metadata.lastTimeIndex();
        lastTimeIndexTimestamp = lastTime == null ? Long.MIN_VALUE : lastTime.timestamp();
        logStartOffset = Math.max(state.logStartOffset(), segments.firstKey());
        if (logStartOffset > logEndOffset) {
            problems.add("log start offset " + logStartOffset + " is past the recovered end " + logEndOffset
                    + "; the log restarts empty at " + logStartOffset);
            truncateFullyAndStartAt(logStartOffset);
        }
        refreshMaxTimestamp();
        flush();
        RecoveryReport report = new RecoveryReport(scannedBatches, scannedBytes, rebuilt, truncatedBytes, problems);
        if (!report.clean()) {
            LOG.warn("Recovered partition {} in {}: {}", topicPartition, directory, report);
        }
        return report;
    }

    private TreeMap<Long, Path> segmentFiles() {
        TreeMap<Long, Path> found = new TreeMap<>();
        try (Stream<Path> listing = Files.list(directory)) {
            listing.forEach(path -> {
                long base = LogSegment.parseBaseOffset(path);
                if (base >= 0) {
                    found.put(base, path);
                }
            });
        } catch (IOException e) {
            throw new KafkaStorageException("cannot list " + directory + ": " + e.getMessage(), e);
        }
        return found;
    }

    private LogSegment openClosedSegment(long base, Path path, SegmentMetadata known) {
        LogSegment segment = new LogSegment(base, files.open(path, known.sizeInBytes(), false), known.nextOffset(), 0);
        segment.maxTimestamp = known.maxTimestamp();
        segment.offsetOfMaxTimestamp = known.offsetOfMaxTimestamp();
        return segment;
    }

    /** The same segment, writable (its file reopened for appends). */
    private LogSegment reopenWritable(LogSegment closedSegment) {
        closedSegment.file.close();
        SegmentFile file = files.open(closedSegment.file.path(), closedSegment.size(), true);
        LogSegment reopened = new LogSegment(closedSegment.baseOffset, file, closedSegment.nextOffset, clock.nowMs());
        reopened.maxTimestamp = closedSegment.maxTimestamp;
        reopened.offsetOfMaxTimestamp = closedSegment.offsetOfMaxTimestamp;
        reopened.bytesSinceLastIndexEntry = config.indexIntervalBytes();
        segments.put(closedSegment.baseOffset, reopened);
        return reopened;
    }

    /** Mutable tally of one segment's recovery scan. */
    private static final class ScanOutcome {
        int validBytes;
        long nextOffset;
        long maxTimestamp = RecordBatch.NO_TIMESTAMP;
        long offsetOfMaxTimestamp = -1;
        int maxTimestampPosition = -1;
        int maxTimestampBatchSize;
        long batches;
        long bytes;
        long indexEntries;
        int bytesSinceLastIndexEntry;
        String problem;
        long droppedBytes;
    }

    /** Walks batch headers only (trusted, already-durable data) to learn the segment's end and times. */
    private ScanOutcome scanHeaders(ByteBuffer data, int limit, long base) {
        ScanOutcome outcome = new ScanOutcome();
        outcome.nextOffset = base;
        int position = 0;
        while (position + BatchHeader.HEADER_BYTES <= limit) {
            int size = BatchHeader.sizeInBytes(data, position);
            if (size < BatchHeader.HEADER_BYTES || position + size > limit) {
                break;
            }
            observeBatch(outcome, data, position, size);
            outcome.nextOffset = BatchHeader.lastOffset(data, position) + 1;
            position += size;
        }
        outcome.validBytes = position;
        locateMaxTimestamp(outcome, data);
        return outcome;
    }

    /**
     * Checks the batches of a segment from the index entry at or below {@code from} on, rebuilding index
     * entries as it goes, and stops at the first batch that is torn, corrupt or out of sequence.
     */
    private ScanOutcome scanForRecovery(long base, Path path, long from) {
        ByteBuffer data = files.mapReadOnly(path);
        int limit = data.capacity();
        int position = 0;
        long expected = base;
        OffsetPosition floor = metadata.floorOffsetIndex(from);
        if (floor != null && floor.segmentBaseOffset() == base && floor.position() < limit) {
            position = floor.position();
            expected = floor.offset();
        }
        ScanOutcome outcome = scanHeaders(data, position, base);
        if (position > 0 && outcome.validBytes != position) {
            // The index points inside a batch: distrust it and check the whole segment.
            position = 0;
            expected = base;
            outcome = new ScanOutcome();
        }
        metadata.deleteOffsetIndexFrom(position == 0 ? base : expected + 1);
        metadata.deleteTimeIndexAbove(expected);
        TimestampOffset lastTime = metadata.lastTimeIndex();
        long lastTimeIndexed = lastTime == null ? Long.MIN_VALUE : lastTime.timestamp();
        long partitionMax = Math.max(partitionMaxBefore(base), outcome.maxTimestamp);
        outcome.nextOffset = expected;
        while (true) {
            SegmentScanner.Step step = SegmentScanner.check(data, position, limit, expected);
            if (!step.ok()) {
                if (step.problem() != SegmentScanner.Problem.END) {
                    outcome.problem = step.describe();
                    outcome.droppedBytes = limit - position;
                }
                break;
            }
            if (outcome.bytesSinceLastIndexEntry >= config.indexIntervalBytes() && position > 0) {
                metadata.putOffsetIndex(new OffsetPosition(step.baseOffset(), base, position));
                if (partitionMax > lastTimeIndexed) {
                    metadata.putTimeIndex(new TimestampOffset(partitionMax, step.baseOffset()));
                    lastTimeIndexed = partitionMax;
                }
                outcome.indexEntries++;
                outcome.bytesSinceLastIndexEntry = 0;
            }
            observeBatch(outcome, data, position, step.sizeInBytes());
            partitionMax = Math.max(partitionMax, outcome.maxTimestamp);
            outcome.bytesSinceLastIndexEntry += step.sizeInBytes();
            outcome.batches++;
            outcome.bytes += step.sizeInBytes();
            expected = step.lastOffset() + 1;
            outcome.nextOffset = expected;
            position = step.end();
        }
        outcome.validBytes = position;
        locateMaxTimestamp(outcome, data);
        return outcome;
    }

    private long partitionMaxBefore(long base) {
        long max = RecordBatch.NO_TIMESTAMP;
        for (LogSegment segment : segments.headMap(base).values()) {
            max = Math.max(max, segment.maxTimestamp);
        }
        return max;
    }

    private static void observeBatch(ScanOutcome outcome, ByteBuffer data, int position, int size) {
        long batchMax = BatchHeader.maxTimestamp(data, position);
        if (batchMax > outcome.maxTimestamp) {
            outcome.maxTimestamp = batchMax;
            outcome.maxTimestampPosition = position;
            outcome.maxTimestampBatchSize = size;
        }
    }

    /** Finds the exact offset of the max timestamp once, at the end of a scan (it may decompress). */
    private static void locateMaxTimestamp(ScanOutcome outcome, ByteBuffer data) {
        if (outcome.maxTimestampPosition >= 0) {
            outcome.offsetOfMaxTimestamp = offsetOfTimestamp(
                    data, outcome.maxTimestampPosition, outcome.maxTimestampBatchSize, outcome.maxTimestamp);
        }
    }

    /** The offset of the first record of the batch at {@code position} whose timestamp is {@code timestamp}. */
    private static long offsetOfTimestamp(ByteBuffer data, int position, int size, long timestamp) {
        if (BatchHeader.isLogAppendTime(data, position)) {
            return BatchHeader.baseOffset(data, position);
        }
        ByteBuffer batchBytes = data.duplicate();
        batchBytes.limit(position + size).position(position);
        for (RecordBatch batch :
                MemoryRecords.readableRecords(batchBytes.slice()).batches()) {
            try (CloseableIterator<Record> it =
                    batch.streamingIterator(org.apache.kafka.common.utils.BufferSupplier.NO_CACHING)) {
                while (it.hasNext()) {
                    Record record = it.next();
                    if (record.timestamp() == timestamp) {
                        return record.offset();
                    }
                }
            }
        }
        return BatchHeader.lastOffset(data, position);
    }

    private static long sizeOf(Path path) {
        try {
            return Files.size(path);
        } catch (IOException e) {
            throw new KafkaStorageException("cannot read the size of " + path + ": " + e.getMessage(), e);
        }
    }

    private static void deleteFile(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            throw new KafkaStorageException("cannot delete " + path + ": " + e.getMessage(), e);
        }
    }

    // ---- append -----------------------------------------------------------------------------------------

    /**
     * Validates and appends the record batches between {@code records.position()} and its limit, as a
     * producer sent them. Offsets are assigned in place in {@code records} (the CRC does not cover them),
     * as is {@code leaderEpoch}, and under LogAppendTime the timestamps. A rejected append leaves the
     * partition untouched and carries the Kafka error a broker would return.
     */
    public AppendResult append(ByteBuffer records, int leaderEpoch, BatchValidator.Origin origin) {
        return append(records, leaderEpoch, origin, clock.nowMs());
    }

    /**
     * Appends as {@link #append(ByteBuffer, int, BatchValidator.Origin)} with {@code nowMs} as the time
     * that decides LogAppendTime stamps and time-based rolling, instead of this node's clock. Replicas
     * that apply the same Raft entry pass the same time (chosen once by the leader), so they write
     * identical bytes and roll at the same offsets.
     */
    public AppendResult append(ByteBuffer records, int leaderEpoch, BatchValidator.Origin origin, long nowMs) {
        ensureOpen();
        LogConfig cfg = config;
        BatchValidator.Result validation =
                BatchValidator.validate(records, origin, cfg.maxMessageBytes(), cfg.segmentBytes());
        if (!validation.valid()) {
            return AppendResult.rejected(validation.error(), validation.message());
        }
        int total = records.remaining();
        LogSegment active = maybeRoll(total, nowMs);
        if (leaderEpoch >= 0 && (leaderEpochs.isEmpty() || leaderEpochs.lastKey() < leaderEpoch)) {
            leaderEpochs.put(leaderEpoch, logEndOffset);
            metadata.putLeaderEpoch(leaderEpoch, logEndOffset);
        }
        long next = logEndOffset;
        long firstOffset = next;
        long runningMax = indexMaxTimestamp;
        long appendMaxTimestamp = RecordBatch.NO_TIMESTAMP;
        long appendOffsetOfMax = -1;
        int recordCount = 0;
        int position = active.size();
        List<MutableRecordBatch> batches = validation.batches();
        for (int i = 0; i < batches.size(); i++) {
            MutableRecordBatch batch = batches.get(i);
            int delta = (int) (batch.lastOffset() - batch.baseOffset());
            batch.setLastOffset(next + delta);
            batch.setPartitionLeaderEpoch(leaderEpoch);
            if (cfg.timestampType() == TimestampType.LOG_APPEND_TIME) {
                batch.setMaxTimestamp(TimestampType.LOG_APPEND_TIME, nowMs);
            }
            long batchMax = batch.maxTimestamp();
            long offsetOfBatchMax = cfg.timestampType() == TimestampType.LOG_APPEND_TIME
                    ? next
                    : next + validation.maxTimestampDeltas()[i];
            indexBatch(active, next, position, runningMax, cfg);
            runningMax = Math.max(runningMax, batchMax);
            active.observeTimestamp(batchMax, offsetOfBatchMax);
            if (batchMax > appendMaxTimestamp) {
                appendMaxTimestamp = batchMax;
                appendOffsetOfMax = offsetOfBatchMax;
            }
            active.bytesSinceLastIndexEntry += batch.sizeInBytes();
            position += batch.sizeInBytes();
            recordCount += delta + 1;
            next += delta + 1;
        }
        active.file.append(records);
        active.nextOffset = next;
        logEndOffset = next;
        indexMaxTimestamp = runningMax;
        TimestampAndOffset max = maxTimestampAndOffset;
        if (max == null || appendMaxTimestamp > max.timestamp()) {
            maxTimestampAndOffset = new TimestampAndOffset(appendMaxTimestamp, appendOffsetOfMax, leaderEpoch);
        }
        FaultPoints.hit(FaultPoints.Point.UNSYNCED_SEGMENT_WRITE);
        long logAppendTime = cfg.timestampType() == TimestampType.LOG_APPEND_TIME ? nowMs : RecordBatch.NO_TIMESTAMP;
        return new AppendResult(
                Errors.NONE,
                null,
                firstOffset,
                next - 1,
                appendMaxTimestamp,
                appendOffsetOfMax,
                logAppendTime,
                recordCount,
                total);
    }

    /**
     * Adds sparse index entries for the batch at {@code position} once enough bytes have passed since the
     * last entry; {@code maxTimestampBefore} is the largest timestamp of every record before the batch.
     */
    private void indexBatch(LogSegment active, long baseOffset, int position, long maxTimestampBefore, LogConfig cfg) {
        if (position == 0 || active.bytesSinceLastIndexEntry < cfg.indexIntervalBytes()) {
            return;
        }
        metadata.putOffsetIndex(new OffsetPosition(baseOffset, active.baseOffset, position));
        if (maxTimestampBefore > lastTimeIndexTimestamp) {
            metadata.putTimeIndex(new TimestampOffset(maxTimestampBefore, baseOffset));
            lastTimeIndexTimestamp = maxTimestampBefore;
        }
        active.bytesSinceLastIndexEntry = 0;
    }

    private LogSegment maybeRoll(int incomingBytes, long nowMs) {
        LogSegment active = segments.lastEntry().getValue();
        LogConfig cfg = config;
        if (active.isEmpty()) {
            active.createdMs = nowMs;
            return active;
        }
        boolean full = (long) active.size() + incomingBytes > cfg.segmentBytes();
        boolean old = nowMs - active.createdMs >= cfg.segmentMs();
        return full || old ? rollActive() : active;
    }

    /**
     * Closes the active segment (trimmed and made durable) and starts a new one at the log end offset.
     * Does nothing when the active segment is empty.
     */
    public LogSegmentInfo roll() {
        ensureOpen();
        return info(rollActive());
    }

    private LogSegment rollActive() {
        LogSegment active = segments.lastEntry().getValue();
        if (!active.isEmpty()) {
            active.file.seal();
            sealedSinceFlush.add(active);
            metadata.putSegment(active.metadata());
            Path path = directory.resolve(LogSegment.fileName(logEndOffset));
            LogSegment next = new LogSegment(logEndOffset, files.create(path), logEndOffset, clock.nowMs());
            segments.put(logEndOffset, next);
            active = next;
        }
        return active;
    }

    // ---- read -------------------------------------------------------------------------------------------

    /**
     * Reads whole batches starting at the one that holds {@code fetchOffset}: at least one batch (even if
     * larger than {@code maxBytes}), then more while the total stays within {@code maxBytes}, never a
     * batch with an offset at or past {@code maxOffsetExclusive} (the high watermark or last stable
     * offset), and never across a segment boundary. Every batch returned passes its CRC check.
     */
    public LogReadResult read(long fetchOffset, int maxBytes, long maxOffsetExclusive) {
        return read(fetchOffset, maxBytes, maxOffsetExclusive, false);
    }

    /**
     * Reads as {@link #read} does, but also below the log start offset, from any offset a segment still
     * holds: after {@link #advanceLogStartOffset} the Raft layer still replicates and replays the records
     * below it, which stay in their segments until retention removes them. Not for clients.
     */
    public LogReadResult readRetained(long fetchOffset, int maxBytes, long maxOffsetExclusive) {
        return read(fetchOffset, maxBytes, maxOffsetExclusive, true);
    }

    private LogReadResult read(long fetchOffset, int maxBytes, long maxOffsetExclusive, boolean belowStart) {
        long start = logStartOffset;
        long end = logEndOffset;
        long first = belowStart ? Math.min(start, segments.firstKey()) : start;
        if (fetchOffset < first || fetchOffset > end) {
            return new LogReadResult(
                    Errors.OFFSET_OUT_OF_RANGE,
                    "offset " + fetchOffset + " is outside [" + start + ", " + end + "] of " + topicPartition,
                    LogReadResult.EMPTY,
                    start,
                    end);
        }
        long limit = Math.min(maxOffsetExclusive, end);
        Map.Entry<Long, LogSegment> entry = segments.floorEntry(fetchOffset);
        while (fetchOffset < limit && entry != null) {
            LogSegment segment = entry.getValue();
            LogReadResult result;
            try {
                result = readSegment(segment, fetchOffset, maxBytes, limit, start, end);
            } catch (KafkaStorageException e) {
                if (segments.get(segment.baseOffset) == segment) {
                    throw e;
                }
                // Retention or truncation removed the segment while we read it: answer from the new state.
                return read(fetchOffset, maxBytes, maxOffsetExclusive, belowStart);
            }
            if (result != null) {
                return result;
            }
            entry = segments.higherEntry(entry.getKey());
        }
        return new LogReadResult(Errors.NONE, null, LogReadResult.EMPTY, start, end);
    }

    private LogReadResult readSegment(
            LogSegment segment, long fetchOffset, int maxBytes, long limit, long start, long end) {
        int size = segment.size();
        if (size == 0 || segment.nextOffset <= fetchOffset) {
            return null;
        }
        int position = 0;
        long expected = segment.baseOffset;
        OffsetPosition floor = metadata.floorOffsetIndex(fetchOffset);
        if (floor != null && floor.segmentBaseOffset() == segment.baseOffset && floor.position() < size) {
            position = floor.position();
            expected = floor.offset();
        }
        ByteBuffer data = segment.file.view(0, size);
        int first = -1;
        int last = -1;
        while (position < size) {
            SegmentScanner.Step step = SegmentScanner.check(data, position, size, expected);
            if (!step.ok()) {
                damage.reportIfClosed(segment, step);
                if (first >= 0) {
                    break; // serve the valid prefix; the next read answers the error
                }
                String problem = segment.file.path() + ": " + step.describe();
                return new LogReadResult(Errors.KAFKA_STORAGE_ERROR, problem, LogReadResult.EMPTY, start, end);
            }
            if (step.baseOffset() >= limit || step.lastOffset() >= limit) {
                break;
            }
            if (step.lastOffset() >= fetchOffset) {
                if (first < 0) {
                    first = position;
                } else if (step.end() - first > maxBytes) {
                    break;
                }
                last = step.end();
            }
            expected = step.lastOffset() + 1;
            position = step.end();
        }
        if (first < 0) {
            return new LogReadResult(Errors.NONE, null, LogReadResult.EMPTY, start, end);
        }
        return new LogReadResult(Errors.NONE, null, segment.file.view(first, last - first), start, end);
    }

    /**
     * Where the batch holding {@code offset} starts: its base offset, its segment's base offset and its
     * position in the segment file; null when no segment holds the offset (below the first segment or at
     * or past the log end offset).
     */
    public OffsetPosition locate(long offset) {
        Map.Entry<Long, LogSegment> entry = segments.floorEntry(offset);
        if (entry == null || offset >= logEndOffset) {
            return null;
        }
        LogSegment segment = entry.getValue();
        int size = segment.size();
        if (offset >= segment.nextOffset) {
            return null;
        }
        int position = 0;
        OffsetPosition floor = metadata.floorOffsetIndex(offset);
        if (floor != null && floor.segmentBaseOffset() == segment.baseOffset && floor.position() < size) {
            position = floor.position();
        }
        ByteBuffer data = segment.file.view(0, size);
        while (position + BatchHeader.HEADER_BYTES <= size) {
            int batchSize = BatchHeader.sizeInBytes(data, position);
            if (batchSize < BatchHeader.HEADER_BYTES) {
                return null;
            }
            if (BatchHeader.lastOffset(data, position) >= offset) {
                return new OffsetPosition(BatchHeader.baseOffset(data, position), segment.baseOffset, position);
            }
            position += batchSize;
        }
        return null;
    }

    /**
     * The first record whose timestamp is at least {@code timestamp} and whose offset is at least the log
     * start offset ({@code ListOffsets} semantics), or null when there is none.
     */
    public TimestampAndOffset offsetForTimestamp(long timestamp) {
        long start = logStartOffset;
        long end = logEndOffset;
        TimestampOffset hint = metadata.lastTimeIndexBefore(timestamp);
        long from = Math.max(start, hint == null ? start : hint.offset());
        for (LogSegment segment : segments.values()) {
            if (segment.nextOffset <= from || segment.maxTimestamp < timestamp) {
                continue;
            }
            TimestampAndOffset found = findInSegment(segment, Math.max(from, segment.baseOffset), timestamp, end);
            if (found != null) {
                return found;
            }
        }
        return null;
    }

    private TimestampAndOffset findInSegment(LogSegment segment, long from, long timestamp, long end) {
        LogReadResult chunk = read(from, Integer.MAX_VALUE, Math.min(end, segment.nextOffset));
        if (chunk.error() != Errors.NONE) {
            throw new KafkaStorageException(chunk.errorMessage());
        }
        for (RecordBatch batch : chunk.memoryRecords().batches()) {
            if (batch.maxTimestamp() < timestamp) {
                continue;
            }
            try (CloseableIterator<Record> it =
                    batch.streamingIterator(org.apache.kafka.common.utils.BufferSupplier.NO_CACHING)) {
                while (it.hasNext()) {
                    Record record = it.next();
                    long recordTimestamp = batch.timestampType() == TimestampType.LOG_APPEND_TIME
                            ? batch.maxTimestamp()
                            : record.timestamp();
                    if (record.offset() >= from && recordTimestamp >= timestamp) {
                        return new TimestampAndOffset(recordTimestamp, record.offset(), batch.partitionLeaderEpoch());
                    }
                }
            }
        }
        return null;
    }

    /** The largest timestamp in the log and the offset of its first record, or null when empty. */
    public TimestampAndOffset maxTimestampAndOffset() {
        return maxTimestampAndOffset;
    }

    private void refreshMaxTimestamp() {
        TimestampAndOffset max = null;
        long bound = RecordBatch.NO_TIMESTAMP;
        for (LogSegment segment : segments.values()) {
            bound = Math.max(bound, segment.maxTimestamp);
            if (segment.offsetOfMaxTimestamp >= logStartOffset
                    && (max == null || segment.maxTimestamp > max.timestamp())) {
                max = new TimestampAndOffset(
                        segment.maxTimestamp,
                        segment.offsetOfMaxTimestamp,
                        epochForOffset(segment.offsetOfMaxTimestamp));
            }
        }
        maxTimestampAndOffset = max;
        indexMaxTimestamp = bound;
    }

    // ---- leader epochs ----------------------------------------------------------------------------------

    /** Leader epoch → first offset written in it, ascending. */
    public NavigableMap<Integer, Long> leaderEpochs() {
        return Collections.unmodifiableNavigableMap(new TreeMap<>(leaderEpochs));
    }

    /**
     * {@code OffsetsForLeaderEpoch}: the largest epoch at most {@code leaderEpoch} and the offset its
     * successor starts at (the log end offset for the newest epoch); null when the log knows no such
     * epoch.
     */
    public EpochEndOffset endOffsetForEpoch(int leaderEpoch) {
        Map.Entry<Integer, Long> floor = leaderEpochs.floorEntry(leaderEpoch);
        if (floor == null) {
            return null;
        }
        Map.Entry<Integer, Long> next = leaderEpochs.higherEntry(floor.getKey());
        return new EpochEndOffset(floor.getKey(), next == null ? logEndOffset : next.getValue());
    }

    /**
     * The answer to an {@code OffsetsForLeaderEpoch} query.
     *
     * @param leaderEpoch the largest known epoch at most the one asked for
     * @param endOffset the first offset after that epoch
     */
    public record EpochEndOffset(int leaderEpoch, long endOffset) {}

    private int epochForOffset(long offset) {
        int epoch = RecordBatch.NO_PARTITION_LEADER_EPOCH;
        for (Map.Entry<Integer, Long> entry : leaderEpochs.entrySet()) {
            if (entry.getValue() <= offset) {
                epoch = entry.getKey();
            }
        }
        return epoch;
    }

    // ---- retention, deletion, truncation ----------------------------------------------------------------

    /**
     * Deletes closed segments from the front that {@code retention.ms} or {@code retention.bytes} no
     * longer keep; the active segment is never deleted. Returns the number of segments deleted.
     */
    public int deleteExpiredSegments() {
        return deleteExpiredSegments(Long.MAX_VALUE);
    }

    /**
     * Deletes expired segments as {@link #deleteExpiredSegments()}, but only segments wholly below {@code
     * keepFromOffset}: the Raft layer passes the first offset a lagging replica may still need from the
     * Raft log, so that retention never removes bytes an entry still in the Raft log refers to.
     */
    public int deleteExpiredSegments(long keepFromOffset) {
        ensureOpen();
        LogConfig cfg = config;
        long nowMs = clock.nowMs();
        long totalBytes = sizeInBytes();
        int deleted = 0;
        while (segments.size() > 1) {
            LogSegment oldest = segments.firstEntry().getValue();
            if (oldest.nextOffset > keepFromOffset) {
                break;
            }
            boolean expired = cfg.retentionMs() >= 0
                    && oldest.maxTimestamp >= 0
                    && nowMs - oldest.maxTimestamp > cfg.retentionMs();
            boolean oversize = cfg.retentionBytes() >= 0 && totalBytes - oldest.size() >= cfg.retentionBytes();
            if (!expired && !oversize) {
                break;
            }
            totalBytes -= oldest.size();
            deleteOldestSegment();
            deleted++;
        }
        if (deleted > 0) {
            flush(); // the saved state names the log end offset as the recovery point: sync the data first
        }
        return deleted;
    }

    /**
     * Deletes the closed segments from the front that lie wholly below the log start offset (left there by
     * {@link #advanceLogStartOffset}) and below {@code keepFromOffset}, which the Raft layer passes as for
     * {@link #deleteExpiredSegments(long)}. Returns the number of segments deleted.
     */
    public int deleteSegmentsBelowStart(long keepFromOffset) {
        ensureOpen();
        int deleted = 0;
        while (segments.size() > 1) {
            LogSegment oldest = segments.firstEntry().getValue();
            if (oldest.nextOffset > keepFromOffset || oldest.nextOffset > logStartOffset) {
                break;
            }
            deleteOldestSegment();
            deleted++;
        }
        if (deleted > 0) {
            flush(); // the saved state names the log end offset as the recovery point: sync the data first
        }
        return deleted;
    }

    /**
     * Kafka's {@code DeleteRecords}: advances the log start offset to {@code offset} and deletes the
     * segments wholly below it. Returns the new log start offset, or throws when {@code offset} is past
     * the log end offset.
     */
    public long deleteRecordsBefore(long offset) {
        long start = advanceLogStartOffset(offset);
        int before = segments.size();
        while (segments.size() > 1 && segments.higherKey(segments.firstKey()) <= start) {
            deleteOldestSegment();
        }
        if (segments.size() != before) {
            flush();
        }
        return start;
    }

    /**
     * Kafka's {@code DeleteRecords} as the Raft layer applies it: advances the log start offset to {@code
     * offset} (durably) but deletes nothing. Readers no longer see the records below it; they stay in their
     * segments, where {@link #readRetained} still finds them for replication, until {@link
     * #deleteSegmentsBelowStart} removes them. Returns the new log start offset (the current one when {@code
     * offset} is not above it); throws when {@code offset} is past the log end offset.
     */
    public long advanceLogStartOffset(long offset) {
        ensureOpen();
        if (offset > logEndOffset) {
            throw new org.apache.kafka.common.errors.OffsetOutOfRangeException("cannot delete records before " + offset
                    + ": the log of " + topicPartition + " ends at " + logEndOffset);
        }
        if (offset <= logStartOffset) {
            return logStartOffset;
        }
        logStartOffset = offset;
        refreshMaxTimestamp();
        flush();
        return logStartOffset;
    }

    private void deleteOldestSegment() {
        LogSegment oldest = segments.pollFirstEntry().getValue();
        damage.forget(oldest.baseOffset);
        long newStart = segments.firstKey();
        logStartOffset = Math.max(logStartOffset, newStart);
        oldest.file.delete();
        metadata.deleteSegment(oldest.baseOffset);
        metadata.deleteOffsetIndexBefore(newStart);
        metadata.deleteTimeIndexUpTo(newStart);
        metadata.deleteAbortedTxnsBefore(newStart);
        refreshMaxTimestamp();
    }

    /**
     * Removes every batch that holds an offset at or after {@code offset} (a batch that straddles it is
     * removed whole, so the new log end offset may be lower). Returns the new log end offset. Used by the
     * Raft layer to drop an uncommitted suffix.
     */
    public long truncateTo(long offset) {
        ensureOpen();
        if (offset >= logEndOffset) {
            return logEndOffset;
        }
        if (offset <= segments.firstKey()) {
            truncateFullyAndStartAt(logStartOffset);
            return logEndOffset;
        }
        // Records below the log start offset that are still in a segment are kept when the cut is at or
        // above the log start offset; the check after the scan handles a cut below it.
        Map.Entry<Long, LogSegment> holder = segments.floorEntry(offset);
        for (LogSegment later :
                new ArrayList<>(segments.tailMap(holder.getKey(), false).values())) {
            segments.remove(later.baseOffset);
            damage.forget(later.baseOffset);
            later.file.delete();
            metadata.deleteSegment(later.baseOffset);
        }
        LogSegment segment = holder.getValue();
        ByteBuffer data = segment.file.view(0, segment.size());
        ScanOutcome kept = new ScanOutcome();
        kept.nextOffset = segment.baseOffset;
        int position = 0;
        // Stop at the batch holding the cut, and at any batch that does not continue the log (a damaged
        // header must not steer the walk).
        while (position + BatchHeader.HEADER_BYTES <= segment.size()
                && BatchHeader.baseOffset(data, position) == kept.nextOffset
                && BatchHeader.lastOffset(data, position) < offset) {
            int size = BatchHeader.sizeInBytes(data, position);
            if (size < BatchHeader.HEADER_BYTES || position + size > segment.size()) {
                break;
            }
            observeBatch(kept, data, position, size);
            kept.nextOffset = BatchHeader.lastOffset(data, position) + 1;
            position += size;
        }
        locateMaxTimestamp(kept, data);
        if (kept.nextOffset < logStartOffset) {
            // The batch holding the cut also holds the log start offset: nothing readable remains.
            truncateFullyAndStartAt(logStartOffset);
            return logEndOffset;
        }
        SegmentFile file = segment.file;
        if (!file.writable()) {
            file.close();
            file = files.open(file.path(), file.size(), true);
            metadata.deleteSegment(segment.baseOffset);
        }
        file.truncate(position);
        damage.forget(segment.baseOffset); // the active segment now; what it keeps is checked by reads
        LogSegment active = new LogSegment(segment.baseOffset, file, kept.nextOffset, clock.nowMs());
        active.maxTimestamp = kept.maxTimestamp;
        active.offsetOfMaxTimestamp = kept.offsetOfMaxTimestamp;
        active.bytesSinceLastIndexEntry = config.indexIntervalBytes();
        segments.put(segment.baseOffset, active);
        logEndOffset = kept.nextOffset;
        dropMetadataFrom(logEndOffset);
        saveState(true);
        return logEndOffset;
    }

    /**
     * Deletes every segment and restarts the log, empty, at {@code offset} (both log start and log end
     * offset). Used when a replica installs a snapshot that starts beyond its own log.
     */
    public void truncateFullyAndStartAt(long offset) {
        for (LogSegment segment : segments.values()) {
            segment.file.delete();
            metadata.deleteSegment(segment.baseOffset);
        }
        segments.clear();
        damage.forgetAll();
        Path path = directory.resolve(LogSegment.fileName(offset));
        deleteFile(path);
        segments.put(offset, new LogSegment(offset, files.create(path), offset, clock.nowMs()));
        logStartOffset = offset;
        logEndOffset = offset;
        metadata.deleteOffsetIndexFrom(0);
        metadata.deleteTimeIndexAbove(-1);
        metadata.deleteAbortedTxnsFrom(0);
        metadata.deleteLeaderEpochsFrom(Long.MIN_VALUE);
        leaderEpochs.clear();
        lastTimeIndexTimestamp = Long.MIN_VALUE;
        maxTimestampAndOffset = null;
        indexMaxTimestamp = RecordBatch.NO_TIMESTAMP;
        saveState(true);
    }

    private void dropMetadataFrom(long offset) {
        metadata.deleteOffsetIndexFrom(offset);
        metadata.deleteTimeIndexAbove(offset);
        metadata.deleteAbortedTxnsFrom(offset);
        metadata.deleteLeaderEpochsFrom(offset);
        leaderEpochs.values().removeIf(start -> start >= offset);
        TimestampOffset lastTime = metadata.lastTimeIndex();
        lastTimeIndexTimestamp = lastTime == null ? Long.MIN_VALUE : lastTime.timestamp();
        refreshMaxTimestamp();
    }

    // ---- damage: scrub, reports, repair ----------------------------------------------------------------

    /**
     * Tells {@code listener} of damage found in a closed segment (by {@link #scrub} or by a read), once per
     * damaged segment until it is replaced. Runs on the thread that found it; keep it short.
     */
    public void onCorruption(Consumer<SegmentCorruption> listener) {
        damage.onCorruption(listener);
    }

    /** The damaged closed segments found and not yet replaced, by base offset. */
    public List<SegmentCorruption> corruptions() {
        return damage.corruptions();
    }

    /**
     * Checks up to about {@code maxBytes} more of the closed segments, continuing where the previous call
     * stopped; see {@link SegmentDamage#scrub}. One pass after the log opens; {@link #restartScrub()} starts
     * another. Damage is reported to the {@link #onCorruption} listeners.
     *
     * <p>Threading: one caller at a time (a background thread); it never writes the log.
     */
    public ScrubProgress scrub(long maxBytes) {
        return damage.scrub(maxBytes);
    }

    /** Starts the scrub over from the first segment. */
    public void restartScrub() {
        damage.restartScrub();
    }

    /**
     * Replaces a closed segment with a copy of the same segment from another replica (closed segments are
     * byte-identical on every replica that applied the same log): checks the copy — every batch, offsets
     * from the segment's base offset to its next offset, exactly its size, leader epochs — then moves it
     * over the file (atomically; readers holding views of the old file keep them) and forgets the damage.
     * The index entries stay valid because the bytes are the ones they were built from.
     *
     * @throws KafkaStorageException when the copy is not that segment; the log is then unchanged
     */
    public void replaceClosedSegment(long baseOffset, Path copy) {
        ensureOpen();
        LogSegment old = segments.get(baseOffset);
        if (old == null || old == segments.lastEntry().getValue()) {
            throw new IllegalStateException(
                    topicPartition + ": no closed segment at offset " + baseOffset + " to replace");
        }
        String wrong = damage.checkCopy(old, files.mapReadOnly(copy));
        if (wrong != null) {
            throw new KafkaStorageException(topicPartition + ": the copy " + copy + " of " + old.file.path()
                    + " is not that segment: " + wrong);
        }
        files.replace(copy, old.file.path());
        LogSegment fresh = new LogSegment(
                baseOffset, files.open(old.file.path(), old.size(), false), old.nextOffset, old.createdMs);
        fresh.maxTimestamp = old.maxTimestamp;
        fresh.offsetOfMaxTimestamp = old.offsetOfMaxTimestamp;
        segments.put(baseOffset, fresh);
        old.file.close();
        damage.forget(baseOffset);
    }

    /**
     * Appends record batches copied from another replica's segment as they are — offsets, leader epochs and
     * timestamps already assigned — to restore data this log lost (a cut or torn file), so that its files
     * end up byte-identical to the replica's. The batches must continue the log at its end offset; {@code
     * segmentBaseOffset} is the base offset of the replica's segment they come from: when it is the log end
     * offset and the active segment is not empty, the active segment is rolled first, so the segment files
     * split where the replica's do. Indexes and the leader-epoch history are extended as an append would.
     *
     * @throws KafkaStorageException when a batch is damaged or does not continue the log; nothing is
     *     appended then
     */
    public void appendReplicated(long segmentBaseOffset, ByteBuffer batches) {
        ensureOpen();
        ByteBuffer data = batches.slice();
        int limit = data.remaining();
        int position = 0;
        long expected = logEndOffset;
        while (position < limit) {
            SegmentScanner.Step step = SegmentScanner.check(data, position, limit, expected);
            if (!step.ok()) {
                throw new KafkaStorageException(topicPartition + ": cannot restore batches at offset " + expected
                        + " from a replica: " + step.describe());
            }
            expected = step.lastOffset() + 1;
            position = step.end();
        }
        if (limit == 0) {
            return;
        }
        LogSegment active = segments.lastEntry().getValue();
        if (segmentBaseOffset != active.baseOffset && segmentBaseOffset == logEndOffset && !active.isEmpty()) {
            active = rollActive();
        }
        LogConfig cfg = config;
        long runningMax = indexMaxTimestamp;
        int at = active.size();
        for (position = 0; position < limit; ) {
            int size = BatchHeader.sizeInBytes(data, position);
            long base = BatchHeader.baseOffset(data, position);
            int epoch = BatchHeader.partitionLeaderEpoch(data, position);
            if (epoch >= 0 && (leaderEpochs.isEmpty() || leaderEpochs.lastKey() < epoch)) {
                leaderEpochs.put(epoch, base);
                metadata.putLeaderEpoch(epoch, base);
            }
            indexBatch(active, base, at, runningMax, cfg);
            long batchMax = BatchHeader.maxTimestamp(data, position);
            runningMax = Math.max(runningMax, batchMax);
            if (batchMax > active.maxTimestamp) {
                active.observeTimestamp(batchMax, offsetOfTimestamp(data, position, size, batchMax));
            }
            active.bytesSinceLastIndexEntry += size;
            at += size;
            position += size;
        }
        active.file.append(data);
        active.nextOffset = expected;
        logEndOffset = expected;
        indexMaxTimestamp = runningMax;
        refreshMaxTimestamp();
        FaultPoints.hit(FaultPoints.Point.UNSYNCED_SEGMENT_WRITE);
    }

    /**
     * Hands every segment file holding bytes not yet fsynced (and the active one) to {@code action}, with
     * {@code [synced length, length]}; for the {@link FaultPoints} that simulate a power loss.
     */
    void collectSyncedLengths(BiConsumer<Path, long[]> action) {
        LogSegment active = segments.lastEntry().getValue();
        for (LogSegment segment : segments.values()) {
            int synced = segment.file.syncedSize();
            if (segment == active || synced < segment.size()) {
                action.accept(segment.file.path(), new long[] {synced, segment.size()});
            }
        }
    }

    // ---- durability and lifecycle -----------------------------------------------------------------------

    /** Records the Raft entry the log reflects; saved with the next {@link #flush()}. */
    public void markApplied(long term, long index) {
        lastAppliedTerm = term;
        lastAppliedIndex = index;
    }

    /**
     * Makes everything appended so far durable: the active segment is synced to disk, then the log state
     * (with the log end offset as the new recovery point) is written and the metadata store synced.
     */
    public void flush() {
        ensureOpen();
        for (LogSegment sealed : sealedSinceFlush) {
            if (segments.get(sealed.baseOffset) == sealed) {
                sealed.file.flush();
            }
        }
        sealedSinceFlush.clear();
        segments.lastEntry().getValue().file.flush();
        saveState(true);
    }

    private void saveState(boolean sync) {
        metadata.saveState(new PartitionState(logStartOffset, logEndOffset, lastAppliedTerm, lastAppliedIndex));
        if (sync) {
            metadata.sync();
        }
    }

    /** Flushes, trims the active segment and releases the files. The log cannot be used afterwards. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        // A clean close trims the active segment too, so a stopped node's files are exactly its batches.
        segments.lastEntry().getValue().file.seal();
        flush();
        closed = true;
        FaultPoints.untrack(this);
        for (LogSegment segment : segments.values()) {
            segment.file.close();
        }
    }

    /** Closes the log and removes its files and metadata (topic deletion). */
    public void delete() {
        close();
        for (LogSegment segment : segments.values()) {
            segment.file.delete();
        }
        metadata.deleteAll();
        metadata.sync();
        try (Stream<Path> rest = Files.list(directory)) {
            for (Path path : (Iterable<Path>) rest::iterator) {
                Files.deleteIfExists(path);
            }
            Files.deleteIfExists(directory);
        } catch (IOException e) {
            throw new KafkaStorageException("cannot delete " + directory + ": " + e.getMessage(), e);
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("the log of " + topicPartition + " is closed");
        }
    }

    // ---- accessors --------------------------------------------------------------------------------------

    public TopicPartition topicPartition() {
        return topicPartition;
    }

    public Path directory() {
        return directory;
    }

    public LogConfig config() {
        return config;
    }

    /** Changes the settings; they apply from the next append or retention pass. */
    public void updateConfig(LogConfig newConfig) {
        this.config = newConfig;
    }

    public long logStartOffset() {
        return logStartOffset;
    }

    public long logEndOffset() {
        return logEndOffset;
    }

    public long lastAppliedIndex() {
        return lastAppliedIndex;
    }

    public long lastAppliedTerm() {
        return lastAppliedTerm;
    }

    public RecoveryReport recoveryReport() {
        return recoveryReport;
    }

    /** Bytes of data in all segments. */
    public long sizeInBytes() {
        long total = 0;
        for (LogSegment segment : segments.values()) {
            total += segment.size();
        }
        return total;
    }

    /** The segments, oldest first. */
    public List<LogSegmentInfo> segments() {
        List<LogSegmentInfo> result = new ArrayList<>();
        for (LogSegment segment : segments.values()) {
            result.add(info(segment));
        }
        return result;
    }

    private static LogSegmentInfo info(LogSegment segment) {
        return new LogSegmentInfo(
                segment.baseOffset,
                segment.nextOffset,
                segment.size(),
                segment.maxTimestamp,
                segment.file.writable(),
                segment.file.path());
    }

    /** The metadata store view this log writes to (for the Raft layer's producer state). */
    public PartitionMetadataStore metadata() {
        return metadata;
    }

    @Override
    public String toString() {
        return "PartitionLog[" + topicPartition + ", start=" + logStartOffset + ", end=" + logEndOffset + ", segments="
                + segments.size() + "]";
    }
}
