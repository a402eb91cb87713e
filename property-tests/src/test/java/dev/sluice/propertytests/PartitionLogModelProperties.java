package dev.sluice.propertytests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.partitionstore.AppendResult;
import dev.sluice.partitionstore.BatchValidator.Origin;
import dev.sluice.partitionstore.LogConfig;
import dev.sluice.partitionstore.LogReadResult;
import dev.sluice.partitionstore.LogSegmentInfo;
import dev.sluice.partitionstore.PartitionLog;
import dev.sluice.partitionstore.TimestampAndOffset;
import dev.sluice.partitionstore.testing.Batches;
import dev.sluice.partitionstore.testing.LogFixture;
import dev.sluice.propertytests.RecordArbitraries.BatchSpec;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.Tuple;
import net.jqwik.api.statistics.Statistics;
import org.apache.kafka.common.errors.OffsetOutOfRangeException;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.CompressionType;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.record.internal.SimpleRecord;

/**
 * Model-based test of {@link PartitionLog}: random sequences of appends, reads, rolls, retention,
 * {@code DeleteRecords}, truncation, flushes, clean restarts and crashes run against a real log (mapped
 * segments and RocksDB in a fresh directory per try, small segments so that rolls happen) and against
 * {@link LogModel}, a map of batches with two offsets. After every action the log must agree with the
 * model: offsets, every byte a consumer can read, and {@code ListOffsets} by timestamp.
 */
class PartitionLogModelProperties {
    private static final int MAX_ACTIONS = 40;
    private static final long T0 = RecordArbitraries.T0;

    /** Timestamps {@code offsetForTimestamp} is asked about after every action. */
    private static final List<Long> PROBE_TIMESTAMPS = List.of(
            Long.MIN_VALUE,
            RecordBatch.NO_TIMESTAMP,
            0L,
            500L,
            T0,
            T0 + 250,
            T0 + 500,
            T0 + 900,
            T0 + 999,
            T0 + 1000,
            Long.MAX_VALUE);

    @Property(tries = 100, edgeCases = EdgeCasesMode.NONE)
    void logAgreesWithItsModelAfterEveryAction(@ForAll("scenarios") Scenario scenario) {
        Path dataDir = TempDirs.create("sluice-log-model-");
        try {
            ModelCheck check = new ModelCheck(dataDir, scenario.config());
            try {
                check.verify();
                List<Action> actions = scenario.actions();
                for (int step = 0; step < actions.size(); step++) {
                    try {
                        check.apply(actions.get(step));
                        check.verify();
                    } catch (AssertionError e) {
                        throw new AssertionError(
                                "step " + step + " " + actions.get(step) + ": " + e.getMessage() + "\nsegments: "
                                        + check.log().segments(),
                                e);
                    }
                }
                Statistics.label("most segments at once (3 or more)").collect(Math.min(check.maxSegments, 3));
                Statistics.label("log start offset moved").collect(check.log().logStartOffset() > 0);
            } finally {
                check.close();
            }
        } finally {
            TempDirs.delete(dataDir);
        }
        // The generators must keep producing what the model is about: rolls and a moving start offset.
        Statistics.label("most segments at once (3 or more)")
                .coverage(coverage -> coverage.check(3).percentage(p -> p >= 15));
        Statistics.label("log start offset moved")
                .coverage(coverage -> coverage.check(true).percentage(p -> p >= 20));
    }

    // ---- minimal reproductions of what the property found --------------------------------------------

    /** A consumer-facing record with a one-byte value. */
    private static SimpleRecord record(long timestamp) {
        return new SimpleRecord(timestamp, null, new byte[] {1});
    }

    private static void withLog(Consumer<LogFixture> test) {
        Path dataDir = TempDirs.create("sluice-log-example-");
        try (LogFixture fixture = new LogFixture(
                dataDir,
                LogConfig.defaults().with(LogConfig.SEGMENT_BYTES, 2048).with(LogConfig.INDEX_INTERVAL_BYTES, 0))) {
            test.accept(fixture);
        } finally {
            TempDirs.delete(dataDir);
        }
    }

