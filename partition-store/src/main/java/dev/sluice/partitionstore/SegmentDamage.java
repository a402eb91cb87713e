package dev.sluice.partitionstore;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.LongToIntFunction;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Damage to a partition log's closed segments: the background scrub that looks for it, the reports of what
 * it and reads find (once per damaged segment, to the listeners), and the check of a replacement copy.
 * Closed segments were checked when written, so damage is what the disk did since: a batch that no longer
 * passes its CRC-32C, framing or offset continuity, or whose partition leader epoch (outside the CRC)
 * differs from the one the leader-epoch history names for its offset.
 *
 * <p>Threading: {@link #scrub} from one background thread at a time; reports from any reader; {@link
 * #forget} from the log's writer thread.
 */
final class SegmentDamage {
    private static final Logger LOG = LoggerFactory.getLogger(SegmentDamage.class);

    private final TopicPartition topicPartition;
    private final NavigableMap<Long, LogSegment> segments;
    private final LongToIntFunction epochForOffset;
    private final BooleanSupplier closed;
    /** Damaged closed segments found and not yet replaced, by base offset; each is reported once. */
    private final Map<Long, SegmentCorruption> corruptions = new ConcurrentHashMap<>();

    private final List<Consumer<SegmentCorruption>> listeners = new CopyOnWriteArrayList<>();
    /** The scrub's place: the segment it checks next (by base offset) and where in it. */
    private final Object scrubLock = new Object();

    private long scrubBase = Long.MIN_VALUE;
    private int scrubPosition;
    private long scrubExpectedOffset = -1;

    /**
     * @param segments the log's segments (the last one is the active segment, never scrubbed)
     * @param epochForOffset the leader epoch the history names for an offset, or -1 when it names none
     * @param closed whether the log is closed
     */
    SegmentDamage(
            TopicPartition topicPartition,
            NavigableMap<Long, LogSegment> segments,
            LongToIntFunction epochForOffset,
            BooleanSupplier closed) {
        this.topicPartition = topicPartition;
        this.segments = segments;
        this.epochForOffset = epochForOffset;
        this.closed = closed;
    }

    void onCorruption(Consumer<SegmentCorruption> listener) {
        listeners.add(listener);
    }

    List<SegmentCorruption> corruptions() {
        List<SegmentCorruption> result = new ArrayList<>(corruptions.values());
        result.sort((a, b) -> Long.compare(a.segmentBaseOffset(), b.segmentBaseOffset()));
        return result;
    }

    /** The segment is gone or replaced: its damage no longer counts. */
    void forget(long baseOffset) {
        corruptions.remove(baseOffset);
    }

    void forgetAll() {
        corruptions.clear();
    }

    /**
     * Checks up to about {@code maxBytes} more of the closed segments, continuing where the previous call
     * stopped: every batch's framing, CRC-32C and offset continuity, its leader epoch, and that the segment
     * ends where its metadata says. One pass; {@link #restartScrub()} starts another.
     */
    ScrubProgress scrub(long maxBytes) {
        synchronized (scrubLock) {
            long checked = 0;
            while (checked < maxBytes) {
                if (closed.getAsBoolean()) {
                    return new ScrubProgress(checked, null, true);
                }
                Map.Entry<Long, LogSegment> entry =
                        scrubBase == Long.MIN_VALUE ? segments.firstEntry() : segments.ceilingEntry(scrubBase);
                Map.Entry<Long, LogSegment> active = segments.lastEntry();
                if (entry == null || entry.getKey() >= active.getKey()) {
                    return new ScrubProgress(checked, null, true);
                }
                LogSegment segment = entry.getValue();
                if (entry.getKey() != scrubBase) {
                    scrubBase = entry.getKey();
                    scrubPosition = 0;
                    scrubExpectedOffset = segment.baseOffset;
                }
                if (corruptions.containsKey(segment.baseOffset)) {
                    scrubBase = segment.baseOffset + 1;
                    continue;
                }
                int size = segment.size();
                ByteBuffer data;
                try {
                    data = segment.file.view(0, size);
                } catch (RuntimeException e) {
                    if (segments.get(segment.baseOffset) == segment) {
                        throw e;
                    }
                    continue; // deleted or replaced meanwhile: check what is there now
                }
                while (scrubPosition < size && checked < maxBytes) {
                    SegmentScanner.Step step = SegmentScanner.check(data, scrubPosition, size, scrubExpectedOffset);
                    String problem = step.ok() ? epochProblem(data, step) : step.describe();
                    if (problem != null) {
                        SegmentCorruption found = corruptionAt(segment, step, problem);
                        scrubBase = segment.baseOffset + 1;
                        return new ScrubProgress(checked, report(segment, found) ? found : null, false);
                    }
                    checked += step.sizeInBytes();
                    scrubExpectedOffset = step.lastOffset() + 1;
                    scrubPosition = step.end();
                }
                if (scrubPosition >= size) {
                    if (scrubExpectedOffset != segment.nextOffset && segments.get(segment.baseOffset) == segment) {
                        String problem = "the segment ends at offset " + scrubExpectedOffset + " (position " + size
                                + ") but its metadata says " + segment.nextOffset;
                        SegmentCorruption found = new SegmentCorruption(
                                topicPartition,
                                segment.baseOffset,
                                segment.file.path(),
                                size,
                                SegmentScanner.Problem.TRUNCATED,
                                problem);
                        scrubBase = segment.baseOffset + 1;
                        return new ScrubProgress(checked, report(segment, found) ? found : null, false);
                    }
                    scrubBase = segment.baseOffset + 1;
                }
            }
            return new ScrubProgress(checked, null, false);
        }
    }

    void restartScrub() {
        synchronized (scrubLock) {
            scrubBase = Long.MIN_VALUE;
        }
    }

    /** Null when the batch's leader epoch is the one the history names for its offset, else the problem. */
    private String epochProblem(ByteBuffer data, SegmentScanner.Step step) {
        int expected = epochForOffset.applyAsInt(step.baseOffset());
        int actual = BatchHeader.partitionLeaderEpoch(data, step.position());
        if (expected < 0 || actual == expected) {
            return null;
        }
        return "batch at position " + step.position() + " (offsets " + step.baseOffset() + ".." + step.lastOffset()
                + ") carries leader epoch " + actual + " but the leader-epoch history says " + expected;
    }

    private SegmentCorruption corruptionAt(LogSegment segment, SegmentScanner.Step step, String description) {
        SegmentScanner.Problem problem = step.ok() ? SegmentScanner.Problem.CRC_MISMATCH : step.problem();
        return new SegmentCorruption(
                topicPartition, segment.baseOffset, segment.file.path(), step.position(), problem, description);
    }

    /** A read ran into a bad batch: reports it when it lies in a closed segment. */
    void reportIfClosed(LogSegment segment, SegmentScanner.Step step) {
        Map.Entry<Long, LogSegment> active = segments.lastEntry();
        if (step.problem() == SegmentScanner.Problem.END
                || active == null
                || active.getValue() == segment
                || segments.get(segment.baseOffset) != segment) {
            return;
        }
        report(segment, corruptionAt(segment, step, step.describe()));
    }

    /** Records the damage and tells the listeners; false when it was known already. */
    private boolean report(LogSegment segment, SegmentCorruption corruption) {
        if (segments.get(segment.baseOffset) != segment
                || corruptions.putIfAbsent(segment.baseOffset, corruption) != null) {
            return false;
        }
        for (Consumer<SegmentCorruption> listener : listeners) {
            try {
                listener.accept(corruption);
            } catch (RuntimeException e) {
                LOG.warn("{}: a corruption listener failed", topicPartition, e);
            }
        }
        return true;
    }

    /** Null when {@code copy} holds exactly the batches of {@code segment}, else what differs. */
    String checkCopy(LogSegment segment, ByteBuffer data) {
        if (data.capacity() != segment.size()) {
            return "it has " + data.capacity() + " bytes, the segment " + segment.size();
        }
        int position = 0;
        long expected = segment.baseOffset;
        while (position < data.capacity()) {
            SegmentScanner.Step step = SegmentScanner.check(data, position, data.capacity(), expected);
            String problem = step.ok() ? epochProblem(data, step) : step.describe();
            if (problem != null) {
                return problem;
            }
            expected = step.lastOffset() + 1;
            position = step.end();
        }
        return expected == segment.nextOffset
                ? null
                : "it ends at offset " + expected + ", the segment at " + segment.nextOffset;
    }
}
