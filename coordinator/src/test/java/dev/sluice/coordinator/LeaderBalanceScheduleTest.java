package dev.sluice.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class LeaderBalanceScheduleTest {
    private static final long PERIOD_NS = 30_000_000_000L;
    private static final SortedSet<Integer> THREE = new TreeSet<>(List.of(1, 2, 3));
    private static final SortedSet<Integer> TWO = new TreeSet<>(List.of(1, 2));

    @Test
    void shouldRunTheFirstPassAtOnce() {
        LeaderBalanceSchedule schedule = new LeaderBalanceSchedule(PERIOD_NS);

        assertThat(schedule.due(THREE, 0)).isTrue();
    }

    @Test
    void shouldWaitForThePeriodWhenNothingChanged() {
        LeaderBalanceSchedule schedule = new LeaderBalanceSchedule(PERIOD_NS);
        schedule.ran(THREE, 1_000, false);

        assertThat(schedule.due(THREE, 1_000 + PERIOD_NS - 1)).isFalse();
        assertThat(schedule.due(THREE, 1_000 + PERIOD_NS)).isTrue();
    }

    @Test
    void shouldRunAgainWhenANodeIsFencedOrComesBack() {
        LeaderBalanceSchedule schedule = new LeaderBalanceSchedule(PERIOD_NS);
        schedule.ran(THREE, 0, false);

        assertThat(schedule.due(TWO, 1)).isTrue();
        schedule.ran(TWO, 1, false);
        assertThat(schedule.due(TWO, 2)).isFalse();
        assertThat(schedule.due(THREE, 2)).isTrue();
    }

    @Test
    void shouldRunAgainAfterAPassThatReorderedUntilOneFindsNothing() {
        LeaderBalanceSchedule schedule = new LeaderBalanceSchedule(PERIOD_NS);
        schedule.ran(THREE, 0, true);

        assertThat(schedule.due(THREE, 1)).isTrue();
        schedule.ran(THREE, 1, false);
        assertThat(schedule.due(THREE, 2)).isFalse();
    }

    @Test
    void shouldRunAtOnceAfterLeadershipOfTheGroupIsRegained() {
        LeaderBalanceSchedule schedule = new LeaderBalanceSchedule(PERIOD_NS);
        schedule.ran(THREE, 0, false);

        schedule.reset();

        assertThat(schedule.due(THREE, 1)).isTrue();
    }
}
