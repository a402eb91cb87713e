package dev.sluice.chaos.report;

import dev.sluice.chaos.history.History;
import dev.sluice.chaos.history.NemesisEvent;
import dev.sluice.chaos.history.Outcome;
import dev.sluice.chaos.history.Poll;
import dev.sluice.chaos.history.Send;
import dev.sluice.chaos.history.Txn;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A run's sends cut into equal time buckets by completion time: per bucket the acknowledged, refused and
 * indeterminate sends, the latency percentiles of the acknowledged ones, and the kinds of fault active at any
 * time within it. The summary table and the chart both draw from it. Immutable.
 *
 * @param bucketNs the width of a bucket
 * @param spanNs the run's span: the last time anything in the history happened
 * @param buckets the buckets, from time zero to the span
 */
record Timeline(long bucketNs, long spanNs, List<Bucket> buckets) {
    private static final long SECOND_NS = 1_000_000_000L;
    private static final long[] NICE_SECONDS = {1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1800, 3600};

    Timeline {
        buckets = List.copyOf(buckets);
    }

    /**
     * One bucket, {@code [startNs, endNs)}. Latencies are {@code NaN} when no send was acknowledged in it.
     *
     * @param faults the kinds of nemesis event active at some time in the bucket, in start order
     */
    record Bucket(
            long startNs,
            long endNs,
            long acked,
            long failed,
            long indeterminate,
            double p50Ms,
            double p99Ms,
            double maxMs,
            List<String> faults) {
        Bucket {
            faults = List.copyOf(faults);
        }

        double ackedPerSecond() {
            return acked * (double) SECOND_NS / (endNs - startNs);
        }
    }

    /** @return a timeline whose buckets are a whole number of seconds, at most {@code maxBuckets} of them */
    static Timeline withAtMost(History history, int maxBuckets) {
        long spanNs = spanNs(history);
        return of(history, bucketNs(spanNs, maxBuckets));
    }

    static Timeline of(History history, long bucketNs) {
        if (bucketNs <= 0) {
            throw new IllegalArgumentException("bucketNs must be positive, was " + bucketNs);
        }
        long spanNs = spanNs(history);
        boolean empty = history.sends().isEmpty() && history.nemesis().isEmpty();
        int count = empty ? 0 : (int) Math.max(1, (spanNs + bucketNs - 1) / bucketNs);
        long[][] latencies = new long[count][];
        int[] latencyCounts = new int[count];
        long[][] outcomes = new long[count][Outcome.values().length];
        for (Send send : history.sends()) {
            int b = (int) Math.min(count - 1, Math.max(0, send.completeNs() / bucketNs));
            outcomes[b][send.outcome().ordinal()]++;
            if (send.outcome() == Outcome.OK) {
                if (latencies[b] == null) {
                    latencies[b] = new long[16];
                } else if (latencyCounts[b] == latencies[b].length) {
                    latencies[b] = Arrays.copyOf(latencies[b], latencyCounts[b] * 2);
                }
                latencies[b][latencyCounts[b]++] = send.completeNs() - send.invokeNs();
            }
        }
        List<Bucket> buckets = new ArrayList<>(count);
        for (int b = 0; b < count; b++) {
            long start = b * bucketNs;
            long[] sorted = latencies[b] == null ? new long[0] : Arrays.copyOf(latencies[b], latencyCounts[b]);
            Arrays.sort(sorted);
            buckets.add(new Bucket(
                    start,
                    start + bucketNs,
                    outcomes[b][Outcome.OK.ordinal()],
                    outcomes[b][Outcome.FAIL.ordinal()],
                    outcomes[b][Outcome.INFO.ordinal()],
                    percentileMs(sorted, 0.50),
                    percentileMs(sorted, 0.99),
                    percentileMs(sorted, 1.0),
                    faultsBetween(history.nemesis(), start, start + bucketNs, spanNs)));
        }
        return new Timeline(bucketNs, spanNs, buckets);
    }

    /** @return the smallest whole-second bucket width from a list of round ones giving at most {@code max} */
    static long bucketNs(long spanNs, int maxBuckets) {
        for (long seconds : NICE_SECONDS) {
            if (spanNs <= seconds * SECOND_NS * maxBuckets) {
                return seconds * SECOND_NS;
            }
        }
        long seconds = (spanNs / SECOND_NS + maxBuckets - 1) / maxBuckets + 1;
        return seconds * SECOND_NS;
    }

    /** @return the last time anything in the history happened (0 for an empty history) */
    static long spanNs(History history) {
        long span = 0;
        for (Send send : history.sends()) {
            span = Math.max(span, send.completeNs());
        }
        for (Poll poll : history.polls()) {
            span = Math.max(span, poll.completeNs());
        }
        for (Txn txn : history.txns()) {
            span = Math.max(span, txn.completeNs());
        }
        for (NemesisEvent event : history.nemesis()) {
            span = Math.max(span, Math.max(event.startNs(), event.endNs()));
        }
        return span;
    }

    /** @return an event's end for drawing: its heal time, or the span while it lasts */
    static long endNs(NemesisEvent event, long spanNs) {
        return event.endNs() < 0 ? Math.max(spanNs, event.startNs()) : event.endNs();
    }

    /** Nearest rank: the smallest value with at least {@code p} of the values at or below it. */
    static double percentileMs(long[] sortedNs, double p) {
        if (sortedNs.length == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(p * sortedNs.length);
        return sortedNs[Math.max(0, rank - 1)] / 1e6;
    }

    private static List<String> faultsBetween(List<NemesisEvent> events, long fromNs, long toNs, long spanNs) {
        Set<String> kinds = new LinkedHashSet<>();
        for (NemesisEvent event : events) {
            long end = Math.max(endNs(event, spanNs), event.startNs() + 1);
            if (event.startNs() < toNs && end > fromNs) {
                kinds.add(event.kind());
            }
        }
        return new ArrayList<>(kinds);
    }
}
