package dev.sluice.broker;

import dev.sluice.broker.group.GroupCoordinatorService;
import dev.sluice.broker.http.FaultControl;
import dev.sluice.broker.http.HealthReport;
import dev.sluice.broker.http.HttpEndpoint;
import dev.sluice.broker.http.KafkaRequestMetrics;
import dev.sluice.broker.http.MetricsRegistry;
import dev.sluice.broker.http.NodeStatus;
import dev.sluice.broker.http.PartitionMetrics;
import dev.sluice.broker.kafka.ClusterView;
import dev.sluice.broker.kafka.KafkaApis;
import dev.sluice.broker.kafka.PartitionApis;
import dev.sluice.broker.net.KafkaServer;
import dev.sluice.broker.net.ServerSettings;
import dev.sluice.broker.net.SupportedApis;
import dev.sluice.broker.txn.TransactionCoordinatorService;
import dev.sluice.coordinator.ClusterImage;
import dev.sluice.coordinator.CoordinatorResult;
import dev.sluice.coordinator.CoordinatorService;
import dev.sluice.coordinator.CoordinatorService.Voter;
import dev.sluice.coordinator.CoordinatorStateMachine;
import dev.sluice.partitionstore.Clock;
import dev.sluice.raft.RaftNode;
import dev.sluice.raft.RaftSettings;
import dev.sluice.raft.ReplicaStatus;
import dev.sluice.raft.transport.FaultInjector;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Sluice node: its Raft server (partition groups and, on a voter, the coordinator group), the
 * coordinator service, the reconciler that keeps its groups matching the coordinator's image, the Kafka
 * listener and the HTTP endpoint. {@link #close} is the graceful shutdown: stop accepting clients, move
 * leadership of every partition it leads to another in-sync replica, flush and close.
 *
 * <p>With {@code raft.rpc.type=faulty} the node registers the {@link FaultInjector} its transport looks up
 * under {@code raft.fault.injector} (seeded with {@code raft.fault.seed}) before its Raft server starts, and
 * serves its switches over HTTP ({@link FaultControl}). The registration is shared: nodes of one JVM naming
 * the same injector (an in-process cluster) use one switchboard, and the last of them to close unregisters
 * it; they must give the same seed.
 */
public final class SluiceNode implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SluiceNode.class);

    private final BrokerConfig config;
    private final RaftNode raft;
    private final CoordinatorService coordinator;
    private final ScheduledExecutorService maintenance;
    private final ExecutorService leaderDuties;
    private final Reconciler reconciler;
    private final GroupCoordinatorService groupCoordinator;
    private final TransactionCoordinatorService txnCoordinator;
    private final PartitionApis partitionApis;
    private final KafkaServer kafka;
    private final HttpEndpoint http;
    private final MetricsRegistry metrics;
    private final boolean coordinatorVoter;
    /** The share of the fault injector, with raft.rpc.type=faulty; else null. */
    private final FaultInjector.Registration faults;

    private SluiceNode(BrokerConfig config, FaultInjector.Registration faults)
            throws IOException, InterruptedException {
        this.config = config;
        this.faults = faults;
        int nodeId = config.nodeId();
        List<Voter> voters = config.coordinatorVoters();
        boolean voter = voters.stream().anyMatch(v -> v.nodeId() == nodeId);
        this.coordinatorVoter = voter;
        BrokerConfig.HostPort raftAddress = config.raftAddress();
        RaftNode[] raftRef = new RaftNode[1];
        CoordinatorStateMachine coordinatorStateMachine =
                voter ? new CoordinatorStateMachine(group -> raftRef[0].clientOf(group)) : null;
        this.raft = RaftNode.start(
                Integer.toString(nodeId),
                raftAddress.host(),
                raftAddress.port(),
                config.dataDir(),
                config.raftSettings(),
                config.topicDefaults(),
                Clock.SYSTEM,
                groupId -> voter && groupId.equals(CoordinatorService.GROUP_ID) ? coordinatorStateMachine : null);
        raftRef[0] = raft;
        this.maintenance = Executors.newScheduledThreadPool(2, r -> {
            Thread thread = new Thread(r, "sluice-node-" + nodeId);
            thread.setDaemon(true);
            return thread;
        });
        BrokerConfig.HostPort advertised = config.advertisedAddress();
        Reconciler[] reconcilerRef = new Reconciler[1];
        this.coordinator = CoordinatorService.start(
                raft,
                voters,
                new CoordinatorService.Self(
                        nodeId,
                        advertised.host(),
                        advertised.port(),
                        raftAddress.host(),
                        raftAddress.port(),
                        config.rack()),
                new CoordinatorService.Timing(
                        config.getLong(BrokerConfig.NODE_HEARTBEAT_INTERVAL_MS),
                        config.getLong(BrokerConfig.NODE_FAILURE_TIMEOUT_MS)),
                coordinatorStateMachine,
                () -> reconcilerRef[0] == null ? List.of() : reconcilerRef[0].leadershipReports());
        ClusterView cluster = new ClusterView(nodeId, raft, coordinator);
        this.metrics = new MetricsRegistry();
        this.partitionApis = new PartitionApis(config, cluster, raft, maintenance, new PartitionMetrics(metrics));
        this.leaderDuties = Executors.newFixedThreadPool(2, r -> {
            Thread thread = new Thread(r, "sluice-node-" + nodeId + "-leader-duties");
            thread.setDaemon(true);
            return thread;
        });
        this.reconciler = new Reconciler(
                nodeId,
                config::topicConfig,
                Reconciler.Replicas.of(raft),
                Reconciler.Metadata.of(coordinator),
                partitionApis::forget,
                leaderDuties,
                System::currentTimeMillis);
        reconcilerRef[0] = reconciler;
        maintenance.scheduleWithFixedDelay(this::reconcileSafely, 100, 250, TimeUnit.MILLISECONDS);
        registerGauges();
        this.groupCoordinator = new GroupCoordinatorService(raft, config.groupCoordinatorConfig(), () -> {
            ClusterImage.TopicInfo offsets = cluster.topic(GroupCoordinatorService.OFFSETS_TOPIC);
            return offsets == null ? -1 : offsets.partitionCount();
        });
        this.txnCoordinator = new TransactionCoordinatorService(
                raft,
                coordinator,
                config.txnCoordinatorConfig(),
                () -> {
                    ClusterImage.TopicInfo offsets = cluster.topic(GroupCoordinatorService.OFFSETS_TOPIC);
                    return offsets == null
                            ? config.getInt(BrokerConfig.OFFSETS_TOPIC_NUM_PARTITIONS)
                            : offsets.partitionCount();
                },
                nodeId);
        partitionApis.setTransactionVerifier(txnCoordinator::verify);
        KafkaApis apis = new KafkaApis(config, cluster, coordinator, partitionApis, groupCoordinator, txnCoordinator);
        BrokerConfig.HostPort listener = config.kafkaAddress();
        this.kafka = KafkaServer.start(
                new ServerSettings(
                        listener.host(),
                        listener.port(),
                        config.getInt(BrokerConfig.SOCKET_REQUEST_MAX_BYTES),
                        config.getInt(BrokerConfig.MAX_IN_FLIGHT_PER_CONNECTION),
                        0),
                SupportedApis.of(KafkaApis.supportedApis()),
                apis,
                new KafkaRequestMetrics(metrics));
        BrokerConfig.HostPort httpAddress = config.httpAddress();
        this.http = HttpEndpoint.start(
                httpAddress.host(),
                httpAddress.port(),
                metrics,
                this::health,
                List.of(
                        NodeStatus.route(this::status),
                        faults == null
                                ? FaultControl.off()
                                : FaultControl.of(faults.injector(), Integer.toString(nodeId))));
        LOG.info("node {} serves Kafka on {} (Raft {}, HTTP {})", nodeId, listener, raftAddress, httpAddress);
    }

    /** Starts a node; it serves Kafka requests once {@link #ready()}. */
    public static SluiceNode start(BrokerConfig config) throws IOException, InterruptedException {
        RaftSettings raft = config.raftSettings();
        FaultInjector.Registration faults =
                raft.faulty() ? FaultInjector.registerShared(raft.faultInjector(), raft.faultSeed()) : null;
        try {
            return new SluiceNode(config, faults);
        } catch (IOException | InterruptedException | RuntimeException | Error e) {
            if (faults != null) {
                faults.close();
            }
            throw e;
        }
    }

    /** What {@code GET /status} reports: the coordinator's leader and the partitions this node leads. */
    private NodeStatus status() {
        List<NodeStatus.Leadership> leaders = new ArrayList<>();
        List<NodeStatus.Replica> replicas = new ArrayList<>();
        List<TopicPartition> partitions = raft.partitions();
        for (TopicPartition tp : partitions) {
            ReplicaStatus status = raft.status(tp);
            if (status == null) {
                continue;
            }
            if (status.isLeader()) {
                leaders.add(new NodeStatus.Leadership(tp.topic(), tp.partition(), status.leaderEpoch()));
            }
            replicas.add(new NodeStatus.Replica(
                    tp.topic(),
                    tp.partition(),
                    status.leader() == null ? -1 : Integer.parseInt(status.leader()),
                    status.leaderEpoch(),
                    status.highWatermark(),
                    status.logEndOffset()));
        }
        leaders.sort(
                Comparator.comparing(NodeStatus.Leadership::topic).thenComparingInt(NodeStatus.Leadership::partition));
        replicas.sort(Comparator.comparing(NodeStatus.Replica::topic).thenComparingInt(NodeStatus.Replica::partition));
        return new NodeStatus(
                config.nodeId(), coordinator.leaderId(), coordinatorVoter, leaders, partitions.size(), replicas);
    }

    private void registerGauges() {
        metrics.gauge("sluice_partitions", "Partition replicas on this node", () -> raft.partitions()
                .size());
        metrics.gauge("sluice_partition_leaders", "Partitions this node leads", () -> countLeaders(false));
        metrics.gauge(
                "sluice_under_replicated_partitions",
                "Partitions this node leads with fewer in-sync replicas than replicas",
                () -> countLeaders(true));
        metrics.gauge(
                "sluice_storage_damaged_segments_found",
                "Closed segments found damaged (scrub or read) since the node started",
                () -> raft.storageHealth().damagedSegmentsFound());
        metrics.gauge(
                "sluice_storage_damaged_segments_repaired",
                "Damaged segments replaced by another replica's copy since the node started",
                () -> raft.storageHealth().damagedSegmentsRepaired());
        metrics.gauge(
                "sluice_storage_damaged_segments_unrepaired",
                "Damaged segments not repaired yet (nothing is served from them)",
                () -> raft.storageHealth().unrepaired().size());
        metrics.gauge(
                "sluice_storage_lost_data_restored",
                "Partitions whose lost data (a cut or torn segment) was restored from another replica since start",
                () -> raft.storageHealth().lostDataRestored());
        metrics.gauge(
                "sluice_storage_partitions_restoring",
                "Partitions restoring lost data from another replica (they take no writes meanwhile)",
                () -> raft.storageHealth().restoring().size());
    }

    private long countLeaders(boolean underReplicatedOnly) {
        long count = 0;
        for (TopicPartition tp : raft.partitions()) {
            ReplicaStatus status = raft.status(tp);
            if (status != null
                    && status.isLeader()
                    && (!underReplicatedOnly
                            || status.inSyncReplicas().size() < status.peers().size())) {
                count++;
            }
        }
        return count;
    }

    private void reconcileSafely() {
        try {
            reconciler.reconcile();
        } catch (RuntimeException e) {
            LOG.warn("reconciliation failed; it runs again shortly", e);
        }
    }

    private HealthReport health() {
        if (!coordinator.connected()) {
            return new HealthReport(false, "not connected to the coordinator group");
        }
        if (!coordinator.caughtUp()) {
            return new HealthReport(false, "catching up with the coordinator's metadata");
        }
        return new HealthReport(true, "serving");
    }

    /** Whether the node is part of a working cluster and serves requests. */
    public boolean ready() {
        return health().ready();
    }

    public int kafkaPort() {
        return kafka.port();
    }

    public int httpPort() {
        return http.port();
    }

    public RaftNode raft() {
        return raft;
    }

    public CoordinatorService coordinator() {
        return coordinator;
    }

    public BrokerConfig config() {
        return config;
    }

    /** The partition APIs (tests replace the transaction verifier to write transactional batches raw). */
    PartitionApis partitionApis() {
        return partitionApis;
    }

    @Override
    public void close() {
        long deadline =
                System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.getLong(BrokerConfig.SHUTDOWN_TIMEOUT_MS));
        kafka.stopAccepting();
        reconciler.stop();
        announceShutdown(deadline);
        moveLeadershipAway(deadline);
        kafka.close();
        groupCoordinator.close();
        txnCoordinator.close();
        maintenance.shutdownNow();
        leaderDuties.shutdownNow();
        coordinator.close();
        http.close();
        try {
            raft.close();
        } catch (IOException e) {
            LOG.warn("closing the Raft server", e);
        }
        if (faults != null) {
            faults.close();
        }
        LOG.info("node {} stopped", config.nodeId());
    }

    /**
     * Tells the coordinator this node is stopping, so that no other node hands it leaderships back while it
     * hands them over (its replicas stay; it registers again when it restarts). Best effort: a node that
     * cannot reach the coordinator stops anyway.
     */
    private void announceShutdown(long deadlineNs) {
        long waitMs = Math.min(2_000, TimeUnit.NANOSECONDS.toMillis(deadlineNs - System.nanoTime()));
        try {
            CoordinatorResult result = coordinator.announceShutdown().get(Math.max(0, waitMs), TimeUnit.MILLISECONDS);
            if (result.errorCode() != 0) {
                LOG.info("the coordinator did not record the shutdown: {}", result.message());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            LOG.info("the coordinator did not record the shutdown in time: {}", e.toString());
        }
    }

    /**
     * Hands the leadership of every partition this node leads to an in-sync replica, all partitions at once
     * (a node leading many partitions, or a whole cluster stopping together, would otherwise spend a transfer
     * timeout per partition), until {@code deadlineNs}.
     */
    private void moveLeadershipAway(long deadlineNs) {
        List<TopicPartition> led = new ArrayList<>();
        for (TopicPartition tp : raft.partitions()) {
            ReplicaStatus status = raft.status(tp);
            if (status != null && status.isLeader() && status.inSyncReplicas().size() > 1) {
                led.add(tp);
            }
        }
        if (led.isEmpty()) {
            return;
        }
        ExecutorService transfers = Executors.newFixedThreadPool(Math.min(32, led.size()), r -> {
            Thread thread = new Thread(r, "sluice-node-" + config.nodeId() + "-handover");
            thread.setDaemon(true);
            return thread;
        });
        try {
            List<CompletableFuture<?>> pending = new ArrayList<>();
            for (TopicPartition tp : led) {
                pending.add(CompletableFuture.runAsync(() -> moveLeadership(tp, deadlineNs), transfers));
            }
            long leftMs = TimeUnit.NANOSECONDS.toMillis(deadlineNs - System.nanoTime());
            CompletableFuture.allOf(pending.toArray(CompletableFuture<?>[]::new))
                    .get(Math.max(0, leftMs), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            LOG.info("not every partition's leadership was handed over before stopping: {}", e.toString());
        } finally {
            transfers.shutdownNow();
        }
    }

    private void moveLeadership(TopicPartition tp, long deadlineNs) {
        ReplicaStatus status = raft.status(tp);
        if (status == null || !status.isLeader()) {
            return;
        }
        ClusterImage image = coordinator.image();
        for (String peer : status.inSyncReplicas()) {
            if (peer.equals(status.self()) || System.nanoTime() > deadlineNs) {
                continue;
            }
            ClusterImage.NodeRegistration node = image.node(Integer.parseInt(peer));
            if (node != null && node.shuttingDown()) {
                continue; // stopping too (a whole cluster stopping): it would not keep the leadership
            }
            try {
                long leftMs = Math.max(100, TimeUnit.NANOSECONDS.toMillis(deadlineNs - System.nanoTime()));
                if (raft.transferLeadership(tp, peer, Math.min(2_000, leftMs))) {
                    return;
                }
            } catch (IOException | RuntimeException e) {
                LOG.debug("{}: leadership not moved to {}: {}", tp, peer, e.getMessage());
            }
        }
    }
}