    /**
     * {@code truncateTo} removes the batch holding the offset whole; when that batch also holds the log
     * start offset, nothing readable remains and the log restarts empty at its start offset. (It used to
     * leave the log end at 0 with the start at 5, so the next append reused offsets below the start.)
     */
    @Example
    void truncatingInsideTheBatchHoldingTheLogStartOffsetEmptiesTheLogAtItsStart() {
        withLog(fixture -> {
            PartitionLog log = fixture.log();
            log.append(Batches.batch(CompressionType.NONE, 10, T0), 0, Origin.CLIENT); // offsets 0..9, one batch
            log.deleteRecordsBefore(5);
            assertThat(log.truncateTo(7)).isEqualTo(5);
            assertThat(log.logStartOffset()).isEqualTo(5);
            assertThat(log.logEndOffset()).isEqualTo(5);
            AppendResult next = log.append(Batches.batch(CompressionType.NONE, 1, T0), 0, Origin.CLIENT);
            assertThat(next.firstOffset()).isEqualTo(5);
        });
    }

    /**
     * ListOffsets must find record 3 (time T0+500) although the record carrying its segment's max timestamp
     * (offset 2, T0+900) lies below the log start offset. Deleting segment 0..1 recomputes the partition's
     * max timestamp without segment 2..3 (its max-timestamp offset is below the start), so the next append
     * writes the time-index entry (T0+100, 5), which claims that no record below offset 5 is later than
     * T0+100, and the search for T0+200 starts after record 3.
     */
    @Example
    void offsetForTimestampFindsARecordWhoseBatchMaximumWasDeleted() {
        withLog(fixture -> {
            PartitionLog log = fixture.log();
            log.append(Batches.of(CompressionType.NONE, List.of(record(T0 + 1), record(T0 + 2))), 0, Origin.CLIENT);
            log.roll();
            log.append(Batches.of(CompressionType.NONE, List.of(record(T0 + 900), record(T0 + 500))), 0, Origin.CLIENT);
            log.roll();
            log.deleteRecordsBefore(3); // deletes segment 0..1
            log.append(Batches.of(CompressionType.NONE, List.of(record(T0 + 100))), 0, Origin.CLIENT); // offset 4
            log.append(Batches.of(CompressionType.NONE, List.of(record(T0 + 100))), 0, Origin.CLIENT); // offset 5
            assertThat(log.offsetForTimestamp(T0 + 200)).isEqualTo(new TimestampAndOffset(T0 + 500, 3, 0));
        });
    }

    /**
     * The same through a restart: recovery recomputes the max timestamp without the segment whose
     * max-timestamp record (offset 0) lies below the start offset 1, so the next append writes the
     * time-index entry (-1, 2) and the search for T0+1 starts at offset 2, after record 1 (T0+500).
     */
    @Example
    void offsetForTimestampFindsARecordWhoseBatchMaximumWasDeletedAfterARestart() {
        withLog(fixture -> {
            fixture.log()
                    .append(
                            Batches.of(CompressionType.NONE, List.of(record(T0 + 900), record(T0 + 500))),
                            0,
                            Origin.CLIENT);
            fixture.log().deleteRecordsBefore(1);
            PartitionLog log = fixture.reopen();
            log.append(Batches.of(CompressionType.NONE, List.of(record(T0))), 0, Origin.CLIENT); // offset 2
            assertThat(log.offsetForTimestamp(T0 + 1)).isEqualTo(new TimestampAndOffset(T0 + 500, 1, 0));
        });
    }

    // ---- actions ------------------------------------------------------------------------------------

    /**
     * One step of a scenario. Offsets are given in permille of {@code [logStartOffset - 1, logEndOffset +
     * 1]} as it is when the step runs, so that shrinking keeps them meaningful.
     */
    sealed interface Action {}

    record Append(int leaderEpoch, List<BatchSpec> batches) implements Action {}

    /** {@code hwPermille} -1 reads up to the log end; otherwise it places {@code maxOffsetExclusive}. */
    record Read(int fetchPermille, int maxBytes, int hwPermille) implements Action {}

    record Roll() implements Action {}

    /** Deletes closed segments from the front while the partition is larger than {@code retentionBytes}. */
    record RetainBytes(int retentionBytes) implements Action {}

    record DeleteRecordsBefore(int permille) implements Action {}

    record TruncateTo(int permille) implements Action {}

    record Flush() implements Action {}

    record Reopen() implements Action {}

    /** Drops the log without closing it (kill -9 with the page cache intact), then recovers. */
    record CrashAndReopen() implements Action {}

    record OffsetForTimestamp(long timestamp) implements Action {}

