package dev.sluice.raft;

import dev.sluice.partitionstore.ProducerStateEntry;
import dev.sluice.partitionstore.ProducerStateEntry.BatchMetadata;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.RecordBatch;

/**
 * The idempotent-producer state of one partition and Kafka's rules for checking a batch against it. A
 * pure function of the batches appended so far, in log order: every replica that sees the same log
 * reaches the same verdicts, which is what lets the Raft layer decide on each replica, independently,
 * whether an entry's batch is appended, answered as a duplicate or rejected.
 *
 * <p>The rules are Kafka's (2.5 and later): a batch with no producer id is never checked; an epoch
 * below the producer's current one is fenced ({@code INVALID_PRODUCER_EPOCH}); a batch identical in
 * epoch and sequence range to one of the producer's last {@value ProducerStateEntry#MAX_BATCHES} is a
 * duplicate and answered with its original offsets; a new epoch must start at sequence 0; otherwise
 * the sequence must follow the last one exactly ({@code OUT_OF_ORDER_SEQUENCE_NUMBER}).
 *
 * <p>One rule is stricter than Kafka's: a producer unknown here must start at sequence 0 too. Kafka
 * accepts any sequence from an unknown producer, because its brokers expire idle producers and lose the
 * state of those whose records retention removed. A partition here never drops a producer's state (it
 * survives retention, DeleteRecords, snapshots and restarts), so an unknown producer has never written
 * to it, and a first batch that does not start at 0 means its predecessors have not been written
 * <em>yet</em>: the Java producer keeps up to five requests in flight, and when the first fails with a
 * retriable error (say {@code NOT_LEADER_OR_FOLLOWER} just before this replica's leadership was ready)
 * while the next ones succeed, accepting them would leave the retried first batch out of order for ever
 * — the client retries an out-of-order batch that is not the one after its last acknowledged sequence
 * without end (Kafka's KAFKA-14359). Rejected too, the later batches are retried after the first.
 *
 * <p>Not thread-safe: owned by the partition's state machine, under its lock.
 */
public final class ProducerStates {
    private final Map<Long, ProducerStateEntry> producers = new HashMap<>();

    /** What a batch's header says about its producer. */
    public record BatchInfo(
            long producerId,
            short producerEpoch,
            int baseSequence,
            int lastSequence,
            boolean transactional,
            boolean control,
            long maxTimestamp) {

        public static BatchInfo of(RecordBatch batch) {
            return new BatchInfo(
                    batch.producerId(),
                    batch.producerEpoch(),
                    batch.baseSequence(),
                    batch.lastSequence(),
                    batch.isTransactional(),
                    batch.isControlBatch(),
                    batch.maxTimestamp());
        }

        boolean hasProducerId() {
            return producerId != RecordBatch.NO_PRODUCER_ID;
        }
    }

    /** The decision for one batch. */
    public sealed interface Verdict {
        /** Append the batch. */
        record Append() implements Verdict {}

        /** Do not append; answer with the offsets the batch already has. */
        record Duplicate(long firstOffset, long lastOffset) implements Verdict {}

        /** Do not append; answer with this error. */
        record Reject(Errors error, String message) implements Verdict {}
    }

    private static final Verdict APPEND = new Verdict.Append();

    public ProducerStates() {}

    public ProducerStates(Collection<ProducerStateEntry> entries) {
        entries.forEach(entry -> producers.put(entry.producerId(), entry));
    }

    /** A deep copy (entries are immutable). */
    public ProducerStates copy() {
        return new ProducerStates(producers.values());
    }

