package dev.sluice.coordinator.group;

import static dev.sluice.coordinator.group.GroupTestDriver.GROUP;
import static dev.sluice.coordinator.group.GroupTestDriver.REBALANCE_MS;
import static dev.sluice.coordinator.group.GroupTestDriver.SESSION_MS;
import static dev.sluice.coordinator.group.GroupTestDriver.joinRequest;
import static dev.sluice.coordinator.group.GroupTestDriver.protocols;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.coordinator.group.GroupRecord.GroupMetadata;
import dev.sluice.coordinator.group.GroupTestDriver.StableGroup;
import java.util.Map;
import org.apache.kafka.common.message.JoinGroupRequestData.JoinGroupRequestProtocol;
import org.apache.kafka.common.message.JoinGroupRequestData.JoinGroupRequestProtocolCollection;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.JoinGroupResponseData.JoinGroupResponseMember;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;

class JoinGroupTest {
    private final GroupTestDriver driver = new GroupTestDriver();

    private static Errors error(JoinGroupResponseData response) {
        return Errors.forCode(response.errorCode());
    }

    @Test
    void shouldRejectEmptyGroupIdWithInvalidGroupId() {
        long handle = driver.join(joinRequest("").setGroupId(""));

        assertThat(error(driver.joinResponse(handle))).isEqualTo(Errors.INVALID_GROUP_ID);
    }

    @Test
    void shouldRejectSessionTimeoutOutsideTheConfiguredBounds() {
        long tooShort = driver.join(joinRequest("").setSessionTimeoutMs(driver.config.minSessionTimeoutMs() - 1));
        long tooLong = driver.join(joinRequest("").setSessionTimeoutMs(driver.config.maxSessionTimeoutMs() + 1));

        assertThat(error(driver.joinResponse(tooShort))).isEqualTo(Errors.INVALID_SESSION_TIMEOUT);
        assertThat(error(driver.joinResponse(tooLong))).isEqualTo(Errors.INVALID_SESSION_TIMEOUT);
        assertThat(driver.state.groupIds()).isEmpty();
    }

    @Test
    void shouldHandOutMemberIdWithMemberIdRequiredFromVersion4() {
        JoinGroupResponseData response = driver.joinResponse(driver.join(joinRequest(""), (short) 4));

        assertThat(error(response)).isEqualTo(Errors.MEMBER_ID_REQUIRED);
        assertThat(response.memberId()).startsWith("client-");
        assertThat(driver.state.groupState(GROUP)).isEqualTo(GroupState.EMPTY);
        assertThat(driver.log).isEmpty();
    }

    @Test
    void shouldAddDynamicMemberWithoutMemberIdBeforeVersion4() {
        long handle = driver.join(joinRequest(""), (short) 3);

        assertThat(driver.isParked(handle)).isTrue();
        assertThat(driver.state.groupState(GROUP)).isEqualTo(GroupState.PREPARING_REBALANCE);
        driver.passInitialDelay();
        JoinGroupResponseData response = driver.joinResponse(handle);
        assertThat(error(response)).isEqualTo(Errors.NONE);
        assertThat(response.memberId()).startsWith("client-");
        assertThat(response.generationId()).isEqualTo(1);
    }

    @Test
    void shouldRejectKnownMemberIdForUnknownGroupWithUnknownMemberId() {
        JoinGroupResponseData response = driver.joinResponse(driver.join(joinRequest("m-1")));

        assertThat(error(response)).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
        assertThat(driver.state.groupIds()).isEmpty();
    }

    @Test
    void shouldRejectEmptyProtocolTypeOrNoProtocolsWithInconsistentGroupProtocol() {
        long noType = driver.join(joinRequest("").setProtocolType(""));
        long noProtocols = driver.join(joinRequest("").setProtocols(new JoinGroupRequestProtocolCollection()));

        assertThat(error(driver.joinResponse(noType))).isEqualTo(Errors.INCONSISTENT_GROUP_PROTOCOL);
        assertThat(error(driver.joinResponse(noProtocols))).isEqualTo(Errors.INCONSISTENT_GROUP_PROTOCOL);
        assertThat(driver.state.groupIds()).isEmpty();
    }

    @Test
    void shouldRejectAnotherProtocolTypeOrDisjointProtocolsWithInconsistentGroupProtocol() {
        driver.stableGroup(1);

        long otherType = driver.join(joinRequest("").setProtocolType("connect"));
        long disjoint = driver.join(joinRequest("").setProtocols(protocols("roundrobin")));

        assertThat(error(driver.joinResponse(otherType))).isEqualTo(Errors.INCONSISTENT_GROUP_PROTOCOL);
        assertThat(error(driver.joinResponse(disjoint))).isEqualTo(Errors.INCONSISTENT_GROUP_PROTOCOL);
        assertThat(driver.state.groupState(GROUP)).isEqualTo(GroupState.STABLE);
    }

