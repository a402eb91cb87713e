package dev.sluice.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Membership changes that Ratis refuses at once are made in steps (the chaos run with seed 4025: two of a
 * partition's three nodes failed together, and the move of both replicas was refused for good).
 */
class MembershipStepTest {
    @Test
    void aChangeOfOneReplicaIsMadeAtOnce() {
        assertThat(MembershipStep.next(List.of(2, 4, 5), List.of(2, 4, 3), Set.of(2, 4, 5)))
                .containsExactly(2, 4, 3);
        assertThat(MembershipStep.next(List.of(1), List.of(1, 2), Set.of(1))).containsExactly(1, 2);
        assertThat(MembershipStep.next(List.of(1, 2, 3), List.of(1, 2, 3, 4, 5), Set.of(1, 2, 3)))
                .containsExactly(1, 2, 3, 4, 5);
    }

    @Test
    void replacingTwoOfThreeReplicasTakesTwoStepsDroppingTheOutOfSyncOneFirst() {
        List<Integer> first = MembershipStep.next(List.of(2, 4, 5), List.of(2, 3, 1), Set.of(2, 5));
        assertThat(first).containsExactlyInAnyOrder(2, 5, 3);
        assertThat(MembershipStep.next(first, List.of(2, 3, 1), Set.of(2, 5, 3)))
                .containsExactly(2, 3, 1);
    }

    @Test
    void aSingleReplicaMovesThroughTwoMembers() {
        List<Integer> first = MembershipStep.next(List.of(1), List.of(2), Set.of(1));
        assertThat(first).containsExactlyInAnyOrder(1, 2);
        assertThat(MembershipStep.next(first, List.of(2), Set.of(1, 2))).containsExactly(2);
    }

    @Test
    void everyStepIsAcceptedAndTheStepsReachTheAssignment() {
        for (int size = 1; size <= 5; size++) {
            List<Integer> current = new ArrayList<>();
            List<Integer> assigned = new ArrayList<>();
            for (int i = 0; i < size; i++) {
                current.add(i);
                assigned.add(100 + i);
            }
            List<Integer> members = current;
            for (int steps = 0; !new HashSet<>(members).equals(new HashSet<>(assigned)); steps++) {
                assertThat(steps).as("steps from %s to %s", current, assigned).isLessThan(2 * size + 1);
                List<Integer> next = MembershipStep.next(members, assigned, Set.of());
                List<Integer> added = new ArrayList<>(next);
                added.removeAll(members);
                assertThat(MembershipStep.acceptedAtOnce(members.size(), next.size(), added.size()))
                        .as("step %s -> %s", members, next)
                        .isTrue();
                members = next;
            }
        }
    }
}
