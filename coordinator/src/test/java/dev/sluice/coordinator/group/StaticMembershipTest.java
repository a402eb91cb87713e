package dev.sluice.coordinator.group;

import static dev.sluice.coordinator.group.GroupTestDriver.GROUP;
import static dev.sluice.coordinator.group.GroupTestDriver.REBALANCE_MS;
import static dev.sluice.coordinator.group.GroupTestDriver.SESSION_MS;
import static dev.sluice.coordinator.group.GroupTestDriver.assignment;
import static dev.sluice.coordinator.group.GroupTestDriver.joinRequest;
import static dev.sluice.coordinator.group.GroupTestDriver.partitionsOf;
import static dev.sluice.coordinator.group.GroupTestDriver.protocols;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.coordinator.group.GroupRecord.GroupMetadata;
import dev.sluice.coordinator.group.GroupRecord.MemberMetadata;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.JoinGroupResponseData.JoinGroupResponseMember;
import org.apache.kafka.common.message.LeaveGroupRequestData.MemberIdentity;
import org.apache.kafka.common.message.OffsetCommitResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Two static members, {@code a} (the leader) and {@code b}, in a stable group. */
class StaticMembershipTest {
    private final GroupTestDriver driver = new GroupTestDriver();
    private String a;
    private String b;
    private int generation;

    private static JoinGroupRequestData staticJoin(String instanceId, String memberId) {
        return joinRequest(memberId).setGroupInstanceId(instanceId);
    }

    @BeforeEach
    void twoStaticMembers() {
        long joinA = driver.join(staticJoin("a", ""));
        long joinB = driver.join(staticJoin("b", ""));
        driver.passInitialDelay();
        a = driver.joinResponse(joinA).memberId();
        b = driver.joinResponse(joinB).memberId();
        generation = driver.joinResponse(joinA).generationId();
        assertThat(a).startsWith("a-");
        assertThat(driver.joinResponse(joinA).leader()).isEqualTo(a);
        driver.sync(
                a,
                generation,
                Map.of(a, assignment(new TopicPartition("t", 0)), b, assignment(new TopicPartition("t", 1))));
        driver.sync(b, generation);
        assertThat(driver.state.groupState(GROUP)).isEqualTo(GroupState.STABLE);
    }

    @Test
    void shouldNotAskForAMemberIdFromAStaticMember() {
        // (covered by the setup: a v9 join with an instance id and no member id is added at once)
        assertThat(driver.completions.values())
                .noneMatch(c -> c.response() instanceof JoinGroupResponseData r
                        && r.errorCode() == Errors.MEMBER_ID_REQUIRED.code());
    }

    @Test
    void shouldReplaceARestartedFollowerWithoutRebalanceAndPersistItsNewMemberId() {
        long rejoin = driver.join(staticJoin("b", ""));

        JoinGroupResponseData response = driver.joinResponse(rejoin);
        assertThat(response.errorCode()).isEqualTo(Errors.NONE.code());
        assertThat(response.memberId()).isNotEqualTo(b).startsWith("b-");
        assertThat(response.generationId()).isEqualTo(generation);
        assertThat(driver.completion(rejoin).awaitsCommit()).isTrue();
        assertThat(driver.state.groupState(GROUP)).isEqualTo(GroupState.STABLE);
        assertThat(driver.lastRecords).singleElement().isInstanceOfSatisfying(GroupMetadata.class, m -> assertThat(
                        m.members())
                .extracting(MemberMetadata::memberId)
                .containsExactly(a, response.memberId()));

        long sync = driver.sync(response.memberId(), generation);
        assertThat(partitionsOf(driver.syncResponse(sync).assignment())).containsExactly(new TopicPartition("t", 1));
    }

    @Test
    void shouldFenceTheOldMemberIdOfAReplacedInstance() {
        driver.join(staticJoin("b", ""));

        assertThat(driver.heartbeat(b, "b", generation)).isEqualTo(Errors.FENCED_INSTANCE_ID);
        long sync = driver.send(new GroupCommand.SyncGroup(
                driver.context((short) 5),
                new org.apache.kafka.common.message.SyncGroupRequestData()
                        .setGroupId(GROUP)
                        .setMemberId(b)
                        .setGroupInstanceId("b")
                        .setGenerationId(generation)));
        assertThat(driver.syncResponse(sync).errorCode()).isEqualTo(Errors.FENCED_INSTANCE_ID.code());
        long commit = driver.commit(
                GroupTestDriver.commitRequest(b, generation, "t", 1, 5).setGroupInstanceId("b"), (short) 8);
        assertThat(driver.response(commit, OffsetCommitResponseData.class)
                        .topics()
                        .get(0)
                        .partitions()
                        .get(0)
                        .errorCode())
                .isEqualTo(Errors.FENCED_INSTANCE_ID.code());
        long join = driver.join(staticJoin("b", b));
        assertThat(driver.joinResponse(join).errorCode()).isEqualTo(Errors.FENCED_INSTANCE_ID.code());
    }