    @Test
    void shouldSelectTheProtocolEveryMemberSupportsWithMostVotes() {
        // Two prefer roundrobin, one prefers range; sticky is supported by only two.
        long a = driver.joinNew(joinRequest("").setProtocols(protocols("roundrobin", "range")));
        long b = driver.joinNew(joinRequest("").setProtocols(protocols("sticky", "roundrobin", "range")));
        long c = driver.joinNew(joinRequest("").setProtocols(protocols("range", "sticky", "roundrobin")));
        driver.passInitialDelay();

        for (long handle : new long[] {a, b, c}) {
            assertThat(driver.joinResponse(handle).protocolName()).isEqualTo("roundrobin");
        }
    }

    @Test
    void shouldElectTheFirstMemberLeaderAndSendOnlyItTheMembersAndTheirMetadata() {
        long first = driver.joinNew(joinRequest(""));
        long second = driver.joinNew(joinRequest(""));
        driver.passInitialDelay();

        JoinGroupResponseData leader = driver.joinResponse(first);
        JoinGroupResponseData follower = driver.joinResponse(second);
        assertThat(leader.leader()).isEqualTo(leader.memberId()).isEqualTo(follower.leader());
        assertThat(leader.members())
                .extracting(JoinGroupResponseMember::memberId)
                .containsExactly(leader.memberId(), follower.memberId());
        assertThat(leader.members().get(0).metadata()).isEqualTo(GroupTestDriver.subscription("t"));
        assertThat(follower.members()).isEmpty();
        assertThat(leader.generationId()).isEqualTo(follower.generationId()).isEqualTo(1);
        assertThat(driver.state.groupState(GROUP)).isEqualTo(GroupState.COMPLETING_REBALANCE);
    }

    @Test
    void shouldDelayTheInitialRebalanceAndExtendTheDelayForEachNewMember() {
        int delay = driver.config.initialRebalanceDelayMs();
        long first = driver.joinNew(joinRequest(""));
        driver.advance(delay - 1);
        long second = driver.joinNew(joinRequest(""));
        driver.advance(1);

        assertThat(driver.isParked(first)).as("extended by the second member").isTrue();
        driver.advance(delay - 1);
        assertThat(driver.isParked(first)).isTrue();
        driver.advance(1);
        assertThat(error(driver.joinResponse(first))).isEqualTo(Errors.NONE);
        assertThat(error(driver.joinResponse(second))).isEqualTo(Errors.NONE);
    }

    @Test
    void shouldEndTheInitialDelayAtTheRebalanceTimeoutEvenIfMembersKeepJoining() {
        int delay = driver.config.initialRebalanceDelayMs();
        int rebalanceMs = 4 * delay;
        long first = driver.joinNew(joinRequest("").setRebalanceTimeoutMs(rebalanceMs));
        long start = driver.nowMs;
        while (driver.isParked(first)) {
            driver.joinNew(joinRequest("").setRebalanceTimeoutMs(rebalanceMs));
            driver.advance(delay / 2);
        }

        assertThat(driver.nowMs - start).isLessThanOrEqualTo(rebalanceMs + delay);
    }

    @Test
    void shouldDropDynamicMembersThatDoNotRejoinWithinTheRebalanceTimeout() {
        StableGroup group = driver.stableGroup(2);

        long handle = driver.join(joinRequest(group.leader()));
        assertThat(driver.state.groupState(GROUP)).isEqualTo(GroupState.PREPARING_REBALANCE);
        // The follower keeps its session alive with heartbeats, but does not rejoin.
        driver.advanceHeartbeating(REBALANCE_MS - 1, group.generationId(), group.follower());
        assertThat(driver.isParked(handle)).isTrue();
        driver.advance(1);

        JoinGroupResponseData response = driver.joinResponse(handle);
        assertThat(response.generationId()).isEqualTo(group.generationId() + 1);
        assertThat(response.members())
                .extracting(JoinGroupResponseMember::memberId)
                .containsExactly(group.leader());
        assertThat(driver.heartbeat(group.follower(), response.generationId())).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
    }

    @Test
    void shouldMoveLeadershipToAMemberThatRejoinedWhenTheLeaderDidNot() {
        StableGroup group = driver.stableGroup(2);
        JoinGroupRequestProtocolCollection changed = new JoinGroupRequestProtocolCollection();
        changed.add(
                new JoinGroupRequestProtocol().setName("range").setMetadata(GroupTestDriver.subscription("t", "u")));

        long handle = driver.join(joinRequest(group.follower()).setProtocols(changed));
        driver.advanceHeartbeating(REBALANCE_MS, group.generationId(), group.leader());

        JoinGroupResponseData response = driver.joinResponse(handle);
        assertThat(response.leader()).isEqualTo(group.follower());
        assertThat(response.members())
                .extracting(JoinGroupResponseMember::memberId)
                .containsExactly(group.follower());
    }

