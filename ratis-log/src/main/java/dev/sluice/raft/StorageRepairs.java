package dev.sluice.raft;

import dev.sluice.partitionstore.PartitionLog;
import dev.sluice.partitionstore.ScrubProgress;
import dev.sluice.partitionstore.SegmentCorruption;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.TopicPartition;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.LeaderElectionManagementRequest;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's care of its partitions' files: the background scrub of closed segments and the repairs of what
 * it or a read found damaged, or what a partition found lost when it opened, from other replicas ({@link
 * ReplicaRepair}). A repair that cannot be done now (no replica has a good copy, the group is not running
 * yet) is tried again with a growing backoff, up to {@value #REPAIR_BACKOFF_MAX_MS} ms apart, until it is
 * done or the partition goes away. While any repair of a partition runs, this replica does not stand for
 * election in its group, and hands leadership to an in-sync follower if it leads: it cannot serve or
 * replicate what it lacks.
 *
 * <p>Threading: scrub steps run on the node's maintenance thread, repairs on two repair threads of their
 * own; the counters and {@link #health()} from any thread.
 */
final class StorageRepairs implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StorageRepairs.class);

    /** How often the scrub runs; each step checks a tenth of a second's worth of bytes. */
    private static final long SCRUB_TICK_MS = 100;

    /** The longest wait between two attempts at a repair no replica could serve yet. */
    private static final long REPAIR_BACKOFF_MAX_MS = 30_000;

    private final RaftNode node;
    private final RaftPeerId self;
    private final ScheduledExecutorService repairs;
    private final ReplicaRepair repair;
    private final ClientId clientId = ClientId.randomId();
    private final AtomicLong callIds = new AtomicLong();
    private final AtomicLong damagedSegmentsFound = new AtomicLong();
    private final AtomicLong damagedSegmentsRepaired = new AtomicLong();
    private final AtomicLong lostDataRestored = new AtomicLong();
    /** Repairs running per partition; the replica's elections stay paused until none is left. */
    private final Map<TopicPartition, Integer> repairsInFlight = new ConcurrentHashMap<>();
    /** The partition the scrub looks at first in its next step (round robin). */
    private int scrubCursor;

    private volatile boolean closing;

    StorageRepairs(RaftNode node, ScheduledExecutorService repairs) {
        this.node = node;
        this.self = node.peer().getId();
        this.repairs = repairs;
        this.repair = new ReplicaRepair(node);
    }

    /** Runs the scrub on {@code maintenance} when {@code log.scrub.bytes.per.second} is not 0. */
    void scheduleScrub(ScheduledExecutorService maintenance) {
        if (node.settings().scrubBytesPerSecond() > 0) {
            maintenance.scheduleWithFixedDelay(this::scrubStep, SCRUB_TICK_MS, SCRUB_TICK_MS, TimeUnit.MILLISECONDS);
        }
    }

    /** A partition's segments lost data its Raft state says it has: restore it (see {@link PartitionStateMachine}). */
    void lostData(PartitionStateMachine stateMachine) {
        repairStarted(stateMachine.topicPartition());
        scheduleRepair(() -> restoreLostData(stateMachine, 0), 0);
    }

    /** A closed segment is damaged: report it once and replace it from another replica. */
    void segmentDamaged(PartitionStateMachine stateMachine, SegmentCorruption corruption) {
        damagedSegmentsFound.incrementAndGet();
        LOG.warn(
                "{}: damaged closed segment {}: {}; nothing is served from it until it is replaced by a copy from"
                        + " another replica",
                corruption.topicPartition(),
                corruption.file(),
                corruption.description());
        repairStarted(corruption.topicPartition());
        scheduleRepair(() -> repairSegment(stateMachine, corruption, 0), 0);
    }

    @Override
    public void close() {
        closing = true;
        repairs.shutdownNow();
    }

    private void scheduleRepair(Runnable task, long delayMs) {
        if (closing) {
            return;
        }
        try {
            repairs.schedule(task, delayMs, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            LOG.debug("node {} is stopping: repair not scheduled", self);
        }
    }

    private static long backoffMs(int attempt) {
        return Math.min(REPAIR_BACKOFF_MAX_MS, 200L << Math.min(attempt, 10));
    }

    private static boolean gone(PartitionStateMachine stateMachine) {
        return stateMachine.getLifeCycleState().isClosingOrClosed();
    }

    /**
     * One attempt at restoring the data a replica's segments lost; again later until it is back. The
     * replica neither starts elections nor keeps leadership meanwhile: it cannot serve or replicate what it
     * lacks.
     */
    private void restoreLostData(PartitionStateMachine stateMachine, int attempt) {
        TopicPartition tp = stateMachine.topicPartition();
        if (closing || gone(stateMachine)) {
            repairEnded(tp);
            return;
        }
        try {
            RaftServer.Division division = node.server().getDivision(RaftNode.groupIdOf(tp));
            if (division.getStateMachine() != stateMachine
                    || !division.getInfo().isAlive()) {
                throw new IOException("the division is not running yet");
            }
            electionManagement(tp, true);
            if (division.getInfo().isLeader()) {
                handLeadershipAway(tp, "it is restoring data its segments lost");
            }
            if (stateMachine.restoreLostData(repair)) {
                lostDataRestored.incrementAndGet();
                repairEnded(tp);
                return;
            }
        } catch (IOException | RuntimeException e) {
            LOG.info("{}: restoring lost data, attempt {}: {}", tp, attempt + 1, e.toString());
        }
        scheduleRepair(() -> restoreLostData(stateMachine, attempt + 1), backoffMs(attempt));
    }

    /** One attempt at replacing a damaged closed segment with a replica's copy; again later until it works. */
    private void repairSegment(PartitionStateMachine stateMachine, SegmentCorruption corruption, int attempt) {
        TopicPartition tp = corruption.topicPartition();
        if (closing || gone(stateMachine)) {
            repairEnded(tp);
            return;
        }
        try {
            electionManagement(tp, true);
            if (node.division(tp).getInfo().isLeader()) {
                handLeadershipAway(tp, "its segment " + corruption.file().getFileName() + " is damaged");
            }
            String source = repair.repairClosedSegment(stateMachine, corruption);
            if (source != null) {
                if (source.isEmpty()) {
                    LOG.info(
                            "{}: the damaged segment {} is gone (retention): nothing to repair", tp, corruption.file());
                } else {
                    damagedSegmentsRepaired.incrementAndGet();
                    LOG.warn(
                            "{}: replaced the damaged segment {} with the copy from {}", tp, corruption.file(), source);
                }
                repairEnded(tp);
                return;
            }
            if (attempt % 5 == 4) {
                LOG.warn(
                        "{}: no replica has a good copy of the damaged segment {} yet ({} attempts); reads of it keep"
                                + " failing",
                        tp,
                        corruption.file(),
                        attempt + 1);
            }
        } catch (IOException | RuntimeException e) {
            LOG.info("{}: repairing segment {}, attempt {}: {}", tp, corruption.file(), attempt + 1, e.toString());
        }
        scheduleRepair(() -> repairSegment(stateMachine, corruption, attempt + 1), backoffMs(attempt));
    }

    /** A repair of the partition starts: this replica leads nothing until every repair of it ended. */
    private void repairStarted(TopicPartition tp) {
        repairsInFlight.merge(tp, 1, Integer::sum);
    }

    private void repairEnded(TopicPartition tp) {
        Integer left = repairsInFlight.merge(tp, -1, (a, b) -> a + b <= 0 ? null : a + b);
        if (left == null && !closing) {
            try {
                electionManagement(tp, false);
            } catch (IOException | RuntimeException e) {
                LOG.debug("{}: cannot resume elections: {}", tp, e.toString());
            }
        }
    }

    /** Pauses ({@code pause}) or resumes this replica's elections in the partition's group. */
    private void electionManagement(TopicPartition tp, boolean pause) throws IOException {
        RaftGroupId groupId = RaftNode.groupIdOf(tp);
        long callId = callIds.incrementAndGet();
        RaftClientReply reply = node.server()
                .leaderElectionManagement(
                        pause
                                ? LeaderElectionManagementRequest.newPause(clientId, self, groupId, callId)
                                : LeaderElectionManagementRequest.newResume(clientId, self, groupId, callId));
        if (!reply.isSuccess()) {
            throw new IOException(
                    "cannot " + (pause ? "pause" : "resume") + " elections of " + tp + ": " + reply.getException());
        }
    }

    /** Moves the partition's leadership to an in-sync follower, if this node leads it and one takes it. */
    private void handLeadershipAway(TopicPartition tp, String why) {
        ReplicaStatus status = node.status(tp);
        if (status == null || !self.toString().equals(status.leader())) {
            return;
        }
        for (String target : status.inSyncReplicas()) {
            if (target.equals(self.toString())) {
                continue;
            }
            try {
                if (node.transferLeadership(tp, target, 5_000)) {
                    LOG.warn("{}: handed leadership to {}: {}", tp, target, why);
                    return;
                }
            } catch (IOException | RuntimeException e) {
                LOG.info("{}: cannot hand leadership to {}: {}", tp, target, e.toString());
            }
        }
        LOG.warn("{}: leads although {}; no in-sync follower took over", tp, why);
    }

    /**
     * One step of the background scrub: checks about a tenth of a second's worth ({@code
     * log.scrub.bytes.per.second}) of closed segments, partition after partition; damage found is reported
     * to the partition's state machine, which repairs it.
     */
    private void scrubStep() {
        long budget = Math.max(1, node.settings().scrubBytesPerSecond() * SCRUB_TICK_MS / 1000);
        List<TopicPartition> all = node.partitions();
        for (int i = 0; i < all.size() && budget > 0; i++) {
            int at = (scrubCursor + i) % all.size();
            PartitionStateMachine stateMachine = node.stateMachine(all.get(at));
            PartitionLog log = stateMachine == null ? null : stateMachine.log();
            if (log == null) {
                continue;
            }
            try {
                ScrubProgress progress = log.scrub(budget);
                budget -= progress.checkedBytes();
                if (!progress.complete() && budget <= 0) {
                    scrubCursor = at;
                    return;
                }
            } catch (RuntimeException e) {
                LOG.debug("{}: scrub step failed: {}", all.get(at), e.toString());
            }
        }
        scrubCursor = 0;
    }

    /** What the scrub and reads found damaged on this node and what was repaired. */
    StorageHealth health() {
        List<SegmentCorruption> unrepaired = new ArrayList<>();
        List<TopicPartition> restoring = new ArrayList<>();
        for (TopicPartition tp : node.partitions()) {
            PartitionStateMachine stateMachine = node.stateMachine(tp);
            PartitionLog log = stateMachine == null ? null : stateMachine.log();
            if (log == null) {
                continue;
            }
            unrepaired.addAll(log.corruptions());
            if (stateMachine.restoringLostData()) {
                restoring.add(tp);
            }
        }
        return new StorageHealth(
                damagedSegmentsFound.get(),
                damagedSegmentsRepaired.get(),
                lostDataRestored.get(),
                List.copyOf(unrepaired),
                List.copyOf(restoring));
    }
}
