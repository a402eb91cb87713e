package dev.sluice.broker.txn;

import dev.sluice.coordinator.CoordinatorCommand;
import dev.sluice.coordinator.CoordinatorResult;
import dev.sluice.coordinator.CoordinatorStateMachine;
import dev.sluice.coordinator.txn.TransactionCoordinatorState;
import dev.sluice.coordinator.txn.TxnCommand;
import dev.sluice.coordinator.txn.TxnRecord;
import dev.sluice.coordinator.txn.TxnRecordCodec;
import dev.sluice.coordinator.txn.TxnResult;
import dev.sluice.coordinator.txn.TxnResult.WriteMarkers;
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
import org.apache.kafka.common.errors.CoordinatorLoadInProgressException;
import org.apache.kafka.common.errors.NotCoordinatorException;
import org.apache.kafka.common.errors.UnknownServerException;
import org.apache.kafka.common.protocol.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transaction coordinator for one term of this node's leadership of the coordinator group: a {@link
 * TransactionCoordinatorState} driven on one thread, its records written as {@link
 * CoordinatorCommand.TxnRecords} entries of the coordinator group, its marker work done by the {@link
 * TxnMarkerWriter}.
 *
 * <h2>Lifecycle</h2>
 *
 * <ol>
 *   <li>Loading: write an empty {@code TxnRecords} entry and wait for it. Once it is applied, so is every entry
 *       of earlier terms: replay the transactions the group's state machine holds, then {@link
 *       TransactionCoordinatorState#activate} with the term as the coordinator epoch, which restarts the marker
 *       work of every transaction the previous leader left prepared. Requests meanwhile fail with {@code
 *       COORDINATOR_LOAD_IN_PROGRESS}.
 *   <li>Active: each request, due timer or finished marker work is one step; the step's records become one
 *       entry, its completions are sent at once or after the last entry submitted so far is committed (entries
 *       of the group's ordered client commit in order), its marker work starts once its records are committed.
 *   <li>Unloaded (leadership lost, a write failed, a partition knew a newer coordinator epoch, or the node
 *       stops): parked requests and answers awaiting a commit that failed get {@code NOT_COORDINATOR}; marker
 *       work stops; the next leader's runtime finds the transactions in the log and finishes them.
 * </ol>
 *
 * <p>Threading: {@link #submit}, {@link #load} and {@link #unload} may be called from any thread; everything
 * else, and every access to the state, runs on this runtime's thread.
 */
final class TransactionCoordinatorRuntime {
    private static final Logger LOG = LoggerFactory.getLogger(TransactionCoordinatorRuntime.class);
    private static final long WRITE_TIMEOUT_MS = 30_000;

    private final TransactionCoordinatorService service;
    private final long term;
    private final ScheduledExecutorService executor;

    // ---- touched only on the executor ----
    private final Map<Long, CompletableFuture<Message>> pending = new HashMap<>();
    private TransactionCoordinatorState state;
    private CompletableFuture<Boolean> lastWrite = CompletableFuture.completedFuture(true);
    private ScheduledFuture<?> timer;
    private long timerAtMs = Long.MAX_VALUE;

    private volatile boolean active;
    private volatile boolean unloaded;

    TransactionCoordinatorRuntime(TransactionCoordinatorService service, long term) {
        this.service = service;
        this.term = term;
        this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "sluice-txn-coordinator-" + service.nodeId() + "-term-" + term);
            thread.setDaemon(true);
            return thread;
        });
    }

    long term() {
        return term;
    }

    boolean isActive() {
        return active;
    }

    boolean isUnloaded() {
        return unloaded;
    }

    // ---- loading ----

    void load() {
        LOG.info("loading the transactions (coordinator term {})", term);
        run(() -> write(List.of()).whenComplete((ok, failure) -> run(() -> finishLoad(ok != null && ok))));
    }

    private void finishLoad(boolean markerWritten) {
        if (unloaded) {
            return;
        }
        if (!markerWritten) {
            fail("the load entry was not committed");
            return;
        }
        if (service.coordinator().leaderTerm() != term) {
            fail("leadership moved while loading");
            return;
        }
        CoordinatorStateMachine stateMachine = service.coordinator().stateMachine();
        if (stateMachine == null) {
            fail("this node holds no member of the coordinator group");
            return;
        }
        long startNs = System.nanoTime();
        TransactionCoordinatorState loaded;
        List<TxnRecord.TxnMetadata> transactions;
        try {
            loaded = new TransactionCoordinatorState(
                    service.config(), service.producerIds(), service.offsetsPartitionCount());
            transactions = stateMachine.transactions();
            transactions.forEach(loaded::replay);
        } catch (RuntimeException e) {
            LOG.error("cannot load the transactions", e);
            fail("the transactions could not be loaded: " + e.getMessage());
            return;
        }
        state = loaded;
        TxnResult activation = state.activate((int) term, nowMs());
        active = true;
        LOG.info(
                "coordinating {} transactional ids (term {}, loaded in {} ms, {} transactions to finish)",
                transactions.size(),
                term,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs),
                activation.markers().size());
        process(activation);
    }

    // ---- requests, timers and marker completions ----

    /** Hands a request to the state on this runtime's thread. */
    CompletableFuture<Message> submit(LongFunction<TxnCommand> command) {
        CompletableFuture<Message> answer = new CompletableFuture<>();
        boolean queued = run(() -> {
            if (unloaded) {
                answer.completeExceptionally(notCoordinator());
                return;
            }
            if (!active) {
                answer.completeExceptionally(
                        new CoordinatorLoadInProgressException("the transaction coordinator is loading"));
                return;
            }
            long handle = service.nextRequestHandle();
            pending.put(handle, answer);
            TxnResult result;
            try {
                result = state.handle(command.apply(handle), nowMs());
            } catch (RuntimeException e) {
                pending.remove(handle);
                LOG.error("a transaction request failed", e);
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

    private void markersDone(WriteMarkers work, Throwable failure) {
        if (unloaded) {
            return;
        }
        if (failure != null) {
            fail("writing the markers of " + work.transactionalId() + " failed: " + failure.getMessage());
            return;
        }
        process(state.markersWritten(work.transactionalId(), work.producerId(), work.producerEpoch(), nowMs()));
    }

    /** Writes a step's records (one entry), sends or schedules its completions, starts its marker work. */
    private void process(TxnResult result) {
        boolean answersFromState = result.completions().stream().anyMatch(TxnResult.Completion::awaitsCommit);
        if (!result.records().isEmpty() || answersFromState) {
            // A step that answers from the state without changing it (a retried EndTxn of a completed
            // transaction, a KIP-890 verification, partitions already in the transaction) still writes an entry,
            // empty, and answers once it is committed: a leader that lost the coordinator group without knowing
            // it yet (cut off from the others, still reachable by clients) cannot commit it, so it cannot answer
            // from a state the new leader has moved past. Without it, such a leader answered a producer's commit
            // of a transaction it never heard of as the retry of the previous one, and the producer's next abort
            // took the "committed" records with it (ShortCampaignTest, txn-network-faults, seed 12).
            CompletableFuture<Boolean> written = write(result.records());
            lastWrite = lastWrite.thenCombine(written, (before, now) -> before && now);
        }
        for (TxnResult.Completion completion : result.completions()) {
            CompletableFuture<Message> answer = pending.remove(completion.requestHandle());
            if (answer == null) {
                LOG.warn("an answer to unknown transaction request {}", completion.requestHandle());
                continue;
            }
            if (!completion.awaitsCommit()) {
                answer.complete(completion.response());
            } else {
                lastWrite.thenAccept(ok -> {
                    if (ok) {
                        answer.complete(completion.response());
                    } else {
                        answer.completeExceptionally(notCoordinator());
                    }
                });
            }
        }
        for (WriteMarkers work : result.markers()) {
            lastWrite.thenAccept(ok -> {
                if (ok && !unloaded) {
                    service.markerWriter()
                            .write(work, () -> unloaded)
                            .whenComplete((ignored, failure) -> run(() -> markersDone(work, failure)));
                }
            });
        }
        if (state != null && !unloaded) {
            scheduleTimer();
        }
    }

    /** Submits records as one entry; the future tells whether they were committed (and fails the runtime if not). */
    private CompletableFuture<Boolean> write(List<TxnRecord> records) {
        CoordinatorCommand command = new CoordinatorCommand.TxnRecords(TxnRecordCodec.encodeBatch(records));
        return service.coordinator()
                .submit(command)
                .orTimeout(WRITE_TIMEOUT_MS, TimeUnit.MILLISECONDS)
                .handle((CoordinatorResult result, Throwable failure) -> {
                    if (failure == null && result.errorCode() == 0) {
                        return true;
                    }
                    LOG.warn(
                            "transaction records not written ({}); giving up the transactions of term {}",
                            failure != null ? failure : result.message(),
                            term);
                    run(() -> fail("a write failed"));
                    return false;
                });
    }

    // ---- giving up ----

    /** Gives up; may be called from any thread, more than once. */
    void unload(String reason) {
        if (!run(() -> fail(reason))) {
            unloaded = true;
        }
    }

    private void fail(String reason) {
        if (unloaded) {
            return;
        }
        LOG.info("no longer coordinating transactions (term {}): {}", term, reason);
        unloaded = true;
        active = false;
        if (state != null && state.isActive()) {
            try {
                TxnResult last = state.unload();
                for (TxnResult.Completion completion : last.completions()) {
                    CompletableFuture<Message> answer = pending.remove(completion.requestHandle());
                    if (answer != null) {
                        answer.complete(completion.response());
                    }
                }
            } catch (RuntimeException e) {
                LOG.warn("unloading the transactions failed", e);
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
        executor.shutdown();
    }

    private static NotCoordinatorException notCoordinator() {
        return new NotCoordinatorException("this node no longer coordinates transactions");
    }

    private boolean run(Runnable task) {
        try {
            executor.execute(() -> {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    LOG.error("transaction coordinator task failed", e);
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
