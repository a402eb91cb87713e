package dev.sluice.coordinator.group;

import static dev.sluice.coordinator.group.GroupTestDriver.GROUP;
import static dev.sluice.coordinator.group.GroupTestDriver.assignment;
import static dev.sluice.coordinator.group.GroupTestDriver.joinRequest;
import static dev.sluice.coordinator.group.GroupTestDriver.partitionsOf;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Subscription;
import org.apache.kafka.clients.consumer.internals.ConsumerProtocol;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.JoinGroupRequestData.JoinGroupRequestProtocol;
import org.apache.kafka.common.message.JoinGroupRequestData.JoinGroupRequestProtocolCollection;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.Test;

/**
 * Incremental cooperative rebalancing needs nothing of the coordinator beyond the classic protocol: the
 * assignor on the leader moves a partition in two rebalances (revoke, then assign), and members report
 * their owned partitions in their subscription metadata. Here {@code c1} owns all four partitions of
 * {@code t} when {@code c2} arrives.
 */
class CooperativeRebalanceTest {
    private static final List<TopicPartition> ALL = List.of(tp(0), tp(1), tp(2), tp(3));

    private final GroupTestDriver driver = new GroupTestDriver();
    /** Per generation, which member was handed which partitions. */
    private final Map<Integer, Map<String, List<TopicPartition>>> handedOut = new HashMap<>();

    private static TopicPartition tp(int partition) {
        return new TopicPartition("t", partition);
    }

    private static JoinGroupRequestData cooperativeJoin(String memberId, List<TopicPartition> owned) {
        byte[] subscription =
                Utils.toArray(ConsumerProtocol.serializeSubscription(new Subscription(List.of("t"), null, owned)));
        JoinGroupRequestProtocolCollection protocols = new JoinGroupRequestProtocolCollection();
        protocols.add(
                new JoinGroupRequestProtocol().setName("cooperative-sticky").setMetadata(subscription));
        return joinRequest(memberId).setProtocols(protocols);
    }

    private void syncAll(int generation, String leader, Map<String, List<TopicPartition>> plan) {
        Map<String, byte[]> bytes = new HashMap<>();
        plan.forEach((member, partitions) -> bytes.put(member, assignment(partitions.toArray(new TopicPartition[0]))));
        List<Long> syncs = new ArrayList<>();
        syncs.add(driver.sync(leader, generation, bytes));
        for (String member : plan.keySet()) {
            if (!member.equals(leader)) {
                syncs.add(driver.sync(member, generation));
            }
        }
        Map<String, List<TopicPartition>> got = new HashMap<>();
        List<String> members = new ArrayList<>(plan.keySet());
        members.remove(leader);
        members.add(0, leader);
        for (int i = 0; i < syncs.size(); i++) {
            assertThat(driver.syncResponse(syncs.get(i)).errorCode()).isEqualTo(Errors.NONE.code());
            got.put(
                    members.get(i),
                    partitionsOf(driver.syncResponse(syncs.get(i)).assignment()));
        }
        handedOut.put(generation, got);
    }

    @Test
    void shouldMovePartitionsToANewMemberInTwoRebalancesWithoutTwoOwnersAtOnce() {
        // Generation 1: c1 alone owns everything.
        long c1Join = driver.joinNew(cooperativeJoin("", List.of()));
        driver.passInitialDelay();
        JoinGroupResponseData gen1 = driver.joinResponse(c1Join);
        String c1 = gen1.memberId();
        syncAll(1, c1, Map.of(c1, ALL));

        // c2 arrives: c1 learns of the rebalance from its heartbeat and rejoins, listing what it owns.
        long c2Join = driver.joinNew(cooperativeJoin("", List.of()));
        assertThat(driver.heartbeat(c1, 1)).isEqualTo(Errors.REBALANCE_IN_PROGRESS);
        long c1Rejoin = driver.join(cooperativeJoin(c1, ALL));
        JoinGroupResponseData gen2 = driver.joinResponse(c1Rejoin);
        String c2 = driver.joinResponse(c2Join).memberId();
        assertThat(gen2.generationId()).isEqualTo(2);
        assertThat(gen2.protocolName()).isEqualTo("cooperative-sticky");
        // The leader's assignor sees c1's owned partitions and only revokes t-2 and t-3 for now.
        Subscription c1Subscription =
                ConsumerProtocol.deserializeSubscription(java.nio.ByteBuffer.wrap(gen2.members().stream()
                        .filter(m -> m.memberId().equals(c1))
                        .findFirst()
                        .orElseThrow()
                        .metadata()));
        assertThat(c1Subscription.ownedPartitions()).containsExactlyElementsOf(ALL);
        syncAll(2, c1, Map.of(c1, List.of(tp(0), tp(1)), c2, List.of()));

        // c1 commits the revoked partitions' positions, then rejoins for the second round.
        assertThat(driver.commit(c1, 2, "t", 2, 200)).isEqualTo(Errors.NONE);
        long c1Second = driver.join(cooperativeJoin(c1, List.of(tp(0), tp(1))));
        assertThat(driver.commit(c1, 2, "t", 3, 300))
                .as("allowed while preparing")
                .isEqualTo(Errors.NONE);
        assertThat(driver.heartbeat(c2, 2)).isEqualTo(Errors.REBALANCE_IN_PROGRESS);
        long c2Second = driver.join(cooperativeJoin(c2, List.of()));
        JoinGroupResponseData gen3 = driver.joinResponse(c1Second);
        assertThat(gen3.generationId()).isEqualTo(3);
        assertThat(driver.joinResponse(c2Second).generationId()).isEqualTo(3);
        syncAll(3, c1, Map.of(c1, List.of(tp(0), tp(1)), c2, List.of(tp(2), tp(3))));

        // c2 starts from c1's positions; no partition ever had two owners in one generation.
        assertThat(driver.committed("t", 2)).isEqualTo(200);
        assertThat(driver.committed("t", 3)).isEqualTo(300);
        assertThat(driver.commit(c1, 2, "t", 0, 1))
                .as("a commit of the old generation")
                .isEqualTo(Errors.ILLEGAL_GENERATION);
        for (Map<String, List<TopicPartition>> generation : handedOut.values()) {
            Set<TopicPartition> seen = new HashSet<>();
            generation
                    .values()
                    .forEach(partitions ->
                            partitions.forEach(p -> assertThat(seen.add(p)).isTrue()));
        }
        assertThat(handedOut.get(3).get(c2)).containsExactly(tp(2), tp(3));
        assertThat(driver.state.groupState(GROUP)).isEqualTo(GroupState.STABLE);
    }
}
