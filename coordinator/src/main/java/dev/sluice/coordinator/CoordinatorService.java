package dev.sluice.coordinator;

import dev.sluice.coordinator.ClusterImage.NodeRegistration;
import dev.sluice.coordinator.CoordinatorCommand.FenceNode;
import dev.sluice.coordinator.CoordinatorCommand.RegisterNode;
import dev.sluice.coordinator.CoordinatorCommand.SetReplicas;
import dev.sluice.coordinator.CoordinatorQuery.HeartbeatReply;
import dev.sluice.coordinator.CoordinatorQuery.ImageReply;
import dev.sluice.coordinator.placement.Assignment;
import dev.sluice.coordinator.placement.ClusterLoad;
import dev.sluice.coordinator.placement.ReplicaPlacement;
import dev.sluice.raft.RaftNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.protocol.Errors;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator group as seen from one node: submits commands, keeps this node registered and heard
 * from (heartbeats carry the partitions it leads), keeps the latest image and the cluster's partition
 * leadership, and, while this node leads the group, runs the controller loop.
 *
 * <p>A voter hosts a member of the group and reads the image from its own state machine; any other node
 * fetches the image from the group's leader when its heartbeat answer shows a newer version.
 *
 * <h2>The controller loop</h2>
 *
 * Runs every heartbeat interval on the coordinator leader, in three steps:
 *
 * <ol>
 *   <li><b>Fencing.</b> A node not heard from for {@code node.failure.timeout.ms} (counted from when this
 *       node became leader at the earliest) is fenced: it takes no new replicas and leads nothing in the
 *       image.
 *   <li><b>Replacement.</b> {@link ReplicaPlacement#replaceDeadReplicas} replaces every replica on a
 *       fenced node with a live node that is not yet a replica, restoring the replication factor; a
 *       partition's live replicas move to the front, so a fenced preferred leader gives way to a live
 *       one. When every live node already holds a replica, the fenced one stays, last in the list.
 *   <li><b>Leader balance.</b> {@link ReplicaPlacement#balancePreferredLeaders(ClusterLoad, int)} over
 *       the live nodes reorders replica lists (same replicas, new first one) so that the live nodes
 *       prefer to lead numbers of partitions as even as the replica sets allow; the brokers then move
 *       Raft leadership to the new preferred replicas by leader transfer once they are in sync. A
 *       preferred leader is never a fenced node while the partition has a live replica. The passes are
 *       rate-limited by {@link LeaderBalanceSchedule}: one runs when the live nodes changed, while the
 *       previous pass still had work, or every {@link LeaderBalanceSchedule#PERIOD_MS} ms, and each
 *       reorders at most about {@link LeaderBalanceSchedule#MOVES_MAX_PER_PASS} partitions.
 * </ol>
 *
 * <p>A fenced node that comes back registers again with its next heartbeat, which unfences it (the
 * registration counts as being heard from). What it gets then depends on how long it was away:
 *
 * <ul>
 *   <li>Back before its replicas were replaced (or where they could not be, every live node being a
 *       replica already), it is still in those replica lists. The leader-balance pass that its return
 *       triggers makes it the preferred leader of its fair share of them again.
 *   <li>Back after its replicas were replaced, it holds none, and nothing moves existing replicas back to
 *       it: the cluster stays as it is until new topics and partitions are placed, and {@link
 *       ReplicaPlacement#place} gives a node with fewer replicas new ones first, so the returned node
 *       takes most new work until it has caught up. Moving existing replicas to even out replica counts
 *       (a replica rebalance) is out of scope of the controller.
 * </ul>
 */
public final class CoordinatorService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CoordinatorService.class);

    /** The coordinator group's id: the same in every cluster (a node belongs to one cluster). */
    public static final RaftGroupId GROUP_ID =
            RaftGroupId.valueOf(UUID.nameUUIDFromBytes("sluice-coordinator".getBytes(StandardCharsets.UTF_8)));

    /** A voter of the coordinator group: its node id and Raft address. */
    public record Voter(int nodeId, String host, int port) {
        public RaftPeer peer() {
            return RaftPeer.newBuilder()
                    .setId(Integer.toString(nodeId))
                    .setAddress(host + ":" + port)
                    .build();
        }

        /** Parses {@code coordinator.voters}: {@code id@host:port,id@host:port,...}. */
        public static List<Voter> parseList(String value) {
            List<Voter> voters = new ArrayList<>();
            for (String item : value.split(",")) {
                String s = item.trim();
                if (s.isEmpty()) {
                    continue;
                }
                int at = s.indexOf('@');
                int colon = s.lastIndexOf(':');
                if (at <= 0 || colon < at) {
                    throw new IllegalArgumentException("expected id@host:port, got '" + s + "'");
                }
                voters.add(new Voter(
                        Integer.parseInt(s.substring(0, at)),
                        s.substring(at + 1, colon),
                        Integer.parseInt(s.substring(colon + 1))));
            }
            if (voters.isEmpty()) {
                throw new IllegalArgumentException("no voters");
            }
            return voters;
        }
    }

    /** How this node registers itself. */
    public record Self(int nodeId, String host, int port, String raftHost, int raftPort, String rack) {}

    /** Timing of heartbeats and failure detection. */
    public record Timing(long heartbeatIntervalMs, long nodeFailureTimeoutMs) {}

    private final RaftNode raft;
    private final RaftGroup group;
    private final Self self;
    private final Timing timing;
    private final CoordinatorStateMachine stateMachine; // null on a non-voter
    private final Supplier<List<PartitionLeadership>> reports;
    /**
     * The client of the coordinator group. Ratis closes an async client for good once one of its ordered
     * requests runs out of retries (every later call fails with {@code AlreadyClosedException}), so a
     * failed call replaces it ({@link #renewClient}).
     */
    private volatile RaftClient client;

    private final ScheduledExecutorService loop;
    private final List<Consumer<ClusterImage>> listeners = new CopyOnWriteArrayList<>();
    private final Map<TopicPartition, PartitionLeadership> leadership = new ConcurrentHashMap<>();
    private volatile ClusterImage image = ClusterImage.empty();
    private volatile long lastHeartbeatAnsweredNs;
    private volatile long leaderImageVersion = -1;
    private volatile long leaderSinceNs = -1;
    private volatile boolean closed;
    private volatile boolean stopping;
    /** Used only by the controller loop's thread. */
    private final LeaderBalanceSchedule balanceSchedule =
            new LeaderBalanceSchedule(TimeUnit.MILLISECONDS.toNanos(LeaderBalanceSchedule.PERIOD_MS));

    private CoordinatorService(
            RaftNode raft,
            List<Voter> voters,
            Self self,
            Timing timing,
            CoordinatorStateMachine stateMachine,
            Supplier<List<PartitionLeadership>> reports) {
        this.raft = raft;
        this.group =
                RaftGroup.valueOf(GROUP_ID, voters.stream().map(Voter::peer).toList());
        this.self = self;
        this.timing = timing;
        this.stateMachine = stateMachine;
        this.reports = reports;
        this.client = raft.clientOf(group);
        this.loop = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "sluice-coordinator-" + self.nodeId());
            thread.setDaemon(true);
            return thread;
        });
    }

    /**
     * Starts the service. On a voter, {@code stateMachine} is the one the node's Raft server hosts for
     * {@link #GROUP_ID} (the group is added here on first start); on other nodes it is null.
     */
    public static CoordinatorService start(
            RaftNode raft,
            List<Voter> voters,
            Self self,
            Timing timing,
            CoordinatorStateMachine stateMachine,
            Supplier<List<PartitionLeadership>> reports)
            throws IOException {
        CoordinatorService service = new CoordinatorService(raft, voters, self, timing, stateMachine, reports);
        if (stateMachine != null) {
            raft.addOtherGroup(service.group);
            stateMachine.addListener(service::imageChanged);
        }
        service.loop.scheduleWithFixedDelay(service::heartbeat, 0, timing.heartbeatIntervalMs(), TimeUnit.MILLISECONDS);
        service.loop.scheduleWithFixedDelay(
                service::controlSafely,
                timing.heartbeatIntervalMs(),
                timing.heartbeatIntervalMs(),
                TimeUnit.MILLISECONDS);
        return service;
    }

    public ClusterImage image() {
        return image;
    }

    /** Runs {@code listener} with every new image, and now with the current one. */
    public void addImageListener(Consumer<ClusterImage> listener) {
        listeners.add(listener);
        listener.accept(image);
    }

    /** The latest known leadership of every partition (reported by the leaders, through the coordinator). */
    public PartitionLeadership leadership(TopicPartition tp) {
        return leadership.get(tp);
    }

    /** Whether this node's heartbeats have been answered recently: it is part of a working cluster. */
    public boolean connected() {
        return lastHeartbeatAnsweredNs != 0
                && System.nanoTime() - lastHeartbeatAnsweredNs
                        < TimeUnit.MILLISECONDS.toNanos(timing.nodeFailureTimeoutMs());
    }

    /**
     * Whether this node's image is at least as new as the coordinator leader's at the last heartbeat:
     * a restarted node replaying the group's log holds a partial image until then.
     */
    public boolean caughtUp() {
        long leaderVersion = leaderImageVersion;
        return leaderVersion >= 0 && image.version() >= leaderVersion;
    }

    /**
     * Records that this node is stopping (a controlled shutdown): other nodes stop handing it leaderships.
     * It stays so until the node registers again, which a restarted node does at its first heartbeat.
     */
    public CompletableFuture<CoordinatorResult> announceShutdown() {
        stopping = true;
        return submit(new CoordinatorCommand.ShutdownNode(self.nodeId()));
    }

    /** Submits a command to the group; completes with its result once committed and applied. */
    public CompletableFuture<CoordinatorResult> submit(CoordinatorCommand command) {
        Message message = Message.valueOf(ByteString.copyFrom(CoordinatorCodec.encode(command)));
        RaftClient current = client;
        return current.async().send(message).handle((reply, failure) -> {
            if (failure != null) {
                renewClient(current, failure);
                return CoordinatorResult.error(
                        Errors.REQUEST_TIMED_OUT, "the coordinator did not answer: " + failure.getMessage());
            }
            if (!reply.isSuccess()) {
                return CoordinatorResult.error(
                        Errors.REQUEST_TIMED_OUT, "the coordinator did not answer: " + reply.getException());
            }
            return CoordinatorCodec.decode(reply.getMessage().getContent().toByteArray(), CoordinatorResult.class);
        });
    }

    /**
     * A transactional id's record, read through the coordinator group's log ({@link
     * CoordinatorCommand.ReadTransaction}): linearizable, unlike {@link #query}.
     *
     * @return the reply; failed if the group did not commit the read within {@code timeoutMs}
     */
    public CompletableFuture<CoordinatorQuery.TransactionReply> readTransaction(
            String transactionalId, long timeoutMs) {
        Message message = Message.valueOf(
                ByteString.copyFrom(CoordinatorCodec.encode(new CoordinatorCommand.ReadTransaction(transactionalId))));
        RaftClient current = client;
        return current.async()
                .send(message)
                .orTimeout(timeoutMs, TimeUnit.MILLISECONDS)
                .thenApply(reply -> {
                    if (!reply.isSuccess()) {
                        throw new IllegalStateException("the coordinator refused the read: " + reply.getException());
                    }
                    return CoordinatorCodec.decode(
                            reply.getMessage().getContent().toByteArray(), CoordinatorQuery.TransactionReply.class);
                });
    }

    /** Waits until the image reaches at least {@code version} (or the timeout passes). */
    public boolean awaitImage(long version, long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (image.version() < version) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            if (stateMachine == null) {
                refreshImage();
            }
            Thread.sleep(20);
        }
        return true;
    }

    private void imageChanged(ClusterImage next) {
        image = next;
        for (Consumer<ClusterImage> listener : listeners) {
            try {
                listener.accept(next);
            } catch (RuntimeException e) {
                LOG.warn("an image listener failed", e);
            }
        }
    }

    // ---- heartbeats -------------------------------------------------------------------------------

    private void heartbeat() {
        if (closed) {
            return;
        }
        try {
            NodeRegistration registered = image.node(self.nodeId());
            if (registered == null
                    || registered.fenced()
                    || (registered.shuttingDown() && !stopping)
                    || registered.port() != self.port()
                    || !Objects.equals(registered.host(), self.host())
                    || registered.raftPort() != self.raftPort()
                    || !Objects.equals(registered.raftHost(), self.raftHost())) {
                register();
            }
            byte[] query = CoordinatorCodec.encode(
                    new CoordinatorQuery(CoordinatorQuery.HEARTBEAT, self.nodeId(), reports.get(), null));
            RaftClient current = client;
            RaftClientReply reply;
            try {
                reply = current.async()
                        .sendReadOnly(Message.valueOf(ByteString.copyFrom(query)))
                        .get(Math.max(1000, timing.nodeFailureTimeoutMs() / 2), TimeUnit.MILLISECONDS);
            } catch (ExecutionException | TimeoutException e) {
                renewClient(current, e);
                throw e;
            }
            if (!reply.isSuccess()) {
                return;
            }
            HeartbeatReply answer =
                    CoordinatorCodec.decode(reply.getMessage().getContent().toByteArray(), HeartbeatReply.class);
            lastHeartbeatAnsweredNs = System.nanoTime();
            leaderImageVersion = answer.imageVersion();
            Map<TopicPartition, PartitionLeadership> next = new ConcurrentHashMap<>();
            for (PartitionLeadership l : answer.leaders()) {
                next.put(new TopicPartition(l.topic(), l.partition()), l);
            }
            leadership.keySet().retainAll(next.keySet());
            leadership.putAll(next);
            if (stateMachine == null && answer.imageVersion() > image.version()) {
                refreshImage();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            LOG.debug("coordinator heartbeat failed", e);
        }
    }

    /**
     * Replaces {@code failed} with a new client unless another thread did already. Called after any failed
     * call: a fresh client costs little, and it is the only way out of a closed ordered-request window.
     */
    private void renewClient(RaftClient failed, Throwable cause) {
        synchronized (this) {
            if (client != failed || closed) {
                return;
            }
            client = raft.clientOf(group);
        }
        LOG.debug("coordinator client replaced after: {}", cause.toString());
        try {
            failed.close();
        } catch (IOException | RuntimeException e) {
            LOG.debug("closing the failed coordinator client", e);
        }
    }

    private void register() throws Exception {
        CoordinatorResult result = submit(new RegisterNode(
                        self.nodeId(),
                        self.host(),
                        self.port(),
                        self.raftHost(),
                        self.raftPort(),
                        self.rack(),
                        Uuid.randomUuid().toString()))
                .get(timing.nodeFailureTimeoutMs(), TimeUnit.MILLISECONDS);
        if (result.errorCode() != 0) {
            LOG.warn("node {} could not register: {}", self.nodeId(), result.message());
        } else {
            LOG.info("node {} registered with the coordinator", self.nodeId());
        }
    }

    private void refreshImage() {
        try {
            byte[] query =
                    CoordinatorCodec.encode(new CoordinatorQuery(CoordinatorQuery.IMAGE, self.nodeId(), null, null));
            RaftClientReply reply = client.io().sendReadOnly(Message.valueOf(ByteString.copyFrom(query)));
            if (reply.isSuccess()) {
                ImageReply answer =
                        CoordinatorCodec.decode(reply.getMessage().getContent().toByteArray(), ImageReply.class);
                if (answer.image().version() > image.version()) {
                    imageChanged(answer.image());
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("cannot fetch the coordinator image", e);
        }
    }

    /**
     * This node's term as the coordinator group's ready leader, or -1 when it does not lead the group (or its
     * leadership is not ready yet: an entry of its term is not committed).
     */
    public long leaderTerm() {
        if (stateMachine == null) {
            return -1;
        }
        try {
            var info = raft.division(GROUP_ID).getInfo();
            return info.isLeader() && info.isLeaderReady() ? info.getCurrentTerm() : -1;
        } catch (IOException e) {
            return -1;
        }
    }

    /** The node id of the coordinator group's leader as this node last learnt it, or -1 if unknown. */
    public int leaderId() {
        RaftPeerId leader = null;
        if (stateMachine != null) {
            try {
                leader = raft.division(GROUP_ID).getInfo().getLeaderId();
            } catch (IOException e) {
                leader = null;
            }
        }
        if (leader == null) {
            leader = client.getLeaderId();
        }
        try {
            return leader == null ? -1 : Integer.parseInt(leader.toString());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** The coordinator group's state machine on this node, or null if it is not a voter. */
    public CoordinatorStateMachine stateMachine() {
        return stateMachine;
    }

    /**
     * Sends a read-only query to the coordinator group's leader. Not linearizable: a leader cut off from the
     * others answers from its own state until it steps down (see {@link #readTransaction}).
     *
     * @return the answer decoded as {@code type}; failed if the leader did not answer within {@code timeoutMs}
     */
    public <T> CompletableFuture<T> query(CoordinatorQuery query, Class<T> type, long timeoutMs) {
        Message message = Message.valueOf(ByteString.copyFrom(CoordinatorCodec.encode(query)));
        RaftClient current = client;
        return current.async()
                .sendReadOnly(message)
                .orTimeout(timeoutMs, TimeUnit.MILLISECONDS)
                .thenApply(reply -> {
                    if (!reply.isSuccess()) {
                        throw new IllegalStateException("the coordinator refused the query: " + reply.getException());
                    }
                    return CoordinatorCodec.decode(
                            reply.getMessage().getContent().toByteArray(), type);
                });
    }

    // ---- controller loop --------------------------------------------------------------------------

    /** Whether this node leads the coordinator group (and can commit). */
    public boolean isLeader() {
        if (stateMachine == null) {
            return false;
        }
        try {
            var info = raft.division(GROUP_ID).getInfo();
            return info.isLeader() && info.isLeaderReady();
        } catch (IOException e) {
            return false;
        }
    }

    private void controlSafely() {
        try {
            control();
        } catch (Exception e) {
            LOG.warn("controller loop failed; it runs again in {} ms", timing.heartbeatIntervalMs(), e);
        }
    }

    private void control() throws Exception {
        if (closed || !isLeader()) {
            leaderSinceNs = -1;
            balanceSchedule.reset();
            return;
        }
        long now = System.nanoTime();
        if (leaderSinceNs < 0) {
            leaderSinceNs = now;
            return;
        }
        long timeoutNs = TimeUnit.MILLISECONDS.toNanos(timing.nodeFailureTimeoutMs());
        ClusterImage current = image;
        Map<Integer, Long> heard = stateMachine.lastHeardNs();
        for (NodeRegistration node : current.nodes().values()) {
            if (node.fenced()) {
                continue;
            }
            long last = Math.max(heard.getOrDefault(node.nodeId(), leaderSinceNs), leaderSinceNs);
            if (now - last > timeoutNs) {
                LOG.warn(
                        "node {} has not been heard from for {} ms: fencing it and replacing its replicas",
                        node.nodeId(),
                        TimeUnit.NANOSECONDS.toMillis(now - last));
                submit(new FenceNode(node.nodeId())).get(timing.nodeFailureTimeoutMs(), TimeUnit.MILLISECONDS);
                stateMachine.forgetLeadershipOf(node.nodeId());
            }
        }
        current = image;
        for (Assignment moved : ReplicaPlacement.replaceDeadReplicas(new ClusterState(current).load())) {
            LOG.info("replicas of {}-{} move to {}", moved.topic(), moved.partition(), moved.replicas());
            submit(new SetReplicas(moved.topic(), moved.partition(), moved.replicas()))
                    .get(timing.nodeFailureTimeoutMs(), TimeUnit.MILLISECONDS);
        }
        balancePreferredLeaders(now);
    }

    /**
     * The leader-balance pass, when {@link #balanceSchedule} says one is due: reorders replica lists so
     * that preferred leaders are spread evenly over the live nodes. Reads the image after the commands
     * above were applied (a submit completes once the command is applied here).
     */
    private void balancePreferredLeaders(long nowNs) throws Exception {
        ClusterLoad load = new ClusterState(image).load();
        if (!balanceSchedule.due(load.liveNodes(), nowNs)) {
            return;
        }
        List<Assignment> reordered =
                ReplicaPlacement.balancePreferredLeaders(load, LeaderBalanceSchedule.MOVES_MAX_PER_PASS);
        balanceSchedule.ran(load.liveNodes(), nowNs, !reordered.isEmpty());
        for (Assignment next : reordered) {
            LOG.info(
                    "preferred leader of {}-{} is now node {} (replicas {})",
                    next.topic(),
                    next.partition(),
                    next.preferredLeader(),
                    next.replicas());
            CoordinatorResult result = submit(new SetReplicas(next.topic(), next.partition(), next.replicas()))
                    .get(timing.nodeFailureTimeoutMs(), TimeUnit.MILLISECONDS);
            if (result.errorCode() != 0) {
                // Such as a topic deleted meanwhile; the next pass works from the new image.
                LOG.info("preferred leader of {}-{} not changed: {}", next.topic(), next.partition(), result.message());
            }
        }
    }

    @Override
    public void close() {
        synchronized (this) { // no renewClient after this
            closed = true;
        }
        loop.shutdownNow();
        try {
            loop.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            client.close();
        } catch (IOException e) {
            LOG.debug("closing the coordinator client", e);
        }
    }
}
