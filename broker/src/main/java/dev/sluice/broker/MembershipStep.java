package dev.sluice.broker;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The next membership a partition's group can move to on the way to its assigned replicas. Ratis refuses a
 * configuration change in which the new members reach a majority of the new configuration (RATIS-1912: new
 * members that have not caught up could keep electing without end) — such as replacing two of three replicas
 * when two nodes failed at once — so the change is made one new member at a time: each step adds the first
 * new replica and drops one replica that is not assigned any more (unless the group has a single member),
 * preferring one out of the in-sync set (a dead or lagging node), until the remaining change is small enough
 * to make at once.
 */
final class MembershipStep {
    private MembershipStep() {}

    /**
     * @param current the group's members now
     * @param assigned the replicas it must end with, in the assignment's order
     * @param inSync the members in sync with the leader
     * @return {@code assigned} when Ratis accepts the change at once, else an intermediate membership
     */
    static List<Integer> next(List<Integer> current, List<Integer> assigned, Set<Integer> inSync) {
        List<Integer> added = new ArrayList<>(assigned);
        added.removeAll(current);
        if (acceptedAtOnce(current.size(), assigned.size(), added.size())) {
            return assigned;
        }
        List<Integer> dropped = new ArrayList<>(current);
        dropped.removeAll(assigned);
        Set<Integer> step = new LinkedHashSet<>(current);
        step.add(added.get(0));
        dropped.stream()
                .filter(id -> !inSync.contains(id))
                .findFirst()
                .or(() -> dropped.stream().findFirst())
                .filter(id -> acceptedAtOnce(current.size(), step.size() - 1, 1))
                .ifPresent(step::remove); // a group of one grows to two first
        return List.copyOf(step);
    }

    /** Ratis's rule: fewer new members than a majority of the new configuration, or one member becoming two. */
    static boolean acceptedAtOnce(int currentSize, int newSize, int addedCount) {
        if (currentSize == 1 && newSize == 2 && addedCount == 1) {
            return true;
        }
        return addedCount < newSize / 2 + 1;
    }
}
