package dev.sluice.coordinator.txn;

import dev.sluice.coordinator.group.GroupCoordinatorState;
import dev.sluice.coordinator.txn.TxnRecord.TxnMetadata;
import dev.sluice.coordinator.txn.TxnRecord.TxnTombstone;
import dev.sluice.coordinator.txn.TxnResult.WriteMarkers;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.internals.Topic;
import org.apache.kafka.common.message.AddOffsetsToTxnRequestData;
import org.apache.kafka.common.message.AddOffsetsToTxnResponseData;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData.AddPartitionsToTxnTopic;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData.AddPartitionsToTxnTopicCollection;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData.AddPartitionsToTxnTransaction;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData.AddPartitionsToTxnPartitionResult;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData.AddPartitionsToTxnResult;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData.AddPartitionsToTxnResultCollection;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData.AddPartitionsToTxnTopicResult;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData.AddPartitionsToTxnTopicResultCollection;
import org.apache.kafka.common.message.DescribeTransactionsResponseData;
import org.apache.kafka.common.message.DescribeTransactionsResponseData.TopicData;
import org.apache.kafka.common.message.EndTxnRequestData;
import org.apache.kafka.common.message.EndTxnResponseData;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.message.ListTransactionsRequestData;
import org.apache.kafka.common.message.ListTransactionsResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.TransactionResult;

/**
 * The transactional ids of the cluster and their transactions: Kafka's transaction coordinator (transaction
 * version 1, KIP-360 epoch bumps on recovery, KIP-890 part 1 verification) as a pure state machine.
 *
 * <h2>Goals</h2>
 *
 * Answer InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, DescribeTransactions and
 * ListTransactions exactly as Kafka's coordinator does, error codes included, so Kafka's producers and admin
 * tools work unchanged; say which COMMIT/ABORT markers must be written; abort transactions that outlive their
 * timeout and forget transactional ids that expire. Be deterministic and free of I/O: time comes in as an
 * argument, producer ids from the {@link ProducerIdSource}; what must survive a failover leaves as {@link
 * TxnRecord}s.
 *
 * <h2>Use</h2>
 *
 * <ul>
 *   <li>On every replica of the coordinator group, {@link #replay} each committed record in log order (or the
 *       latest record of each transactional id, in any order).
 *   <li>On the replica that becomes leader, once it has replayed everything committed before its term, call
 *       {@link #activate} and start the marker work it returns: a transaction left in PREPARE_COMMIT or
 *       PREPARE_ABORT by the previous leader is finished by this one. Then {@link #handle} requests, {@link
 *       #tick} whenever {@code nowMs >= nextDeadlineMs()}, and report finished marker work with {@link
 *       #markersWritten}. Append each result's records; send its completions (those with {@code awaitsCommit}
 *       once everything emitted so far is committed) and start its marker work once its records are committed.
 *       Do not replay the records this state emitted: it already reflects them.
 *   <li>When leadership is lost, or records could not be appended, call {@link #unload} and drop this
 *       instance with its in-flight marker work; a new instance rebuilt by replay takes over.
 * </ul>
 *
 * <h2>Transitions</h2>
 *
 * Every transition writes the transactional id's whole {@link TxnMetadata}. Kafka holds a transition "pending"
 * until its log append completes and answers CONCURRENT_TRANSACTIONS meanwhile; here a transition applies at
 * once and every answer derived from the state waits for the commit of everything emitted before it ({@code
 * awaitsCommit}), so no client sees a state that a failover could undo. EndTxn is answered when the
 * PREPARE_* record commits, as Kafka does; the COMPLETE_* record follows {@link #markersWritten}.
 *
 * <h2>Invariants</h2>
 *
 * While an instance lives, the epoch of a producer id never decreases and a transactional id's producer id
 * never decreases (given an increasing {@link ProducerIdSource}); a transaction in PREPARE_COMMIT only ever
 * becomes COMPLETE_COMMIT, one in PREPARE_ABORT only COMPLETE_ABORT; the marker work asked for a transaction
 * names exactly its partitions, its producer id and epoch. Replaying {@link #persistedRecords()} rebuilds the
 * same state.
 *
 * <h2>Threading</h2>
 *
 * Not thread-safe: one thread calls every method (the coordinator's apply thread, or a single executor the
 * service serializes requests onto).
 */
public final class TransactionCoordinatorState {
    /** Kafka's limit: an epoch at or above it is exhausted, so the coordinator can always bump once more. */
    static final short EPOCH_EXHAUSTED_AT = Short.MAX_VALUE - 1;

