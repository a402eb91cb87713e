package dev.sluice.coordinator.group;

import static dev.sluice.coordinator.group.GroupTestDriver.GROUP;
import static dev.sluice.coordinator.group.GroupTestDriver.joinRequest;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.coordinator.group.GroupRecord.GroupMetadata;
import dev.sluice.coordinator.group.GroupTestDriver.StableGroup;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.LeaveGroupRequestData;
import org.apache.kafka.common.message.LeaveGroupRequestData.MemberIdentity;
import org.apache.kafka.common.message.LeaveGroupResponseData;
import org.apache.kafka.common.message.LeaveGroupResponseData.MemberResponse;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;

class LeaveGroupTest {
    private final GroupTestDriver driver = new GroupTestDriver();

    private LeaveGroupResponseData leaveSingle(String memberId, short version) {
        long handle = driver.send(new GroupCommand.LeaveGroup(
                driver.context(version),
                new LeaveGroupRequestData().setGroupId(GROUP).setMemberId(memberId)));
        return driver.response(handle, LeaveGroupResponseData.class);
    }

    @Test
    void shouldRemoveASingleMemberBeforeVersion3AndAnswerWithATopLevelError() {
        StableGroup group = driver.stableGroup(2);

        LeaveGroupResponseData left = leaveSingle(group.follower(), (short) 2);
        LeaveGroupResponseData stranger = leaveSingle("nobody", (short) 2);

        assertThat(left.errorCode()).isEqualTo(Errors.NONE.code());
        assertThat(left.members()).isEmpty();
        assertThat(stranger.errorCode()).isEqualTo(Errors.UNKNOWN_MEMBER_ID.code());
        assertThat(driver.state.groupState(GROUP)).isEqualTo(GroupState.PREPARING_REBALANCE);
    }

    @Test
    void shouldRemoveABatchFromVersion3AndAnswerEachMember() {
        StableGroup group = driver.stableGroup(3);

        LeaveGroupResponseData response = driver.leave(
                new MemberIdentity().setMemberId(group.memberIds().get(1)),
                new MemberIdentity().setMemberId("nobody"),
                new MemberIdentity().setMemberId(group.memberIds().get(2)));

        assertThat(response.errorCode()).isEqualTo(Errors.NONE.code());
        assertThat(response.members())
                .extracting(MemberResponse::memberId, MemberResponse::errorCode)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple(group.memberIds().get(1), Errors.NONE.code()),
                        org.assertj.core.groups.Tuple.tuple("nobody", Errors.UNKNOWN_MEMBER_ID.code()),
                        org.assertj.core.groups.Tuple.tuple(group.memberIds().get(2), Errors.NONE.code()));
    }

    @Test
    void shouldAnswerEveryMemberWithUnknownMemberIdForAnUnknownGroup() {
        LeaveGroupResponseData response = driver.leave(new MemberIdentity().setMemberId("a"));

        assertThat(response.errorCode()).isEqualTo(Errors.NONE.code());
        assertThat(response.members()).singleElement().satisfies(m -> assertThat(m.errorCode())
                .isEqualTo(Errors.UNKNOWN_MEMBER_ID.code()));
    }

    @Test
    void shouldRebalanceWithoutTheLeaderWhenTheLeaderLeaves() {
        StableGroup group = driver.stableGroup(2);

        driver.leave(new MemberIdentity().setMemberId(group.leader()));
        long rejoin = driver.join(joinRequest(group.follower()));

        JoinGroupResponseData response = driver.joinResponse(rejoin);
        assertThat(response.leader()).isEqualTo(group.follower());
        assertThat(response.generationId()).isEqualTo(group.generationId() + 1);
    }

    @Test
    void shouldEmptyAndPersistTheGroupWhenTheLastMemberLeaves() {
        StableGroup group = driver.stableGroup(1);

        LeaveGroupResponseData response = driver.leave(new MemberIdentity().setMemberId(group.leader()));

        assertThat(driver.state.groupState(GROUP)).isEqualTo(GroupState.EMPTY);
        assertThat(driver.lastRecords).singleElement().isInstanceOfSatisfying(GroupMetadata.class, m -> {
            assertThat(m.generationId()).isEqualTo(group.generationId() + 1);
            assertThat(m.members()).isEmpty();
            assertThat(m.currentStateTimestampMs()).isEqualTo(driver.nowMs);
        });
        assertThat(driver.completions.values())
                .filteredOn(c -> c.response() == response)
                .singleElement()
                .satisfies(c -> assertThat(c.awaitsCommit()).isTrue());
    }

    @Test
    void shouldForgetAPendingMemberIdThatLeaves() {
        String pending = driver.newMemberId(joinRequest(""));

        LeaveGroupResponseData response = driver.leave(new MemberIdentity().setMemberId(pending));
        long rejoin = driver.join(joinRequest(pending));

        assertThat(response.members().get(0).errorCode()).isEqualTo(Errors.NONE.code());
        assertThat(driver.joinResponse(rejoin).errorCode()).isEqualTo(Errors.UNKNOWN_MEMBER_ID.code());
    }

    @Test
    void shouldAnswerAMemberParkedInJoinWithUnknownMemberIdWhenItIsRemoved() {
        StableGroup group = driver.stableGroup(2);
        long parked = driver.join(joinRequest(group.leader()));

        driver.leave(new MemberIdentity().setMemberId(group.leader()));

        assertThat(driver.joinResponse(parked).errorCode()).isEqualTo(Errors.UNKNOWN_MEMBER_ID.code());
    }
}