    /** The settings of one try and its actions. */
    record Scenario(int segmentBytes, int indexIntervalBytes, List<Action> actions) {
        LogConfig config() {
            return LogConfig.defaults()
                    .with(LogConfig.SEGMENT_BYTES, segmentBytes)
                    .with(LogConfig.INDEX_INTERVAL_BYTES, indexIntervalBytes)
                    .with(LogConfig.RETENTION_MS, -1);
        }
    }

    @Provide
    Arbitrary<Scenario> scenarios() {
        // Half the batches take their timestamps from a narrow band of their own, so that whole batches are
        // older or newer than others, as when producers' clocks or event times differ.
        Arbitrary<BatchSpec> banded = Arbitraries.longs()
                .between(RecordArbitraries.T0, RecordArbitraries.T0 + 999)
                .flatMap(base ->
                        RecordArbitraries.batches(20, Arbitraries.longs().between(base, base + 20), 48));
        Arbitrary<BatchSpec> batch = Arbitraries.frequencyOf(
                Tuple.of(1, RecordArbitraries.batches(20, RecordArbitraries.timestamps(), 48)), Tuple.of(1, banded));
        Arbitrary<List<BatchSpec>> batches = Arbitraries.frequencyOf(
                Tuple.of(8, batch.list().ofSize(1)),
                Tuple.of(2, batch.list().ofMinSize(2).ofMaxSize(3)));
        Arbitrary<Integer> permille =
                Arbitraries.integers().between(0, 1000).withDistribution(RandomDistribution.uniform());
        Arbitrary<Action> append = Combinators.combine(Arbitraries.integers().between(0, 3), batches)
                .as(Append::new);
        Arbitrary<Action> read = Combinators.combine(
                        permille,
                        Arbitraries.integers().between(1, 20_000),
                        Arbitraries.integers().between(-1, 1000))
                .as(Read::new);
        Arbitrary<Action> retain = Arbitraries.integers().between(0, 20_000).map(RetainBytes::new);
        Arbitrary<Action> deleteRecords = permille.map(DeleteRecordsBefore::new);
        Arbitrary<Action> truncate = permille.map(TruncateTo::new);
        Arbitrary<Action> offsetForTimestamp = RecordArbitraries.timestamps().map(OffsetForTimestamp::new);
        Arbitrary<Action> action = Arbitraries.frequencyOf(
                Tuple.of(40, append),
                Tuple.of(12, read),
                Tuple.of(5, Arbitraries.<Action>just(new Roll())),
                Tuple.of(5, retain),
                Tuple.of(7, deleteRecords),
                Tuple.of(7, truncate),
                Tuple.of(4, Arbitraries.<Action>just(new Flush())),
                Tuple.of(6, Arbitraries.<Action>just(new Reopen())),
                Tuple.of(6, Arbitraries.<Action>just(new CrashAndReopen())),
                Tuple.of(8, offsetForTimestamp));
        return Combinators.combine(
                        Arbitraries.integers().between(1024, 4096).withDistribution(RandomDistribution.uniform()),
                        Arbitraries.of(0, 64, 512, 4096),
                        action.list()
                                .ofMinSize(1)
                                .ofMaxSize(MAX_ACTIONS)
                                .withSizeDistribution(RandomDistribution.uniform()))
                .as(Scenario::new);
    }

    // ---- the model ----------------------------------------------------------------------------------

    /** A batch as the model remembers it; its records carry their offsets. */
    record ModelBatch(
            long baseOffset,
            long lastOffset,
            int sizeInBytes,
            CompressionType compression,
            int leaderEpoch,
            List<RecordView> records) {}

    /**
     * What the log must look like: whole batches by base offset, from the one holding {@code
     * logStartOffset} to the log end (records of the first batch may lie below the start offset; they are
     * still served inside their batch but never found by timestamp).
     */
    static final class LogModel {
        final TreeMap<Long, ModelBatch> batches = new TreeMap<>();
        long logStartOffset;
        long logEndOffset;

        /** The batch holding {@code offset}, or null. */
        ModelBatch batchHolding(long offset) {
            Map.Entry<Long, ModelBatch> floor = batches.floorEntry(offset);
            return floor == null || floor.getValue().lastOffset() < offset ? null : floor.getValue();
        }

        void advanceStartTo(long offset) {
            logStartOffset = Math.max(logStartOffset, offset);
            batches.values().removeIf(batch -> batch.lastOffset() < logStartOffset);
        }

