package dev.sluice.coordinator.group;

import static dev.sluice.coordinator.group.GroupTestDriver.GROUP;
import static dev.sluice.coordinator.group.GroupTestDriver.SESSION_MS;
import static dev.sluice.coordinator.group.GroupTestDriver.joinRequest;
import static dev.sluice.coordinator.group.GroupTestDriver.partitionsOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.coordinator.group.GroupTestDriver.StableGroup;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.LeaveGroupRequestData.MemberIdentity;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;

/** A new leader rebuilds the groups by replay and resumes them. */
class ReplayTest {
    private final GroupTestDriver driver = new GroupTestDriver();

    @Test
    void shouldRebuildTheSamePersistedViewFromTheRecords() {
        StableGroup group = driver.stableGroup(3);
        driver.commit(group.leader(), group.generationId(), "t", 0, 10);
        driver.commit(group.leader(), group.generationId(), "t", 1, 11);
        driver.send(new GroupCommand.OffsetCommit(
                driver.context((short) 8),
                GroupTestDriver.commitRequest("", -1, "x", 0, 1).setGroupId("simple")));
        driver.deleteOffsets("nothing", 0);

        GroupCoordinatorState replayed = driver.newState();
        driver.log.forEach(replayed::replay);

        assertThat(replayed.persistedRecords()).isEqualTo(driver.state.persistedRecords());
        assertThat(replayed.groupState(GROUP)).isEqualTo(GroupState.STABLE);
        assertThat(replayed.generationId(GROUP)).isEqualTo(group.generationId());
    }

    @Test
    void shouldRebuildTheSameViewFromTheLatestRecordOfEachKeyInAnyOrder() {
        StableGroup group = driver.stableGroup(2);
        driver.commit(group.leader(), group.generationId(), "t", 0, 10);
        driver.commit(group.leader(), group.generationId(), "t", 0, 12);
        driver.leave(new MemberIdentity().setMemberId(group.follower()));
        driver.join(joinRequest(group.leader()));

        List<GroupRecord> compacted = new ArrayList<>(driver.state.persistedRecords());
        Collections.reverse(compacted);
        GroupCoordinatorState replayed = driver.newState();
        compacted.forEach(replayed::replay);

        assertThat(replayed.persistedRecords()).isEqualTo(driver.state.persistedRecords());
    }

    @Test
    void shouldLetMembersOfAReloadedGroupCarryOnWithHeartbeatsAndSyncs() {
        StableGroup group = driver.stableGroup(2);
        driver.advance(SESSION_MS - 1);

        driver.failOver();

        assertThat(driver.state.groupState(GROUP)).isEqualTo(GroupState.STABLE);
        driver.advance(SESSION_MS - 1); // sessions count from the load, not from the last heartbeat
        assertThat(driver.heartbeat(group.leader(), group.generationId())).isEqualTo(Errors.NONE);
        assertThat(driver.heartbeat(group.follower(), group.generationId())).isEqualTo(Errors.NONE);
        long sync = driver.sync(group.follower(), group.generationId());
        assertThat(partitionsOf(driver.syncResponse(sync).assignment())).hasSize(1);
    }

    @Test
    void shouldExpireMembersOfAReloadedGroupThatDoNotHeartbeat() {
        StableGroup group = driver.stableGroup(2);
        driver.failOver();

        driver.advanceHeartbeating(SESSION_MS, group.generationId(), group.leader());

        assertThat(driver.heartbeat(group.follower(), group.generationId())).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
        assertThat(driver.state.groupState(GROUP)).isEqualTo(GroupState.PREPARING_REBALANCE);
    }

    @Test
    void shouldLoseARebalanceInProgressAndResumeFromTheLastPersistedGeneration() {
        StableGroup group = driver.stableGroup(2);
        long leaderJoin = driver.join(joinRequest(group.leader()));
        long followerJoin = driver.join(joinRequest(group.follower()));
        assertThat(driver.joinResponse(leaderJoin).generationId()).isEqualTo(group.generationId() + 1);

        driver.failOver();

        assertThat(driver.joinResponse(followerJoin).errorCode()).isEqualTo(Errors.NONE.code());
        assertThat(driver.state.generationId(GROUP)).isEqualTo(group.generationId());
        // The members hold the lost generation: the new coordinator tells them to rejoin.
        assertThat(driver.heartbeat(group.leader(), group.generationId() + 1)).isEqualTo(Errors.ILLEGAL_GENERATION);
        JoinGroupResponseData rejoin = driver.joinResponse(driver.join(joinRequest(group.follower())));
        assertThat(rejoin.errorCode()).isEqualTo(Errors.NONE.code());
    }

    @Test
    void shouldAnswerParkedRequestsWithNotCoordinatorOnUnload() {
        StableGroup group = driver.stableGroup(2);
        long parked = driver.join(joinRequest(group.leader()));
        GroupCoordinatorState old = driver.state;

        GroupResult result = old.unload();

        assertThat(result.completions()).singleElement().satisfies(c -> {
            assertThat(c.requestHandle()).isEqualTo(parked);
            assertThat(((JoinGroupResponseData) c.response()).errorCode()).isEqualTo(Errors.NOT_COORDINATOR.code());
        });
        assertThatThrownBy(() -> old.tick(driver.nowMs)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void shouldRefuseReplayOnceActiveAndRequestsBeforeActivation() {
        GroupCoordinatorState fresh = driver.newState();

        assertThatThrownBy(() -> fresh.handle(
                        new GroupCommand.JoinGroup(driver.context((short) 9), joinRequest("")), driver.nowMs))
                .isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> driver.state.replay(new GroupRecord.GroupTombstone(GROUP)))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void shouldRebalanceAReloadedGroupLargerThanTheMaximumSize() {
        driver.stableGroup(3);
        GroupCoordinatorState small =
                new GroupCoordinatorState(GroupCoordinatorConfig.parse(Map.of("group.max.size", "2")));
        driver.log.forEach(small::replay);

        small.activate(driver.nowMs);

        assertThat(small.groupState(GROUP)).isEqualTo(GroupState.PREPARING_REBALANCE);
    }

    @Test
    void shouldReloadAnEmptyGroupWithItsProtocolType() {
        StableGroup group = driver.stableGroup(1);
        driver.leave(new MemberIdentity().setMemberId(group.leader()));

        driver.failOver();

        assertThat(driver.state.groupState(GROUP)).isEqualTo(GroupState.EMPTY);
        assertThat(driver.describe((short) 5).protocolType()).isEqualTo("consumer");
        assertThat(driver.state.generationId(GROUP)).isEqualTo(group.generationId() + 1);
    }
}
