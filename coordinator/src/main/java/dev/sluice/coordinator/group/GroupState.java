package dev.sluice.coordinator.group;

import java.util.Locale;

/**
 * The states of a classic group, with the names Kafka's clients and tools display and a stable code.
 *
 * <pre>
 * Empty                          ─► PreparingRebalance    a member joins
 * PreparingRebalance             ─► CompletingRebalance   every member rejoined, or the rebalance timeout ended
 * PreparingRebalance             ─► Empty                 the join phase ended without members
 * CompletingRebalance            ─► Stable                the leader's SyncGroup brought the assignment
 * Stable, CompletingRebalance    ─► PreparingRebalance    a join, a leave, an expired session or sync wait,
 *                                                         a member's new metadata, the leader rejoining
 * any                            ─► Dead                  the group is deleted (and removed at once)
 * </pre>
 */
public enum GroupState {
    /** No members; offsets may still be committed by "simple" consumers and expire after retention. */
    EMPTY(0, "Empty"),
    /** Waiting for every member to (re)join, up to the rebalance timeout. */
    PREPARING_REBALANCE(1, "PreparingRebalance"),
    /** Joins answered; waiting for the leader's SyncGroup carrying the assignment. */
    COMPLETING_REBALANCE(2, "CompletingRebalance"),
    /** Assignment persisted and handed out. */
    STABLE(3, "Stable"),
    /** Deleted. */
    DEAD(4, "Dead");

    private final int code;
    private final String displayName;

    GroupState(int code, String displayName) {
        this.code = code;
        this.displayName = displayName;
    }

    /** A stable number for this state, for metrics and logs. */
    public int code() {
        return code;
    }

    /** The name Kafka uses on the wire (DescribeGroups, ListGroups): {@code "PreparingRebalance"}, … */
    public String displayName() {
        return displayName;
    }

    /** The lower-case name, for the case-insensitive states filter of ListGroups. */
    String lowerCaseName() {
        return displayName.toLowerCase(Locale.ROOT);
    }

    @Override
    public String toString() {
        return displayName;
    }
}
