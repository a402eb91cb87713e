package dev.sluice.raft;

import dev.sluice.partitionstore.BatchValidator;
import dev.sluice.partitionstore.Clock;
import dev.sluice.partitionstore.LogConfig;
import dev.sluice.partitionstore.NodeStore;
import dev.sluice.partitionstore.PartitionLog;
import dev.sluice.partitionstore.SegmentCorruption;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.KafkaStorageException;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.ControlRecordType;
import org.apache.kafka.common.record.internal.EndTransactionMarker;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.requests.TransactionResult;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.CommitInfoProto;
import org.apache.ratis.proto.RaftProtos.RoleInfoProto;
import org.apache.ratis.proto.RaftProtos.ServerRpcProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.GroupManagementRequest;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SnapshotManagementRequest;
import org.apache.ratis.protocol.exceptions.AlreadyClosedException;
import org.apache.ratis.protocol.exceptions.GroupMismatchException;
import org.apache.ratis.protocol.exceptions.LeaderNotReadyException;
import org.apache.ratis.protocol.exceptions.LeaderSteppingDownException;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.apache.ratis.protocol.exceptions.RaftException;
import org.apache.ratis.protocol.exceptions.ResourceUnavailableException;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.StateMachine;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's Raft layer: one Ratis {@link RaftServer} hosting a Raft group per partition replica on this
 * node, each with its {@link PartitionStateMachine}, over the node's {@link NodeStore}. Groups are added
 * and removed at runtime; after a restart every group found in the node's Raft directory comes back.
 *
 * <p>Layout under the data directory: {@code rocksdb/} and {@code partitions/} (the store), {@code
 * raft/<group-uuid>/} (Ratis's log and metadata per group), {@code raft/groups} (which partition each
 * group is) and {@code install/} (segments being copied from a leader).
 *
 * <p>Writes are submitted to the local division, without a network hop; the future completes when the
 * entry is committed and applied.
 */
