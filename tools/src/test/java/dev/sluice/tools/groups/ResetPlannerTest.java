package dev.sluice.tools.groups;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.tools.groups.ResetPlanner.LogRange;
import dev.sluice.tools.groups.ResetPlanner.PlannedOffset;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class ResetPlannerTest {
    private static final TopicPartition A0 = new TopicPartition("a", 0);
    private static final TopicPartition A1 = new TopicPartition("a", 1);
    private static final TopicPartition B0 = new TopicPartition("b", 0);
    private static final Map<TopicPartition, LogRange> RANGES =
            Map.of(A0, new LogRange(10, 100), A1, new LogRange(0, 0), B0, new LogRange(5, 50));
    private static final Map<TopicPartition, Long> COMMITTED = Map.of(A0, 40L, A1, 0L, B0, 48L);

    @Test
    void shouldResetToEarliestAndLatestSortedByTopicAndPartition() {
        assertThat(ResetPlanner.plan(new ResetScenario.ToEarliest(), COMMITTED, RANGES, Map.of()))
                .containsExactly(
                        new PlannedOffset(A0, 40L, 10), new PlannedOffset(A1, 0L, 0), new PlannedOffset(B0, 48L, 5));
        assertThat(ResetPlanner.plan(new ResetScenario.ToLatest(), COMMITTED, RANGES, Map.of()))
                .extracting(PlannedOffset::newOffset)
                .containsExactly(100L, 0L, 50L);
    }

    @Test
    void shouldClampATargetOffsetToTheLog() {
        assertThat(ResetPlanner.plan(new ResetScenario.ToOffset(3), COMMITTED, RANGES, Map.of()))
                .extracting(PlannedOffset::newOffset)
                .containsExactly(10L, 0L, 5L);
        assertThat(ResetPlanner.plan(new ResetScenario.ToOffset(70), COMMITTED, RANGES, Map.of()))
                .extracting(PlannedOffset::newOffset)
                .containsExactly(70L, 0L, 50L);
    }

    @Test
    void shouldShiftFromTheCommittedOffsetAndClamp() {
        assertThat(ResetPlanner.plan(new ResetScenario.ShiftBy(-35), COMMITTED, RANGES, Map.of()))
                .extracting(PlannedOffset::newOffset)
                .containsExactly(10L, 0L, 13L);
        assertThat(ResetPlanner.plan(new ResetScenario.ShiftBy(5), COMMITTED, RANGES, Map.of()))
                .extracting(PlannedOffset::newOffset)
                .containsExactly(45L, 0L, 50L);
        assertThat(ResetPlanner.plan(new ResetScenario.ShiftBy(Long.MIN_VALUE), COMMITTED, RANGES, Map.of()))
                .extracting(PlannedOffset::newOffset)
                .containsExactly(10L, 0L, 5L);
    }

    @Test
    void shouldRefuseToShiftAPartitionWithoutCommittedOffset() {
        assertThatThrownBy(() -> ResetPlanner.plan(new ResetScenario.ShiftBy(1), Map.of(A0, 40L), RANGES, Map.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cannot shift the offset of a-1")
                .hasMessageContaining("no committed offset");
    }

    @Test
    void shouldGoToTheLogEndWhenNoRecordIsAtOrAfterTheTimestamp() {
        Map<TopicPartition, Long> found = Map.of(A0, 30L, B0, 2L);

        assertThat(ResetPlanner.plan(new ResetScenario.ToDatetime(1_000), Map.of(), RANGES, found))
                .containsExactly(
                        new PlannedOffset(A0, null, 30),
                        new PlannedOffset(A1, null, 0),
                        new PlannedOffset(B0, null, 5));
        assertThat(ResetPlanner.plan(new ResetScenario.ByDuration(Duration.ofMinutes(1)), Map.of(), RANGES, Map.of()))
                .extracting(PlannedOffset::newOffset)
                .containsExactly(100L, 0L, 50L);
    }

    @Test
    void plannedOffsetsStayWithinTheLog() {
        Random random = new Random(11);
        for (int i = 0; i < 2_000; i++) {
            Map<TopicPartition, LogRange> ranges = new HashMap<>();
            Map<TopicPartition, Long> committed = new HashMap<>();
            Map<TopicPartition, Long> timestamps = new HashMap<>();
            for (int p = 0; p < 4; p++) {
                TopicPartition tp = new TopicPartition("t", p);
                long start = random.nextInt(100);
                ranges.put(tp, new LogRange(start, start + random.nextInt(100)));
                committed.put(tp, (long) random.nextInt(300));
                if (random.nextBoolean()) {
                    timestamps.put(tp, (long) random.nextInt(300));
                }
            }
            long value = random.nextInt(600) - 300;
            for (ResetScenario scenario : List.of(
                    new ResetScenario.ToEarliest(),
                    new ResetScenario.ToLatest(),
                    new ResetScenario.ToOffset(Math.abs(value)),
                    new ResetScenario.ShiftBy(value),
                    new ResetScenario.ToDatetime(value))) {
                for (PlannedOffset planned : ResetPlanner.plan(scenario, committed, ranges, timestamps)) {
                    LogRange range = ranges.get(planned.partition());
                    assertThat(planned.newOffset())
                            .as("%s of %s", scenario, planned.partition())
                            .isBetween(range.logStartOffset(), range.logEndOffset());
                }
            }
        }
    }
}