    /** Kafka's "no producer id" ({@code RecordBatch.NO_PRODUCER_ID}). */
    public static final long NO_PRODUCER_ID = -1L;

    /** Kafka's "no producer epoch" ({@code RecordBatch.NO_PRODUCER_EPOCH}). */
    public static final short NO_PRODUCER_EPOCH = -1;

    private final TxnCoordinatorConfig config;
    private final ProducerIdSource producerIds;
    private final int offsetsTopicPartitions;
    private final TreeMap<String, TxnMetadata> txns = new TreeMap<>();
    private boolean active;
    private boolean unloaded;
    private int coordinatorEpoch = -1;
    private long nextAbortScanMs = Long.MAX_VALUE;
    private long nextExpireScanMs = Long.MAX_VALUE;

    /**
     * @param producerIds where new producer ids come from (asked on the leader only)
     * @param offsetsTopicPartitions the partition count of {@code __consumer_offsets}
     *     ({@code offsets.topic.num.partitions}): AddOffsetsToTxn adds the partition of the group
     */
    public TransactionCoordinatorState(
            TxnCoordinatorConfig config, ProducerIdSource producerIds, int offsetsTopicPartitions) {
        if (offsetsTopicPartitions < 1) {
            throw new IllegalArgumentException("__consumer_offsets has " + offsetsTopicPartitions + " partitions");
        }
        this.config = Objects.requireNonNull(config, "config");
        this.producerIds = Objects.requireNonNull(producerIds, "producerIds");
        this.offsetsTopicPartitions = offsetsTopicPartitions;
    }

    public TxnCoordinatorConfig config() {
        return config;
    }

    /** Whether {@code producerEpoch} leaves no room for another bump by the producer (Kafka's rule). */
    public static boolean isEpochExhausted(short producerEpoch) {
        return producerEpoch >= EPOCH_EXHAUSTED_AT;
    }

    // ---- followers: replay ----

    /**
     * Applies a committed record. Only before {@link #activate}: the leader's own records are already applied.
     *
     * @throws IllegalStateException once active
     */
    public void replay(TxnRecord record) {
        if (active || unloaded) {
            throw new IllegalStateException("replay of " + record.getClass().getSimpleName()
                    + " for transactional id " + record.transactionalId()
                    + " after activate: the leader's state already holds its records");
        }
        apply(record);
    }

    private void apply(TxnRecord record) {
        if (record instanceof TxnMetadata metadata) {
            txns.put(metadata.transactionalId(), metadata);
        } else if (record instanceof TxnTombstone tombstone) {
            txns.remove(tombstone.transactionalId());
        } else {
            throw new IllegalArgumentException("unknown transaction record " + record);
        }
    }

    private void emit(TxnRecord record, TxnEffects fx) {
        apply(record);
        fx.append(record);
    }

    // ---- the leader ----

    /**
     * Starts serving after the replay: asks for the markers of every transaction in PREPARE_COMMIT or
     * PREPARE_ABORT (to start at once: their records are committed) and schedules the timeout and expiration
     * scans.
     *
     * @param coordinatorEpoch this leader's epoch (its Raft term), carried by every marker work it asks for
     * @throws IllegalStateException if already active
     */
    public TxnResult activate(int coordinatorEpoch, long nowMs) {
        requireNotUnloaded();
        if (active) {
            throw new IllegalStateException("transaction coordinator state activated twice");
        }
        active = true;
        this.coordinatorEpoch = coordinatorEpoch;
        TxnEffects fx = new TxnEffects();
        for (TxnMetadata m : txns.values()) {
            if (m.state().isPrepare()) {
                fx.writeMarkers(markersFor(m));
            }
        }
        nextAbortScanMs = nowMs + config.abortTimedOutTransactionCleanupIntervalMs();
        nextExpireScanMs = nowMs + config.removeExpiredTransactionalIdCleanupIntervalMs();
        return fx.build();
    }

    /** Handles one request at {@code nowMs}. */
    public TxnResult handle(TxnCommand command, long nowMs) {
        requireActive();
        TxnEffects fx = new TxnEffects();
        if (command instanceof TxnCommand.InitProducerId init) {
            initProducerId(init, nowMs, fx);
        } else if (command instanceof TxnCommand.AddPartitionsToTxn add) {
            addPartitionsToTxn(add, nowMs, fx);
        } else if (command instanceof TxnCommand.AddOffsetsToTxn add) {
            addOffsetsToTxn(add, nowMs, fx);
        } else if (command instanceof TxnCommand.EndTxn end) {
            endTxn(end, nowMs, fx);
        } else if (command instanceof TxnCommand.DescribeTransactions describe) {
            fx.reply(
                    describe.requestHandle(),
                    describeTransactions(describe.request().transactionalIds()));
        } else if (command instanceof TxnCommand.ListTransactions list) {
            fx.reply(list.requestHandle(), listTransactions(list.request(), nowMs));
        } else {
            throw new IllegalArgumentException("unknown transaction command " + command);
        }
        return fx.build();
    }