    /** Checks a client batch; the state is not changed. Control batches are the coordinator's. */
    public Verdict check(BatchInfo batch) {
        if (!batch.hasProducerId()) {
            return APPEND;
        }
        ProducerStateEntry entry = producers.get(batch.producerId());
        if (entry == null) {
            // Stricter than Kafka (see the class comment): this partition never saw the producer, so the
            // batches before this one are missing, not expired.
            return batch.control() || batch.baseSequence() == 0
                    ? APPEND
                    : outOfOrder(batch, "expected sequence 0, as the producer has not written to this partition");
        }
        if (batch.producerEpoch() < entry.producerEpoch()) {
            return new Verdict.Reject(
                    Errors.INVALID_PRODUCER_EPOCH,
                    "producer " + batch.producerId() + " has epoch " + batch.producerEpoch()
                            + ", older than the current " + entry.producerEpoch());
        }
        if (batch.control()) {
            return APPEND;
        }
        if (batch.producerEpoch() == entry.producerEpoch()) {
            for (BatchMetadata seen : entry.batches()) {
                if (seen.firstSequence() == batch.baseSequence() && seen.lastSequence() == batch.lastSequence()) {
                    return new Verdict.Duplicate(seen.firstOffset(), seen.lastOffset());
                }
            }
        }
        if (batch.producerEpoch() != entry.producerEpoch()) {
            if (batch.baseSequence() != 0) {
                return outOfOrder(batch, "a new epoch " + batch.producerEpoch() + " must start at sequence 0");
            }
            return APPEND;
        }
        int lastSequence = entry.batches().isEmpty()
                ? RecordBatch.NO_SEQUENCE
                : entry.batches().get(entry.batches().size() - 1).lastSequence();
        if (lastSequence == RecordBatch.NO_SEQUENCE) {
            return batch.baseSequence() == 0 ? APPEND : outOfOrder(batch, "expected sequence 0");
        }
        if (!inSequence(lastSequence, batch.baseSequence())) {
            return outOfOrder(batch, "expected sequence " + nextSequence(lastSequence));
        }
        return APPEND;
    }

    private static Verdict outOfOrder(BatchInfo batch, String expected) {
        return new Verdict.Reject(
                Errors.OUT_OF_ORDER_SEQUENCE_NUMBER,
                "producer " + batch.producerId() + " sent sequence " + batch.baseSequence() + " at epoch "
                        + batch.producerEpoch() + "; " + expected);
    }

    private static boolean inSequence(int lastSequence, int nextSequence) {
        return nextSequence == nextSequence(lastSequence);
    }

    private static int nextSequence(int sequence) {
        return sequence == Integer.MAX_VALUE ? 0 : sequence + 1;
    }

    /** Records an appended batch and the offsets it was given. */
    public void update(BatchInfo batch, long firstOffset, long lastOffset) {
        if (!batch.hasProducerId()) {
            return;
        }
        ProducerStateEntry entry = producers.get(batch.producerId());
        List<BatchMetadata> batches = new ArrayList<>();
        long txnFirstOffset = -1;
        if (entry != null && entry.producerEpoch() == batch.producerEpoch()) {
            batches.addAll(entry.batches());
            txnFirstOffset = entry.currentTxnFirstOffset();
        }
        if (batch.control()) {
            txnFirstOffset = -1; // a commit or abort marker ends the producer's transaction
        } else {
            batches.add(new BatchMetadata(
                    batch.baseSequence(), batch.lastSequence(), firstOffset, lastOffset, batch.maxTimestamp()));
            while (batches.size() > ProducerStateEntry.MAX_BATCHES) {
                batches.remove(0);
            }
            if (batch.transactional() && txnFirstOffset < 0) {
                txnFirstOffset = firstOffset;
            }
        }
        producers.put(
                batch.producerId(),
                new ProducerStateEntry(
                        batch.producerId(), batch.producerEpoch(), batches, txnFirstOffset, batch.maxTimestamp()));
    }

    /** The producer's state, or null when unknown. */
    public ProducerStateEntry get(long producerId) {
        return producers.get(producerId);
    }

    /** Every producer's state, in no particular order. */
    public Collection<ProducerStateEntry> entries() {
        return List.copyOf(producers.values());
    }

    public int size() {
        return producers.size();
    }
}
