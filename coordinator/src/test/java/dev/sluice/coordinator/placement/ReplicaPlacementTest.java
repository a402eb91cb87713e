package dev.sluice.coordinator.placement;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class ReplicaPlacementTest {

    @Test
    void shouldGiveEachOfThreeNodesTwoLeadershipsAndSixReplicasForSixPartitionsWithReplicationFactorThree() {
        List<Assignment> placed = ReplicaPlacement.place(cluster(List.of(1, 2, 3)), "orders", 0, 6, 3);

        assertThat(placed).extracting(Assignment::partition).containsExactly(0, 1, 2, 3, 4, 5);
        assertThat(placed).extracting(Assignment::preferredLeader).containsExactly(1, 2, 3, 1, 2, 3);
        assertThat(leaderCounts(placed)).containsExactlyInAnyOrderEntriesOf(Map.of(1, 2, 2, 2, 3, 2));
        assertThat(replicaCounts(placed)).containsExactlyInAnyOrderEntriesOf(Map.of(1, 6, 2, 6, 3, 6));
    }

    @Test
    void shouldStripeLeadersAndSpreadReplicasOverAnEmptyCluster() {
        List<Assignment> placed = ReplicaPlacement.place(cluster(List.of(1, 2, 3, 4)), "orders", 0, 4, 2);

        assertThat(placed)
                .extracting(Assignment::replicas)
                .containsExactly(List.of(1, 2), List.of(3, 4), List.of(4, 1), List.of(2, 3));
    }

    @Test
    void shouldPlaceNewReplicasOnTheLeastLoadedNodeFirst() {
        List<Assignment> existing = List.of(
                new Assignment("old", 0, List.of(1, 2, 3)),
                new Assignment("old", 1, List.of(2, 3, 1)),
                new Assignment("old", 2, List.of(3, 1, 2)));

        List<Assignment> placed = ReplicaPlacement.place(cluster(List.of(1, 2, 3, 4), existing), "new", 0, 3, 2);

        assertThat(placed)
                .allSatisfy(assignment -> assertThat(assignment.replicas()).contains(4));
        assertThat(placed).extracting(Assignment::preferredLeader).doesNotHaveDuplicates();
        List<Assignment> all = new ArrayList<>(existing);
        all.addAll(placed);
        assertThat(replicaCounts(all)).containsExactlyInAnyOrderEntriesOf(Map.of(1, 4, 2, 4, 3, 4, 4, 3));
    }

    @Test
    void shouldGiveNewLeadershipsToTheNodeLeadingFewest() {
        List<Assignment> existing = List.of(
                new Assignment("old", 0, List.of(1, 2)),
                new Assignment("old", 1, List.of(1, 3)),
                new Assignment("old", 2, List.of(2, 3)),
                new Assignment("old", 3, List.of(2, 1)));

        List<Assignment> placed = ReplicaPlacement.place(cluster(List.of(1, 2, 3), existing), "new", 0, 1, 3);

        assertThat(placed.get(0).preferredLeader()).isEqualTo(3);
    }

    @Test
    void shouldIgnoreDeadNodesAndTheirReplicas() {
        List<Assignment> existing = List.of(new Assignment("old", 0, List.of(9, 1)));

        List<Assignment> placed = ReplicaPlacement.place(cluster(List.of(1, 2), existing), "new", 0, 4, 2);

        assertThat(placed)
                .allSatisfy(assignment -> assertThat(assignment.replicas()).containsExactlyInAnyOrder(1, 2));
        assertThat(leaderCounts(placed)).containsExactlyInAnyOrderEntriesOf(Map.of(1, 2, 2, 2));
    }

    @Test
    void shouldContinueStripingWhenPartitionsAreAddedToATopic() {
        ClusterLoad empty = cluster(List.of(1, 2, 3));
        List<Assignment> first = ReplicaPlacement.place(empty, "orders", 0, 2, 1);

        List<Assignment> added = ReplicaPlacement.place(cluster(List.of(1, 2, 3), first), "orders", 2, 4, 1);

        assertThat(first).extracting(Assignment::preferredLeader).containsExactly(1, 2);
        assertThat(added).extracting(Assignment::partition).containsExactly(2, 3, 4, 5);
        assertThat(added).extracting(Assignment::preferredLeader).containsExactly(3, 1, 2, 3);
    }

    @Test
    void shouldRejectAReplicationFactorLargerThanTheLiveNodes() {
        assertThatThrownBy(() -> ReplicaPlacement.place(cluster(List.of(1, 2, 3)), "orders", 0, 1, 4))
                .isInstanceOf(PlacementException.class)
                .hasMessage("Replication factor: 4 larger than available brokers: 3.");
    }

    @Test
    void shouldRejectAReplicationFactorBelowOne() {
        assertThatThrownBy(() -> ReplicaPlacement.place(cluster(List.of(1, 2, 3)), "orders", 0, 1, 0))
                .isInstanceOf(PlacementException.class)
                .hasMessage("Replication factor must be larger than 0.");
    }

    @Test
    void shouldRejectAnyReplicationFactorWhenNoNodeIsLive() {
        assertThatThrownBy(() -> ReplicaPlacement.place(cluster(List.of()), "orders", 0, 1, 1))
                .isInstanceOf(PlacementException.class)
                .hasMessage("Replication factor: 1 larger than available brokers: 0.");
    }

    @Test
    void shouldRefuseToPlaceAPartitionThatIsAlreadyAssigned() {
        ClusterLoad load = cluster(List.of(1, 2), List.of(new Assignment("orders", 1, List.of(1))));

        assertThatThrownBy(() -> ReplicaPlacement.place(load, "orders", 0, 2, 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("orders-1");
    }

    @Test
    void shouldReturnNothingForZeroPartitions() {
        assertThat(ReplicaPlacement.place(cluster(List.of(1)), "orders", 0, 0, 1))
                .isEmpty();
    }

    @Test
    void shouldReplaceADeadReplicaByTheLeastLoadedLiveNodeInItsPlaceAfterTheLiveOnes() {
        List<Assignment> existing = List.of(
                new Assignment("orders", 0, List.of(1, 9, 2)),
                new Assignment("other", 0, List.of(3, 1, 2)),
                new Assignment("other", 1, List.of(2, 3)));

        List<Assignment> replaced = ReplicaPlacement.replaceDeadReplicas(cluster(List.of(1, 2, 3, 4), existing));

        assertThat(replaced).containsExactly(new Assignment("orders", 0, List.of(1, 2, 4)));
    }

    @Test
    void shouldMakeTheFirstLiveReplicaPreferredWhenThePreferredLeaderIsDead() {
        List<Assignment> existing = List.of(new Assignment("orders", 0, List.of(9, 2, 1)));

        List<Assignment> replaced = ReplicaPlacement.replaceDeadReplicas(cluster(List.of(1, 2, 3), existing));

        assertThat(replaced).containsExactly(new Assignment("orders", 0, List.of(2, 1, 3)));
    }

    @Test
    void shouldSpreadReplacementsOfOneDeadNodeOverTheLeastLoadedNodes() {
        List<Assignment> existing = List.of(
                new Assignment("orders", 0, List.of(1, 9)),
                new Assignment("orders", 1, List.of(9, 1)),
                new Assignment("orders", 2, List.of(1, 9)));

        List<Assignment> replaced = ReplicaPlacement.replaceDeadReplicas(cluster(List.of(1, 2, 3), existing));

        assertThat(replaced)
                .containsExactly(
                        new Assignment("orders", 0, List.of(1, 2)),
                        new Assignment("orders", 1, List.of(1, 3)),
                        new Assignment("orders", 2, List.of(1, 2)));
    }

    @Test
    void shouldKeepADeadReplicaWhenNoLiveNodeCanReplaceIt() {
        List<Assignment> existing =
                List.of(new Assignment("orders", 0, List.of(1, 2, 9)), new Assignment("orders", 1, List.of(8, 1, 9)));

        List<Assignment> replaced = ReplicaPlacement.replaceDeadReplicas(cluster(List.of(1, 2), existing));

        assertThat(replaced).containsExactly(new Assignment("orders", 1, List.of(1, 2, 9)));
    }

    @Test
    void shouldMoveALeadershipToAReplicaLeadingFewer() {
        List<Assignment> existing = List.of(
                new Assignment("orders", 0, List.of(1, 2)),
                new Assignment("orders", 1, List.of(1, 2)),
                new Assignment("orders", 2, List.of(2, 1)),
                new Assignment("orders", 3, List.of(1, 2, 3)));

        List<Assignment> balanced = ReplicaPlacement.balancePreferredLeaders(cluster(List.of(1, 2, 3), existing));

        assertThat(balanced).containsExactly(new Assignment("orders", 3, List.of(3, 1, 2)));
    }

    @Test
    void shouldShiftLeadershipsAlongAChainWhenNoSingleMoveHelps() {
        List<Assignment> existing = List.of(
                new Assignment("orders", 0, List.of(1, 2)),
                new Assignment("orders", 1, List.of(1, 2)),
                new Assignment("orders", 2, List.of(2, 3)));

        List<Assignment> balanced = ReplicaPlacement.balancePreferredLeaders(cluster(List.of(1, 2, 3), existing));

        assertThat(balanced)
                .containsExactly(
                        new Assignment("orders", 0, List.of(2, 1)), new Assignment("orders", 2, List.of(3, 2)));
    }

    @Test
    void shouldLeaveAnUnachievableBalanceAsEvenAsTheReplicaSetsAllow() {
        List<Assignment> existing = List.of(
                new Assignment("orders", 0, List.of(1, 2)),
                new Assignment("orders", 1, List.of(1, 2)),
                new Assignment("orders", 2, List.of(1, 2)));

        List<Assignment> balanced = ReplicaPlacement.balancePreferredLeaders(cluster(List.of(1, 2, 3), existing));

        assertThat(balanced).containsExactly(new Assignment("orders", 0, List.of(2, 1)));
    }

    @Test
    void shouldGiveAPartitionWhosePreferredLeaderIsDeadALiveOne() {
        List<Assignment> existing =
                List.of(new Assignment("orders", 0, List.of(9, 1, 2)), new Assignment("orders", 1, List.of(8, 9)));

        List<Assignment> balanced = ReplicaPlacement.balancePreferredLeaders(cluster(List.of(1, 2), existing));

        assertThat(balanced).containsExactly(new Assignment("orders", 0, List.of(1, 9, 2)));
    }

    @Test
    void shouldChangeNothingOnABalancedCluster() {
        List<Assignment> placed = ReplicaPlacement.place(cluster(List.of(1, 2, 3, 4)), "orders", 0, 10, 3);

        assertThat(ReplicaPlacement.balancePreferredLeaders(cluster(List.of(1, 2, 3, 4), placed)))
                .isEmpty();
    }

    @Test
    void shouldStopAtTheCapAndGoOnFromTheAppliedResult() {
        // Node 3 came back: it is a replica of all six partitions and leads none.
        List<Assignment> existing = new ArrayList<>();
        for (int p = 0; p < 6; p++) {
            existing.add(new Assignment("orders", p, p % 2 == 0 ? List.of(1, 2, 3) : List.of(2, 1, 3)));
        }

        List<Assignment> first = ReplicaPlacement.balancePreferredLeaders(cluster(List.of(1, 2, 3), existing), 1);
        List<Assignment> afterFirst = applied(existing, first);
        List<Assignment> second = ReplicaPlacement.balancePreferredLeaders(cluster(List.of(1, 2, 3), afterFirst), 1);
        List<Assignment> afterSecond = applied(afterFirst, second);

        assertThat(first).hasSize(1);
        assertThat(second).hasSize(1);
        assertThat(leaderCounts(afterSecond))
                .containsEntry(1, 2)
                .containsEntry(2, 2)
                .containsEntry(3, 2);
        assertThat(ReplicaPlacement.balancePreferredLeaders(cluster(List.of(1, 2, 3), afterSecond), 1))
                .isEmpty();
    }

    @Test
    void shouldGiveEveryDeadPreferredLeaderALiveOneWhateverTheCap() {
        List<Assignment> existing = List.of(
                new Assignment("orders", 0, List.of(9, 1, 2)),
                new Assignment("orders", 1, List.of(9, 2, 1)),
                new Assignment("orders", 2, List.of(9, 1, 2)));

        List<Assignment> balanced = ReplicaPlacement.balancePreferredLeaders(cluster(List.of(1, 2), existing), 1);

        assertThat(balanced).extracting(Assignment::preferredLeader).doesNotContain(9);
        assertThat(balanced).hasSize(3);
    }

    @Test
    void shouldRejectACapBelowOne() {
        assertThatThrownBy(() -> ReplicaPlacement.balancePreferredLeaders(cluster(List.of(1)), 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("movesMax");
    }

    @Test
    void shouldRejectAnAssignmentThatListsANodeTwice() {
        assertThatThrownBy(() -> new Assignment("orders", 0, List.of(1, 1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("orders-0");
    }

    @Test
    void shouldRejectAClusterLoadThatAssignsAPartitionTwice() {
        List<Assignment> twice =
                List.of(new Assignment("orders", 0, List.of(1)), new Assignment("orders", 0, List.of(2)));

        assertThatThrownBy(() -> cluster(List.of(1, 2), twice))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("orders-0");
    }

    private static ClusterLoad cluster(List<Integer> liveNodes) {
        return cluster(liveNodes, List.of());
    }

    private static ClusterLoad cluster(List<Integer> liveNodes, List<Assignment> assignments) {
        return new ClusterLoad(new TreeSet<>(liveNodes), assignments);
    }

    private static List<Assignment> applied(List<Assignment> assignments, List<Assignment> changes) {
        List<Assignment> result = new ArrayList<>();
        for (Assignment assignment : assignments) {
            result.add(changes.stream()
                    .filter(c -> c.topic().equals(assignment.topic()) && c.partition() == assignment.partition())
                    .findFirst()
                    .orElse(assignment));
        }
        return result;
    }

    private static Map<Integer, Integer> replicaCounts(List<Assignment> assignments) {
        Map<Integer, Integer> counts = new HashMap<>();
        for (Assignment assignment : assignments) {
            for (int node : assignment.replicas()) {
                counts.merge(node, 1, Integer::sum);
            }
        }
        return counts;
    }

    private static Map<Integer, Integer> leaderCounts(List<Assignment> assignments) {
        Map<Integer, Integer> counts = new HashMap<>();
        for (Assignment assignment : assignments) {
            counts.merge(assignment.preferredLeader(), 1, Integer::sum);
        }
        return counts;
    }
}
