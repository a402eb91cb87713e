package dev.sluice.coordinator;

import java.util.Objects;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * When the controller runs a preferred-leader balance pass. Every reorder a pass submits makes the
 * partition's Raft leader hand leadership to the new first replica, so passes are rare and small: a pass
 * is due when
 *
 * <ul>
 *   <li>none has run since this node became the coordinator leader;
 *   <li>the live (registered, unfenced) nodes differ from those of the last pass: a node was fenced, so
 *       the partitions it preferred need a live preferred leader, or a node came back and should lead its
 *       share again;
 *   <li>the last pass reordered something: it may have stopped at its cap ({@link #MOVES_MAX_PER_PASS})
 *       or a reorder may not have been committed, so the next controller tick goes on;
 *   <li>{@link #PERIOD_MS} passed since the last pass, to catch whatever the triggers miss (a topic
 *       created with an explicit assignment, partitions added to an uneven topic).
 * </ul>
 *
 * <p>Pure: time enters as {@code nowNs}. Not thread-safe; used only by the controller loop's thread.
 */
final class LeaderBalanceSchedule {
    /**
     * How often a pass runs when nothing triggered one. Computing a pass is cheap, but this only catches
     * slow drift; the triggers handle failures and returns.
     */
    static final long PERIOD_MS = 30_000;

    /**
     * The most partitions one pass reorders (a pass may exceed it by one chain of moves, shorter than the
     * number of live nodes). With a pass per controller tick while work remains, this bounds the leader
     * transfers the balance asks of the brokers to about this many per heartbeat interval, cluster-wide.
     */
    static final int MOVES_MAX_PER_PASS = 32;

    private final long periodNs;
    private SortedSet<Integer> liveNodesAtLastPass;
    private long lastPassNs;
    private boolean lastPassReordered;

    LeaderBalanceSchedule(long periodNs) {
        if (periodNs <= 0) {
            throw new IllegalArgumentException("the balance period must be positive, was " + periodNs + " ns");
        }
        this.periodNs = periodNs;
    }

    /** Whether a pass is due now, with these live nodes. */
    boolean due(SortedSet<Integer> liveNodes, long nowNs) {
        Objects.requireNonNull(liveNodes, "liveNodes");
        return liveNodesAtLastPass == null
                || lastPassReordered
                || !liveNodesAtLastPass.equals(liveNodes)
                || nowNs - lastPassNs >= periodNs;
    }

    /**
     * Records a pass run at {@code nowNs} over {@code liveNodes}; call it before submitting the pass's
     * reorders, so that a failure while submitting leaves the next pass due.
     *
     * @param reordered whether the pass found partitions to reorder
     */
    void ran(SortedSet<Integer> liveNodes, long nowNs, boolean reordered) {
        liveNodesAtLastPass = new TreeSet<>(liveNodes);
        lastPassNs = nowNs;
        lastPassReordered = reordered;
    }

    /** Forgets every pass: this node stopped leading the coordinator group. */
    void reset() {
        liveNodesAtLastPass = null;
        lastPassReordered = false;
    }
}
