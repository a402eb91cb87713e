package dev.sluice.raft;

import java.io.IOException;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.TopicPartition;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.util.LifeCycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Notices the divisions of this node's partitions that Ratis closed on its own, and has the node re-create
 * them.
 *
 * <p>Ratis closes a division for good — it stays in the server and answers every request with "not in
 * [STARTING, RUNNING]: current state is CLOSED" — when
 *
 * <ul>
 *   <li>it campaigns and the group's leader answers that it is not a member (the leader's committed
 *       configuration lacks it and its log is behind that configuration: a replica created before the
 *       leader added it, or one the group removed), or its own configuration lacks it;
 *   <li>it leads and a configuration without it commits;
 *   <li>its state machine updater fails (for instance reinitializing after an install).
 * </ul>
 *
 * Nothing in Ratis brings it back, while the node still holds the partition (the reconciler removes the
 * replicas the cluster moved away). So every closed division is re-created:
 *
 * <ul>
 *   <li>one the leader shut down as a non-member that holds nothing yet (no entry applied, no snapshot) and
 *       counts itself a member joins again: afresh, outside the configuration, passive until the leader adds
 *       it (as {@link RaftNode#joinPartition} creates it). Re-created from its files it would campaign again
 *       and be shut down again;
 *   <li>any other from its files, as after a restart: its Raft log, configuration and partition log; it
 *       takes what it lacks from the leader again (entries, or an install).
 * </ul>
 *
 * <p>A division is re-created once Ratis said why it closed it, or when it is found closed on two checks in
 * a row (Ratis closes it before it says why). Re-creations of one partition back off, from {@value
 * #BACKOFF_MIN_MS} ms doubling up to {@value #BACKOFF_MAX_MS} ms, while it keeps being closed (a replica
 * the group removed is closed each time it campaigns, until the reconciler removes it); a division seen
 * running with a leader starts over.
 *
 * <p>Threading: {@link #check} runs on the node's maintenance thread (one at a time); {@link #notMember} on
 * the Ratis thread that shut the division down.
 */
final class ClosedDivisions {
    private static final Logger LOG = LoggerFactory.getLogger(ClosedDivisions.class);

    /** How often the node looks for closed divisions. */
    static final long CHECK_MS = 1_000;

    static final long BACKOFF_MIN_MS = 5_000;
    static final long BACKOFF_MAX_MS = 60_000;

    private final RaftNode node;
    /** Partitions whose division Ratis shut down as a non-member and that were not re-created since. */
    private final Set<TopicPartition> notMembers = ConcurrentHashMap.newKeySet();
    /** When each partition's division was first found closed. */
    private final Map<TopicPartition, Long> closedSinceNs = new ConcurrentHashMap<>();

    private final Map<TopicPartition, Attempts> attempts = new ConcurrentHashMap<>();
    private final AtomicLong recreated = new AtomicLong();

    /** Consecutive re-creations of a partition's division, and when the last one was. */
    private record Attempts(int count, long lastNs) {}

    ClosedDivisions(RaftNode node) {
        this.node = node;
    }

    /** Ratis shut the partition's division down from an election: the leader does not count it. */
    void notMember(TopicPartition tp) {
        notMembers.add(tp);
    }

    /** The node removed its replica of the partition. */
    void forget(TopicPartition tp) {
        notMembers.remove(tp);
        closedSinceNs.remove(tp);
        attempts.remove(tp);
    }

    long recreated() {
        return recreated.get();
    }

    /** Re-creates the closed divisions that are due. */
    void check() {
        for (Map.Entry<RaftGroupId, TopicPartition> held : node.heldGroups().entrySet()) {
            TopicPartition tp = held.getValue();
            RaftServer.Division division = node.divisionOrNull(held.getKey());
            if (division == null) {
                continue; // being added or removed
            }
            LifeCycle.State state = division.getInfo().getLifeCycleState();
            if (state != LifeCycle.State.CLOSED && state != LifeCycle.State.EXCEPTION) {
                closedSinceNs.remove(tp);
                if (state == LifeCycle.State.RUNNING && division.getInfo().getLeaderId() != null) {
                    attempts.remove(tp);
                }
                continue;
            }
            long nowNs = System.nanoTime();
            boolean firstSeen = closedSinceNs.putIfAbsent(tp, nowNs) == null;
            if (firstSeen && !notMembers.contains(tp)) {
                continue;
            }
            Attempts previous = attempts.get(tp);
            if (previous != null && nowNs - previous.lastNs() < TimeUnit.MILLISECONDS.toNanos(backoffMs(previous))) {
                continue;
            }
            recreate(tp, division, state, previous, nowNs);
        }
    }

    private void recreate(
            TopicPartition tp, RaftServer.Division division, LifeCycle.State state, Attempts previous, long nowNs) {
        boolean notMember = notMembers.contains(tp);
        boolean rejoin = notMember && holdsNothing(division) && countsItselfAMember(division);
        int count = previous == null ? 1 : previous.count() + 1;
        attempts.put(tp, new Attempts(count, nowNs));
        LOG.warn(
                "{}: Ratis closed this node's replica ({}; {}, term {}, configuration {}); {}",
                tp,
                state,
                notMember ? "the group's leader does not count it as a member" : "closed by Ratis itself",
                division.getInfo().getCurrentTerm(),
                division.getGroup().getPeers(),
                rejoin
                        ? "it holds nothing yet: re-creating it outside the configuration, to wait for the leader to"
                                + " add it"
                        : "re-creating it from its files");
        try {
            if (node.recreate(tp, division, rejoin)) {
                recreated.incrementAndGet();
                notMembers.remove(tp);
                closedSinceNs.remove(tp);
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn(
                    "{}: cannot re-create this node's replica: {}; trying again in {} ms",
                    tp,
                    SnapshotInstaller.causes(e),
                    backoffMs(attempts.get(tp)));
        }
    }

    private static long backoffMs(Attempts attempts) {
        int doublings = Math.min(attempts.count() - 1, 10);
        return Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS << doublings);
    }

    /** Whether the replica never applied an entry nor installed a snapshot: it has nothing to keep. */
    private static boolean holdsNothing(RaftServer.Division division) {
        return division.getInfo().getLastAppliedIndex() < 0
                && division.getStateMachine().getLatestSnapshot() == null;
    }

    private static boolean countsItselfAMember(RaftServer.Division division) {
        return division.getGroup().getPeer(division.getId()) != null;
    }
}
