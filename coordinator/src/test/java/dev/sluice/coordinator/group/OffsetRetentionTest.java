package dev.sluice.coordinator.group;

import static dev.sluice.coordinator.group.GroupTestDriver.GROUP;
import static dev.sluice.coordinator.group.GroupTestDriver.commitRequest;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.coordinator.group.GroupRecord.GroupTombstone;
import dev.sluice.coordinator.group.GroupRecord.OffsetTombstone;
import dev.sluice.coordinator.group.GroupTestDriver.StableGroup;
import java.util.Map;
import org.apache.kafka.common.message.LeaveGroupRequestData.MemberIdentity;
import org.junit.jupiter.api.Test;

/** Offsets retention with {@code offsets.retention.minutes=1}, checked every second. */
class OffsetRetentionTest {
    private static final long RETENTION_MS = 60_000;
    private static final long CHECK_MS = 1_000;

    private final GroupTestDriver driver = new GroupTestDriver(GroupCoordinatorConfig.parse(
            Map.of("offsets.retention.minutes", "1", "offsets.retention.check.interval.ms", Long.toString(CHECK_MS))));

    @Test
    void shouldExpireTheOffsetsOfAnEmptyGroupARetentionAfterItBecameEmptyAndThenDeleteIt() {
        StableGroup group = driver.stableGroup(1);
        driver.commit(group.leader(), group.generationId(), "t", 0, 5);
        driver.advanceHeartbeating(2 * RETENTION_MS, group.generationId(), group.leader());
        assertThat(driver.committed("t", 0))
                .as("a stable group keeps its subscribed offsets")
                .isEqualTo(5);
        driver.leave(new MemberIdentity().setMemberId(group.leader()));
        int logSize = driver.log.size();

        driver.advance(RETENTION_MS - CHECK_MS);
        assertThat(driver.log).hasSize(logSize);
        driver.advance(CHECK_MS);

        assertThat(driver.log.subList(logSize, driver.log.size()))
                .containsExactly(new OffsetTombstone(GROUP, "t", 0), new GroupTombstone(GROUP));
        assertThat(driver.state.groupIds()).isEmpty();
    }

    @Test
    void shouldExpireEachOffsetOfAGroupWithoutMembersARetentionAfterItsCommit() {
        driver.commit("", -1, "t", 0, 1);
        driver.advance(RETENTION_MS / 2);
        driver.commit("", -1, "t", 1, 2);

        driver.advance(RETENTION_MS / 2);
        assertThat(driver.committed("t", 0)).isEqualTo(-1);
        assertThat(driver.committed("t", 1)).isEqualTo(2);
        assertThat(driver.state.groupState(GROUP)).isEqualTo(GroupState.EMPTY);

        driver.advance(RETENTION_MS / 2);
        assertThat(driver.committed("t", 1)).isEqualTo(-1);
        assertThat(driver.state.groupIds()).isEmpty();
    }

    @Test
    void shouldExpireOffsetsOfTopicsNoMemberOfAStableGroupSubscribesTo() {
        StableGroup group = driver.stableGroup(1);
        driver.commit(group.leader(), group.generationId(), "t", 0, 1);
        driver.commit(group.leader(), group.generationId(), "old", 0, 1);

        driver.advanceHeartbeating(RETENTION_MS + CHECK_MS, group.generationId(), group.leader());

        assertThat(driver.committed("old", 0)).isEqualTo(-1);
        assertThat(driver.committed("t", 0)).isEqualTo(1);
    }

    @Test
    void shouldExpireACommitWithAnExplicitRetentionTimeAtItsExpiry() {
        driver.commit(commitRequest("", -1, "t", 0, 1).setRetentionTimeMs(5_000), (short) 2);

        driver.advance(4_000);
        assertThat(driver.committed("t", 0)).isEqualTo(1);
        driver.advance(1_000);
        assertThat(driver.committed("t", 0)).isEqualTo(-1);
    }

    @Test
    void shouldDeleteAnEmptyGroupThatHasNoOffsetsAtTheNextCheck() {
        StableGroup group = driver.stableGroup(1);
        driver.leave(new MemberIdentity().setMemberId(group.leader()));
        assertThat(driver.state.groupState(GROUP)).isEqualTo(GroupState.EMPTY);

        driver.advance(CHECK_MS);

        assertThat(driver.state.groupIds()).isEmpty();
        assertThat(driver.log.get(driver.log.size() - 1)).isEqualTo(new GroupTombstone(GROUP));
    }
}