    /**
     * The runtime wrote every marker of a {@link WriteMarkers}: the transaction completes (COMPLETE_COMMIT or
     * COMPLETE_ABORT, its partitions cleared). A report that no longer matches the transaction (another
     * producer id or epoch, or no longer PREPARE_*: a duplicate or a report from before a failover) is
     * ignored.
     */
    public TxnResult markersWritten(String transactionalId, long producerId, short producerEpoch, long nowMs) {
        requireActive();
        TxnMetadata m = txns.get(transactionalId);
        if (m == null || !m.state().isPrepare() || m.producerId() != producerId || m.producerEpoch() != producerEpoch) {
            return TxnResult.empty();
        }
        TxnState completed = m.state() == TxnState.PREPARE_COMMIT ? TxnState.COMPLETE_COMMIT : TxnState.COMPLETE_ABORT;
        TxnEffects fx = new TxnEffects();
        emit(
                new TxnMetadata(
                        m.transactionalId(),
                        m.producerId(),
                        m.previousProducerId(),
                        NO_PRODUCER_ID,
                        m.producerEpoch(),
                        m.lastProducerEpoch(),
                        m.txnTimeoutMs(),
                        completed,
                        List.of(),
                        m.txnStartTimestampMs(),
                        nowMs),
                fx);
        return fx.build();
    }

    /**
     * Runs the scans that are due: every ONGOING transaction older than its timeout is aborted with its
     * producer's epoch bumped (fencing the producer, as Kafka does); every transactional id with no
     * transaction in progress and not updated for {@code transactional.id.expiration.ms} is removed.
     */
    public TxnResult tick(long nowMs) {
        requireActive();
        TxnEffects fx = new TxnEffects();
        if (nowMs >= nextAbortScanMs) {
            for (TxnMetadata m : new ArrayList<>(txns.values())) {
                if (m.state() == TxnState.ONGOING && m.txnStartTimestampMs() + m.txnTimeoutMs() < nowMs) {
                    fenceAndAbort(m, nowMs, fx);
                }
            }
            nextAbortScanMs = nowMs + config.abortTimedOutTransactionCleanupIntervalMs();
        }
        if (nowMs >= nextExpireScanMs) {
            for (TxnMetadata m : new ArrayList<>(txns.values())) {
                if (m.state().isExpirationAllowed()
                        && m.txnLastUpdateTimestampMs() <= nowMs - config.transactionalIdExpirationMs()) {
                    emit(new TxnTombstone(m.transactionalId()), fx);
                }
            }
            nextExpireScanMs = nowMs + config.removeExpiredTransactionalIdCleanupIntervalMs();
        }
        return fx.build();
    }

    /** When {@link #tick} next has work: the earliest scan, or {@link Long#MAX_VALUE} when not active. */
    public long nextDeadlineMs() {
        return Math.min(nextAbortScanMs, nextExpireScanMs);
    }

    /**
     * Gives up the coordinator role and makes this instance unusable. Nothing is parked here, so nothing is
     * answered; the runtime drops the marker work in flight (the next leader asks for it again).
     */
    public TxnResult unload() {
        requireNotUnloaded();
        unloaded = true;
        active = false;
        nextAbortScanMs = Long.MAX_VALUE;
        nextExpireScanMs = Long.MAX_VALUE;
        return TxnResult.empty();
    }

    public boolean isActive() {
        return active;
    }

    /** The epoch given to {@link #activate}; -1 before. */
    public int coordinatorEpoch() {
        return coordinatorEpoch;
    }

    // ---- views ----

    /**
     * The persisted view as a compacted log: the last record of every transactional id, in id order. Replaying
     * these into a fresh state rebuilds the same state (usable as a snapshot).
     */
    public List<TxnRecord> persistedRecords() {
        return new ArrayList<>(txns.values());
    }

    /** The metadata of a transactional id, if it is known. */
    public Optional<TxnMetadata> transaction(String transactionalId) {
        return Optional.ofNullable(txns.get(transactionalId));
    }