        void truncateTo(long offset) {
            if (offset >= logEndOffset) {
                return;
            }
            if (offset <= logStartOffset) {
                batches.clear();
                logEndOffset = logStartOffset;
                return;
            }
            // Whole batches go: the one holding the offset and everything after it.
            long newEnd = batchHolding(offset).baseOffset();
            if (newEnd < logStartOffset) {
                // The batch holding the cut also holds the start offset: nothing readable remains.
                batches.clear();
                logEndOffset = logStartOffset;
                return;
            }
            batches.tailMap(newEnd, true).clear();
            logEndOffset = newEnd;
        }

        /** Naive {@code ListOffsets}: the first record at or after the start offset with a late enough time. */
        TimestampAndOffset offsetForTimestamp(long timestamp) {
            for (ModelBatch batch : batches.values()) {
                for (RecordView record : batch.records()) {
                    if (record.offset() >= logStartOffset && record.timestamp() >= timestamp) {
                        return new TimestampAndOffset(record.timestamp(), record.offset(), batch.leaderEpoch());
                    }
                }
            }
            return null;
        }
    }

    // ---- running a scenario -------------------------------------------------------------------------

    /** The real log, its model, and the checks between them. */
    static final class ModelCheck {
        private final LogConfig config;
        private final LogFixture fixture;
        private final LogModel model = new LogModel();
        int maxSegments;

        ModelCheck(Path dataDir, LogConfig config) {
            this.config = config;
            this.fixture = new LogFixture(dataDir, config);
        }

        PartitionLog log() {
            return fixture.log();
        }

        void close() {
            fixture.close();
        }

        /** A permille of {@code [logStartOffset - 1, logEndOffset + 1]}, so just outside the log too. */
        private long offsetAt(int permille) {
            long low = model.logStartOffset - 1;
            long high = model.logEndOffset + 1;
            return low + (permille * (high - low)) / 1000;
        }

        void apply(Action action) {
            if (action instanceof Append append) {
                append(append);
            } else if (action instanceof Read read) {
                long fetchOffset = offsetAt(read.fetchPermille());
                long maxOffsetExclusive = read.hwPermille() < 0 ? Long.MAX_VALUE : offsetAt(read.hwPermille());
                checkRead(fetchOffset, read.maxBytes(), maxOffsetExclusive);
            } else if (action instanceof Roll) {
                log().roll();
            } else if (action instanceof RetainBytes retain) {
                retainBytes(retain.retentionBytes());
            } else if (action instanceof DeleteRecordsBefore delete) {
                deleteRecordsBefore(offsetAt(delete.permille()));
            } else if (action instanceof TruncateTo truncate) {
                long offset = offsetAt(truncate.permille());
                long newEnd = log().truncateTo(offset);
                model.truncateTo(offset);
                assertThat(newEnd)
                        .as("truncateTo(%d) returns the new log end offset", offset)
                        .isEqualTo(model.logEndOffset);
            } else if (action instanceof Flush) {
                log().flush();
            } else if (action instanceof Reopen) {
                assertThat(fixture.reopen().recoveryReport().clean())
                        .as("a clean restart recovers cleanly")
                        .isTrue();
            } else if (action instanceof CrashAndReopen) {
                assertThat(fixture.crashAndReopen(() -> {}).recoveryReport().problems())
                        .as("a crash that loses nothing leaves nothing to repair")
                        .isEmpty();
            } else if (action instanceof OffsetForTimestamp find) {
                checkOffsetForTimestamp(find.timestamp());
            } else {
                throw new IllegalArgumentException("unknown action " + action);
            }
        }

        private void append(Append append) {
            List<ByteBuffer> built = new ArrayList<>();
            int total = 0;
            for (BatchSpec batch : append.batches()) {
                ByteBuffer bytes = batch.build();
                built.add(bytes);
                total += bytes.remaining();
            }
            ByteBuffer records = ByteBuffer.allocate(total);
            built.forEach(bytes -> records.put(bytes.duplicate()));
            records.flip();
            AppendResult result = log().append(records, append.leaderEpoch(), Origin.CLIENT);
            if (total > config.segmentBytes()) {
                assertThat(result.error())
                        .as("an append larger than segment.bytes")
                        .isEqualTo(Errors.RECORD_LIST_TOO_LARGE);
                return;
            }
            assertThat(result.error()).as("append: %s", result.errorMessage()).isEqualTo(Errors.NONE);
            long firstOffset = model.logEndOffset;
            for (int i = 0; i < append.batches().size(); i++) {
                BatchSpec spec = append.batches().get(i);
                long base = model.logEndOffset;
                List<RecordView> views = new ArrayList<>();
                for (int r = 0; r < spec.records().size(); r++) {
                    views.add(spec.records().get(r).at(base + r));
                }
                long last = base + views.size() - 1;
                model.batches.put(
                        base,
                        new ModelBatch(
                                base,
                                last,
                                built.get(i).remaining(),
                                spec.compression(),
                                append.leaderEpoch(),
                                List.copyOf(views)));
                model.logEndOffset = last + 1;
            }
            assertThat(result.firstOffset()).as("first offset of the append").isEqualTo(firstOffset);
            assertThat(result.lastOffset()).as("last offset of the append").isEqualTo(model.logEndOffset - 1);
            assertThat(result.recordCount()).isEqualTo((int) (model.logEndOffset - firstOffset));
        }