    @Test
    void shouldLetARestartedLeaderSkipTheAssignmentFromVersion9() {
        long rejoin = driver.join(staticJoin("a", ""));

        JoinGroupResponseData response = driver.joinResponse(rejoin);
        assertThat(response.leader()).isEqualTo(response.memberId());
        assertThat(response.skipAssignment()).isTrue();
        assertThat(response.members())
                .extracting(JoinGroupResponseMember::memberId)
                .containsExactly(response.memberId(), b);
        assertThat(driver.state.groupState(GROUP)).isEqualTo(GroupState.STABLE);
    }

    @Test
    void shouldTellARestartedLeaderBeforeVersion9ThatItFollows() {
        long rejoin = driver.join(staticJoin("a", ""), (short) 8);

        JoinGroupResponseData response = driver.joinResponse(rejoin);
        assertThat(response.leader()).isEqualTo(a).isNotEqualTo(response.memberId());
        assertThat(response.members()).isEmpty();
    }

    @Test
    void shouldRebalanceWhenARestartedInstanceChangesTheChosenProtocol() {
        // Both members also support roundrobin now, both prefer it: the chosen protocol would change.
        driver.join(staticJoin("b", "").setProtocols(protocols("roundrobin", "range")));
        assertThat(driver.state.groupState(GROUP)).isEqualTo(GroupState.STABLE);
        long rejoinA = driver.join(staticJoin("a", "").setProtocols(protocols("roundrobin", "range")));

        assertThat(driver.isParked(rejoinA)).isTrue();
        assertThat(driver.state.groupState(GROUP)).isEqualTo(GroupState.PREPARING_REBALANCE);
    }

    @Test
    void shouldKeepAStaticMemberThatDidNotRejoinInTheNextGeneration() {
        long rejoinA = driver.join(staticJoin("a", a));
        driver.advanceHeartbeating(REBALANCE_MS, generation, b);

        JoinGroupResponseData response = driver.joinResponse(rejoinA);
        assertThat(response.generationId()).isEqualTo(generation + 1);
        assertThat(response.members())
                .extracting(JoinGroupResponseMember::memberId)
                .containsExactly(a, b);
    }

    @Test
    void shouldRemoveAStaticMemberWhoseSessionExpires() {
        driver.advanceHeartbeating(SESSION_MS, generation, a);

        assertThat(driver.state.groupState(GROUP)).isEqualTo(GroupState.PREPARING_REBALANCE);
        assertThat(driver.heartbeat(b, "b", generation)).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
    }

    @Test
    void shouldRemoveAStaticMemberByInstanceIdAlone() {
        var response = driver.leave(new MemberIdentity().setMemberId("").setGroupInstanceId("b"));

        assertThat(response.members().get(0).errorCode()).isEqualTo(Errors.NONE.code());
        assertThat(driver.state.groupState(GROUP)).isEqualTo(GroupState.PREPARING_REBALANCE);
    }

    @Test
    void shouldFenceALeaveWithAStaleMemberIdOfTheInstance() {
        var response = driver.leave(new MemberIdentity().setMemberId("b-stale").setGroupInstanceId("b"));

        assertThat(response.members().get(0).errorCode()).isEqualTo(Errors.FENCED_INSTANCE_ID.code());
    }

    @Test
    void shouldRebalanceWhenAStaticMemberIsReplacedWhileTheGroupCompletesARebalance() {
        long rejoinA = driver.join(staticJoin("a", a));
        long rejoinB = driver.join(staticJoin("b", b));
        assertThat(driver.state.groupState(GROUP)).isEqualTo(GroupState.COMPLETING_REBALANCE);
        assertThat(driver.joinResponse(rejoinA).errorCode()).isEqualTo(Errors.NONE.code());
        assertThat(driver.joinResponse(rejoinB).errorCode()).isEqualTo(Errors.NONE.code());

        long restarted = driver.join(staticJoin("b", ""));

        assertThat(driver.isParked(restarted)).isTrue();
        assertThat(driver.state.groupState(GROUP)).isEqualTo(GroupState.PREPARING_REBALANCE);
    }

    @Test
    void shouldAnswerAParkedJoinOfTheReplacedMemberIdWithFencedInstanceId() {
        long parked = driver.join(staticJoin("a", a)); // the leader rejoins: a rebalance, its join parks

        long restarted = driver.join(staticJoin("a", ""));

        assertThat(driver.joinResponse(parked).errorCode()).isEqualTo(Errors.FENCED_INSTANCE_ID.code());
        assertThat(driver.isParked(restarted)).isTrue();
    }
}
