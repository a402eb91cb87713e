package dev.sluice.raft;

import dev.sluice.partitionstore.ProducerStateEntry;
import dev.sluice.partitionstore.ProducerStateEntry.BatchMetadata;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.ControlRecordType;
import org.apache.kafka.common.record.internal.EndTransactionMarker;
import org.apache.kafka.common.record.internal.Record;
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
 * <h2>Transactions</h2>
 *
 * Kafka's partition-side rules (its {@code ProducerAppendInfo}, transaction versions 0 and 1): a
 * transactional batch is checked like an idempotent one, and the producer's first transactional batch
 * opens its transaction on the partition ({@link ProducerStateEntry#currentTxnFirstOffset()}); a
 * non-transactional batch from a producer whose transaction is open is refused ({@code
 * INVALID_TXN_STATE}). A COMMIT or ABORT marker (a control batch, written by the transaction coordinator
 * only) is refused when its epoch is below the producer's ({@code INVALID_PRODUCER_EPOCH}) or its
 * coordinator epoch below the one of the producer's last marker ({@code TRANSACTION_COORDINATOR_FENCED}:
 * a deposed coordinator); any other control batch is refused ({@code INVALID_RECORD}); otherwise it
 * is appended — also for a producer with no open transaction, or one never seen — raises the producer's
 * epoch to its own, and ends the open transaction, whose range {@link #update} returns as a {@link
 * CompletedTxn}. A data batch keeps an open transaction across an epoch bump, as Kafka's does.
 *
 * <h2>Coordinator writes</h2>
 *
 * A data batch with a producer id but no sequence ({@link RecordBatch#NO_SEQUENCE}) is a coordinator's write:
 * the group coordinator's transactional offsets in {@code __consumer_offsets}, a batch of the producer's
 * transaction that the coordinator, not the producer, appends. As Kafka's coordinator-origin appends, it is
 * checked for its epoch and its transaction only, never for sequences, and it is not remembered among the
 * producer's batches (so it is never taken for a duplicate, nor breaks the producer's own sequence).
 * Clients must not be able to send one: Kafka's validation refuses a client batch with a producer id and
 * no sequence ({@code INVALID_RECORD}), and so must the append's validation for client appends.
 *
 * <p>Invariant: {@link #firstUnstableOffset()} is the smallest {@code currentTxnFirstOffset} of all
 * producers (the open transactions are indexed by their first offset, which is unique as offsets are).
 *
 * <p>Not thread-safe: owned by the partition's state machine, under its lock.
 */
public final class ProducerStates {
    /** {@link #firstUnstableOffset()} when no transaction is open. */
    public static final long NO_OPEN_TRANSACTION = Long.MAX_VALUE;

    private final Map<Long, ProducerStateEntry> producers = new HashMap<>();
    /** First offset of every open transaction → its producer id. */
    private final TreeMap<Long, Long> openTransactions = new TreeMap<>();

    /**
     * What a batch's header (and, for a control batch, its marker record) says about its producer.
     *
     * @param controlType for a control batch, the type of its record ({@code COMMIT}, {@code ABORT}, or
     *     {@code UNKNOWN} when unreadable); null for a data batch
     * @param coordinatorEpoch for a transaction marker, the epoch of the coordinator that wrote it, else -1
     */
    public record BatchInfo(
            long producerId,
            short producerEpoch,
            int baseSequence,
            int lastSequence,
            boolean transactional,
            boolean control,
            long maxTimestamp,
            ControlRecordType controlType,
            int coordinatorEpoch) {

        /** A data batch, or (when {@code control}) a COMMIT marker of coordinator epoch 0. */
        public BatchInfo(
                long producerId,
                short producerEpoch,
                int baseSequence,
                int lastSequence,
                boolean transactional,
                boolean control,
                long maxTimestamp) {
            this(
                    producerId,
                    producerEpoch,
                    baseSequence,
                    lastSequence,
                    transactional,
                    control,
                    maxTimestamp,
                    control ? ControlRecordType.COMMIT : null,
                    control ? 0 : -1);
        }

        /** A COMMIT ({@code commit}) or ABORT marker of a transactional producer. */
        public static BatchInfo marker(long producerId, short producerEpoch, boolean commit, int coordinatorEpoch) {
            return new BatchInfo(
                    producerId,
                    producerEpoch,
                    RecordBatch.NO_SEQUENCE,
                    RecordBatch.NO_SEQUENCE,
                    true,
                    true,
                    RecordBatch.NO_TIMESTAMP,
                    commit ? ControlRecordType.COMMIT : ControlRecordType.ABORT,
                    coordinatorEpoch);
        }

        public static BatchInfo of(RecordBatch batch) {
            ControlRecordType type = null;
            int coordinatorEpoch = -1;
            if (batch.isControlBatch()) {
                type = ControlRecordType.UNKNOWN;
                Iterator<Record> records = batch.iterator();
                if (records.hasNext()) {
                    try {
                        EndTransactionMarker marker = EndTransactionMarker.deserialize(records.next());
                        type = marker.controlType();
                        coordinatorEpoch = marker.coordinatorEpoch();
                    } catch (RuntimeException e) {
                        type = ControlRecordType.UNKNOWN; // not a (readable) transaction marker
                    }
                }
            }
            return new BatchInfo(
                    batch.producerId(),
                    batch.producerEpoch(),
                    batch.baseSequence(),
                    batch.lastSequence(),
                    batch.isTransactional(),
                    batch.isControlBatch(),
                    batch.maxTimestamp(),
                    type,
                    coordinatorEpoch);
        }

        boolean isTransactionMarker() {
            return control && (controlType == ControlRecordType.COMMIT || controlType == ControlRecordType.ABORT);
        }

        boolean hasProducerId() {
            return producerId != RecordBatch.NO_PRODUCER_ID;
        }

        /** A data batch of a producer without a sequence: a coordinator's write (see the class comment). */
        boolean isCoordinatorWrite() {
            return hasProducerId() && !control && baseSequence == RecordBatch.NO_SEQUENCE;
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

    /**
     * A transaction that a marker ended on this partition.
     *
     * @param producerId its producer
     * @param firstOffset the offset of its first batch here
     * @param lastOffset the offset of the marker
     * @param aborted whether the marker was an ABORT
     */
    public record CompletedTxn(long producerId, long firstOffset, long lastOffset, boolean aborted) {}

    private static final Verdict APPEND = new Verdict.Append();

    public ProducerStates() {}

    public ProducerStates(Collection<ProducerStateEntry> entries) {
        entries.forEach(this::put);
    }

    private void put(ProducerStateEntry entry) {
        ProducerStateEntry previous = producers.put(entry.producerId(), entry);
        if (previous != null && previous.currentTxnFirstOffset() >= 0) {
            openTransactions.remove(previous.currentTxnFirstOffset());
        }
        if (entry.currentTxnFirstOffset() >= 0) {
            openTransactions.put(entry.currentTxnFirstOffset(), entry.producerId());
        }
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
        if (batch.control() && !batch.isTransactionMarker()) {
            return new Verdict.Reject(
                    Errors.INVALID_RECORD,
                    "control batch of producer " + batch.producerId() + " is not a COMMIT or ABORT marker ("
                            + batch.controlType() + ")");
        }
        ProducerStateEntry entry = producers.get(batch.producerId());
        if (batch.isCoordinatorWrite()) {
            if (entry != null && batch.producerEpoch() < entry.producerEpoch()) {
                return new Verdict.Reject(
                        Errors.INVALID_PRODUCER_EPOCH,
                        "producer " + batch.producerId() + " has epoch " + batch.producerEpoch()
                                + ", older than the current " + entry.producerEpoch());
            }
            return entry == null ? APPEND : checkTransaction(batch, entry);
        }
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
            if (entry.coordinatorEpoch() > batch.coordinatorEpoch()) {
                return new Verdict.Reject(
                        Errors.TRANSACTION_COORDINATOR_FENCED,
                        "marker for producer " + batch.producerId() + " from coordinator epoch "
                                + batch.coordinatorEpoch() + ", older than the current " + entry.coordinatorEpoch());
            }
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
            return checkTransaction(batch, entry);
        }
        int lastSequence = entry.batches().isEmpty()
                ? RecordBatch.NO_SEQUENCE
                : entry.batches().get(entry.batches().size() - 1).lastSequence();
        if (lastSequence == RecordBatch.NO_SEQUENCE) {
            return batch.baseSequence() == 0
                    ? checkTransaction(batch, entry)
                    : outOfOrder(batch, "expected sequence 0");
        }
        if (!inSequence(lastSequence, batch.baseSequence())) {
            return outOfOrder(batch, "expected sequence " + nextSequence(lastSequence));
        }
        return checkTransaction(batch, entry);
    }

    /**
     * The check of a transactional data batch that {@link #check} lets through and that was checked with the
     * transaction coordinator when the log ended at {@code checkedAtOffset} (a {@link VerificationGuard}): a
     * COMMIT or ABORT marker of its producer at or after that offset ended the transaction the coordinator
     * vouched for, and the batch — a late one: a retry, or a request that waited out the producer's timeout —
     * would open a transaction nobody ends. Kafka refuses it the same way ({@code INVALID_TXN_STATE}).
     */
    public Verdict checkVerified(BatchInfo batch, long checkedAtOffset) {
        ProducerStateEntry entry = producers.get(batch.producerId());
        if (entry == null || entry.lastMarkerOffset() < checkedAtOffset) {
            return APPEND;
        }
        return new Verdict.Reject(
                Errors.INVALID_TXN_STATE,
                "the transaction of producer " + batch.producerId() + " at epoch " + batch.producerEpoch()
                        + " that this batch was checked for ended at offset " + entry.lastMarkerOffset()
                        + " before the batch was appended");
    }

    /** Kafka's last check of a data batch: no plain batch while the producer's transaction is open. */
    private static Verdict checkTransaction(BatchInfo batch, ProducerStateEntry entry) {
        if (!batch.transactional() && entry.currentTxnFirstOffset() >= 0) {
            return new Verdict.Reject(
                    Errors.INVALID_TXN_STATE,
                    "producer " + batch.producerId() + " sent a non-transactional batch while its transaction"
                            + " that started at offset " + entry.currentTxnFirstOffset() + " is open");
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

    /**
     * Records an appended batch and the offsets it was given; returns the transaction a marker ended, or
     * null (a data batch, or a marker for a producer with no open transaction).
     */
    public CompletedTxn update(BatchInfo batch, long firstOffset, long lastOffset) {
        if (!batch.hasProducerId()) {
            return null;
        }
        ProducerStateEntry entry = producers.get(batch.producerId());
        List<BatchMetadata> batches = new ArrayList<>();
        // An open transaction outlives an epoch bump (Kafka's ProducerAppendInfo keeps it): the marker that
        // ends it may come with the coordinator's newer epoch.
        long txnFirstOffset = entry == null ? -1 : entry.currentTxnFirstOffset();
        if (entry != null && entry.producerEpoch() == batch.producerEpoch()) {
            batches.addAll(entry.batches());
        }
        CompletedTxn completed = null;
        if (batch.control()) {
            if (txnFirstOffset >= 0) {
                completed = new CompletedTxn(
                        batch.producerId(),
                        txnFirstOffset,
                        firstOffset,
                        batch.controlType() == ControlRecordType.ABORT);
            }
            txnFirstOffset = -1; // a commit or abort marker ends the producer's transaction
        } else {
            if (!batch.isCoordinatorWrite()) {
                batches.add(new BatchMetadata(
                        batch.baseSequence(), batch.lastSequence(), firstOffset, lastOffset, batch.maxTimestamp()));
            }
            while (batches.size() > ProducerStateEntry.MAX_BATCHES) {
                batches.remove(0);
            }
            if (batch.transactional() && txnFirstOffset < 0) {
                txnFirstOffset = firstOffset;
            }
        }
        short epoch =
                entry == null ? batch.producerEpoch() : (short) Math.max(entry.producerEpoch(), batch.producerEpoch());
        int coordinatorEpoch = batch.control()
                ? batch.coordinatorEpoch()
                : entry == null ? ProducerStateEntry.NO_COORDINATOR_EPOCH : entry.coordinatorEpoch();
        long lastMarkerOffset =
                batch.control() ? firstOffset : entry == null ? ProducerStateEntry.NO_MARKER : entry.lastMarkerOffset();
        put(new ProducerStateEntry(
                batch.producerId(),
                epoch,
                batches,
                txnFirstOffset,
                batch.maxTimestamp(),
                coordinatorEpoch,
                lastMarkerOffset));
        return completed;
    }

    /**
     * The first offset of the earliest open transaction, or {@link #NO_OPEN_TRANSACTION}: what bounds the
     * last stable offset.
     */
    public long firstUnstableOffset() {
        return openTransactions.isEmpty() ? NO_OPEN_TRANSACTION : openTransactions.firstKey();
    }

    /**
     * Kafka's last stable offset: the first offset of the earliest open transaction, not below the log start
     * offset (DeleteRecords or retention may have passed it), and never above the high watermark.
     */
    public static long lastStableOffset(long firstUnstableOffset, long logStartOffset, long highWatermark) {
        return Math.min(highWatermark, Math.max(logStartOffset, firstUnstableOffset));
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
