package dev.sluice.broker.group;

import dev.sluice.coordinator.group.GroupCommand;
import dev.sluice.coordinator.group.GroupCoordinatorConfig;
import dev.sluice.raft.RaftNode;
import dev.sluice.raft.ReplicaStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;
import java.util.function.LongFunction;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.NotCoordinatorException;
import org.apache.kafka.common.protocol.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The consumer-group coordinator of one node: for every {@code __consumer_offsets} partition this node leads,
 * one {@link OffsetsPartitionRuntime} holding that partition's groups and committed offsets.
 *
 * <p>A watcher (woken by every leadership change of an offsets partition, and every 200 ms regardless) starts
 * a runtime when this node becomes a partition's ready leader and unloads it when the node stops leading, when
 * the term changes or when a write of the runtime failed; a new runtime then loads the partition's groups
 * again from the node's {@link GroupView}, which every replica keeps up to date as it applies the partition. Requests for a partition without a runtime fail with {@code NOT_COORDINATOR}, requests for a runtime
 * still loading with {@code COORDINATOR_LOAD_IN_PROGRESS} (the Kafka client retries both, the first after
 * finding the coordinator again).
 *
 * <p>Thread-safe: {@link #submit} may be called from any thread; each runtime serializes its work on its own
 * thread.
 */
public final class GroupCoordinatorService implements AutoCloseable {
    /** The internal topic whose partitions hold the groups and their offsets. */
    public static final String OFFSETS_TOPIC = "__consumer_offsets";

    private static final Logger LOG = LoggerFactory.getLogger(GroupCoordinatorService.class);
    private static final long CHECK_INTERVAL_MS = 200;

    private final RaftNode raft;
    private final GroupCoordinatorConfig config;
    private final IntSupplier offsetsPartitionCount;
    private final GroupView view;
    private final Map<Integer, OffsetsPartitionRuntime> runtimes = new ConcurrentHashMap<>();
    private final ScheduledExecutorService watcher;
    private final AtomicLong requestHandles = new AtomicLong();
    private volatile boolean closed;

    /**
     * @param offsetsPartitionCount the partition count of {@code __consumer_offsets}; -1 while it does not
     *     exist
     */
    public GroupCoordinatorService(RaftNode raft, GroupCoordinatorConfig config, IntSupplier offsetsPartitionCount) {
        this.raft = raft;
        this.config = config;
        this.offsetsPartitionCount = offsetsPartitionCount;
        this.view = new GroupView(raft.store().metadata());
        view.setMarkerListener(this::markerApplied);
        raft.addApplyListener(view);
        this.watcher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "sluice-groups-" + raft.id());
            thread.setDaemon(true);
            return thread;
        });
        raft.addLeaderListener((tp, leader, term) -> {
            if (tp.topic().equals(OFFSETS_TOPIC)) {
                wake();
            }
        });
        watcher.scheduleWithFixedDelay(
                this::checkLeadership, CHECK_INTERVAL_MS, CHECK_INTERVAL_MS, TimeUnit.MILLISECONDS);
    }

    public GroupCoordinatorConfig config() {
        return config;
    }

    /**
     * Hands a request to the groups of an offsets partition. The command is built on the partition's thread with
     * the request handle its completion will carry.
     *
     * @return the response data; or failed with {@code NotCoordinatorException} (this node does not lead the
     *     partition, or lost it before the answer's records were committed) or {@code
     *     CoordinatorLoadInProgressException}
     */
    public CompletableFuture<Message> submit(int partition, LongFunction<GroupCommand> command) {
        OffsetsPartitionRuntime runtime = runtimes.get(partition);
        if (runtime == null || closed) {
            return CompletableFuture.failedFuture(new NotCoordinatorException(
                    "this node does not coordinate the groups of " + OFFSETS_TOPIC + "-" + partition));
        }
        return runtime.submit(command);
    }

    /** The offsets partitions this node leads and has a runtime for (loading or active), in order. */
    public List<Integer> coordinatedPartitions() {
        return new ArrayList<>(new TreeSet<>(runtimes.keySet()));
    }

    int offsetsPartitionCount() {
        return offsetsPartitionCount.getAsInt();
    }

    GroupView view() {
        return view;
    }

    long nextRequestHandle() {
        return requestHandles.incrementAndGet();
    }

    /** A transaction marker reached the groups of an offsets partition: its coordinator, if here, applies it too. */
    private void markerApplied(TopicPartition tp, long producerId, short producerEpoch, boolean commit, long offset) {
        OffsetsPartitionRuntime runtime = runtimes.get(tp.partition());
        if (runtime != null) {
            runtime.markerApplied(producerId, producerEpoch, commit, offset);
        }
    }

    /** Checks leadership now (on the watcher thread). */
    public void wake() {
        try {
            watcher.execute(this::checkLeadership);
        } catch (RejectedExecutionException e) {
            // closing
        }
    }

    private void checkLeadership() {
        if (closed) {
            return;
        }
        try {
            TreeSet<Integer> present = new TreeSet<>();
            for (TopicPartition tp : raft.partitions()) {
                if (!tp.topic().equals(OFFSETS_TOPIC)) {
                    continue;
                }
                present.add(tp.partition());
                ReplicaStatus status = raft.status(tp);
                boolean leading = status != null && status.isLeader();
                OffsetsPartitionRuntime runtime = runtimes.get(tp.partition());
                if (runtime != null
                        && (!leading || runtime.leaderEpoch() != status.leaderEpoch() || runtime.isUnloaded())) {
                    runtimes.remove(tp.partition(), runtime);
                    runtime.unload("leadership of " + tp + " lost or moved to a new term");
                    runtime = null;
                }
                if (runtime == null && leading) {
                    runtime = new OffsetsPartitionRuntime(this, raft, tp, status.leaderEpoch(), config);
                    runtimes.put(tp.partition(), runtime);
                    runtime.load();
                }
            }
            for (Integer partition : new ArrayList<>(runtimes.keySet())) {
                if (!present.contains(partition)) {
                    OffsetsPartitionRuntime runtime = runtimes.remove(partition);
                    if (runtime != null) {
                        runtime.unload("this node holds no replica of " + OFFSETS_TOPIC + "-" + partition + " anymore");
                    }
                }
            }
        } catch (RuntimeException e) {
            LOG.warn("checking the leadership of {} failed; checking again shortly", OFFSETS_TOPIC, e);
        }
    }

    @Override
    public void close() {
        closed = true;
        watcher.shutdownNow();
        for (OffsetsPartitionRuntime runtime : runtimes.values()) {
            runtime.unload("the node is stopping");
        }
        runtimes.clear();
    }
}