    /** The transactional ids this state holds, in order. */
    public Set<String> transactionalIds() {
        return new TreeSet<>(txns.keySet());
    }

    // ---- InitProducerId ----

    private void initProducerId(TxnCommand.InitProducerId command, long nowMs, TxnEffects fx) {
        InitProducerIdRequestData request = command.request();
        short version = command.context().apiVersion();
        long handle = command.requestHandle();
        boolean noProducerId = request.producerId() == NO_PRODUCER_ID;
        boolean noProducerEpoch = request.producerEpoch() == NO_PRODUCER_EPOCH;
        String transactionalId = request.transactionalId();
        if (noProducerId != noProducerEpoch) {
            fx.reply(handle, initError(Errors.INVALID_REQUEST));
        } else if (transactionalId == null) {
            // An idempotent producer: a new producer id, whatever it had (Kafka ignores the KIP-360 fields here).
            long producerId = producerIds.next();
            fx.reply(
                    handle,
                    producerId < 0
                            ? initError(Errors.COORDINATOR_LOAD_IN_PROGRESS)
                            : initSuccess(producerId, (short) 0));
        } else if (transactionalId.isEmpty()) {
            fx.reply(handle, initError(Errors.INVALID_REQUEST));
        } else if (request.transactionTimeoutMs() <= 0
                || request.transactionTimeoutMs() > config.transactionMaxTimeoutMs()) {
            fx.reply(handle, initError(Errors.INVALID_TRANSACTION_TIMEOUT));
        } else {
            TxnMetadata m = txns.get(transactionalId);
            Errors error = m == null
                    ? initNewTransactionalId(transactionalId, request.transactionTimeoutMs(), nowMs, fx)
                    : initExisting(m, request, nowMs, fx);
            if (error == Errors.COORDINATOR_LOAD_IN_PROGRESS) {
                fx.reply(handle, initError(error));
                return;
            }
            TxnMetadata now = txns.get(transactionalId);
            fx.replyAfterEverythingCommitted(
                    handle,
                    error == Errors.NONE
                            ? initSuccess(now.producerId(), now.producerEpoch())
                            : initError(fencedForVersion(error, version, 4)));
        }
    }

    private Errors initNewTransactionalId(String transactionalId, int txnTimeoutMs, long nowMs, TxnEffects fx) {
        long producerId = producerIds.next();
        if (producerId < 0) {
            return Errors.COORDINATOR_LOAD_IN_PROGRESS;
        }
        // Kafka creates the id with epoch -1 and bumps it at once; any KIP-360 fields are then valid.
        emit(
                new TxnMetadata(
                        transactionalId,
                        producerId,
                        NO_PRODUCER_ID,
                        NO_PRODUCER_ID,
                        (short) 0,
                        NO_PRODUCER_EPOCH,
                        txnTimeoutMs,
                        TxnState.EMPTY,
                        List.of(),
                        -1L,
                        nowMs),
                fx);
        return Errors.NONE;
    }

    private Errors initExisting(TxnMetadata m, InitProducerIdRequestData request, long nowMs, TxnEffects fx) {
        boolean expected = request.producerId() != NO_PRODUCER_ID;
        if (expected && !isValidProducerId(m, request.producerId(), request.producerEpoch())) {
            return Errors.PRODUCER_FENCED;
        }
        switch (m.state()) {
            case PREPARE_COMMIT:
            case PREPARE_ABORT:
                return Errors.CONCURRENT_TRANSACTIONS;
            case ONGOING:
                // Abort first with the epoch bumped; the producer retries and gets a second bump once it is done.
                fenceAndAbort(m, nowMs, fx);
                return Errors.CONCURRENT_TRANSACTIONS;
            case EMPTY:
            case COMPLETE_COMMIT:
            case COMPLETE_ABORT:
                return bumpEpochOrRotate(
                        m, expected, request.producerEpoch(), request.transactionTimeoutMs(), nowMs, fx);
            default:
                throw new IllegalStateException(
                        "transactional id " + m.transactionalId() + " is in state " + m.state() + ", never held");
        }
    }

    /**
     * KIP-360: a producer presenting its producer id and epoch is let through if the id is new (epoch -1), if it
     * names the current producer id (the epoch is checked by the bump), or if it names the producer id replaced
     * after epoch exhaustion with the exhausted epoch (a retry of that rotation).
     */
    private static boolean isValidProducerId(TxnMetadata m, long producerId, short producerEpoch) {
        return m.producerEpoch() == NO_PRODUCER_EPOCH
                || producerId == m.producerId()
                || (producerId == m.previousProducerId() && isEpochExhausted(producerEpoch));
    }