public final class RaftNode implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RaftNode.class);
    private static final String GROUPS_FILE = "groups";
    /** Attempts of a group client (admin calls, snapshot queries) before it gives up. */
    private static final int CLIENT_ATTEMPTS = 10;

    private static final long CLIENT_RETRY_SLEEP_MS = 200;

    /** Attempts of a membership change, {@value #CLIENT_RETRY_SLEEP_MS} ms apart: a new replica's catch-up. */
    private static final int CHANGE_REPLICAS_ATTEMPTS = 150;

    /** Pause before a transaction marker is sent again after its leader stepped down. */
    private static final long MARKER_RETRY_MS = 200;

    /**
     * Supplies the state machine of a Raft group that is not a partition (the coordinator group), or
     * null for a partition group. Asked when a group is added and when a restarted node recovers it.
     */
    public interface OtherGroups {
        StateMachine stateMachineOf(RaftGroupId groupId);
    }

    /** Receives leadership changes of this node's partition groups. */
    public interface LeaderListener {
        void leaderChanged(TopicPartition tp, String newLeader, long term);
    }

    /**
     * Told of the offsets each committed entry appended, on every replica, as the replica applies it: on the
     * partition's apply thread and under its lock, so keep it short. A listener added after the node started
     * may have missed entries applied before; it can read them from {@code log}.
     */
    public interface ApplyListener {
        void applied(TopicPartition tp, PartitionLog log, long firstOffset, long nextOffset);
    }

    private final RaftPeer self;
    private final Path dataDir;
    private final RaftSettings settings;
    private final LogConfig defaultLogConfig;
    private final Clock clock;
    private final NodeStore store;
    private final RaftProperties properties;
    private final RaftServer server;
    private final ClientId clientId = ClientId.randomId();
    private final AtomicLong callIds = new AtomicLong();
    private final Map<RaftGroupId, TopicPartition> groups = new ConcurrentHashMap<>();
    private final Map<TopicPartition, LogConfig> logConfigs = new ConcurrentHashMap<>();
    private final Map<TopicPartition, InSyncFollowers> inSync = new ConcurrentHashMap<>();
    private final List<LeaderListener> leaderListeners = new CopyOnWriteArrayList<>();
    private final List<ApplyListener> applyListeners = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService maintenance;
    private final ExecutorService installs;
    private final SnapshotInstaller installer;
    private final OtherGroups otherGroups;
    /** Scrub and repairs of damaged or lost partition data. */
    private final StorageRepairs repairs;
    /** Held while a group is added, removed or re-created, so that those never interleave for a partition. */
    private final Object groupChanges = new Object();
    /** Notices divisions Ratis closed on its own and has them re-created. */
    private final ClosedDivisions closedDivisions;

    private volatile boolean closing;

    private RaftNode(
            String id,
            String host,
            int port,
            Path dataDir,
            RaftSettings settings,
            LogConfig logConfig,
            Clock clock,
            OtherGroups otherGroups)
            throws IOException {
        this.otherGroups = otherGroups;
        this.self =
                RaftPeer.newBuilder().setId(id).setAddress(host + ":" + port).build();
        this.dataDir = dataDir;
        this.settings = settings;
        this.defaultLogConfig = logConfig;
        this.clock = clock;
        Files.createDirectories(raftDir());
        loadGroups();
        this.store = NodeStore.open(dataDir, clock);
        this.properties = settings.toRaftProperties(raftDir(), host, port, logConfig.maxMessageBytes());
        if (settings.faulty()) {
            // This node's own clients (clientOf) cross the faulty network as links from this node.
            FaultInjection.faultClientsOf(properties, id);
        }
        this.installer = new SnapshotInstaller(this);
        this.closedDivisions = new ClosedDivisions(this);
        this.maintenance = Executors.newSingleThreadScheduledExecutor(daemon("sluice-raft-maintenance-" + id));
        this.installs = Executors.newFixedThreadPool(2, daemon("sluice-raft-install-" + id));
        this.repairs =
                new StorageRepairs(this, Executors.newScheduledThreadPool(2, daemon("sluice-raft-repair-" + id)));
        try {
            this.server = RaftServer.newBuilder()
                    .setServerId(self.getId())
                    .setProperties(properties)
                    .setStateMachineRegistry(this::newStateMachine)
                    .setOption(RaftStorage.StartupOption.RECOVER)
                    .build();
            server.start();
        } catch (IOException | RuntimeException e) {
            maintenance.shutdownNow();
            installs.shutdownNow();
            repairs.close();
            store.close();
            throw e;
        }
        long interval = settings.retentionCheckIntervalMs();
        maintenance.scheduleWithFixedDelay(this::enforceRetention, interval, interval, TimeUnit.MILLISECONDS);
        repairs.scheduleScrub(maintenance);
        maintenance.scheduleWithFixedDelay(
                closedDivisions::check, ClosedDivisions.CHECK_MS, ClosedDivisions.CHECK_MS, TimeUnit.MILLISECONDS);
    }

    /**
     * Starts a node's Raft server.
     *
     * @param id the node's peer id (stable across restarts)
     * @param host the address other nodes reach this one at
     * @param port the Raft port
     * @param dataDir the node's data directory
     * @param settings the Raft layer's settings
     * @param logConfig the partition configuration new partitions get unless told otherwise
     */
    public static RaftNode start(
            String id, String host, int port, Path dataDir, RaftSettings settings, LogConfig logConfig, Clock clock)
            throws IOException {
        return new RaftNode(id, host, port, dataDir, settings, logConfig, clock, groupId -> null);
    }

    /** Starts a node's Raft server that also hosts groups other than partitions (see {@link OtherGroups}). */
    public static RaftNode start(
            String id,
            String host,
            int port,
            Path dataDir,
            RaftSettings settings,
            LogConfig logConfig,
            Clock clock,
            OtherGroups otherGroups)
            throws IOException {
        return new RaftNode(id, host, port, dataDir, settings, logConfig, clock, otherGroups);
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return runnable -> {
            Thread thread = new Thread(runnable, name);
            thread.setDaemon(true);
            return thread;
        };
    }

    // ---- groups ------------------------------------------------------------------------------------------

    /** The Raft group id of a partition: the same on every node. */
    public static RaftGroupId groupIdOf(TopicPartition tp) {
        return RaftGroupId.valueOf(UUID.nameUUIDFromBytes(
                ("sluice-partition:" + tp.topic() + ":" + tp.partition()).getBytes(StandardCharsets.UTF_8)));
    }

    /** The Raft group of a partition with these replicas. */
    public static RaftGroup groupOf(TopicPartition tp, List<RaftPeer> replicas) {
        return RaftGroup.valueOf(groupIdOf(tp), replicas);
    }

    /**
     * Creates this node's replica of a partition group (a new, empty member of {@code replicas}). Every
     * replica's node calls this with the same list; the group elects a leader once a majority exists.
     */
    public void addPartition(TopicPartition tp, List<RaftPeer> replicas, LogConfig config) throws IOException {
        addGroup(tp, groupOf(tp, replicas), config);
    }

    /**
     * Creates this node's replica of a partition group that exists without it (a replica moved here):
     * {@code members} are the group's current replicas. The new replica starts outside the group's
     * configuration, so Ratis keeps it passive — it takes what the leader sends (its log, or its snapshot
     * through an install) and never campaigns — until the leader's membership change ({@link
     * #changeReplicas}) makes it a voter. A replica created as a member of a configuration its leader has
     * not adopted yet would time out waiting for that leader, campaign, and be told by it to shut down
     * (Ratis's guard against removed members), which closes its division.
     */
    public void joinPartition(TopicPartition tp, List<RaftPeer> members, LogConfig config) throws IOException {
        List<RaftPeer> others =
                members.stream().filter(p -> !p.getId().equals(self.getId())).toList();
        addGroup(tp, RaftGroup.valueOf(groupIdOf(tp), others), config);
    }

    private void addGroup(TopicPartition tp, RaftGroup group, LogConfig config) throws IOException {
        synchronized (groupChanges) {
            logConfigs.put(tp, config);
            groups.put(group.getGroupId(), tp);
            saveGroups();
            RaftClientReply reply = server.groupManagement(
                    GroupManagementRequest.newAdd(clientId, self.getId(), callIds.incrementAndGet(), group));
            if (!reply.isSuccess()) {
                throw new IOException("cannot add the group of " + tp + ": " + reply.getException());
            }
        }
    }

    /**
     * Adds this node's member of a group that is not a partition (its state machine comes from {@link
     * OtherGroups}); does nothing when the node already has it.
     */
    public void addOtherGroup(RaftGroup group) throws IOException {
        if (hasGroup(group.getGroupId())) {
            return;
        }
        RaftClientReply reply = server.groupManagement(
                GroupManagementRequest.newAdd(clientId, self.getId(), callIds.incrementAndGet(), group));
        if (!reply.isSuccess()) {
            throw new IOException("cannot add group " + group.getGroupId() + ": " + reply.getException());
        }
    }

    /** Whether this node has a member of the group. */
    public boolean hasGroup(RaftGroupId groupId) throws IOException {
        for (RaftGroupId id : server.getGroupIds()) {
            if (id.equals(groupId)) {
                return true;
            }
        }
        return false;
    }

    /** This node's member of a group, for status queries. */
    public RaftServer.Division division(RaftGroupId groupId) throws IOException {
        return server.getDivision(groupId);
    }

    /**
     * A client of any group (whose members may be on other nodes), with the bounded retries of this
     * node's group clients; the caller closes it. Under {@code raft.rpc.type=faulty} its requests go through
     * the fault injector as links from this node.
     */
    public RaftClient clientOf(RaftGroup group) {
        return clientOf(group, CLIENT_ATTEMPTS);
    }

    private RaftClient clientOf(RaftGroup group, int attempts) {
        return RaftClient.newBuilder()
                .setProperties(properties)
                .setRaftGroup(group)
                .setClientId(ClientId.randomId())
                .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(
                        attempts, TimeDuration.valueOf(CLIENT_RETRY_SLEEP_MS, TimeUnit.MILLISECONDS)))
                .build();
    }

    /** Removes this node's replica of a partition; {@code deleteData} also deletes its files. */
    public void removePartition(TopicPartition tp, boolean deleteData) throws IOException {
        RaftGroupId groupId = groupIdOf(tp);
        PartitionStateMachine removed = stateMachine(tp);
        if (removed != null) {
            removed.abandon(); // Ratis waits for the division's applies before it removes it
        }
        synchronized (groupChanges) {
            RaftClientReply reply = server.groupManagement(GroupManagementRequest.newRemove(
                    clientId, self.getId(), callIds.incrementAndGet(), groupId, deleteData, false));
            if (!reply.isSuccess()) {
                throw new IOException("cannot remove the group of " + tp + ": " + reply.getException());
            }
            groups.remove(groupId);
            saveGroups();
        }
        inSync.remove(tp);
        closedDivisions.forget(tp);
        if (deleteData) {
            store.deletePartition(tp);
            deleteTree(dataDir.resolve("install").resolve(tp.topic() + "-" + tp.partition())); // a partial install
        }
    }

    // ---- divisions Ratis closed ----------------------------------------------------------------------------

    /** The partition groups this node holds, by group id (a live view). */
    Map<RaftGroupId, TopicPartition> heldGroups() {
        return java.util.Collections.unmodifiableMap(groups);
    }

    /** This node's division of a group, or null when it has none. */
    RaftServer.Division divisionOrNull(RaftGroupId groupId) {
        try {
            return server.getDivision(groupId);
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Replaces a division Ratis closed (see {@link ClosedDivisions}) with a new one: from its data (the Raft
     * log, configuration and partition log on disk, as after a restart), or — {@code rejoin}, for a replica
     * that holds nothing and that the group's leader does not count — afresh, outside the configuration,
     * passive until the leader adds it (as {@link #joinPartition} creates it). Returns false when the
     * partition was removed or its division replaced meanwhile.
     */
    boolean recreate(TopicPartition tp, RaftServer.Division closed, boolean rejoin) throws IOException {
        RaftGroup group = closed.getGroup();
        RaftGroupId groupId = group.getGroupId();
        synchronized (groupChanges) {
            if (closing || !tp.equals(groups.get(groupId)) || divisionOrNull(groupId) != closed) {
                return false;
            }
            RaftClientReply removed = server.groupManagement(GroupManagementRequest.newRemove(
                    clientId, self.getId(), callIds.incrementAndGet(), groupId, rejoin, false));
            if (!removed.isSuccess()) {
                throw new IOException("cannot remove the closed division: " + removed.getException());
            }
            // Ratis closes the state machine with its division, unless closing failed half-way: make sure the
            // partition's log is closed before a new state machine opens it.
            if (closed.getStateMachine() instanceof PartitionStateMachine partition) {
                partition.close();
            }
            if (rejoin) {
                store.deletePartition(tp); // empty: the replica never applied an entry nor installed
                group = RaftGroup.valueOf(
                        groupId,
                        group.getPeers().stream()
                                .filter(p -> !p.getId().equals(self.getId()))
                                .toList());
            }
            // Without rejoin, RECOVER: the Raft log, metadata and configuration on disk are the division's own.
            RaftClientReply added = server.groupManagement(
                    GroupManagementRequest.newAdd(clientId, self.getId(), callIds.incrementAndGet(), group, rejoin));
            if (!added.isSuccess()) {
                throw new IOException("cannot add the division again: " + added.getException());
            }
            return true;
        }
    }

    /** How many divisions Ratis closed this node re-created; for operators and tests. */
    long divisionsRecreated() {
        return closedDivisions.recreated();
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (var walk = Files.walk(root)) {
            for (Path path : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }

    /** Changes a partition's settings (a topic config change); they apply from the next append or retention pass. */
    public void updateLogConfig(TopicPartition tp, LogConfig config) {
        logConfigs.put(tp, config);
        PartitionStateMachine stateMachine = stateMachine(tp);
        PartitionLog log = stateMachine == null ? null : stateMachine.log();
        if (log != null) {
            log.updateConfig(config);
        }
    }

    /** The partitions this node holds a replica of. */
    public List<TopicPartition> partitions() {
        List<TopicPartition> result = new ArrayList<>(groups.values());
        result.sort((a, b) -> a.toString().compareTo(b.toString()));
        return result;
    }

    private StateMachine newStateMachine(RaftGroupId groupId) {
        TopicPartition tp = groups.get(groupId);
        if (tp == null) {
            StateMachine other = otherGroups.stateMachineOf(groupId);
            if (other != null) {
                return other;
            }
            throw new IllegalStateException("Raft group " + groupId + " in " + raftDir()
                    + " belongs to no known partition (no line in " + raftDir().resolve(GROUPS_FILE) + ")");
        }
        return new PartitionStateMachine(tp, new StateMachineHost());
    }

    private final class StateMachineHost implements PartitionStateMachine.Host {
        @Override
        public PartitionLog openLog(TopicPartition tp) {
            PartitionLog open = store.partition(tp);
            return open != null ? open : store.openPartition(tp, logConfigs.getOrDefault(tp, defaultLogConfig));
        }

        @Override
        public void closeLog(TopicPartition tp) {
            store.closePartition(tp);
        }

        @Override
        public boolean singleWrite() {
            return settings.singleWrite();
        }

        @Override
        public long nowMs() {
            return clock.nowMs();
        }

        @Override
        public void leaderChanged(TopicPartition tp, RaftPeerId newLeader, long term) {
            String leader = newLeader == null ? null : newLeader.toString();
            for (LeaderListener listener : leaderListeners) {
                try {
                    listener.leaderChanged(tp, leader, term);
                } catch (RuntimeException e) {
                    LOG.warn("leader listener failed for {}", tp, e);
                }
            }
        }

        @Override
        public void applied(TopicPartition tp, PartitionLog log, long firstOffset, long nextOffset) {
            for (ApplyListener listener : applyListeners) {
                try {
                    listener.applied(tp, log, firstOffset, nextOffset);
                } catch (RuntimeException e) {
                    LOG.warn("apply listener failed for {} at offsets [{}, {})", tp, firstOffset, nextOffset, e);
                }
            }
        }

        @Override
        public CompletableFuture<TermIndex> installSnapshot(
                PartitionStateMachine stateMachine, RaftPeer leader, TermIndex leaderFirst) {
            return CompletableFuture.supplyAsync(() -> installer.install(stateMachine, leader, leaderFirst), installs);
        }

        @Override
        public void shutDownAsNonMember(PartitionStateMachine stateMachine) {
            closedDivisions.notMember(stateMachine.topicPartition());
            try {
                maintenance.execute(closedDivisions::check);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // the node is stopping
            }
        }

        @Override
        public void repairLostData(PartitionStateMachine stateMachine) {
            repairs.lostData(stateMachine);
        }

        @Override
        public void segmentDamaged(PartitionStateMachine stateMachine, SegmentCorruption corruption) {
            repairs.segmentDamaged(stateMachine, corruption);
        }
    }

    /** What the scrub and reads found damaged on this node and what was repaired; for operators and metrics. */
    public StorageHealth storageHealth() {
        return repairs.health();
    }

    // ---- writes ---------------------------------------------------------------------------------------------

    /**
     * Submits record batches to the partition's group through this node's division; completes with the
     * offsets once the entry is committed on a majority (fsynced there) and applied here, or with the
     * Kafka error a broker answers ({@code NOT_LEADER_OR_FOLLOWER} when this node does not lead).
     */
    public CompletableFuture<AppendOutcome> append(
            TopicPartition tp, ByteBuffer records, BatchValidator.Origin origin) {
        return append(tp, records, origin, null);
    }

    /**
     * {@link #append} of transactional batches checked with the transaction coordinator under {@code guard}
     * (taken from this node's replica before the check, see {@link PartitionStateMachine#verificationGuard}):
     * every replica refuses them when a marker of their producer was written since ({@code INVALID_TXN_STATE})
     * or leadership changed ({@code NOT_LEADER_OR_FOLLOWER}).
     */
    public CompletableFuture<AppendOutcome> append(
            TopicPartition tp, ByteBuffer records, BatchValidator.Origin origin, VerificationGuard guard) {
        return submit(
                tp,
                EntryCodec.encodeRequest(origin, records, guard),
                EntryCodec::decodeReply,
                failure -> AppendOutcome.error(failure.error(), failure.message()));
    }

    /**
     * Submits Kafka's {@code DeleteRecords} to the partition's group through this node's division: every
     * replica advances its log start offset to {@code beforeOffset} (-1: the high watermark) when it applies
     * the entry. Completes with the new low watermark once the entry is committed on a majority and applied
     * here; with {@code OFFSET_OUT_OF_RANGE} when the offset is negative or past the high watermark at that
     * point of the log; or with the errors of {@link #append} ({@code NOT_LEADER_OR_FOLLOWER} when this node
     * does not lead).
     */
    public CompletableFuture<DeleteOutcome> deleteRecords(TopicPartition tp, long beforeOffset) {
        return submit(
                tp,
                EntryCodec.encodeDeleteRecords(beforeOffset),
                EntryCodec::decodeDeleteReply,
                failure -> DeleteOutcome.error(failure.error(), failure.message()));
    }

    /**
     * Appends a transaction marker — Kafka's control batch ({@link MemoryRecords#withEndTransactionMarker})
     * holding a COMMIT or ABORT {@link EndTransactionMarker} of {@code coordinatorEpoch} for {@code
     * producerId} at {@code producerEpoch} — to the partition's Raft group, as the transaction coordinator's
     * {@code WriteTxnMarkers} does. Works from any node, whether or not it holds a replica of the partition:
     * it submits through a Ratis client of the group made of {@code replicas} (the partition's peers, id and
     * Raft address, as the cluster image names them), with the entry encoding {@link #append} uses and
     * {@link BatchValidator.Origin#COORDINATOR}. The client follows the group's leader and retries across
     * leader changes up to {@value #CLIENT_ATTEMPTS} attempts {@value #CLIENT_RETRY_SLEEP_MS} ms apart.
     *
     * <p>Completes with the marker's offset ({@link AppendOutcome#firstOffset()}) once the entry is committed
     * on a majority and applied by the leader; with {@code INVALID_PRODUCER_EPOCH} when {@code producerEpoch}
     * is below the producer's epoch on the partition (a marker of a higher epoch raises it and fences the
     * older epoch's data); {@code TRANSACTION_COORDINATOR_FENCED} when {@code coordinatorEpoch} is below the
     * one of the producer's last marker there; {@code NOT_LEADER_OR_FOLLOWER} when no leader answered within the attempts or
     * {@code replicas} are not the group's; {@code REQUEST_TIMED_OUT} after {@code timeoutMs}. An error does
     * not prove the marker was not written: the caller retries, and a second marker for a transaction
     * already ended is appended and changes nothing (as in Kafka).
     */
    public CompletableFuture<AppendOutcome> writeTxnMarker(
            TopicPartition tp,
            List<RaftPeer> replicas,
            long producerId,
            short producerEpoch,
            int coordinatorEpoch,
            TransactionResult result,
            long timeoutMs) {
        ControlRecordType type =
                result == TransactionResult.COMMIT ? ControlRecordType.COMMIT : ControlRecordType.ABORT;
        MemoryRecords marker = MemoryRecords.withEndTransactionMarker(
                clock.nowMs(), producerId, producerEpoch, new EndTransactionMarker(type, coordinatorEpoch));
        Message message = Message.valueOf(EntryCodec.encodeRequest(BatchValidator.Origin.COORDINATOR, marker.buffer()));
        long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        return sendMarker(tp, replicas, message, deadlineNs)
                .completeOnTimeout(
                        AppendOutcome.error(
                                Errors.REQUEST_TIMED_OUT,
                                tp + ": the transaction marker was not committed within " + timeoutMs + " ms"),
                        timeoutMs,
                        TimeUnit.MILLISECONDS);
    }

    /** One attempt at a marker; a leader that stepped down meanwhile is retried until the deadline. */
    private CompletableFuture<AppendOutcome> sendMarker(
            TopicPartition tp, List<RaftPeer> replicas, Message message, long deadlineNs) {
        RaftClient client = clientOf(groupOf(tp, replicas));
        CompletableFuture<RaftClientReply> reply;
        try {
            reply = client.async().send(message);
        } catch (RuntimeException e) {
            closeQuietly(client, tp);
            return CompletableFuture.completedFuture(AppendOutcome.error(
                    failureOf(tp, e).error(), failureOf(tp, e).message()));
        }
        // Close the client off its own callback thread.
        return reply.handleAsync((r, failure) -> {
                    closeQuietly(client, tp);
                    Failure problem = failure != null
                            ? failureOf(tp, unwrap(failure))
                            : r.isSuccess() ? null : failureOf(tp, r.getException());
                    return problem == null
                            ? EntryCodec.decodeReply(r.getMessage().getContent())
                            : AppendOutcome.error(problem.error(), problem.message());
                })
                .thenCompose(outcome -> {
                    long retryNs = TimeUnit.MILLISECONDS.toNanos(MARKER_RETRY_MS);
                    if (outcome.error() != Errors.NOT_LEADER_OR_FOLLOWER || System.nanoTime() + retryNs >= deadlineNs) {
                        return CompletableFuture.completedFuture(outcome);
                    }
                    // A duplicate marker is harmless (it ends no transaction twice), so a retry is safe.
                    CompletableFuture<AppendOutcome> retried = new CompletableFuture<>();
                    maintenance.schedule(
                            () -> sendMarker(tp, replicas, message, deadlineNs).whenComplete((o, e) -> {
                                if (e != null) {
                                    retried.completeExceptionally(e);
                                } else {
                                    retried.complete(o);
                                }
                            }),
                            MARKER_RETRY_MS,
                            TimeUnit.MILLISECONDS);
                    return retried;
                });
    }

    private static void closeQuietly(RaftClient client, TopicPartition tp) {
        try {
            client.close();
        } catch (IOException | RuntimeException e) {
            LOG.debug("{}: cannot close a marker client", tp, e);
        }
    }

    private <T> CompletableFuture<T> submit(
            TopicPartition tp, ByteString content, Function<ByteString, T> decode, Function<Failure, T> onFailure) {
        RaftClientRequest request = RaftClientRequest.newBuilder()
                .setClientId(clientId)
                .setServerId(self.getId())
                .setGroupId(groupIdOf(tp))
                .setCallId(callIds.incrementAndGet())
                .setMessage(Message.valueOf(content))
                .setType(RaftClientRequest.writeRequestType())
                .build();
        CompletableFuture<RaftClientReply> reply;
        try {
            reply = server.submitClientRequestAsync(request);
        } catch (IOException e) {
            return CompletableFuture.completedFuture(onFailure.apply(failureOf(tp, e)));
        }
        return reply.handle((r, failure) -> {
            if (failure != null) {
                return onFailure.apply(failureOf(tp, unwrap(failure)));
            }
            if (!r.isSuccess()) {
                return onFailure.apply(failureOf(tp, r.getException()));
            }
            return decode.apply(r.getMessage().getContent());
        });
    }

    private static Throwable unwrap(Throwable failure) {
        return failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
    }

    /** A write that Raft did not apply, as the Kafka error a broker answers. */
    private record Failure(Errors error, String message) {}

    private static Failure failureOf(TopicPartition tp, Throwable e) {
        if (e instanceof NotLeaderException
                || e instanceof LeaderNotReadyException
                || e instanceof LeaderSteppingDownException) {
            return new Failure(Errors.NOT_LEADER_OR_FOLLOWER, tp + ": " + e.getMessage());
        }
        if (e instanceof GroupMismatchException) {
            return new Failure(Errors.NOT_LEADER_OR_FOLLOWER, "this node holds no replica of " + tp);
        }
        if (e instanceof ResourceUnavailableException || e instanceof AlreadyClosedException) {
            return new Failure(Errors.REQUEST_TIMED_OUT, tp + ": " + e.getMessage());
        }
        if (e instanceof StateMachineException) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            return new Failure(Errors.CORRUPT_MESSAGE, tp + ": " + cause.getMessage());
        }
        if (e instanceof RaftException) {
            return new Failure(Errors.NOT_LEADER_OR_FOLLOWER, tp + ": " + e.getMessage());
        }
        return new Failure(Errors.UNKNOWN_SERVER_ERROR, tp + ": " + e);
    }

    // ---- replica status --------------------------------------------------------------------------------------

    /** This node's state machine of the partition, or null when it holds no replica. */
    public PartitionStateMachine stateMachine(TopicPartition tp) {
        try {
            return (PartitionStateMachine) server.getDivision(groupIdOf(tp)).getStateMachine();
        } catch (IOException e) {
            return null;
        }
    }

    RaftServer.Division division(TopicPartition tp) throws IOException {
        return server.getDivision(groupIdOf(tp));
    }

    /** The leader this node's replica of the partition knows of, or null. */
    RaftPeerId leaderOf(TopicPartition tp) throws IOException {
        return division(tp).getInfo().getLeaderId();
    }

    /** The leader this node's replica knows of, with its address when the replica's configuration has it; or null. */
    RaftPeer leaderPeerOf(TopicPartition tp) throws IOException {
        RaftServer.Division division = division(tp);
        RaftPeerId leader = division.getInfo().getLeaderId();
        return leader == null ? null : division.getGroup().getPeer(leader);
    }

    /** The partition's replica status on this node, or null when it holds no replica. */
    public ReplicaStatus status(TopicPartition tp) {
        RaftServer.Division division;
        try {
            division = server.getDivision(groupIdOf(tp));
        } catch (IOException e) {
            return null;
        }
        PartitionStateMachine stateMachine = (PartitionStateMachine) division.getStateMachine();
        var info = division.getInfo();
        RaftPeerId leaderId = info.getLeaderId();
        List<String> peers = new ArrayList<>();
        division.getGroup().getPeers().forEach(p -> peers.add(p.getId().toString()));
        peers.sort(null);
        boolean leading = info.isLeader() && info.isLeaderReady();
        List<String> isr = new ArrayList<>();
        if (info.isLeader()) {
            isr.addAll(inSyncFollowers(tp, division));
            isr.add(self.getId().toString());
        } else {
            isr.add(self.getId().toString());
            if (leaderId != null && !leaderId.equals(self.getId())) {
                isr.add(leaderId.toString());
            }
        }
        isr.sort(null);
        PartitionLog log = stateMachine.log();
        return new ReplicaStatus(
                tp,
                self.getId().toString(),
                leaderId == null ? null : leaderId.toString(),
                info.getCurrentTerm(),
                leading,
                List.copyOf(peers),
                List.copyOf(isr),
                stateMachine.highWatermark(),
                log == null ? -1 : log.logStartOffset(),
                log == null ? -1 : log.logEndOffset());
    }

    /**
     * The followers in sync with this leader (see {@link InSyncFollowers}): caught up with the leader's log as it
     * was at some moment within {@code replica.lag.time.max.ms}, and answering it.
     */
    private List<String> inSyncFollowers(TopicPartition tp, RaftServer.Division division) {
        long[] matchIndices = division.getInfo().getFollowerMatchIndices();
        RoleInfoProto role = division.getInfo().getRoleInfoProto();
        if (matchIndices == null || !role.hasLeaderInfo()) {
            return List.of();
        }
        Map<String, Long> reportedCommits = new HashMap<>();
        for (CommitInfoProto commit : division.getCommitInfos()) {
            reportedCommits.put(commit.getServer().getId().toStringUtf8(), commit.getCommitIndex());
        }
        List<ServerRpcProto> followerInfos = role.getLeaderInfo().getFollowerInfoList();
        List<InSyncFollowers.Follower> followers = new ArrayList<>();
        for (int i = 0; i < followerInfos.size() && i < matchIndices.length; i++) {
            ServerRpcProto follower = followerInfos.get(i);
            String id = follower.getId().getId().toStringUtf8();
            long progress = Math.max(matchIndices[i], reportedCommits.getOrDefault(id, -1L));
            followers.add(new InSyncFollowers.Follower(id, progress, follower.getLastRpcElapsedTimeMs()));
        }
        TermIndex last = division.getRaftLog().getLastEntryTermIndex();
        InSyncFollowers tracker = inSync.computeIfAbsent(tp, k -> new InSyncFollowers(settings.replicaLagTimeMaxMs()));
        synchronized (tracker) {
            return tracker.check(
                    clock.nowMs(), role.getLeaderInfo().getTerm(), last == null ? -1 : last.getIndex(), followers);
        }
    }

    /** A client of the partition's group as this node knows it (its current peers); close it after use. */
    RaftClient groupClient(TopicPartition tp) throws IOException {
        // Ratis's default client policy retries forever without pausing; a caller here wants an answer
        // (or an error) within about one request timeout per attempt, and a few attempts.
        return clientOf(division(tp).getGroup());
    }

    /**
     * A client of the partition's group as this node knows it, plus {@code peer} when the group lacks it (a
     * replica that is joining knows no members, or old ones, until the leader's configuration reaches it).
     */
    RaftClient groupClient(TopicPartition tp, RaftPeer peer) throws IOException {
        RaftGroup group = division(tp).getGroup();
        if (group.getPeer(peer.getId()) == null) {
            if (peer.getAddress() == null || peer.getAddress().isEmpty()) {
                throw new IOException("no address is known for " + peer.getId() + ", which is not in this replica's"
                        + " configuration " + group.getPeers());
            }
            List<RaftPeer> peers = new ArrayList<>(group.getPeers());
            peers.add(peer);
            group = RaftGroup.valueOf(group.getGroupId(), peers);
        }
        return clientOf(group);
    }

    public void addApplyListener(ApplyListener listener) {
        applyListeners.add(listener);
    }

    public void addLeaderListener(LeaderListener listener) {
        leaderListeners.add(Objects.requireNonNull(listener));
    }

    /**
     * Changes the replicas of a partition group (a Raft membership change), through this node, which must
     * be a current replica. A new replica's node must have added the partition first (it starts empty
     * and catches up, by snapshot install if needed); returns once the new configuration is committed.
     */
    public void changeReplicas(TopicPartition tp, List<RaftPeer> replicas) throws IOException {
        // The leader stages the change until every new replica has caught up (by install if need be), which can
        // outlast a request timeout; a retry meanwhile is told "reconfiguration in progress", and once the staged
        // configuration is committed, the same request succeeds at once. So the client keeps asking for longer.
        try (RaftClient client = clientOf(division(tp).getGroup(), CHANGE_REPLICAS_ATTEMPTS)) {
            RaftClientReply reply = client.admin().setConfiguration(replicas);
            if (!reply.isSuccess()) {
                throw new IOException("cannot change the replicas of " + tp + ": " + reply.getException());
            }
        }
    }

    /**
     * Whether this node's replica of the partition has taken part in no election and holds nothing: its term is 0
     * (Ratis raises the term for every election it runs or votes in; pre-votes do not count), its Raft log has no
     * entry and it has no snapshot. Such a replica can be created again with other peers without losing anything
     * or taking back a vote. False when the node has no such replica.
     */
    public boolean neverElected(TopicPartition tp) {
        try {
            RaftServer.Division division = division(tp);
            return division.getInfo().getCurrentTerm() == 0
                    && division.getRaftLog().getLastEntryTermIndex() == null
                    && division.getStateMachine().getLatestSnapshot() == null;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Asks the group to move leadership to {@code target} (a replica); waits up to {@code timeoutMs}. */
    public boolean transferLeadership(TopicPartition tp, String target, long timeoutMs) throws IOException {
        try (RaftClient client = groupClient(tp)) {
            return client.admin()
                    .transferLeadership(RaftPeerId.valueOf(target), timeoutMs)
                    .isSuccess();
        }
    }

    // ---- maintenance ------------------------------------------------------------------------------------------

    private void enforceRetention() {
        for (TopicPartition tp : partitions()) {
            PartitionStateMachine stateMachine = stateMachine(tp);
            if (stateMachine == null || stateMachine.log() == null) {
                continue;
            }
            try {
                int deleted = stateMachine.enforceRetention();
                if (deleted > 0) {
                    LOG.debug("{}: retention deleted {} segments", tp, deleted);
                }
            } catch (RuntimeException e) {
                LOG.warn("{}: retention failed: {}", tp, e.toString());
            }
        }
    }

    /**
     * Asks Ratis to take a snapshot of the partition on this node now (and then purge its log behind
     * it); for tests and operators. Returns the snapshot's Raft index.
     */
    public long snapshot(TopicPartition tp) throws IOException {
        RaftClientReply reply = server.snapshotManagement(SnapshotManagementRequest.newCreate(
                clientId, self.getId(), groupIdOf(tp), callIds.incrementAndGet(), 30_000));
        if (!reply.isSuccess()) {
            throw new IOException("cannot snapshot " + tp + ": " + reply.getException());
        }
        return reply.getLogIndex();
    }

    // ---- the groups file ------------------------------------------------------------------------------------

    private Path raftDir() {
        return dataDir.resolve("raft");
    }

    private void loadGroups() throws IOException {
        Path file = raftDir().resolve(GROUPS_FILE);
        if (!Files.exists(file)) {
            return;
        }
        int lineNumber = 0;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            lineNumber++;
            if (line.isBlank()) {
                continue;
            }
            String[] parts = line.split("\t");
            if (parts.length != 3) {
                throw new IOException(file + ":" + lineNumber + ": expected 'group-uuid<TAB>topic<TAB>partition'");
            }
            TopicPartition tp = new TopicPartition(parts[1], Integer.parseInt(parts[2]));
            groups.put(RaftGroupId.valueOf(UUID.fromString(parts[0])), tp);
        }
    }

    private synchronized void saveGroups() {
        StringBuilder text = new StringBuilder();
        groups.forEach((id, tp) -> text.append(id.getUuid())
                .append('\t')
                .append(tp.topic())
                .append('\t')
                .append(tp.partition())
                .append('\n'));
        Path file = raftDir().resolve(GROUPS_FILE);
        Path tmp = raftDir().resolve(GROUPS_FILE + ".tmp");
        try {
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            try (var channel = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
                channel.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save " + file, e);
        }
    }

    // ---- accessors ----------------------------------------------------------------------------------------------

    public RaftPeer peer() {
        return self;
    }

    public String id() {
        return self.getId().toString();
    }

    public NodeStore store() {
        return store;
    }

    public Path dataDir() {
        return dataDir;
    }

    SnapshotInstaller installer() {
        return installer;
    }

    RaftSettings settings() {
        return settings;
    }

    RaftProperties properties() {
        return properties;
    }

    RaftServer server() {
        return server;
    }

    LogConfig logConfig(TopicPartition tp) {
        return logConfigs.getOrDefault(tp, defaultLogConfig);
    }

    @Override
    public void close() throws IOException {
        synchronized (groupChanges) {
            closing = true; // no division is re-created from here on
        }
        maintenance.shutdownNow();
        installs.shutdownNow();
        repairs.close();
        try {
            closeServer();
        } finally {
            try {
                store.close();
            } catch (KafkaStorageException e) {
                LOG.warn("closing the store of node {}: {}", id(), e.getMessage());
            }
        }
    }

    /**
     * Closes the Raft server, waiting at most {@value #CLOSE_TIMEOUT_MS} ms: Ratis's Netty client can wait
     * forever for a reply from a peer that is already gone, and a node must still stop.
     */
    private void closeServer() throws IOException {
        CompletableFuture<Void> closing = CompletableFuture.runAsync(() -> {
            try {
                server.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        try {
            closing.get(CLOSE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            LOG.warn(
                    "node {}: the Raft server did not stop within {} ms; continuing the shutdown",
                    id(),
                    CLOSE_TIMEOUT_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable cause = e.getCause() instanceof UncheckedIOException u ? u.getCause() : e.getCause();
            throw cause instanceof IOException io ? io : new IOException(cause);
        }
    }

    private static final long CLOSE_TIMEOUT_MS = 15_000;

    @Override
    public String toString() {
        return "RaftNode[" + self.getId() + "@" + self.getAddress() + "]";
    }
}
