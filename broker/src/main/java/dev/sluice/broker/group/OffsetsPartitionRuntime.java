package dev.sluice.broker.group;

import dev.sluice.coordinator.group.GroupCommand;
import dev.sluice.coordinator.group.GroupCoordinatorConfig;
import dev.sluice.coordinator.group.GroupCoordinatorState;
import dev.sluice.coordinator.group.GroupRecord;
import dev.sluice.coordinator.group.GroupResult;
import dev.sluice.partitionstore.BatchValidator;
import dev.sluice.partitionstore.PartitionLog;
import dev.sluice.partitionstore.ProducerStateEntry;
import dev.sluice.raft.AppendOutcome;
import dev.sluice.raft.PartitionStateMachine;
import dev.sluice.raft.RaftNode;
import dev.sluice.raft.ReplicaStatus;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongFunction;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.CoordinatorLoadInProgressException;
import org.apache.kafka.common.errors.NotCoordinatorException;
import org.apache.kafka.common.errors.UnknownServerException;
import org.apache.kafka.common.message.TxnOffsetCommitResponseData;
import org.apache.kafka.common.message.TxnOffsetCommitResponseData.TxnOffsetCommitResponsePartition;
import org.apache.kafka.common.message.TxnOffsetCommitResponseData.TxnOffsetCommitResponseTopic;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.protocol.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The groups of one {@code __consumer_offsets} partition while this node leads it: a {@link
 * GroupCoordinatorState} driven on one thread, its records written as Raft entries of the partition.
 *
 * <h2>Log layout</h2>
 *
 * Every {@link GroupResult} with records is one Kafka record batch (so one Raft entry, atomic), one Kafka
 * record per {@link GroupRecord}:
 *
 * <pre>
 *   record key   = GroupRecordCodec.key(record)     (which group / offset the record replaces)
 *   record value = GroupRecordCodec.encode(record)  (never null, tombstones included)
 * </pre>
 *
 * A batch of one record with a null key and a null value is a load marker (see below) and carries no group
 * record. A step's transactional offsets (TxnOffsetCommit) are a transactional batch of their producer without
 * a sequence ({@link GroupView#batchOf}); the transaction coordinator's COMMIT or ABORT marker for the producer,
 * written through the partition's Raft group by whichever node coordinates the transaction, ends them.
 *
 * <h2>Transaction markers</h2>
 *
 * The node's {@link GroupView} applies every marker on every replica and tells the runtime of the marker's
 * partition ({@link #markerApplied}); the runtime hands it to the state on its thread. Markers the loaded view
 * already reflected (below {@link GroupView.Loaded#viewOffset()}) are skipped, markers that arrive before the
 * load finished wait for it. A marker may overtake records the state emitted before it and the log has not
 * applied yet; the state orders transactional and plain commits by emission, so the outcome is the log's.
 * A transactional batch the partition refuses (the producer was fenced by a newer epoch meanwhile) answers its
 * request with the partition's error and unloads the runtime, as the state already counted the offsets pending;
 * the reloaded state knows the producer's newer epoch from the partition's producer state and refuses the
 * retried request before writing.
 *
 * <h2>Lifecycle</h2>
 *
 * <ol>
 *   <li>Loading: append a load marker through Raft and wait until it is committed and applied here. Every
 *       entry of earlier terms is then applied too, and its records are in the node's {@link GroupView}:
 *       {@link GroupCoordinatorState#replay} the partition's groups and offsets from there, then {@link
 *       GroupCoordinatorState#activate}. Requests meanwhile fail with {@code COORDINATOR_LOAD_IN_PROGRESS}.
 *   <li>Active: each request or due timer is one step; the step's records become one append, its
 *       completions are sent at once or, when they await the commit, after the last append submitted so far
 *       is committed (appends commit in order).
 *   <li>Unloaded (leadership lost, a write failed, or the node stops): {@link GroupCoordinatorState#unload}
 *       answers parked requests with {@code NOT_COORDINATOR}; answers still waiting for a commit that fails
 *       get {@code NOT_COORDINATOR}; the instance is dropped and a new one reloads from the log.
 * </ol>
 *
 * <p>Threading: {@link #submit}, {@link #load} and {@link #unload} may be called from any thread; everything
 * else, and every access to the state, runs on this runtime's single thread.
 */
final class OffsetsPartitionRuntime {
    private static final Logger LOG = LoggerFactory.getLogger(OffsetsPartitionRuntime.class);
    private static final int READ_BYTES_MAX = 1 << 20;

    private final GroupCoordinatorService service;
    private final RaftNode raft;
    private final TopicPartition tp;
    private final long leaderEpoch;
    private final GroupCoordinatorConfig config;
    private final ScheduledExecutorService executor;

    // ---- touched only on the executor ----
    private final Map<Long, CompletableFuture<Message>> pending = new HashMap<>();
    private GroupCoordinatorState state;
    private CompletableFuture<Boolean> lastWrite = CompletableFuture.completedFuture(true);
    private ScheduledFuture<?> timer;
    private long timerAtMs = Long.MAX_VALUE;
    /** Markers applied while loading, before the state exists. */
    private final List<Marker> markersWhileLoading = new ArrayList<>();
    /** Markers below this offset are in the loaded state already. */
    private long loadedViewOffset = Long.MAX_VALUE;

    private record Marker(long producerId, short producerEpoch, boolean commit, long offset) {}

    private volatile boolean active;
    private volatile boolean unloaded;

    OffsetsPartitionRuntime(
            GroupCoordinatorService service,
            RaftNode raft,
            TopicPartition tp,
            long leaderEpoch,
            GroupCoordinatorConfig config) {
        this.service = service;
        this.raft = raft;
        this.tp = tp;
        this.leaderEpoch = leaderEpoch;
        this.config = config;
        this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "sluice-groups-" + raft.id() + "-" + tp);
            thread.setDaemon(true);
            return thread;
        });
    }

    long leaderEpoch() {
        return leaderEpoch;
    }

    boolean isActive() {
        return active;
    }

    boolean isUnloaded() {
        return unloaded;
    }

    // ---- loading ----

    /** Starts loading: the marker append, then the replay on this runtime's thread. */
    void load() {
        LOG.info("{}: loading the consumer groups (leader epoch {})", tp, leaderEpoch);
        run(() -> raft.append(tp, GroupView.markerBatch(), BatchValidator.Origin.COORDINATOR)
                .whenComplete((outcome, failure) -> run(() -> finishLoad(outcome, failure))));
    }

    private void finishLoad(AppendOutcome marker, Throwable failure) {
        if (unloaded) {
            return;
        }
        if (failure != null || marker == null || !marker.succeeded()) {
            fail("the load marker was not committed: "
                    + (failure != null ? failure : marker == null ? "no outcome" : marker.errorMessage()));
            return;
        }
        ReplicaStatus status = raft.status(tp);
        if (status == null || !status.isLeader() || status.leaderEpoch() != leaderEpoch) {
            fail("leadership moved while loading");
            return;
        }
        long startNs = System.nanoTime();
        int partitionCount = service.offsetsPartitionCount();
        if (partitionCount <= tp.partition()) {
            fail("the partition count of " + tp.topic() + " is not known yet");
            return;
        }
        GroupCoordinatorState loaded = new GroupCoordinatorState(config);
        long records;
        try {
            PartitionStateMachine stateMachine = raft.stateMachine(tp);
            PartitionLog log = stateMachine == null ? null : stateMachine.log();
            if (log == null) {
                throw new IllegalStateException("no local log of " + tp);
            }
            GroupView.Loaded view = service.view().load(tp, log, marker.lastOffset() + 1, partitionCount, loaded);
            records = view.records();
            for (ProducerStateEntry producer : stateMachine.producerStates()) {
                loaded.replayProducerEpoch(producer.producerId(), producer.producerEpoch());
            }
            loadedViewOffset = view.viewOffset();
            for (Marker early : markersWhileLoading) {
                if (early.offset() >= loadedViewOffset) {
                    loaded.replayEndTransactionMarker(early.producerId(), early.producerEpoch(), early.commit());
                }
            }
            markersWhileLoading.clear();
        } catch (RuntimeException e) {
            LOG.error("{}: cannot load the consumer groups", tp, e);
            fail("the groups could not be loaded: " + e.getMessage());
            return;
        }
        state = loaded;
        GroupResult activation = state.activate(nowMs());
        active = true;
        LOG.info(
                "{}: {} group records loaded in {} ms; coordinating {} groups",
                tp,
                records,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs),
                state.groupIds().size());
        process(activation);
    }

    // ---- transaction markers ----

    /** A COMMIT or ABORT marker at {@code offset} was applied to the partition's view; any thread. */
    void markerApplied(long producerId, short producerEpoch, boolean commit, long offset) {
        run(() -> {
            if (unloaded) {
                return;
            }
            if (state == null) {
                markersWhileLoading.add(new Marker(producerId, producerEpoch, commit, offset));
            } else if (offset >= loadedViewOffset) {
                state.replayEndTransactionMarker(producerId, producerEpoch, commit);
            }
        });
    }

    // ---- requests and timers ----

    /** Hands a request to the state on this runtime's thread. */
    CompletableFuture<Message> submit(LongFunction<GroupCommand> command) {
        CompletableFuture<Message> answer = new CompletableFuture<>();
        boolean queued = run(() -> {
            if (unloaded) {
                answer.completeExceptionally(notCoordinator());
                return;
            }
            if (!active) {
                answer.completeExceptionally(
                        new CoordinatorLoadInProgressException("the consumer groups of " + tp + " are being loaded"));
                return;
            }
            long handle = service.nextRequestHandle();
            pending.put(handle, answer);
            GroupResult result;
            try {
                result = state.handle(command.apply(handle), nowMs());
            } catch (RuntimeException e) {
                pending.remove(handle);
                LOG.error("{}: a group request failed", tp, e);
                answer.completeExceptionally(new UnknownServerException(e.getMessage()));
                return;
            }
            process(result);
        });
        if (!queued) {
            answer.completeExceptionally(notCoordinator());
        }
        return answer;
    }

    private void onTimer() {
        timer = null;
        timerAtMs = Long.MAX_VALUE;
        if (!active || unloaded) {
            return;
        }
        long nowMs = nowMs();
        int rounds = 0;
        while (state.nextDeadlineMs() <= nowMs && rounds++ < 1000 && !unloaded) {
            process(state.tick(nowMs));
        }
        if (!unloaded) {
            scheduleTimer();
        }
    }

    private void scheduleTimer() {
        long deadlineMs = state.nextDeadlineMs();
        if (deadlineMs == timerAtMs) {
            return;
        }
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
        timerAtMs = deadlineMs;
        if (deadlineMs != Long.MAX_VALUE) {
            long delayMs = Math.max(0, deadlineMs - nowMs());
            timer = executor.schedule(this::onTimer, delayMs, TimeUnit.MILLISECONDS);
        }
    }

    /** Writes a step's records (one entry) and sends or schedules its completions. */
    private void process(GroupResult result) {
        CompletableFuture<Errors> stepWrite = CompletableFuture.completedFuture(Errors.NONE);
        if (!result.records().isEmpty()) {
            CompletableFuture<AppendOutcome> append =
                    raft.append(tp, GroupView.batchOf(result.records()), BatchValidator.Origin.COORDINATOR);
            stepWrite = append.handle((outcome, failure) -> {
                if (failure == null && outcome.succeeded()) {
                    return Errors.NONE;
                }
                LOG.warn(
                        "{}: group records not written ({}); giving up the partition's groups",
                        tp,
                        failure != null ? failure : outcome.error() + " " + outcome.errorMessage());
                run(() -> fail("a write failed"));
                return failure != null || outcome.error() == null ? Errors.UNKNOWN_SERVER_ERROR : outcome.error();
            });
            CompletableFuture<Boolean> written = stepWrite.thenApply(error -> error == Errors.NONE);
            lastWrite = lastWrite.thenCombine(written, (before, now) -> before && now);
        }
        CompletableFuture<Errors> ownWrite = stepWrite;
        for (GroupResult.Completion completion : result.completions()) {
            CompletableFuture<Message> answer = pending.remove(completion.requestHandle());
            if (answer == null) {
                LOG.warn("{}: an answer to unknown request {}", tp, completion.requestHandle());
                continue;
            }
            if (!completion.awaitsCommit()) {
                answer.complete(completion.response());
            } else {
                lastWrite.thenAccept(ok -> {
                    Errors refused = ok ? Errors.NONE : ownWrite.getNow(Errors.NONE);
                    if (ok) {
                        answer.complete(completion.response());
                    } else if (completion.response() instanceof TxnOffsetCommitResponseData txn
                            && isProducerError(refused)) {
                        answer.complete(withError(txn, refused));
                    } else {
                        answer.completeExceptionally(notCoordinator());
                    }
                });
            }
        }
        if (state != null && !unloaded) {
            scheduleTimer();
        }
    }

    // ---- giving up ----

    /** Gives up the partition's groups; may be called from any thread, more than once. */
    void unload(String reason) {
        if (!run(() -> fail(reason))) {
            unloaded = true;
        }
    }

    /** On the runtime's thread: unloads the state, answers what is parked, stops the thread. */
    private void fail(String reason) {
        if (unloaded) {
            return;
        }
        LOG.info("{}: no longer coordinating its consumer groups: {}", tp, reason);
        unloaded = true;
        active = false;
        if (state != null && state.isActive()) {
            try {
                GroupResult last = state.unload();
                for (GroupResult.Completion completion : last.completions()) {
                    CompletableFuture<Message> answer = pending.remove(completion.requestHandle());
                    if (answer != null) {
                        answer.complete(completion.response());
                    }
                }
            } catch (RuntimeException e) {
                LOG.warn("{}: unloading the groups failed", tp, e);
            }
        }
        for (CompletableFuture<Message> answer : pending.values()) {
            answer.completeExceptionally(notCoordinator());
        }
        pending.clear();
        if (timer != null) {
            timer.cancel(false);
        }
        service.wake();
        // work queued already still runs (and finds this runtime unloaded); later callbacks are refused
        executor.shutdown();
    }

    /** The partition refused the producer's batch: the client must see why (it is fenced), not retry. */
    private static boolean isProducerError(Errors error) {
        return error == Errors.INVALID_PRODUCER_EPOCH
                || error == Errors.PRODUCER_FENCED
                || error == Errors.INVALID_TXN_STATE;
    }

    private static TxnOffsetCommitResponseData withError(TxnOffsetCommitResponseData response, Errors error) {
        TxnOffsetCommitResponseData failed = new TxnOffsetCommitResponseData();
        for (TxnOffsetCommitResponseTopic topic : response.topics()) {
            TxnOffsetCommitResponseTopic failedTopic = new TxnOffsetCommitResponseTopic().setName(topic.name());
            for (TxnOffsetCommitResponsePartition p : topic.partitions()) {
                failedTopic
                        .partitions()
                        .add(new TxnOffsetCommitResponsePartition()
                                .setPartitionIndex(p.partitionIndex())
                                .setErrorCode(p.errorCode() == Errors.NONE.code() ? error.code() : p.errorCode()));
            }
            failed.topics().add(failedTopic);
        }
        return failed;
    }

    private NotCoordinatorException notCoordinator() {
        return new NotCoordinatorException("this node no longer coordinates the groups of " + tp);
    }

    private boolean run(Runnable task) {
        try {
            executor.execute(() -> {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    LOG.error("{}: group coordinator task failed", tp, e);
                }
            });
            return true;
        } catch (RejectedExecutionException e) {
            return false;
        }
    }

    private static long nowMs() {
        return System.currentTimeMillis();
    }
}