    private Errors bumpEpochOrRotate(
            TxnMetadata m, boolean expected, short expectedEpoch, int txnTimeoutMs, long nowMs, TxnEffects fx) {
        short epoch = m.producerEpoch();
        long producerId = m.producerId();
        short newEpoch;
        short lastEpoch;
        if (isEpochExhausted(epoch)) {
            if (expected && expectedEpoch != epoch) {
                // Kafka reaches an IllegalStateException here; an older epoch of an exhausted id is fenced.
                return Errors.PRODUCER_FENCED;
            }
            producerId = producerIds.next();
            if (producerId < 0) {
                return Errors.COORDINATOR_LOAD_IN_PROGRESS;
            }
            newEpoch = 0;
            lastEpoch = expected ? epoch : NO_PRODUCER_EPOCH;
        } else if (!expected) {
            newEpoch = (short) (epoch + 1);
            lastEpoch = NO_PRODUCER_EPOCH;
        } else if (expectedEpoch == epoch) {
            newEpoch = (short) (epoch + 1);
            lastEpoch = epoch;
        } else if (expectedEpoch == m.lastProducerEpoch()) {
            // A retry of a bump whose answer was lost: the same epoch again.
            newEpoch = epoch;
            lastEpoch = m.lastProducerEpoch();
        } else {
            return Errors.PRODUCER_FENCED;
        }
        emit(
                new TxnMetadata(
                        m.transactionalId(),
                        producerId,
                        m.producerId(),
                        NO_PRODUCER_ID,
                        newEpoch,
                        lastEpoch,
                        txnTimeoutMs,
                        TxnState.EMPTY,
                        List.of(),
                        -1L,
                        nowMs),
                fx);
        return Errors.NONE;
    }

    /** Bumps the epoch of an ONGOING transaction's producer and aborts the transaction with the new epoch. */
    private void fenceAndAbort(TxnMetadata m, long nowMs, TxnEffects fx) {
        if (m.producerEpoch() == Short.MAX_VALUE) {
            throw new IllegalStateException("transactional id " + m.transactionalId() + ": producer id "
                    + m.producerId() + " has epoch " + Short.MAX_VALUE + " and cannot be fenced");
        }
        TxnMetadata aborting = new TxnMetadata(
                m.transactionalId(),
                m.producerId(),
                m.previousProducerId(),
                NO_PRODUCER_ID,
                (short) (m.producerEpoch() + 1),
                NO_PRODUCER_EPOCH,
                m.txnTimeoutMs(),
                TxnState.PREPARE_ABORT,
                m.partitions(),
                m.txnStartTimestampMs(),
                nowMs);
        emit(aborting, fx);
        fx.writeMarkers(markersFor(aborting));
    }

    private static InitProducerIdResponseData initError(Errors error) {
        return new InitProducerIdResponseData()
                .setErrorCode(error.code())
                .setProducerId(NO_PRODUCER_ID)
                .setProducerEpoch(NO_PRODUCER_EPOCH);
    }

    private static InitProducerIdResponseData initSuccess(long producerId, short producerEpoch) {
        return new InitProducerIdResponseData()
                .setErrorCode(Errors.NONE.code())
                .setProducerId(producerId)
                .setProducerEpoch(producerEpoch);
    }

    /** Older clients do not know PRODUCER_FENCED: below {@code fencedSince} they get INVALID_PRODUCER_EPOCH. */
    private static Errors fencedForVersion(Errors error, short version, int fencedSince) {
        return error == Errors.PRODUCER_FENCED && version < fencedSince ? Errors.INVALID_PRODUCER_EPOCH : error;
    }

    // ---- AddPartitionsToTxn, AddOffsetsToTxn ----

