package dev.sluice.broker.txn;

import dev.sluice.coordinator.CoordinatorCommand;
import dev.sluice.coordinator.CoordinatorService;
import dev.sluice.coordinator.txn.ProducerIdSource;
import dev.sluice.coordinator.txn.TxnCommand;
import dev.sluice.coordinator.txn.TxnCoordinatorConfig;
import dev.sluice.coordinator.txn.TxnRecord;
import dev.sluice.coordinator.txn.TxnRecordCodec;
import dev.sluice.coordinator.txn.TxnState;
import dev.sluice.raft.PartitionStateMachine;
import dev.sluice.raft.RaftNode;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;
import java.util.function.LongFunction;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.NotCoordinatorException;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.protocol.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transaction coordinator of one node. The transactions live in the coordinator group (ARCHITECTURE.md,
 * decision 8): whichever node leads that group coordinates every transactional id, with one {@link
 * TransactionCoordinatorRuntime} per term of its leadership. A watcher (every 200 ms) starts a runtime when
 * this node becomes the group's ready leader and unloads it when the term changes or the runtime failed.
 * Requests on any other node fail with {@code NOT_COORDINATOR}; the client then finds the coordinator again
 * (FindCoordinator answers the group's leader).
 *
 * <p>It also gives the runtimes their producer ids (blocks of {@value #PRODUCER_ID_BLOCK} reserved through the
 * coordinator group) and verifies, for the partitions this node leads, that a transactional produce belongs to
 * a transaction the coordinator added the partition to ({@link #verify}, KIP-890 part 1).
 *
 * <p>Thread-safe.
 */
public final class TransactionCoordinatorService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TransactionCoordinatorService.class);
    private static final long CHECK_INTERVAL_MS = 200;
    private static final int PRODUCER_ID_BLOCK = 1000;
    private static final long VERIFY_TIMEOUT_MS = 5_000;

    private final RaftNode raft;
    private final CoordinatorService coordinator;
    private final TxnCoordinatorConfig config;
    private final IntSupplier offsetsPartitionCount;
    private final int nodeId;
    private final ScheduledExecutorService watcher;
    private final TxnMarkerWriter markerWriter;
    private final AtomicLong requestHandles = new AtomicLong();
    private final ProducerIdSource producerIds = this::nextProducerId;
    private volatile TransactionCoordinatorRuntime runtime;
    private volatile boolean closed;

    // ---- producer ids, guarded by this ----
    private long nextProducerId;
    private long producerIdBlockEnd;
    private boolean allocating;

    /**
     * @param offsetsPartitionCount the partition count of {@code __consumer_offsets} (the configured one while
     *     the topic does not exist): AddOffsetsToTxn adds the partition of a group
     */
    public TransactionCoordinatorService(
            RaftNode raft,
            CoordinatorService coordinator,
            TxnCoordinatorConfig config,
            IntSupplier offsetsPartitionCount,
            int nodeId) {
        this.raft = raft;
        this.coordinator = coordinator;
        this.config = config;
        this.offsetsPartitionCount = offsetsPartitionCount;
        this.nodeId = nodeId;
        this.watcher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "sluice-txn-" + nodeId);
            thread.setDaemon(true);
            return thread;
        });
        this.markerWriter = new TxnMarkerWriter(raft, coordinator, watcher);
        watcher.scheduleWithFixedDelay(
                this::checkLeadership, CHECK_INTERVAL_MS, CHECK_INTERVAL_MS, TimeUnit.MILLISECONDS);
    }

    /**
     * Hands a request to the transaction coordinator; the command is built on its thread with the request
     * handle its completion carries.
     *
     * @return the response data; or failed with {@code NotCoordinatorException} or {@code
     *     CoordinatorLoadInProgressException}
     */
    public CompletableFuture<Message> submit(LongFunction<TxnCommand> command) {
        TransactionCoordinatorRuntime current = runtime;
        if (current == null || closed) {
            return CompletableFuture.failedFuture(
                    new NotCoordinatorException("node " + nodeId + " does not coordinate transactions"));
        }
        return current.submit(command);
    }

    /** The node that coordinates transactions: the coordinator group's leader, or -1 if unknown. */
    public int coordinatorNode() {
        TransactionCoordinatorRuntime current = runtime;
        if (current != null && !current.isUnloaded()) {
            return nodeId;
        }
        return coordinator.leaderId();
    }

    public TxnCoordinatorConfig config() {
        return config;
    }

    // ---- KIP-890: checking transactional produces ----

    /**
     * Whether a transactional produce of {@code producerId} at {@code producerEpoch} may write to {@code tp}:
     * yes when the partition already holds the producer's open transaction at that epoch, otherwise only if
     * the coordinator's committed state has the transactional id's transaction ongoing, with this producer and
     * epoch, and {@code tp} among its partitions. A produce that comes after its transaction ended (a late
     * retry) is refused instead of opening a transaction nobody will end.
     *
     * @return {@code NONE}; {@code INVALID_PRODUCER_EPOCH} (another producer or epoch owns the id), {@code
     *     INVALID_TXN_STATE} (the partition is not part of an ongoing transaction), or the retriable {@code
     *     NOT_ENOUGH_REPLICAS} when the coordinator did not answer (Kafka's answer too)
     */
    public CompletableFuture<Errors> verify(
            String transactionalId, long producerId, short producerEpoch, TopicPartition tp) {
        PartitionStateMachine partition = raft.stateMachine(tp);
        if (partition != null && partition.hasOpenTransaction(producerId, producerEpoch)) {
            return CompletableFuture.completedFuture(Errors.NONE);
        }
        // Through the coordinator group's log, not a read-only query: a coordinator leader cut off from the
        // group would answer a query from a state its successor has moved past, vouching for a transaction
        // that is over (FaultControlClusterTest).
        return coordinator.readTransaction(transactionalId, VERIFY_TIMEOUT_MS).handle((reply, failure) -> {
            if (failure != null) {
                LOG.debug("cannot verify {} with the transaction coordinator", transactionalId, failure);
                return Errors.NOT_ENOUGH_REPLICAS;
            }
            if (reply.record() == null) {
                return Errors.INVALID_TXN_STATE;
            }
            TxnRecord record = TxnRecordCodec.decode(reply.record());
            if (!(record instanceof TxnRecord.TxnMetadata metadata)) {
                return Errors.INVALID_TXN_STATE;
            }
            if (metadata.producerId() != producerId || metadata.producerEpoch() != producerEpoch) {
                return Errors.INVALID_PRODUCER_EPOCH;
            }
            if (metadata.state() != TxnState.ONGOING || !metadata.partitions().contains(tp)) {
                return Errors.INVALID_TXN_STATE;
            }
            return Errors.NONE;
        });
    }

    // ---- for the runtimes ----

    CoordinatorService coordinator() {
        return coordinator;
    }

    TxnMarkerWriter markerWriter() {
        return markerWriter;
    }

    ProducerIdSource producerIds() {
        return producerIds;
    }

    int offsetsPartitionCount() {
        return offsetsPartitionCount.getAsInt();
    }

    int nodeId() {
        return nodeId;
    }

    long nextRequestHandle() {
        return requestHandles.incrementAndGet();
    }

    /**
     * The next producer id of this node's block; when the block runs low, the next one is reserved in the
     * background, and while none is left {@link ProducerIdSource#NONE_AVAILABLE} (the client retries).
     */
    private synchronized long nextProducerId() {
        if (producerIdBlockEnd - nextProducerId < PRODUCER_ID_BLOCK / 10) {
            allocateBlock();
        }
        return nextProducerId < producerIdBlockEnd ? nextProducerId++ : ProducerIdSource.NONE_AVAILABLE;
    }

    private synchronized void allocateBlock() {
        if (allocating || closed) {
            return;
        }
        allocating = true;
        coordinator
                .submit(new CoordinatorCommand.AllocateProducerIds(nodeId, PRODUCER_ID_BLOCK))
                .orTimeout(30, TimeUnit.SECONDS)
                .whenComplete((result, failure) -> {
                    synchronized (this) {
                        allocating = false;
                        if (failure != null || result.errorCode() != 0) {
                            LOG.warn(
                                    "cannot reserve producer ids: {}",
                                    failure != null ? failure.toString() : result.message());
                            return;
                        }
                        if (nextProducerId >= producerIdBlockEnd) {
                            nextProducerId = result.value();
                            producerIdBlockEnd = result.value() + PRODUCER_ID_BLOCK;
                        }
                    }
                });
    }

    // ---- leadership ----

    /** Checks leadership now (on the watcher thread). */
    void wake() {
        try {
            watcher.execute(this::checkLeadership);
        } catch (RejectedExecutionException e) {
            // closing
        }
    }

    private synchronized void checkLeadership() {
        if (closed) {
            return;
        }
        try {
            long term = coordinator.leaderTerm();
            TransactionCoordinatorRuntime current = runtime;
            if (current != null && (current.term() != term || current.isUnloaded())) {
                runtime = null;
                current.unload(term < 0 ? "this node no longer leads the coordinator group" : "a new term began");
                current = null;
            }
            if (current == null && term > 0) {
                current = new TransactionCoordinatorRuntime(this, term);
                runtime = current;
                current.load();
                allocateBlock();
            }
        } catch (RuntimeException e) {
            LOG.warn("checking the coordinator group's leadership failed; checking again shortly", e);
        }
    }

    @Override
    public void close() {
        TransactionCoordinatorRuntime current;
        synchronized (this) {
            closed = true;
            current = runtime;
            runtime = null;
        }
        if (current != null) {
            current.unload("the node is stopping");
        }
        watcher.shutdownNow();
    }
}
