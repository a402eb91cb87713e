package dev.sluice.tools.groups;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;

/**
 * Computes the new committed offsets of a {@code sluice groups reset-offsets}, as Kafka's
 * {@code kafka-consumer-groups --reset-offsets} does. Pure: the offsets the cluster reported come in as
 * arguments.
 *
 * <p>Invariant: every planned offset is within its partition's {@code [logStartOffset, logEndOffset]}.
 */
public final class ResetPlanner {
    private ResetPlanner() {}

    /**
     * A partition's readable range, from ListOffsets earliest and latest.
     *
     * @param logStartOffset the first offset still in the log
     * @param logEndOffset the offset the next record will get
     */
    public record LogRange(long logStartOffset, long logEndOffset) {
        public LogRange {
            if (logStartOffset < 0 || logEndOffset < logStartOffset) {
                throw new IllegalArgumentException("expected 0 <= logStartOffset <= logEndOffset, got logStartOffset="
                        + logStartOffset + ", logEndOffset=" + logEndOffset);
            }
        }

        /** {@code offset} moved into the range. */
        public long clamp(long offset) {
            return Math.max(logStartOffset, Math.min(logEndOffset, offset));
        }
    }

    /**
     * One partition's reset.
     *
     * @param committedOffset the group's committed offset before the reset, or null when it had none
     */
    public record PlannedOffset(TopicPartition partition, Long committedOffset, long newOffset) {}

    /**
     * The new offset of every partition in {@code ranges}, sorted by topic and partition (planned in that
     * order, so a failure names the first partition that fails).
     *
     * @param committed the group's committed offsets (partitions without one are absent)
     * @param ranges each partition's log start and end offsets
     * @param timestampOffsets for {@code --to-datetime} and {@code --by-duration}: the first offset at or
     *     after the timestamp; partitions without such a record are absent (they go to the log end)
     * @throws IllegalArgumentException for {@code --shift-by} on a partition without a committed offset
     */
    public static List<PlannedOffset> plan(
            ResetScenario scenario,
            Map<TopicPartition, Long> committed,
            Map<TopicPartition, LogRange> ranges,
            Map<TopicPartition, Long> timestampOffsets) {
        List<TopicPartition> partitions = new ArrayList<>(ranges.keySet());
        partitions.sort(Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition));
        List<PlannedOffset> plan = new ArrayList<>();
        for (TopicPartition tp : partitions) {
            Long current = committed.get(tp);
            plan.add(new PlannedOffset(
                    tp, current, newOffset(scenario, tp, current, ranges.get(tp), timestampOffsets.get(tp))));
        }
        return plan;
    }

    /** One partition's new offset; see {@link #plan}. */
    static long newOffset(
            ResetScenario scenario, TopicPartition tp, Long committedOffset, LogRange range, Long timestampOffset) {
        if (scenario instanceof ResetScenario.ToEarliest) {
            return range.logStartOffset();
        }
        if (scenario instanceof ResetScenario.ToLatest) {
            return range.logEndOffset();
        }
        if (scenario instanceof ResetScenario.ToOffset toOffset) {
            return range.clamp(toOffset.offset());
        }
        if (scenario instanceof ResetScenario.ShiftBy shiftBy) {
            if (committedOffset == null) {
                throw new IllegalArgumentException("cannot shift the offset of " + tp
                        + ": the group has no committed offset there; use --to-offset, --to-earliest or"
                        + " --to-latest for it");
            }
            return range.clamp(saturatedAdd(committedOffset, shiftBy.delta()));
        }
        // --to-datetime and --by-duration: no record at or after the time means the log end.
        return timestampOffset == null ? range.logEndOffset() : range.clamp(timestampOffset);
    }

    private static long saturatedAdd(long a, long b) {
        long sum = a + b;
        if (((a ^ sum) & (b ^ sum)) < 0) {
            return b < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
        return sum;
    }
}