    private void addPartitionsToTxn(TxnCommand.AddPartitionsToTxn command, long nowMs, TxnEffects fx) {
        AddPartitionsToTxnRequestData request = command.request();
        short version = command.context().apiVersion();
        AddPartitionsToTxnResponseData response = new AddPartitionsToTxnResponseData();
        if (version < 4) {
            List<TopicPartition> partitions = partitionsOf(request.v3AndBelowTopics());
            Errors error = addPartitions(
                    request.v3AndBelowTransactionalId(),
                    request.v3AndBelowProducerId(),
                    request.v3AndBelowProducerEpoch(),
                    partitions,
                    nowMs,
                    fx);
            Map<TopicPartition, Errors> errors = new LinkedHashMap<>();
            partitions.forEach(tp -> errors.put(tp, fencedForVersion(error, version, 2)));
            response.setResultsByTopicV3AndBelow(topicResults(errors));
        } else {
            AddPartitionsToTxnResultCollection results = new AddPartitionsToTxnResultCollection();
            for (AddPartitionsToTxnTransaction txn : request.transactions()) {
                List<TopicPartition> partitions = partitionsOf(txn.topics());
                Map<TopicPartition, Errors> errors;
                if (txn.verifyOnly()) {
                    errors = verifyPartitions(txn, partitions);
                } else {
                    Errors error = addPartitions(
                            txn.transactionalId(), txn.producerId(), txn.producerEpoch(), partitions, nowMs, fx);
                    errors = new LinkedHashMap<>();
                    partitions.forEach(tp -> errors.put(tp, error));
                }
                results.add(new AddPartitionsToTxnResult()
                        .setTransactionalId(txn.transactionalId())
                        .setTopicResults(topicResults(errors)));
            }
            response.setResultsByTransaction(results);
        }
        fx.replyAfterEverythingCommitted(command.requestHandle(), response);
    }

    private void addOffsetsToTxn(TxnCommand.AddOffsetsToTxn command, long nowMs, TxnEffects fx) {
        AddOffsetsToTxnRequestData request = command.request();
        TopicPartition offsetsPartition = new TopicPartition(
                Topic.GROUP_METADATA_TOPIC_NAME,
                GroupCoordinatorState.partitionFor(request.groupId(), offsetsTopicPartitions));
        Errors error = addPartitions(
                request.transactionalId(),
                request.producerId(),
                request.producerEpoch(),
                List.of(offsetsPartition),
                nowMs,
                fx);
        fx.replyAfterEverythingCommitted(
                command.requestHandle(),
                new AddOffsetsToTxnResponseData()
                        .setErrorCode(fencedForVersion(error, command.context().apiVersion(), 2)
                                .code()));
    }

    /** Adds partitions to the producer's transaction (starting it if none is ongoing); the error for all. */
    private Errors addPartitions(
            String transactionalId,
            long producerId,
            short producerEpoch,
            List<TopicPartition> partitions,
            long nowMs,
            TxnEffects fx) {
        if (transactionalId == null || transactionalId.isEmpty()) {
            return Errors.INVALID_REQUEST;
        }
        TxnMetadata m = txns.get(transactionalId);
        if (m == null || m.producerId() != producerId) {
            return Errors.INVALID_PRODUCER_ID_MAPPING;
        } else if (m.producerEpoch() != producerEpoch) {
            return Errors.PRODUCER_FENCED;
        } else if (m.state().isPrepare()) {
            return Errors.CONCURRENT_TRANSACTIONS;
        } else if (m.state() == TxnState.ONGOING && new HashSet<>(m.partitions()).containsAll(partitions)) {
            return Errors.NONE;
        }
        boolean starts = m.state() != TxnState.ONGOING;
        List<TopicPartition> all = new ArrayList<>(m.partitions());
        all.addAll(partitions);
        emit(
                new TxnMetadata(
                        m.transactionalId(),
                        m.producerId(),
                        m.previousProducerId(),
                        NO_PRODUCER_ID,
                        m.producerEpoch(),
                        m.lastProducerEpoch(),
                        m.txnTimeoutMs(),
                        TxnState.ONGOING,
                        all,
                        starts ? nowMs : m.txnStartTimestampMs(),
                        nowMs),
                fx);
        return Errors.NONE;
    }

    /**
     * KIP-890 part 1: a partition leader asks, before appending a transactional batch, whether the partition is
     * in the producer's transaction. Nothing changes; a partition not in it gets TRANSACTION_ABORTABLE.
     */
    private Map<TopicPartition, Errors> verifyPartitions(
            AddPartitionsToTxnTransaction txn, List<TopicPartition> partitions) {
        String transactionalId = txn.transactionalId();
        TxnMetadata m = transactionalId == null ? null : txns.get(transactionalId);
        Errors error;
        if (transactionalId == null || transactionalId.isEmpty()) {
            error = Errors.INVALID_REQUEST;
        } else if (m == null || m.producerId() != txn.producerId()) {
            error = Errors.INVALID_PRODUCER_ID_MAPPING;
        } else if (m.producerEpoch() != txn.producerEpoch()) {
            error = Errors.PRODUCER_FENCED;
        } else if (m.state().isPrepare()) {
            error = Errors.CONCURRENT_TRANSACTIONS;
        } else {
            error = null;
        }
        Set<TopicPartition> inTxn = m == null ? Set.of() : new HashSet<>(m.partitions());
        Map<TopicPartition, Errors> errors = new LinkedHashMap<>();
        for (TopicPartition tp : partitions) {
            errors.put(tp, error != null ? error : inTxn.contains(tp) ? Errors.NONE : Errors.TRANSACTION_ABORTABLE);
        }
        return errors;
    }

