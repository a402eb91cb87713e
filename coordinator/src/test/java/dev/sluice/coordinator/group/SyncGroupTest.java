package dev.sluice.coordinator.group;

import static dev.sluice.coordinator.group.GroupTestDriver.GROUP;
import static dev.sluice.coordinator.group.GroupTestDriver.REBALANCE_MS;
import static dev.sluice.coordinator.group.GroupTestDriver.assignment;
import static dev.sluice.coordinator.group.GroupTestDriver.joinRequest;
import static dev.sluice.coordinator.group.GroupTestDriver.partitionsOf;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.coordinator.group.GroupRecord.GroupMetadata;
import dev.sluice.coordinator.group.GroupRecord.MemberMetadata;
import dev.sluice.coordinator.group.GroupTestDriver.StableGroup;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SyncGroupTest {
    private final GroupTestDriver driver = new GroupTestDriver();
    private JoinGroupResponseData leader;
    private JoinGroupResponseData follower;

    /** Two members have joined; the group waits for the leader's assignment. */
    @BeforeEach
    void twoMembersJoined() {
        long first = driver.joinNew(joinRequest(""));
        long second = driver.joinNew(joinRequest(""));
        driver.passInitialDelay();
        leader = driver.joinResponse(first);
        follower = driver.joinResponse(second);
        assertThat(driver.state.groupState(GROUP)).isEqualTo(GroupState.COMPLETING_REBALANCE);
    }

    private static Errors error(SyncGroupResponseData response) {
        return Errors.forCode(response.errorCode());
    }

    private Map<String, byte[]> assignments() {
        return Map.of(
                leader.memberId(), assignment(new TopicPartition("t", 0)),
                follower.memberId(), assignment(new TopicPartition("t", 1)));
    }

    @Test
    void shouldParkAFollowerUntilTheLeaderSendsTheAssignment() {
        long followerSync = driver.sync(follower.memberId(), follower.generationId());
        assertThat(driver.isParked(followerSync)).isTrue();

        long leaderSync = driver.sync(leader.memberId(), leader.generationId(), assignments());

        assertThat(partitionsOf(driver.syncResponse(followerSync).assignment()))
                .containsExactly(new TopicPartition("t", 1));
        assertThat(partitionsOf(driver.syncResponse(leaderSync).assignment()))
                .containsExactly(new TopicPartition("t", 0));
        assertThat(driver.syncResponse(leaderSync).protocolName()).isEqualTo("range");
        assertThat(driver.syncResponse(leaderSync).protocolType()).isEqualTo("consumer");
        assertThat(driver.state.groupState(GROUP)).isEqualTo(GroupState.STABLE);
    }

    @Test
    void shouldPersistTheLeadersAssignmentAndHoldTheAnswersUntilItIsCommitted() {
        long followerSync = driver.sync(follower.memberId(), follower.generationId());
        long leaderSync = driver.sync(leader.memberId(), leader.generationId(), assignments());

        assertThat(driver.lastRecords).singleElement().isInstanceOfSatisfying(GroupMetadata.class, m -> {
            assertThat(m.generationId()).isEqualTo(1);
            assertThat(m.protocolType()).isEqualTo("consumer");
            assertThat(m.protocolName()).isEqualTo("range");
            assertThat(m.leaderId()).isEqualTo(leader.memberId());
            assertThat(m.members())
                    .extracting(MemberMetadata::memberId)
                    .containsExactly(leader.memberId(), follower.memberId());
            assertThat(m.members().get(1).assignment()).isEqualTo(assignments().get(follower.memberId()));
            assertThat(m.members().get(1).subscription()).isEqualTo(GroupTestDriver.subscription("t"));
            assertThat(m.members().get(1).sessionTimeoutMs()).isEqualTo(GroupTestDriver.SESSION_MS);
            assertThat(m.members().get(1).clientHost()).isEqualTo("/127.0.0.1");
        });
        assertThat(driver.completion(followerSync).awaitsCommit()).isTrue();
        assertThat(driver.completion(leaderSync).awaitsCommit()).isTrue();
    }

    @Test
    void shouldAnswerAFollowerSyncingAfterTheLeaderOnceTheAssignmentIsCommitted() {
        driver.sync(leader.memberId(), leader.generationId(), assignments());

        long late = driver.sync(follower.memberId(), follower.generationId());

        assertThat(error(driver.syncResponse(late))).isEqualTo(Errors.NONE);
        assertThat(partitionsOf(driver.syncResponse(late).assignment())).containsExactly(new TopicPartition("t", 1));
        assertThat(driver.completion(late).awaitsCommit()).isTrue();
    }

    @Test
    void shouldGiveAnEmptyAssignmentToAMemberTheLeaderLeftOut() {
        long followerSync = driver.sync(follower.memberId(), follower.generationId());
        driver.sync(leader.memberId(), leader.generationId(), Map.of(leader.memberId(), assignment()));

        assertThat(driver.syncResponse(followerSync).assignment()).isEmpty();
    }

    @Test
    void shouldRejectAnotherGenerationWithIllegalGeneration() {
        long handle = driver.sync(follower.memberId(), follower.generationId() - 1);

        assertThat(error(driver.syncResponse(handle))).isEqualTo(Errors.ILLEGAL_GENERATION);
    }

    @Test
    void shouldRejectAStrangerWithUnknownMemberId() {
        long stranger = driver.sync("nobody", follower.generationId());
        long unknownGroup = driver.send(new GroupCommand.SyncGroup(
                driver.context((short) 5),
                new SyncGroupRequestData().setGroupId("other").setMemberId("m").setGenerationId(1)));

        assertThat(error(driver.syncResponse(stranger))).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
        assertThat(error(driver.syncResponse(unknownGroup))).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
    }

    @Test
    void shouldRejectAnotherProtocolNameWithInconsistentGroupProtocol() {
        long handle = driver.send(new GroupCommand.SyncGroup(
                driver.context((short) 5),
                new SyncGroupRequestData()
                        .setGroupId(GROUP)
                        .setMemberId(follower.memberId())
                        .setGenerationId(follower.generationId())
                        .setProtocolType("consumer")
                        .setProtocolName("roundrobin")));

        assertThat(error(driver.syncResponse(handle))).isEqualTo(Errors.INCONSISTENT_GROUP_PROTOCOL);
    }

    @Test
    void shouldAnswerRebalanceInProgressWhileTheGroupPreparesARebalance() {
        driver.sync(leader.memberId(), leader.generationId(), assignments());
        driver.join(joinRequest(leader.memberId()));

        long handle = driver.sync(follower.memberId(), follower.generationId());

        assertThat(error(driver.syncResponse(handle))).isEqualTo(Errors.REBALANCE_IN_PROGRESS);
    }

    @Test
    void shouldAnswerParkedFollowersWithRebalanceInProgressWhenARebalanceStartsBeforeTheAssignment() {
        long followerSync = driver.sync(follower.memberId(), follower.generationId());

        driver.joinNew(joinRequest(""));

        assertThat(error(driver.syncResponse(followerSync))).isEqualTo(Errors.REBALANCE_IN_PROGRESS);
        assertThat(driver.state.groupState(GROUP)).isEqualTo(GroupState.PREPARING_REBALANCE);
    }

    @Test
    void shouldRemoveMembersThatNeverSyncAndRebalance() {
        long followerSync = driver.sync(follower.memberId(), follower.generationId());

        // The leader is alive (it heartbeats) but never sends its SyncGroup.
        driver.advanceHeartbeating(REBALANCE_MS, leader.generationId(), leader.memberId());

        assertThat(error(driver.syncResponse(followerSync))).isEqualTo(Errors.REBALANCE_IN_PROGRESS);
        assertThat(driver.state.groupState(GROUP)).isEqualTo(GroupState.PREPARING_REBALANCE);
        assertThat(driver.heartbeat(leader.memberId(), leader.generationId())).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
    }

    @Test
    void shouldAnswerAStableMembersSyncWithItsAssignment() {
        GroupTestDriver d = new GroupTestDriver();
        StableGroup group = d.stableGroup(3);

        long handle = d.sync(group.follower(), group.generationId());

        assertThat(error(d.syncResponse(handle))).isEqualTo(Errors.NONE);
        assertThat(partitionsOf(d.syncResponse(handle).assignment())).hasSize(1);
    }
}
