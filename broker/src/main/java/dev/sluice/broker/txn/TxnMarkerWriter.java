package dev.sluice.broker.txn;

import dev.sluice.coordinator.ClusterImage;
import dev.sluice.coordinator.CoordinatorService;
import dev.sluice.coordinator.txn.TxnResult.WriteMarkers;
import dev.sluice.raft.AppendOutcome;
import dev.sluice.raft.RaftNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.Errors;
import org.apache.ratis.protocol.RaftPeer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the COMMIT or ABORT markers of a transaction into each of its partitions (Kafka's WriteTxnMarkers,
 * done here through each partition's Raft group from the coordinator's node), retrying each partition until
 * it has taken its marker.
 *
 * <p>A partition counts as done when its marker is committed, when the partition no longer exists, or when it
 * answers {@code INVALID_PRODUCER_EPOCH} (the producer already wrote there with a later epoch, which only
 * happens after this transaction ended there). Any other error (no leader, a leader change, a timeout) is
 * retried with a growing pause, until the work is cancelled (the coordinator lost its leadership). {@code
 * TRANSACTION_COORDINATOR_FENCED} ends the work with a failure: a newer coordinator owns the transaction.
 */
final class TxnMarkerWriter {
    private static final Logger LOG = LoggerFactory.getLogger(TxnMarkerWriter.class);
    private static final long ATTEMPT_TIMEOUT_MS = 15_000;
    private static final long FIRST_PAUSE_MS = 100;
    private static final long MAX_PAUSE_MS = 2_000;

    /** The marker work of a coordinator that is no longer the newest one for a producer. */
    static final class CoordinatorFencedException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        CoordinatorFencedException(String message) {
            super(message);
        }
    }

    private final RaftNode raft;
    private final CoordinatorService coordinator;
    private final ScheduledExecutorService retries;

    TxnMarkerWriter(RaftNode raft, CoordinatorService coordinator, ScheduledExecutorService retries) {
        this.raft = raft;
        this.coordinator = coordinator;
        this.retries = retries;
    }

    /**
     * Writes the markers of {@code work} into all of its partitions, in parallel.
     *
     * @param cancelled checked before every attempt: once true, the work stops and the future never completes
     * @return completes when every partition is done; fails with {@link CoordinatorFencedException}
     */
    CompletableFuture<Void> write(WriteMarkers work, BooleanSupplier cancelled) {
        List<CompletableFuture<Void>> partitions = new ArrayList<>();
        for (TopicPartition tp : work.partitions()) {
            CompletableFuture<Void> done = new CompletableFuture<>();
            attempt(work, tp, done, FIRST_PAUSE_MS, cancelled);
            partitions.add(done);
        }
        return CompletableFuture.allOf(partitions.toArray(CompletableFuture<?>[]::new));
    }

    private void attempt(
            WriteMarkers work,
            TopicPartition tp,
            CompletableFuture<Void> done,
            long pauseMs,
            BooleanSupplier cancelled) {
        if (cancelled.getAsBoolean()) {
            return;
        }
        ClusterImage image = coordinator.image();
        List<Integer> replicas = image.replicas(tp);
        if (replicas == null) {
            LOG.debug(
                    "{}: no longer exists; its {} marker for producer {} counts as written",
                    tp,
                    work.result(),
                    work.producerId());
            done.complete(null);
            return;
        }
        List<RaftPeer> peers = image.peers(replicas);
        if (peers == null) {
            retry(work, tp, done, pauseMs, cancelled, "a replica is not registered");
            return;
        }
        CompletableFuture<AppendOutcome> written;
        try {
            written = raft.writeTxnMarker(
                    tp,
                    peers,
                    work.producerId(),
                    work.producerEpoch(),
                    work.coordinatorEpoch(),
                    work.result(),
                    ATTEMPT_TIMEOUT_MS);
        } catch (RuntimeException e) {
            retry(work, tp, done, pauseMs, cancelled, e.toString());
            return;
        }
        written.whenComplete((outcome, failure) -> {
            if (failure != null) {
                retry(work, tp, done, pauseMs, cancelled, failure.toString());
                return;
            }
            Errors error = outcome.error();
            if (error == Errors.NONE || error == Errors.UNKNOWN_TOPIC_OR_PARTITION) {
                done.complete(null);
            } else if (error == Errors.INVALID_PRODUCER_EPOCH) {
                LOG.info(
                        "{}: producer {} already writes with an epoch above {}; its {} marker is not needed",
                        tp,
                        work.producerId(),
                        work.producerEpoch(),
                        work.result());
                done.complete(null);
            } else if (error == Errors.TRANSACTION_COORDINATOR_FENCED) {
                done.completeExceptionally(
                        new CoordinatorFencedException(tp + " has seen a newer coordinator epoch than "
                                + work.coordinatorEpoch() + " for producer " + work.producerId()));
            } else {
                retry(work, tp, done, pauseMs, cancelled, error + ": " + outcome.errorMessage());
            }
        });
    }

    private void retry(
            WriteMarkers work,
            TopicPartition tp,
            CompletableFuture<Void> done,
            long pauseMs,
            BooleanSupplier cancelled,
            String why) {
        if (cancelled.getAsBoolean()) {
            return;
        }
        LOG.debug(
                "{}: {} marker for producer {} not written ({}); again in {} ms",
                tp,
                work.result(),
                work.producerId(),
                why,
                pauseMs);
        try {
            retries.schedule(
                    () -> attempt(work, tp, done, Math.min(MAX_PAUSE_MS, pauseMs * 2), cancelled),
                    pauseMs,
                    TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // the node is stopping
        }
    }
}