    private static List<TopicPartition> partitionsOf(AddPartitionsToTxnTopicCollection topics) {
        TreeSet<TopicPartition> partitions = new TreeSet<>(TxnRecord.PARTITION_ORDER);
        for (AddPartitionsToTxnTopic topic : topics) {
            for (int partition : topic.partitions()) {
                partitions.add(new TopicPartition(topic.name(), partition));
            }
        }
        return new ArrayList<>(partitions);
    }

    private static AddPartitionsToTxnTopicResultCollection topicResults(Map<TopicPartition, Errors> errors) {
        AddPartitionsToTxnTopicResultCollection topics = new AddPartitionsToTxnTopicResultCollection();
        errors.forEach((tp, error) -> {
            AddPartitionsToTxnTopicResult topic = topics.find(tp.topic());
            if (topic == null) {
                topic = new AddPartitionsToTxnTopicResult().setName(tp.topic());
                topics.add(topic);
            }
            topic.resultsByPartition()
                    .add(new AddPartitionsToTxnPartitionResult()
                            .setPartitionIndex(tp.partition())
                            .setPartitionErrorCode(error.code()));
        });
        return topics;
    }

    // ---- EndTxn ----

    private void endTxn(TxnCommand.EndTxn command, long nowMs, TxnEffects fx) {
        EndTxnRequestData request = command.request();
        long handle = command.requestHandle();
        String transactionalId = request.transactionalId();
        if (transactionalId == null || transactionalId.isEmpty()) {
            fx.reply(handle, endTxnResponse(Errors.INVALID_REQUEST, null));
            return;
        }
        TxnMetadata m = txns.get(transactionalId);
        Errors error = endTxnError(m, request);
        if (error == null) {
            // ONGOING, producer and epoch current: prepare; markers go out once the record is committed.
            TxnMetadata prepared = new TxnMetadata(
                    m.transactionalId(),
                    m.producerId(),
                    m.previousProducerId(),
                    NO_PRODUCER_ID,
                    m.producerEpoch(),
                    m.lastProducerEpoch(),
                    m.txnTimeoutMs(),
                    request.committed() ? TxnState.PREPARE_COMMIT : TxnState.PREPARE_ABORT,
                    m.partitions(),
                    m.txnStartTimestampMs(),
                    nowMs);
            emit(prepared, fx);
            fx.writeMarkers(markersFor(prepared));
            error = Errors.NONE;
        }
        TxnMetadata current = txns.get(transactionalId);
        fx.replyAfterEverythingCommitted(
                handle,
                error == Errors.NONE
                        ? endTxnResponse(Errors.NONE, current)
                        : endTxnResponse(
                                fencedForVersion(error, command.context().apiVersion(), 2), null));
    }

    /**
     * Why EndTxn cannot prepare (NONE for a retry of a completed one, as Kafka answers it), or null if it can.
     */
    private static Errors endTxnError(TxnMetadata m, EndTxnRequestData request) {
        if (m == null || m.producerId() != request.producerId()) {
            return Errors.INVALID_PRODUCER_ID_MAPPING;
        }
        if (m.producerEpoch() != request.producerEpoch()) {
            return Errors.PRODUCER_FENCED;
        }
        boolean commit = request.committed();
        switch (m.state()) {
            case ONGOING:
                return null;
            case COMPLETE_COMMIT:
                return commit ? Errors.NONE : Errors.INVALID_TXN_STATE;
            case COMPLETE_ABORT:
                return commit ? Errors.INVALID_TXN_STATE : Errors.NONE;
            case PREPARE_COMMIT:
                return commit ? Errors.CONCURRENT_TRANSACTIONS : Errors.INVALID_TXN_STATE;
            case PREPARE_ABORT:
                return commit ? Errors.INVALID_TXN_STATE : Errors.CONCURRENT_TRANSACTIONS;
            case EMPTY:
                return Errors.INVALID_TXN_STATE;
            default:
                throw new IllegalStateException(
                        "transactional id " + m.transactionalId() + " is in state " + m.state() + ", never held");
        }
    }