        private void retainBytes(int retentionBytes) {
            // retention.bytes: delete the oldest closed segment while the rest is still at least the limit.
            List<LogSegmentInfo> before = log().segments();
            long totalBytes =
                    before.stream().mapToLong(LogSegmentInfo::sizeInBytes).sum();
            int expectedDeleted = 0;
            while (before.size() - expectedDeleted > 1
                    && totalBytes - before.get(expectedDeleted).sizeInBytes() >= retentionBytes) {
                totalBytes -= before.get(expectedDeleted).sizeInBytes();
                expectedDeleted++;
            }
            log().updateConfig(config.with(LogConfig.RETENTION_BYTES, retentionBytes));
            int deleted = log().deleteExpiredSegments();
            log().updateConfig(config);
            assertThat(deleted)
                    .as("segments deleted by retention.bytes=%d of %s", retentionBytes, before)
                    .isEqualTo(expectedDeleted);
            model.advanceStartTo(before.get(expectedDeleted).baseOffset());
        }

        private void deleteRecordsBefore(long offset) {
            if (offset > model.logEndOffset) {
                assertThatThrownBy(() -> log().deleteRecordsBefore(offset))
                        .isInstanceOf(OffsetOutOfRangeException.class);
                return;
            }
            long newStart = log().deleteRecordsBefore(offset);
            model.advanceStartTo(offset);
            assertThat(newStart)
                    .as("deleteRecordsBefore(%d) returns the log start offset", offset)
                    .isEqualTo(model.logStartOffset);
        }

        // ---- checks ---------------------------------------------------------------------------------

        /** Everything that must hold between any two actions. */
        void verify() {
            PartitionLog log = log();
            maxSegments = Math.max(maxSegments, log.segments().size());
            assertThat(log.logStartOffset())
                    .as("invariant logStartOffset <= logEndOffset (%d)", log.logEndOffset())
                    .isLessThanOrEqualTo(log.logEndOffset());
            assertThat(log.logStartOffset()).as("logStartOffset").isEqualTo(model.logStartOffset);
            assertThat(log.logEndOffset()).as("logEndOffset").isEqualTo(model.logEndOffset);
            checkSegments(log.segments());
            readEverything();
            for (long timestamp : PROBE_TIMESTAMPS) {
                checkOffsetForTimestamp(timestamp);
            }
        }

        private void checkSegments(List<LogSegmentInfo> segments) {
            assertThat(segments).as("segments").isNotEmpty();
            assertThat(segments.get(0).baseOffset())
                    .as("the first segment holds the log start offset")
                    .isLessThanOrEqualTo(model.logStartOffset);
            for (int i = 0; i < segments.size(); i++) {
                LogSegmentInfo segment = segments.get(i);
                boolean last = i == segments.size() - 1;
                if (i > 0) {
                    assertThat(segment.baseOffset())
                            .as("segment %d continues the one before", i)
                            .isEqualTo(segments.get(i - 1).nextOffset());
                }
                assertThat(segment.active())
                        .as("only the last segment is active: %s", segment)
                        .isEqualTo(last);
                assertThat(segment.sizeInBytes())
                        .as("segment within segment.bytes: %s", segment)
                        .isLessThanOrEqualTo(config.segmentBytes());
            }
            assertThat(segments.get(segments.size() - 1).nextOffset())
                    .as("the active segment ends at the log end offset")
                    .isEqualTo(model.logEndOffset);
        }

