package dev.sluice.coordinator.group;

import static dev.sluice.coordinator.group.GroupTestDriver.GROUP;
import static dev.sluice.coordinator.group.GroupTestDriver.SESSION_MS;
import static dev.sluice.coordinator.group.GroupTestDriver.joinRequest;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.coordinator.group.GroupTestDriver.StableGroup;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.HeartbeatResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;

class HeartbeatTest {
    private final GroupTestDriver driver = new GroupTestDriver();

    @Test
    void shouldAnswerNoneToAMemberOfAStableGroup() {
        StableGroup group = driver.stableGroup(2);

        assertThat(driver.heartbeat(group.follower(), group.generationId())).isEqualTo(Errors.NONE);
    }

    @Test
    void shouldAnswerRebalanceInProgressWhileTheGroupRebalances() {
        StableGroup group = driver.stableGroup(2);
        driver.join(joinRequest(group.leader()));

        assertThat(driver.heartbeat(group.follower(), group.generationId())).isEqualTo(Errors.REBALANCE_IN_PROGRESS);
    }

    @Test
    void shouldRejectAnotherGenerationWithIllegalGeneration() {
        StableGroup group = driver.stableGroup(1);

        assertThat(driver.heartbeat(group.leader(), group.generationId() + 1)).isEqualTo(Errors.ILLEGAL_GENERATION);
    }

    @Test
    void shouldRejectAStrangerOrAnUnknownGroupWithUnknownMemberId() {
        StableGroup group = driver.stableGroup(1);
        long unknownGroup = driver.send(new GroupCommand.Heartbeat(
                driver.context((short) 4),
                new HeartbeatRequestData().setGroupId("other").setMemberId("m").setGenerationId(1)));

        assertThat(driver.heartbeat("nobody", group.generationId())).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
        assertThat(driver.response(unknownGroup, HeartbeatResponseData.class).errorCode())
                .isEqualTo(Errors.UNKNOWN_MEMBER_ID.code());
    }

    @Test
    void shouldKeepAMemberThatHeartbeatsWithinItsSession() {
        StableGroup group = driver.stableGroup(1);

        driver.advanceHeartbeating(10 * SESSION_MS, group.generationId(), group.leader());

        assertThat(driver.state.groupState(GROUP)).isEqualTo(GroupState.STABLE);
        assertThat(driver.heartbeat(group.leader(), group.generationId())).isEqualTo(Errors.NONE);
    }

    @Test
    void shouldRemoveAMemberWhoseSessionExpiresAndRebalanceTheOthers() {
        StableGroup group = driver.stableGroup(2);
        driver.advance(SESSION_MS - 1);
        driver.heartbeat(group.leader(), group.generationId());

        driver.advance(1);

        assertThat(driver.state.groupState(GROUP)).isEqualTo(GroupState.PREPARING_REBALANCE);
        assertThat(driver.heartbeat(group.follower(), group.generationId())).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
        assertThat(driver.heartbeat(group.leader(), group.generationId())).isEqualTo(Errors.REBALANCE_IN_PROGRESS);
    }

    @Test
    void shouldEmptyTheGroupWhenTheLastSessionExpires() {
        StableGroup group = driver.stableGroup(1);

        driver.advance(SESSION_MS);

        assertThat(driver.state.groupState(GROUP)).isEqualTo(GroupState.EMPTY);
        assertThat(driver.state.generationId(GROUP)).isEqualTo(group.generationId() + 1);
    }

    @Test
    void shouldCountAnOffsetCommitAsASignOfLife() {
        StableGroup group = driver.stableGroup(1);
        for (int i = 0; i < 5; i++) {
            driver.advance(SESSION_MS - 1);
            assertThat(driver.commit(group.leader(), group.generationId(), "t", 0, i))
                    .isEqualTo(Errors.NONE);
        }

        assertThat(driver.heartbeat(group.leader(), group.generationId())).isEqualTo(Errors.NONE);
    }

    @Test
    void shouldRejectAnEmptyGroupIdWithInvalidGroupId() {
        long handle = driver.send(new GroupCommand.Heartbeat(
                driver.context((short) 4),
                new HeartbeatRequestData().setGroupId("").setMemberId("m")));

        assertThat(driver.response(handle, HeartbeatResponseData.class).errorCode())
                .isEqualTo(Errors.INVALID_GROUP_ID.code());
    }
}