    @Test
    void shouldCompleteTheJoinPhaseAsSoonAsEveryMemberRejoined() {
        StableGroup group = driver.stableGroup(2);

        long leader = driver.join(joinRequest(group.leader()));
        assertThat(driver.isParked(leader)).isTrue();
        long follower = driver.join(joinRequest(group.follower()));

        assertThat(driver.joinResponse(leader).generationId()).isEqualTo(group.generationId() + 1);
        assertThat(driver.joinResponse(follower).generationId()).isEqualTo(group.generationId() + 1);
        assertThat(driver.state.groupState(GROUP)).isEqualTo(GroupState.COMPLETING_REBALANCE);
    }

    @Test
    void shouldRejectANewMemberOfAFullGroupWithGroupMaxSizeReached() {
        GroupTestDriver small = new GroupTestDriver(GroupCoordinatorConfig.parse(Map.of("group.max.size", "2")));
        small.stableGroup(2);

        JoinGroupResponseData response = small.joinResponse(small.join(joinRequest("")));

        assertThat(error(response)).isEqualTo(Errors.GROUP_MAX_SIZE_REACHED);
        assertThat(small.state.groupState(GROUP)).isEqualTo(GroupState.STABLE);
    }

    @Test
    void shouldExpireAPendingMemberIdAfterTheSessionTimeout() {
        String memberId = driver.newMemberId(joinRequest(""));
        driver.advance(SESSION_MS);

        JoinGroupResponseData response = driver.joinResponse(driver.join(joinRequest(memberId)));

        assertThat(error(response)).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
    }

    @Test
    void shouldAnswerAFollowerRejoiningWithTheSameMetadataWithTheCurrentGeneration() {
        StableGroup group = driver.stableGroup(2);

        JoinGroupResponseData response = driver.joinResponse(driver.join(joinRequest(group.follower())));

        assertThat(error(response)).isEqualTo(Errors.NONE);
        assertThat(response.generationId()).isEqualTo(group.generationId());
        assertThat(response.leader()).isEqualTo(group.leader());
        assertThat(driver.state.groupState(GROUP)).isEqualTo(GroupState.STABLE);
    }

    @Test
    void shouldRebalanceWhenTheLeaderRejoins() {
        StableGroup group = driver.stableGroup(2);

        long handle = driver.join(joinRequest(group.leader()));

        assertThat(driver.isParked(handle)).isTrue();
        assertThat(driver.state.groupState(GROUP)).isEqualTo(GroupState.PREPARING_REBALANCE);
    }

    @Test
    void shouldRebalanceWhenAMemberChangesItsMetadata() {
        StableGroup group = driver.stableGroup(2);
        JoinGroupRequestProtocolCollection changed = new JoinGroupRequestProtocolCollection();
        changed.add(
                new JoinGroupRequestProtocol().setName("range").setMetadata(GroupTestDriver.subscription("t", "u")));

        long handle = driver.join(joinRequest(group.follower()).setProtocols(changed));

        assertThat(driver.isParked(handle)).isTrue();
        assertThat(driver.state.groupState(GROUP)).isEqualTo(GroupState.PREPARING_REBALANCE);
    }

    @Test
    void shouldDropANewMemberWhoseJoinWaitsLongerThanTheNewMemberJoinTimeout() {
        GroupTestDriver d =
                new GroupTestDriver(GroupCoordinatorConfig.defaults().withNewMemberJoinTimeoutMs(30_000));
        StableGroup group = d.stableGroup(1);
        long newcomer = d.joinNew(joinRequest(""));
        // The old member heartbeats but never rejoins: the join phase would last the full rebalance timeout.
        d.advanceHeartbeating(30_000, group.generationId(), group.leader());

        assertThat(error(d.joinResponse(newcomer))).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
        assertThat(d.joinResponse(newcomer).memberId()).isEmpty();
    }

    @Test
    void shouldPersistAnEmptyGroupWhenNoMemberIsLeftAfterTheJoinPhase() {
        GroupTestDriver d =
                new GroupTestDriver(GroupCoordinatorConfig.defaults().withNewMemberJoinTimeoutMs(1_000));
        long handle = d.join(joinRequest(""), (short) 3);
        d.advance(1_000); // its join waited too long: the only member is gone

        assertThat(error(d.joinResponse(handle))).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
        assertThat(d.state.groupState(GROUP)).isEqualTo(GroupState.EMPTY);
        assertThat(d.log).singleElement().isInstanceOfSatisfying(GroupMetadata.class, m -> {
            assertThat(m.generationId()).isEqualTo(1);
            assertThat(m.members()).isEmpty();
        });
    }
}