        /** Reads from the start offset to the end, as a consumer catching up would. */
        private void readEverything() {
            long fetchOffset = model.logStartOffset;
            while (fetchOffset < model.logEndOffset) {
                List<ModelBatch> served = checkRead(fetchOffset, 1 << 20, Long.MAX_VALUE);
                fetchOffset = served.get(served.size() - 1).lastOffset() + 1;
            }
            checkRead(model.logEndOffset, 1 << 20, Long.MAX_VALUE);
        }

        /** Reads and checks the answer against the model; returns the model batches served. */
        private List<ModelBatch> checkRead(long fetchOffset, int maxBytes, long maxOffsetExclusive) {
            LogReadResult result = log().read(fetchOffset, maxBytes, maxOffsetExclusive);
            String what = "read(" + fetchOffset + ", " + maxBytes + ", " + maxOffsetExclusive + ")";
            if (fetchOffset < model.logStartOffset || fetchOffset > model.logEndOffset) {
                assertThat(result.error()).as(what).isEqualTo(Errors.OFFSET_OUT_OF_RANGE);
                assertThat(result.sizeInBytes()).as(what).isZero();
                return List.of();
            }
            assertThat(result.error()).as("%s: %s", what, result.errorMessage()).isEqualTo(Errors.NONE);
            assertThat(result.logStartOffset()).as(what + " logStartOffset").isEqualTo(model.logStartOffset);
            assertThat(result.logEndOffset()).as(what + " logEndOffset").isEqualTo(model.logEndOffset);

            long limit = Math.min(maxOffsetExclusive, model.logEndOffset);
            ModelBatch first = model.batchHolding(fetchOffset);
            boolean readable = first != null && first.lastOffset() < limit;
            List<RecordBatch> batches = new ArrayList<>();
            result.memoryRecords().batches().forEach(batches::add);
            if (!readable) {
                assertThat(batches).as(what + " serves nothing").isEmpty();
                return List.of();
            }
            assertThat(batches).as(what + " serves at least one batch").isNotEmpty();

            List<ModelBatch> expected = new ArrayList<>(
                    model.batches.tailMap(first.baseOffset(), true).values());
            List<ModelBatch> served = new ArrayList<>();
            int totalBytes = 0;
            for (int i = 0; i < batches.size(); i++) {
                RecordBatch batch = batches.get(i);
                assertThat(i).as(what + " serves no batch the model lacks").isLessThan(expected.size());
                ModelBatch want = expected.get(i);
                String which = what + " batch " + i;
                assertThat(batch.isValid()).as(which + " passes its CRC").isTrue();
                assertThat(batch.baseOffset()).as(which + " baseOffset").isEqualTo(want.baseOffset());
                assertThat(batch.lastOffset()).as(which + " lastOffset").isEqualTo(want.lastOffset());
                assertThat(batch.lastOffset())
                        .as(which + " lies below " + limit)
                        .isLessThan(limit);
                assertThat(batch.sizeInBytes()).as(which + " size").isEqualTo(want.sizeInBytes());
                assertThat(batch.compressionType()).as(which + " codec").isEqualTo(want.compression());
                assertThat(batch.partitionLeaderEpoch())
                        .as(which + " leader epoch")
                        .isEqualTo(want.leaderEpoch());
                assertThat(RecordView.of(batch)).as(which + " records").isEqualTo(want.records());
                totalBytes += batch.sizeInBytes();
                served.add(want);
            }
            if (batches.size() > 1) {
                assertThat(totalBytes)
                        .as(what + " stays within maxBytes after the first batch")
                        .isLessThanOrEqualTo(maxBytes);
            }
            if (served.size() < expected.size()) {
                ModelBatch next = expected.get(served.size());
                boolean sameSegment = segmentBaseOf(next.baseOffset()) == segmentBaseOf(first.baseOffset());
                boolean fits = totalBytes + next.sizeInBytes() <= maxBytes;
                assertThat(sameSegment && fits && next.lastOffset() < limit)
                        .as(what + " stopped before batch " + next.baseOffset() + " that is readable, fits and is in"
                                + " the same segment")
                        .isFalse();
            }
            return served;
        }

        private long segmentBaseOf(long offset) {
            long base = -1;
            for (LogSegmentInfo segment : log().segments()) {
                if (segment.baseOffset() <= offset) {
                    base = segment.baseOffset();
                }
            }
            return base;
        }

        private void checkOffsetForTimestamp(long timestamp) {
            assertThat(log().offsetForTimestamp(timestamp))
                    .as("offsetForTimestamp(%d)", timestamp)
                    .isEqualTo(model.offsetForTimestamp(timestamp));
        }
    }
}