    private static EndTxnResponseData endTxnResponse(Errors error, TxnMetadata m) {
        return new EndTxnResponseData()
                .setErrorCode(error.code())
                .setProducerId(m == null ? NO_PRODUCER_ID : m.producerId())
                .setProducerEpoch(m == null ? NO_PRODUCER_EPOCH : m.producerEpoch());
    }

    private WriteMarkers markersFor(TxnMetadata m) {
        return new WriteMarkers(
                m.transactionalId(),
                m.producerId(),
                m.producerEpoch(),
                m.state() == TxnState.PREPARE_COMMIT ? TransactionResult.COMMIT : TransactionResult.ABORT,
                m.partitions(),
                coordinatorEpoch);
    }

    // ---- DescribeTransactions, ListTransactions ----

    private DescribeTransactionsResponseData describeTransactions(Collection<String> transactionalIds) {
        DescribeTransactionsResponseData response = new DescribeTransactionsResponseData();
        for (String transactionalId : transactionalIds) {
            response.transactionStates().add(describe(transactionalId));
        }
        return response;
    }

    private DescribeTransactionsResponseData.TransactionState describe(String transactionalId) {
        DescribeTransactionsResponseData.TransactionState state =
                new DescribeTransactionsResponseData.TransactionState().setTransactionalId(transactionalId);
        TxnMetadata m = transactionalId == null ? null : txns.get(transactionalId);
        if (transactionalId == null || transactionalId.isEmpty()) {
            return state.setErrorCode(Errors.INVALID_REQUEST.code());
        } else if (m == null) {
            return state.setErrorCode(Errors.TRANSACTIONAL_ID_NOT_FOUND.code());
        }
        for (TopicPartition tp : m.partitions()) {
            TopicData topic = state.topics().find(tp.topic());
            if (topic == null) {
                topic = new TopicData().setTopic(tp.topic());
                state.topics().add(topic);
            }
            topic.partitions().add(tp.partition());
        }
        return state.setErrorCode(Errors.NONE.code())
                .setProducerId(m.producerId())
                .setProducerEpoch(m.producerEpoch())
                .setTransactionState(m.state().kafkaName())
                .setTransactionTimeoutMs(m.txnTimeoutMs())
                .setTransactionStartTimeMs(m.txnStartTimestampMs());
    }

    /**
     * Kafka's filters: states by name (unknown names are echoed in {@code unknownStateFilters}), producer ids,
     * transactions running longer than {@code durationFilter} ms (v1+), transactional ids matching {@code
     * transactionalIdPattern} entirely (v2+).
     */
    private ListTransactionsResponseData listTransactions(ListTransactionsRequestData request, long nowMs) {
        ListTransactionsResponseData response = new ListTransactionsResponseData();
        Set<TxnState> states = new HashSet<>();
        for (String name : request.stateFilters()) {
            Optional<TxnState> state = TxnState.fromKafkaName(name);
            if (state.isPresent()) {
                states.add(state.get());
            } else {
                response.unknownStateFilters().add(name);
            }
        }
        Pattern pattern = null;
        String regex = request.transactionalIdPattern();
        if (regex != null && !regex.isEmpty()) {
            try {
                pattern = Pattern.compile(regex);
            } catch (PatternSyntaxException e) {
                return response.setErrorCode(Errors.INVALID_REGULAR_EXPRESSION.code());
            }
        }
        Set<Long> producerIdFilter = new HashSet<>(request.producerIdFilters());
        long durationFilterMs = request.durationFilter();
        for (TxnMetadata m : txns.values()) {
            if ((!producerIdFilter.isEmpty() && !producerIdFilter.contains(m.producerId()))
                    || (!request.stateFilters().isEmpty() && !states.contains(m.state()))
                    || (durationFilterMs >= 0 && nowMs - m.txnStartTimestampMs() <= durationFilterMs)
                    || (pattern != null && !pattern.matcher(m.transactionalId()).matches())) {
                continue;
            }
            response.transactionStates()
                    .add(new ListTransactionsResponseData.TransactionState()
                            .setTransactionalId(m.transactionalId())
                            .setProducerId(m.producerId())
                            .setTransactionState(m.state().kafkaName()));
        }
        return response.setErrorCode(Errors.NONE.code());
    }

    private void requireActive() {
        requireNotUnloaded();
        if (!active) {
            throw new IllegalStateException("transaction coordinator state used before activate");
        }
    }

    private void requireNotUnloaded() {
        if (unloaded) {
            throw new IllegalStateException("transaction coordinator state used after unload");
        }
    }
}
