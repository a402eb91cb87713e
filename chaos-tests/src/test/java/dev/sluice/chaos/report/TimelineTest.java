package dev.sluice.chaos.report;

import static dev.sluice.chaos.check.HistoryBuilder.MS;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.chaos.check.HistoryBuilder;
import dev.sluice.chaos.history.History;
import dev.sluice.chaos.history.Outcome;
import dev.sluice.chaos.history.Send;
import org.junit.jupiter.api.Test;

class TimelineTest {
    private static final long SECOND = 1_000 * MS;

    private static Send send(long invokeMs, long latencyMs, Outcome outcome) {
        return new Send(
                1,
                "chaos",
                0,
                "k",
                invokeMs,
                invokeMs * MS,
                (invokeMs + latencyMs) * MS,
                outcome,
                outcome == Outcome.OK ? invokeMs : -1,
                null,
                -1);
    }

    @Test
    void shouldCountSendsAndComputeNearestRankPercentilesPerBucket() {
        HistoryBuilder history = new HistoryBuilder();
        for (int i = 1; i <= 100; i++) {
            history.send(send(i, i, Outcome.OK)); // latencies 1..100 ms, all completing in the first second
        }
        history.send(send(1_500, 3, Outcome.FAIL)).send(send(1_600, 3, Outcome.INFO));

        Timeline timeline = Timeline.of(history.build(), SECOND);

        assertThat(timeline.buckets()).hasSize(2);
        Timeline.Bucket first = timeline.buckets().get(0);
        assertThat(first.acked()).isEqualTo(100);
        assertThat(first.ackedPerSecond()).isEqualTo(100.0);
        assertThat(first.p50Ms()).isEqualTo(50.0);
        assertThat(first.p99Ms()).isEqualTo(99.0);
        assertThat(first.maxMs()).isEqualTo(100.0);
        Timeline.Bucket second = timeline.buckets().get(1);
        assertThat(second.acked()).isZero();
        assertThat(second.failed()).isEqualTo(1);
        assertThat(second.indeterminate()).isEqualTo(1);
        assertThat(second.p50Ms()).isNaN();
    }

    @Test
    void shouldMarkFaultsInEveryBucketTheyOverlap() {
        History history = new HistoryBuilder()
                .send(send(4_500, 1, Outcome.OK))
                .nemesis(1_500 * MS, 2_500 * MS, "kill", "node 1")
                .nemesis(3_000 * MS, 3_000 * MS, "bit-flip", "node 2")
                .nemesis(3_500 * MS, -1, "pause", "node 3")
                .build();

        Timeline timeline = Timeline.of(history, SECOND);

        assertThat(timeline.buckets())
                .extracting(Timeline.Bucket::faults)
                .containsExactly(
                        java.util.List.of(),
                        java.util.List.of("kill"),
                        java.util.List.of("kill"),
                        java.util.List.of("bit-flip", "pause"),
                        java.util.List.of("pause"));
    }

    @Test
    void shouldChooseRoundBucketsThatKeepTheTableShort() {
        assertThat(Timeline.bucketNs(10 * SECOND, 30)).isEqualTo(SECOND);
        assertThat(Timeline.bucketNs(60 * SECOND, 30)).isEqualTo(2 * SECOND);
        assertThat(Timeline.bucketNs(61 * SECOND, 30)).isEqualTo(5 * SECOND);
        assertThat(Timeline.bucketNs(600 * SECOND, 30)).isEqualTo(20 * SECOND);
        assertThat(Timeline.bucketNs(1_000_000 * SECOND, 30) * 30).isGreaterThanOrEqualTo(1_000_000 * SECOND);
    }
}
