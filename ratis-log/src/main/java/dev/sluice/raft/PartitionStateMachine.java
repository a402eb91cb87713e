package dev.sluice.raft;

import dev.sluice.partitionstore.AbortedTxn;
import dev.sluice.partitionstore.AppendResult;
import dev.sluice.partitionstore.LogReadResult;
import dev.sluice.partitionstore.PartitionLog;
import dev.sluice.partitionstore.PartitionMetadataStore;
import dev.sluice.partitionstore.ProducerStateEntry;
import dev.sluice.partitionstore.RaftEntryRange;
import dev.sluice.partitionstore.SegmentCorruption;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.CorruptRecordException;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.proto.RaftProtos.RoleInfoProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.raftlog.RaftLogBase;
import org.apache.ratis.server.raftlog.RaftLogIOException;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.SnapshotInfo;
import org.apache.ratis.statemachine.SnapshotRetentionPolicy;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.util.AutoCloseableLock;
import org.apache.ratis.util.LifeCycle;
import org.apache.ratis.util.ProtoUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The state machine of one partition's Raft group: the partition's log is the replicated state.
 *
 * <h2>Single write (the default)</h2>
 *
 * The Raft log entry keeps a {@value EntryCodec#HEADER_BYTES}-byte header; the record batches travel as
 * Ratis state-machine data and are written once, into the partition's segment, by {@link #write} —
 * which Ratis calls on every replica in log order, when the entry is appended to the Raft log, and
 * before the entry counts as durable ({@link #flush} syncs the segment first). That is where the
 * deterministic step runs: the producer checks against the state after every earlier entry, the
 * offsets, the leader epoch (the entry's Raft term) and, under LogAppendTime, the time the leader chose.
 * An entry whose batch is rejected or is a retried duplicate writes nothing; each replica decides so on
 * its own and they all agree, because they see the same log. {@link #truncate} removes the bytes of
 * entries Raft discards (never committed ones), and {@link #applyTransaction} — at commit — only moves
 * the high watermark and answers the writer. Which entry holds which offsets is kept in RocksDB ({@link
 * RaftEntryRange}), so that {@link #read} can serve a lagging follower from the segment.
 *
 * <h2>DeleteRecords</h2>
 *
 * Kafka's {@code DeleteRecords} is an entry of its own, with no batches: at apply time every replica
 * advances its log start offset to the same offset, checked against the high watermark of that point in
 * the log, and saves a snapshot there (see {@link #deleteRecords}). The records below it stay readable for
 * Raft ({@link PartitionLog#readRetained}) until retention deletes their segments, which it does only once
 * no entry left in the Raft log refers to them.
 *
 * <h2>Transactions</h2>
 *
 * Transactional batches and the coordinator's COMMIT/ABORT markers go through the same step ({@link
 * ProducerStates} decides). At apply time every replica adds the entry's batches to the applied producer
 * state — whose open transactions give the last stable offset — and writes each transaction an ABORT
 * marker ended to the aborted-transaction index ({@link PartitionLog#metadata()}), before the high
 * watermark passes the marker. Both are functions of the committed log: snapshots save the producer
 * state (open transactions included), a restart replays the entries after the snapshot (rewriting the
 * same index records), and a snapshot install copies both.
 *
 * <h2>Double write</h2>
 *
 * With {@code raft.single.write=false} the batches are part of the Raft log entry, the same step runs at
 * apply time, and the segment is only made durable by snapshots; after a restart the log is cut back to
 * the last snapshot and the Raft log replays the rest. It exists to be measured against.
 *
 * <p>Threading: Ratis calls write and truncate under the group's Raft log lock, apply on the group's
 * updater thread, flush on its log worker. Every change to the partition's log happens under {@link
 * #lock}; readers (Fetch, {@link #read}) need no lock. Lock order: the Raft log's lock, then {@link #lock},
 * never the other way round — Ratis holds the Raft log's (write) lock when it calls write and truncate, so a
 * thread that reads the Raft log while holding {@link #lock} deadlocks against an append (see {@link
 * #raftLogReadLock}).
 */
public final class PartitionStateMachine extends BaseStateMachine {
    private static final Logger LOG = LoggerFactory.getLogger(PartitionStateMachine.class);

    /** What the node tells a state machine about its partition. */
    interface Host {
        PartitionLog openLog(TopicPartition tp);

        /** Closes the partition's log (it stays on disk). */
        void closeLog(TopicPartition tp);

        boolean singleWrite();

        long nowMs();

        void leaderChanged(TopicPartition tp, RaftPeerId newLeader, long term);

        /** The applied entry appended {@code [firstOffset, nextOffset)}; under the state machine's lock. */
        void applied(TopicPartition tp, PartitionLog log, long firstOffset, long nextOffset);

        /** Fetches the leader's snapshot into this replica's log; see {@link SnapshotInstaller}. */
        CompletableFuture<TermIndex> installSnapshot(
                PartitionStateMachine stateMachine, RaftPeer leader, TermIndex leaderFirst);

        /**
         * Ratis shut this replica's division down from an election: the group's leader said it is not a member
         * (or its own configuration lacks it). The division is closed for good; see {@link ClosedDivisions}.
         */
        void shutDownAsNonMember(PartitionStateMachine stateMachine);

        /**
         * The partition's segments lost data this replica's Raft state says it has: restore it from another
         * replica ({@link #restoreLostData}), in the background, until it is back.
         */
        void repairLostData(PartitionStateMachine stateMachine);

        /** A closed segment is damaged: report it and replace it from another replica, in the background. */
        void segmentDamaged(PartitionStateMachine stateMachine, SegmentCorruption corruption);
    }

    /** Stands for an entry {@link #restoreLostEntries} finds restored already. */
    private static final LogEntryProto RESTORED_ALREADY = LogEntryProto.getDefaultInstance();

    /** What {@link #read} sends for an entry that wrote nothing; no record batch is one byte long. */
    private static final ByteString WROTE_NOTHING = ByteString.copyFrom(new byte[] {0});

    private final TopicPartition tp;
    private final Host host;
    private final boolean singleWrite;
    private final ReentrantLock lock = new ReentrantLock();
    private final Map<Long, AppendOutcome> outcomes = new ConcurrentHashMap<>();
    private final List<Runnable> highWatermarkListeners = new CopyOnWriteArrayList<>();
    private final PartitionStorage storage = new PartitionStorage();

    private volatile PartitionLog log;
    private volatile long highWatermark;
    private volatile SnapshotInfo latestSnapshot;
    /** Producer state after every entry written to the log (the leader checks new batches against it). */
    private ProducerStates written = new ProducerStates();
    /** Producer state after the last applied entry: what snapshots save. */
    private ProducerStates applied = new ProducerStates();
    /** {@code applied.firstUnstableOffset()}, for readers outside the lock. */
    private volatile long firstUnstableOffset = ProducerStates.NO_OPEN_TRANSACTION;

    private long lastWrittenIndex = -1;
    /** The highest Raft index with recorded offsets; a write above it cannot overlap earlier ones. */
    private long lastRecordedIndex = Long.MAX_VALUE;

    /**
     * Recorded entries in {@code [orphanCheckFrom, orphanCheckTo]} were written before the last restart and
     * may have no Raft log entry behind them any more; {@link #discardOrphans} checks them once.
     */
    private long orphanCheckFrom = -1;

    private long orphanCheckTo = -1;

    private long lastFlushedIndex = -1;
    private ByteBuffer scratch = ByteBuffer.allocate(64 * 1024);

    /**
     * What this replica's segments lost although its Raft state says it has it (a cut or torn segment
     * file): until it is restored ({@link #restoreLostData}) Ratis's writes and truncations wait in {@link
     * #deferred} and applies wait for {@link #restored}, so that no offset is given twice and no entry is
     * applied over a hole. Null when nothing is missing.
     *
     * @param restoreTo committed offsets up to here (the end of the snapshot) must be copied from a replica
     *     as bytes, or -1: Ratis does not replay the entries below its snapshot
     * @param entriesFrom the Raft entries from this index on lost their data, or -1: their batches are
     *     fetched again from a replica whose Raft log holds the same entries
     * @param discarded the offsets those entries had, by Raft index: for an entry every other replica has
     *     purged from its Raft log (so it is committed), the committed bytes at those offsets are copied
     */
    private record LostData(long restoreTo, long entriesFrom, Map<Long, RaftEntryRange> discarded) {}

    private volatile LostData lost;
    private final Condition restored = lock.newCondition();
    private final ArrayDeque<Runnable> deferred = new ArrayDeque<>();
    /** The log whose damage reports reach the host (each opened log is hooked once). */
    private PartitionLog hooked;
    /** Set once, by {@link #close}, under the lock. */
    private volatile boolean closed;
    /** Set once, by {@link #abandon}, under the lock: the node is removing this replica. */
    private volatile boolean abandoned;

    PartitionStateMachine(TopicPartition tp, Host host) {
        this.tp = tp;
        this.host = host;
        this.singleWrite = host.singleWrite();
    }

    // ---- lifecycle ---------------------------------------------------------------------------------------

    @Override
    public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
        super.initialize(server, groupId, raftStorage);
        getLifeCycle().startAndTransition(() -> {
            lock.lock();
            try {
                openLog();
            } finally {
                lock.unlock();
            }
        });
        RaftLogFiles.dropOpenSegmentBelowSnapshot(raftStorage.getStorageDir().getCurrentDir(), snapshotIndex());
    }

    /** Opens (recovering) the partition's log and restores the state of the last snapshot. */
    private void openLog() {
        PartitionLog opened = host.openLog(tp);
        PartitionMetadataStore metadata = opened.metadata();
        long snapshotIndex = opened.lastAppliedIndex();
        long appliedEnd = opened.logStartOffset();
        latestSnapshot = null;
        setLastAppliedTermIndex(null);
        if (snapshotIndex >= 0) {
            TermIndex snapshot = TermIndex.valueOf(opened.lastAppliedTerm(), snapshotIndex);
            latestSnapshot = new PartitionSnapshot(snapshot);
            setLastAppliedTermIndex(snapshot);
            RaftEntryRange range = metadata.floorRaftEntry(snapshotIndex);
            appliedEnd = range == null ? appliedEnd : Math.max(appliedEnd, range.nextOffset());
        }
        applied = new ProducerStates(metadata.producers());
        firstUnstableOffset = applied.firstUnstableOffset();
        if (!singleWrite) {
            // The segment is durable only up to the snapshot; the Raft log replays everything after it.
            opened.truncateTo(appliedEnd);
            metadata.deleteRaftEntriesFrom(snapshotIndex + 1);
        }
        boolean belowSnapshotLost = opened.logEndOffset() < appliedEnd;
        log = opened;
        if (hooked != opened) {
            hooked = opened;
            opened.onCorruption(corruption -> host.segmentDamaged(this, corruption));
        }
        if (!belowSnapshotLost) {
            // Everything after the snapshot is read again (producer state, entries Ratis replays); recovery
            // checked only what lies after the recovery point. Damage there cuts the log: the entries whose
            // data it held are fetched again from other replicas, like data lost from the tail.
            long damaged = firstDamagedOffset(opened, appliedEnd, opened.logEndOffset());
            if (damaged >= 0) {
                LOG.warn(
                        "{}: damaged data at offset {}, after the snapshot (offsets up to {}): cutting the log there"
                                + " and fetching what follows from other replicas",
                        tp,
                        damaged,
                        appliedEnd);
                opened.truncateTo(damaged);
            }
        }
        RaftEntryRange last = metadata.floorRaftEntry(Long.MAX_VALUE);
        lastRecordedIndex = last == null ? -1 : last.raftIndex();
        Map<Long, RaftEntryRange> discarded = new java.util.TreeMap<>();
        long entriesLostFrom = singleWrite
                ? discardLostEntries(snapshotIndex, belowSnapshotLost ? appliedEnd : opened.logEndOffset(), discarded)
                : -1;
        if (singleWrite && !belowSnapshotLost && entriesLostFrom < 0) {
            cutUnrecordedTail(opened, snapshotIndex, appliedEnd);
        }
        if (singleWrite && lastRecordedIndex > snapshotIndex) {
            orphanCheckFrom = snapshotIndex + 1;
            orphanCheckTo = lastRecordedIndex;
        }
        highWatermark = appliedEnd;
        lost = null;
        if (belowSnapshotLost || entriesLostFrom >= 0) {
            lost = new LostData(belowSnapshotLost ? appliedEnd : -1, entriesLostFrom, Map.copyOf(discarded));
            LOG.warn(
                    "{}: the partition's segments lost data this replica had applied or written: the log ends at"
                            + " offset {}{}{}; copying it from another replica before taking more entries",
                    tp,
                    opened.logEndOffset(),
                    belowSnapshotLost
                            ? ", the snapshot at Raft index " + snapshotIndex + " covers offsets up to " + appliedEnd
                            : "",
                    entriesLostFrom >= 0 ? ", the data of Raft entries from " + entriesLostFrom + " is gone" : "");
            host.repairLostData(this);
        }
        written = belowSnapshotLost ? applied.copy() : replayProducers(applied, appliedEnd, opened.logEndOffset());
    }

    /**
     * Cuts the segment data past the end of the last recorded entry. A process killed between appending an
     * entry's batches and recording its offsets leaves batches that no Raft entry owns: Ratis puts an entry in
     * its log file only after {@link #write} returned, and {@link #write} records the offsets before it
     * returns, so the entry itself died with the process. Left in place, those batches would stand in the log
     * ahead of the entries that replace them, and a producer's retry of the same batch would be judged a
     * duplicate of them: this replica would keep the batch under its old leader epoch while the others hold
     * it under the new one.
     */
    private static void cutUnrecordedTail(PartitionLog opened, long snapshotIndex, long appliedEnd) {
        RaftEntryRange last = opened.metadata().floorRaftEntry(Long.MAX_VALUE);
        long recordedEnd =
                last != null && last.raftIndex() > snapshotIndex ? Math.max(appliedEnd, last.nextOffset()) : appliedEnd;
        if (opened.logEndOffset() > recordedEnd) {
            LOG.info(
                    "{}: dropping offsets [{}, {}) from the segment: no Raft entry recorded them (the process"
                            + " stopped while writing them)",
                    opened.topicPartition(),
                    recordedEnd,
                    opened.logEndOffset());
            opened.truncateTo(recordedEnd);
        }
    }

    /** The first offset in {@code [from, to)} whose batch cannot be read back intact, or -1. */
    private static long firstDamagedOffset(PartitionLog opened, long from, long to) {
        long next = from;
        while (next < to) {
            LogReadResult read = opened.readRetained(next, 1 << 20, to);
            if (read.error() != Errors.NONE || read.sizeInBytes() == 0) {
                return next;
            }
            for (RecordBatch batch : read.memoryRecords().batches()) {
                next = batch.nextOffset();
            }
        }
        return -1;
    }

    /**
     * Forgets the recorded entries after the snapshot whose offsets reach past {@code end} (their batches
     * are not in the segment any more) and cuts the log where the first of them starts; returns that
     * entry's index, or -1 when every recorded entry's data is there.
     */
    private long discardLostEntries(long snapshotIndex, long end, Map<Long, RaftEntryRange> discarded) {
        PartitionMetadataStore metadata = log.metadata();
        for (RaftEntryRange range = metadata.ceilingRaftEntry(snapshotIndex + 1);
                range != null;
                range = metadata.ceilingRaftEntry(range.raftIndex() + 1)) {
            if (range.nextOffset() > end) {
                for (RaftEntryRange later = range;
                        later != null;
                        later = metadata.ceilingRaftEntry(later.raftIndex() + 1)) {
                    discarded.put(later.raftIndex(), later);
                }
                if (log.logEndOffset() > range.firstOffset()) {
                    log.truncateTo(range.firstOffset());
                }
                metadata.deleteRaftEntriesFrom(range.raftIndex());
                RaftEntryRange before = metadata.floorRaftEntry(range.raftIndex());
                lastRecordedIndex = before == null ? -1 : before.raftIndex();
                return range.raftIndex();
            }
        }
        return -1;
    }

    /** Ratis pauses the state machine before it adopts an installed snapshot. */
    @Override
    public void pause() {
        var lifeCycle = getLifeCycle();
        if (lifeCycle.getCurrentState() == LifeCycle.State.RUNNING) {
            lifeCycle.transition(LifeCycle.State.PAUSING);
            lifeCycle.transition(LifeCycle.State.PAUSED);
        }
    }

    /**
     * Resumes after a snapshot install: the log was already replaced (see {@link #replaceLog}), so only
     * the applied index must match the snapshot.
     */
    @Override
    public void reinitialize() {
        lock.lock();
        try {
            if (latestSnapshot != null) {
                setLastAppliedTermIndex(latestSnapshot.getTermIndex());
            }
        } finally {
            lock.unlock();
        }
        var lifeCycle = getLifeCycle();
        if (lifeCycle.getCurrentState() == LifeCycle.State.PAUSED) {
            lifeCycle.transition(LifeCycle.State.STARTING);
            lifeCycle.transition(LifeCycle.State.RUNNING);
        }
    }

    /**
     * Closes the partition's log, once: Ratis closes the state machine with its division, and a node that
     * re-creates a division Ratis closed makes sure of it first (see {@link RaftNode}); by then another
     * state machine may have the partition's log open, which a second close must not touch.
     */
    @Override
    public void close() throws IOException {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            if (log != null) {
                host.closeLog(tp);
            }
        } finally {
            lock.unlock();
        }
        super.close();
    }

    /**
     * The node is removing this replica. An apply that waits for lost data to be restored gives up (fails), and
     * so do later ones: Ratis removes a division only once its state machine updater has stopped, which waits
     * for the apply in progress — and the lost data of a replica the cluster moved away may never come back
     * here (its group's other replicas no longer answer this one). That wait held up the node's removal of the
     * replica, and with it every later change of the node's replicas (the chaos run with seed 4001).
     */
    void abandon() {
        lock.lock();
        try {
            abandoned = true;
            restored.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void requireKept() {
        if (abandoned) {
            throw new IllegalStateException(
                    tp + ": this replica is being removed; its lost data is not restored here any more");
        }
    }

    /** Whether this state machine was closed (its division is gone; a new one may serve the partition). */
    boolean isClosed() {
        return closed;
    }

    // ---- the write path ------------------------------------------------------------------------------------

    @Override
    public TransactionContext startTransaction(RaftClientRequest request) throws IOException {
        EntryCodec.Request decoded;
        try {
            decoded = EntryCodec.decodeRequest(request.getMessage().getContent());
        } catch (IllegalArgumentException e) {
            return failed(request, e);
        }
        TransactionContext.Builder builder =
                TransactionContext.newBuilder().setStateMachine(this).setClientRequest(request);
        if (decoded instanceof EntryCodec.DeleteRecords delete) {
            // No batches: the entry acts at apply time. Under single write it still carries the "writes
            // nothing" marker, so that write() records it in log order like every other entry.
            builder.setLogData(EntryCodec.encodeDeleteRecords(delete.beforeOffset()));
            if (singleWrite) {
                builder.setStateMachineData(WROTE_NOTHING);
            }
            return builder.build();
        }
        EntryCodec.Append parsed = (EntryCodec.Append) decoded;
        if (parsed.records().isEmpty()) {
            return failed(request, new IllegalArgumentException("the write carries no record batch"));
        }
        ByteString header = EntryCodec.encodeHeader(parsed.origin(), host.nowMs(), parsed.guard());
        if (singleWrite) {
            builder.setLogData(header).setStateMachineData(parsed.records());
        } else {
            builder.setLogData(header.concat(parsed.records()));
        }
        return builder.build();
    }

    private TransactionContext failed(RaftClientRequest request, Exception e) {
        TransactionContext context = TransactionContext.newBuilder()
                .setStateMachine(this)
                .setClientRequest(request)
                .build();
        context.setException(e);
        return context;
    }

    @Override
    public CompletableFuture<?> write(LogEntryProto entry, TransactionContext context) {
        lock.lock();
        try {
            if (lost != null) {
                // An entry an installed snapshot covered meanwhile has nothing left to write.
                return defer(() -> entry.getIndex() <= snapshotIndex()
                        ? CompletableFuture.completedFuture(null)
                        : writeNow(entry));
            }
            return writeNow(entry);
        } finally {
            lock.unlock();
        }
    }

    /** Queues a write or truncation Ratis asked for while lost data is restored; it runs, in order, after. */
    private CompletableFuture<Void> defer(java.util.function.Supplier<CompletableFuture<?>> operation) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        deferred.add(() -> operation.get().whenComplete((r, e) -> {
            if (e != null) {
                done.completeExceptionally(e);
            } else {
                done.complete(null);
            }
        }));
        return done;
    }

    private long snapshotIndex() {
        SnapshotInfo snapshot = latestSnapshot;
        return snapshot == null ? -1 : snapshot.getIndex();
    }

    private CompletableFuture<?> writeNow(LogEntryProto entry) {
        var smEntry = entry.getStateMachineLogEntry();
        lock.lock();
        try {
            AppendOutcome outcome = writeEntry(
                    entry.getIndex(),
                    entry.getTerm(),
                    EntryCodec.decodeHeader(smEntry.getLogData()),
                    smEntry.getStateMachineEntry().getStateMachineData());
            outcomes.put(entry.getIndex(), outcome);
            return CompletableFuture.completedFuture(null);
        } catch (RuntimeException e) {
            LOG.error("{}: cannot write Raft entry {} to the partition log", tp, entry.getIndex(), e);
            return CompletableFuture.failedFuture(e);
        } finally {
            lock.unlock();
        }
    }

    /**
     * The deterministic step, under {@link #lock}: decides on the entry's batches, appends them, records
     * the entry's offsets. The same on every replica for the same log.
     */
    private AppendOutcome writeEntry(long index, long term, EntryCodec.Header header, ByteString records) {
        PartitionLog current = log;
        discardOrphans(index - 1); // entries from index on are replaced right below
        discardFrom(index);
        long end = current.logEndOffset();
        if (!(header instanceof EntryCodec.AppendHeader append) || records.isEmpty() || records.equals(WROTE_NOTHING)) {
            // The leader had decided this entry writes nothing (see read()), or it carries no batches (a
            // DeleteRecords, which acts at apply time); so do we.
            record(new RaftEntryRange(index, end, end));
            return AppendOutcome.error(Errors.UNKNOWN_SERVER_ERROR, "entry " + index + " wrote nothing");
        }
        ByteBuffer buffer = copy(records);
        AppendOutcome verdict = checkProducers(buffer, append.guard(), term);
        if (verdict != null) {
            record(new RaftEntryRange(index, end, end));
            return verdict;
        }
        AppendResult result = current.append(buffer, epochOf(term), append.origin(), append.appendTimeMs());
        if (!result.succeeded()) {
            record(new RaftEntryRange(index, end, end));
            return AppendOutcome.error(result.error(), result.errorMessage());
        }
        buffer.rewind();
        for (MutableRecordBatch batch : MemoryRecords.readableRecords(buffer).batches()) {
            written.update(ProducerStates.BatchInfo.of(batch), batch.baseOffset(), batch.lastOffset());
        }
        record(new RaftEntryRange(index, result.firstOffset(), result.lastOffset() + 1));
        return new AppendOutcome(
                Errors.NONE,
                null,
                result.firstOffset(),
                result.lastOffset(),
                result.logAppendTimeMs(),
                current.logStartOffset());
    }

    private void record(RaftEntryRange range) {
        log.metadata().putRaftEntry(range);
        lastWrittenIndex = range.raftIndex();
        lastRecordedIndex = range.raftIndex();
    }

    /**
     * Null when every batch may be appended, else the answer for the whole entry. A transactional batch that
     * came with a {@link VerificationGuard} must also still be covered by its check with the coordinator.
     */
    private AppendOutcome checkProducers(ByteBuffer buffer, VerificationGuard guard, long term) {
        ProducerStates state = written;
        ProducerStates scratchState = null;
        try {
            for (MutableRecordBatch batch :
                    MemoryRecords.readableRecords(buffer.duplicate()).batches()) {
                ProducerStates.BatchInfo info = ProducerStates.BatchInfo.of(batch);
                ProducerStates.Verdict verdict = (scratchState == null ? state : scratchState).check(info);
                if (verdict instanceof ProducerStates.Verdict.Reject reject) {
                    return AppendOutcome.error(reject.error(), reject.message());
                }
                if (guard != null
                        && info.transactional()
                        && !info.control()
                        && verdict instanceof ProducerStates.Verdict.Append) {
                    if (term != guard.term()) {
                        return AppendOutcome.error(
                                Errors.NOT_LEADER_OR_FOLLOWER,
                                tp + ": leadership changed between the transaction check of producer "
                                        + info.producerId() + " (term " + guard.term() + ") and its append (term "
                                        + term + ")");
                    }
                    ProducerStates.Verdict late =
                            (scratchState == null ? state : scratchState).checkVerified(info, guard.logEndOffset());
                    if (late instanceof ProducerStates.Verdict.Reject reject) {
                        return AppendOutcome.error(reject.error(), reject.message());
                    }
                }
                if (verdict instanceof ProducerStates.Verdict.Duplicate duplicate) {
                    return new AppendOutcome(
                            Errors.NONE,
                            null,
                            duplicate.firstOffset(),
                            duplicate.lastOffset(),
                            RecordBatch.NO_TIMESTAMP,
                            log.logStartOffset());
                }
                if (scratchState == null) {
                    scratchState = state.copy(); // later batches of the same write see the earlier ones
                }
                scratchState.update(info, 0, 0);
            }
        } catch (CorruptRecordException | IllegalStateException e) {
            return null; // malformed framing: the log's validation rejects it with the right error
        }
        return null;
    }

    private ByteBuffer copy(ByteString records) {
        int size = records.size();
        if (scratch.capacity() < size) {
            scratch = ByteBuffer.allocate(Math.max(size, scratch.capacity() * 2));
        }
        scratch.clear();
        records.copyTo(scratch);
        scratch.flip();
        return scratch;
    }

    private static int epochOf(long term) {
        return term > Integer.MAX_VALUE ? Integer.MAX_VALUE : (int) term;
    }

    /**
     * Drops what entries at and after {@code index} wrote: Raft truncated them, or — after a restart — the
     * partition log holds entries the Raft log lost from its write buffer and the index is being reused.
     */
    private void discardFrom(long index) {
        if (index > lastRecordedIndex) {
            return; // the common case: a new entry after every recorded one
        }
        PartitionMetadataStore metadata = log.metadata();
        RaftEntryRange first = metadata.ceilingRaftEntry(index);
        if (first == null) {
            return;
        }
        if (first.firstOffset() < highWatermark) {
            throw new IllegalStateException(tp + ": asked to discard Raft entries from " + index
                    + " whose offsets start at " + first.firstOffset() + ", below the high watermark "
                    + highWatermark + " (committed data)");
        }
        log.truncateTo(first.firstOffset());
        metadata.deleteRaftEntriesFrom(index);
        outcomes.keySet().removeIf(i -> i >= index);
        written = replayProducers(applied, highWatermark, log.logEndOffset());
        lastWrittenIndex = Math.min(lastWrittenIndex, index - 1);
        lastRecordedIndex = index - 1;
    }

    /**
     * Drops the segment data of entries written before a restart that the Raft log no longer holds. Under
     * the single write an entry's batches reach the (memory-mapped) segment when Ratis appends the entry,
     * while Ratis keeps the entry itself in a buffer until its next flush; a killed node can therefore come
     * back with batches of entries its Raft log lost. The leader then fills those indexes again, partly with
     * entries that never reach {@link #write} (a new term's first entry, configuration changes), so {@link
     * #discardFrom} alone would leave the old batches in place and the replica would differ from the
     * others. Checked once, before the first entry written or applied after the restart, for the recorded
     * entries up to {@code upTo}: the first one the Raft log does not hold as a state-machine entry, and
     * everything after it, goes (an entry the leader still has comes back through {@link #write}).
     */
    private void discardOrphans(long upTo) {
        if (orphanCheckTo < 0) {
            return;
        }
        long to = Math.min(orphanCheckTo, upTo);
        orphanCheckTo = -1;
        PartitionMetadataStore metadata = log.metadata();
        RaftLog raftLog;
        try {
            raftLog = raftLog();
        } catch (IOException e) {
            throw new IllegalStateException(
                    tp + ": cannot reach the Raft log to check entries written before" + " the restart: "
                            + e.getMessage(),
                    e);
        }
        if (raftLog instanceof RaftLogBase base && !base.hasReadLock()) {
            throw new IllegalStateException(tp + ": checking entries written before the restart needs the Raft"
                    + " log's lock taken before the state machine's (lock order), but this thread holds only the"
                    + " state machine's");
        }
        for (RaftEntryRange range = metadata.ceilingRaftEntry(orphanCheckFrom);
                range != null && range.raftIndex() <= to;
                range = metadata.ceilingRaftEntry(range.raftIndex() + 1)) {
            LogEntryProto entry;
            try {
                entry = raftLog.get(range.raftIndex());
            } catch (RaftLogIOException e) {
                entry = null;
            }
            if (entry == null || !entry.hasStateMachineLogEntry()) {
                LOG.info(
                        "{}: dropping the data of Raft entries from {} written before the restart: the Raft log"
                                + " no longer holds them",
                        tp,
                        range.raftIndex());
                discardFrom(range.raftIndex());
                return;
            }
        }
    }

    /** The producer state after the batches in {@code [from, to)} are added to {@code base}. */
    private ProducerStates replayProducers(ProducerStates base, long from, long to) {
        ProducerStates result = base.copy();
        long next = from;
        while (next < to) {
            LogReadResult read = log.readRetained(next, Integer.MAX_VALUE, to);
            if (read.error() != Errors.NONE || read.sizeInBytes() == 0) {
                throw new IllegalStateException(tp + ": cannot read offsets [" + next + ", " + to
                        + ") to rebuild producer state: " + read.errorMessage());
            }
            for (RecordBatch batch : read.memoryRecords().batches()) {
                result.update(ProducerStates.BatchInfo.of(batch), batch.baseOffset(), batch.lastOffset());
                next = batch.nextOffset();
            }
        }
        return result;
    }

    @Override
    public CompletableFuture<Void> truncate(long index) {
        lock.lock();
        try {
            if (lost != null) {
                return defer(() -> truncate(index));
            }
            discardFrom(index);
            return CompletableFuture.completedFuture(null);
        } catch (RuntimeException e) {
            LOG.error("{}: cannot truncate the partition log from Raft index {}", tp, index, e);
            return CompletableFuture.failedFuture(e);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public CompletableFuture<Void> flush(long index) {
        if (!singleWrite) {
            return CompletableFuture.completedFuture(null);
        }
        lock.lock();
        try {
            if (lastWrittenIndex > lastFlushedIndex) {
                log.flush();
                lastFlushedIndex = lastWrittenIndex;
            }
            return CompletableFuture.completedFuture(null);
        } catch (RuntimeException e) {
            LOG.error("{}: cannot flush the partition log", tp, e);
            return CompletableFuture.failedFuture(e);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public CompletableFuture<ByteString> read(LogEntryProto entry, TransactionContext context) {
        RaftEntryRange range = log.metadata().floorRaftEntry(entry.getIndex());
        if (range == null || range.raftIndex() != entry.getIndex()) {
            return CompletableFuture.failedFuture(
                    new IllegalStateException(tp + ": no offsets recorded for Raft entry " + entry.getIndex()));
        }
        if (range.isEmpty()) {
            // Ratis refuses empty data for an entry that had data, so a marker stands for "writes nothing".
            return CompletableFuture.completedFuture(WROTE_NOTHING);
        }
        LogReadResult read = log.readRetained(range.firstOffset(), Integer.MAX_VALUE, range.nextOffset());
        if (read.error() != Errors.NONE || read.sizeInBytes() == 0) {
            return CompletableFuture.failedFuture(new IllegalStateException(tp
                    + ": cannot read the batches of Raft entry "
                    + entry.getIndex() + " at offsets [" + range.firstOffset() + ", " + range.nextOffset() + "): "
                    + read.errorMessage()));
        }
        return CompletableFuture.completedFuture(UnsafeByteOperations.unsafeWrap(copyOf(read.records())));
    }

    private static ByteBuffer copyOf(ByteBuffer view) {
        ByteBuffer copy = ByteBuffer.allocate(view.remaining());
        copy.put(view.duplicate());
        copy.flip();
        return copy;
    }

    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
        LogEntryProto entry = trx.getLogEntry();
        long index = entry.getIndex();
        AppendOutcome outcome;
        ByteString reply = null;
        try {
            discardOrphansBeforeApply();
        } catch (IOException | RuntimeException e) {
            if (abandoned) {
                LOG.debug("{}: not applying Raft entry {}: the replica is being removed", tp, index);
            } else {
                LOG.error("{}: cannot apply Raft entry {}", tp, index, e);
            }
            return CompletableFuture.failedFuture(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return CompletableFuture.failedFuture(e);
        }
        lock.lock();
        try {
            while (lost != null) {
                requireKept();
                restored.await(); // never apply over data that is still being restored
            }
            ByteString logData = entry.getStateMachineLogEntry().getLogData();
            EntryCodec.Header header = EntryCodec.decodeHeader(logData);
            outcome = outcomes.remove(index);
            if (!singleWrite) {
                outcome = writeEntry(index, entry.getTerm(), header, logData.substring(header.sizeInBytes()));
            }
            RaftEntryRange range = log.metadata().floorRaftEntry(index);
            if (range == null || range.raftIndex() != index) {
                // Ratis calls write() only for entries that carry data; an entry the leader had decided
                // writes nothing reaches a lagging follower with no data (see read()), so it wrote nothing
                // here either. Record it where it sits in the log, after the previous entry's offsets.
                long at = range == null ? log.logStartOffset() : range.nextOffset();
                range = new RaftEntryRange(index, at, at);
                log.metadata().putRaftEntry(range);
                lastRecordedIndex = Math.max(lastRecordedIndex, index);
            }
            if (!range.isEmpty()) {
                applied = replayProducersInto(applied, range);
                firstUnstableOffset = applied.firstUnstableOffset();
                highWatermark = range.nextOffset();
                host.applied(tp, log, range.firstOffset(), range.nextOffset());
            }
            updateLastAppliedTermIndex(entry.getTerm(), index);
            if (header instanceof EntryCodec.DeleteRecords delete) {
                reply = EntryCodec.encodeDeleteReply(
                        deleteRecords(TermIndex.valueOf(entry.getTerm(), index), delete.beforeOffset()));
            } else if (outcome == null) {
                outcome = range.isEmpty()
                        ? AppendOutcome.error(Errors.UNKNOWN_SERVER_ERROR, "entry " + index + " wrote nothing")
                        : new AppendOutcome(
                                Errors.NONE,
                                null,
                                range.firstOffset(),
                                range.nextOffset() - 1,
                                -1,
                                log.logStartOffset());
            }
        } catch (RuntimeException e) {
            if (abandoned) {
                LOG.debug("{}: not applying Raft entry {}: the replica is being removed", tp, index);
            } else {
                LOG.error("{}: cannot apply Raft entry {}", tp, index, e);
            }
            return CompletableFuture.failedFuture(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return CompletableFuture.failedFuture(e);
        } finally {
            lock.unlock();
        }
        highWatermarkListeners.forEach(Runnable::run);
        return CompletableFuture.completedFuture(
                Message.valueOf(reply != null ? reply : EntryCodec.encodeReply(outcome)));
    }

    /**
     * Runs the check of entries written before the restart ({@link #discardOrphans}) once lost data is back, if
     * it is still due, before the first apply: it reads the Raft log, so it takes the Raft log's lock first.
     */
    private void discardOrphansBeforeApply() throws IOException, InterruptedException {
        if (orphanCheckTo < 0) {
            return;
        }
        lock.lock();
        try {
            while (lost != null) {
                requireKept();
                restored.await(); // the check runs over restored data
            }
        } finally {
            lock.unlock();
        }
        inLockOrder(raftLog(), () -> {
            discardOrphans(Long.MAX_VALUE);
            return null;
        });
    }

    private RaftLog raftLog() throws IOException {
        return getServer().join().getDivision(getGroupId()).getRaftLog();
    }

    /**
     * The group's Raft log lock for reading, which a thread that also needs {@link #lock} (to read the Raft log
     * under it) must take first: Ratis appends and truncates holding the Raft log's write lock and calls {@link
     * #write} or {@link #truncate} under it, which take {@link #lock}. The other order deadlocked a replica
     * restoring lost entries against an append of its group, for good (its log worker then waited for the
     * deferred write forever, and the group's appends never completed).
     */
    private static AutoCloseableLock raftLogReadLock(RaftLog raftLog) {
        return raftLog instanceof RaftLogBase base ? base.readLock() : AutoCloseableLock.acquire(new ReentrantLock());
    }

    /** Runs {@code body} holding the Raft log's read lock and then {@link #lock}, the lock order. */
    private <T> T inLockOrder(RaftLog raftLog, LockedCall<T> body) throws IOException {
        AutoCloseableLock raftLogLock = raftLogReadLock(raftLog);
        try {
            lock.lock();
            try {
                return body.call();
            } finally {
                lock.unlock();
            }
        } finally {
            raftLogLock.close();
        }
    }

    /** A step run under both locks. */
    @FunctionalInterface
    private interface LockedCall<T> {
        T call() throws IOException;
    }

    /**
     * Kafka's {@code DeleteRecords}, at apply time and under {@link #lock}: the same on every replica, as it
     * depends only on the entries before it. The offset (-1: the high watermark) may not be negative nor
     * past the high watermark; one at or below the log start offset changes nothing. The records below the
     * new log start offset stay in their segments for replication until retention removes them.
     *
     * <p>The partition is saved as a snapshot at this entry, the log start offset in the same durable write
     * as the applied index: after a restart the Raft log resumes after this entry and never replays earlier
     * ones against a log start offset that moved past them (under double write that would give their
     * batches new offsets), and a snapshot install copies the log start offset that belongs to the
     * snapshot's index.
     */
    private DeleteOutcome deleteRecords(TermIndex at, long beforeOffset) {
        long offset = beforeOffset == EntryCodec.DeleteRecords.TO_HIGH_WATERMARK ? highWatermark : beforeOffset;
        if (offset < 0 || offset > highWatermark) {
            return DeleteOutcome.error(
                    Errors.OFFSET_OUT_OF_RANGE,
                    "cannot delete the records of " + tp + " before offset " + beforeOffset + ": the high watermark is "
                            + highWatermark);
        }
        PartitionLog current = log;
        if (offset <= current.logStartOffset()) {
            return new DeleteOutcome(Errors.NONE, null, current.logStartOffset());
        }
        saveProducers();
        current.flush();
        current.markApplied(at.getTerm(), at.getIndex());
        long lowWatermark = current.advanceLogStartOffset(offset);
        lastFlushedIndex = Math.max(lastFlushedIndex, lastWrittenIndex);
        latestSnapshot = new PartitionSnapshot(at);
        return new DeleteOutcome(Errors.NONE, null, lowWatermark);
    }

    /**
     * Adds the entry's batches to the applied producer state and records the transactions its ABORT markers
     * ended in the aborted-transaction index, each with the last stable offset once its marker is applied
     * (Kafka's: the first offset of the earliest transaction still open, else the offset after the
     * marker). Replaying an entry again (after a restart) writes the same index records.
     */
    private ProducerStates replayProducersInto(ProducerStates state, RaftEntryRange range) {
        ProducerStates result = state;
        LogReadResult read = log.readRetained(range.firstOffset(), Integer.MAX_VALUE, range.nextOffset());
        if (read.error() != Errors.NONE) {
            throw new IllegalStateException(
                    tp + ": cannot read the batches of Raft entry " + range.raftIndex() + ": " + read.errorMessage());
        }
        for (RecordBatch batch : read.memoryRecords().batches()) {
            ProducerStates.CompletedTxn completed =
                    result.update(ProducerStates.BatchInfo.of(batch), batch.baseOffset(), batch.lastOffset());
            if (completed != null && completed.aborted()) {
                long lastStable = Math.min(result.firstUnstableOffset(), batch.nextOffset());
                log.metadata()
                        .putAbortedTxn(new AbortedTxn(
                                completed.producerId(), completed.firstOffset(), completed.lastOffset(), lastStable));
            }
        }
        return result;
    }

    // ---- snapshots ---------------------------------------------------------------------------------------------

    /**
     * Makes the partition log durable up to the last applied entry and records that entry, with the
     * producer state as of it; Ratis may then purge its log up to there.
     */
    @Override
    public long takeSnapshot() {
        lock.lock();
        try {
            TermIndex last = getLastAppliedTermIndex();
            if (last == null || last.getIndex() < 0) {
                return RaftLogIndex.INVALID;
            }
            saveProducers();
            log.markApplied(last.getTerm(), last.getIndex());
            log.flush();
            lastFlushedIndex = Math.max(lastFlushedIndex, lastWrittenIndex);
            latestSnapshot = new PartitionSnapshot(last);
            forgetEntriesBefore(raftLogStartIndex());
            return last.getIndex();
        } finally {
            lock.unlock();
        }
    }

    private void saveProducers() {
        PartitionMetadataStore metadata = log.metadata();
        for (ProducerStateEntry entry : applied.entries()) {
            metadata.putProducer(entry);
        }
    }

    private long raftLogStartIndex() {
        try {
            return getServer().join().getDivision(getGroupId()).getRaftLog().getStartIndex();
        } catch (IOException | RuntimeException e) {
            return RaftLogIndex.INVALID;
        }
    }

    private void forgetEntriesBefore(long raftIndex) {
        TermIndex snapshot = latestSnapshot == null ? null : latestSnapshot.getTermIndex();
        if (snapshot == null || raftIndex <= 0) {
            return;
        }
        // Keep the snapshot's own entry: its range tells where the snapshot ends.
        log.metadata().deleteRaftEntriesBefore(Math.min(raftIndex, snapshot.getIndex()));
    }

    /**
     * Applies retention, and deletes the segments a DeleteRecords left wholly below the log start offset,
     * deleting only segments that no entry still in the Raft log refers to (a lagging follower is sent a
     * snapshot instead). Returns the number of segments deleted.
     */
    int enforceRetention() {
        lock.lock();
        try {
            if (lost != null) {
                return 0; // the high watermark may lie past the log end until the data is back
            }
            PartitionLog current = log;
            long startIndex = raftLogStartIndex();
            RaftEntryRange oldestNeeded = current.metadata().ceilingRaftEntry(Math.max(0, startIndex));
            long keepFrom = oldestNeeded == null ? highWatermark : Math.min(oldestNeeded.firstOffset(), highWatermark);
            SnapshotInfo snapshot = latestSnapshot;
            if (snapshot == null) {
                return 0;
            }
            RaftEntryRange snapshotEnd = current.metadata().floorRaftEntry(snapshot.getIndex());
            keepFrom = Math.min(keepFrom, snapshotEnd == null ? current.logStartOffset() : snapshotEnd.nextOffset());
            return current.deleteSegmentsBelowStart(keepFrom) + current.deleteExpiredSegments(keepFrom);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public SnapshotInfo getLatestSnapshot() {
        return latestSnapshot;
    }

    @Override
    public StateMachineStorage getStateMachineStorage() {
        return storage;
    }

    /** A snapshot is the partition log itself, durable up to the entry; there are no separate files. */
    private record PartitionSnapshot(TermIndex termIndex) implements SnapshotInfo {
        @Override
        public TermIndex getTermIndex() {
            return termIndex;
        }

        @Override
        public List<FileInfo> getFiles() {
            return List.of();
        }
    }

    private final class PartitionStorage implements StateMachineStorage {
        @Override
        public void init(RaftStorage raftStorage) {}

        @Override
        public SnapshotInfo getLatestSnapshot() {
            return latestSnapshot;
        }

        @Override
        public void format() {}

        @Override
        public void cleanupOldSnapshots(SnapshotRetentionPolicy policy) {}
    }

    // ---- snapshot install ---------------------------------------------------------------------------------

    /**
     * Ratis asks for an install when the leader's Raft log no longer holds the entries this replica needs —
     * and also once for every replica a membership change adds, whether or not the leader has a snapshot
     * (Ratis 3.3.0's appenders notify a bootstrapping follower unconditionally). When the leader's log
     * starts at or before the entry after this replica's snapshot (a new replica of a group whose leader
     * never purged its log), there is nothing to copy: the answer null means "no snapshot", and the leader
     * sends its log from the start. Asking that leader for its snapshot would fail on every attempt (it has
     * none) and keep the new replica out of the group. Otherwise the replica copies the leader's snapshot.
     */
    @Override
    public CompletableFuture<TermIndex> notifyInstallSnapshotFromLeader(
            RoleInfoProto roleInfoProto, TermIndex firstTermIndexInLog) {
        long snapshotIndex = snapshotIndex();
        if (firstTermIndexInLog != null && firstTermIndexInLog.getIndex() <= snapshotIndex + 1) {
            LOG.info(
                    "{}: the leader's Raft log starts at index {}, which this replica (snapshot at index {}) can"
                            + " continue from: nothing to install, the leader sends its log",
                    tp,
                    firstTermIndexInLog.getIndex(),
                    snapshotIndex);
            return CompletableFuture.completedFuture(null);
        }
        RaftPeer leader = roleInfoProto.hasFollowerInfo()
                        && roleInfoProto.getFollowerInfo().hasLeaderInfo()
                ? ProtoUtils.toRaftPeer(
                        roleInfoProto.getFollowerInfo().getLeaderInfo().getId())
                : null;
        return host.installSnapshot(this, leader, firstTermIndexInLog);
    }

    /**
     * Replaces this replica's log with the one {@code install} builds from the leader's files, under the
     * lock, and adopts the snapshot it carries.
     */
    void replaceLog(Runnable install) throws IOException {
        inLockOrder(
                raftLog(),
                () -> { // the deferred writes may read the Raft log
                    if (closed) {
                        // The division went away during the copy; the partition's files may belong to its successor.
                        throw new IllegalStateException(tp + ": this replica's division was closed during the install");
                    }
                    if (log != null) {
                        host.closeLog(tp);
                    }
                    install.run();
                    outcomes.clear();
                    openLog();
                    lastWrittenIndex = latestSnapshot == null ? -1 : latestSnapshot.getIndex();
                    lastFlushedIndex = lastWrittenIndex;
                    if (lost == null) {
                        releaseDeferred();
                    }
                    return null;
                });
        highWatermarkListeners.forEach(Runnable::run);
    }

    // ---- lost data and damaged segments ----------------------------------------------------------------

    /**
     * Restores what {@link #openLog} found missing, from other replicas through {@code repair}: first the
     * committed bytes below the snapshot's end, then the batches of every Raft entry whose data was lost, as
     * long as this replica's Raft log holds it (an entry the leader replaces goes when Ratis truncates it).
     * Then releases the writes and applies that waited. Returns true when nothing is missing any more; false
     * when no replica could provide a piece now (call again later). Runs on a repair thread.
     */
    boolean restoreLostData(ReplicaRepair repair) throws IOException {
        LostData pending = lost;
        if (pending == null) {
            return true;
        }
        while (pending.restoreTo() >= 0 && log.logEndOffset() < pending.restoreTo()) {
            long from = log.logEndOffset();
            if (!repair.restoreRange(this, from, pending.restoreTo()) && log.logEndOffset() == from) {
                return false;
            }
        }
        lock.lock();
        try {
            if (lost != pending) {
                return lost == null;
            }
            if (pending.restoreTo() >= 0) {
                written = replayProducers(applied, pending.restoreTo(), log.logEndOffset());
                log.flush();
                lost = new LostData(-1, pending.entriesFrom(), pending.discarded());
                pending = lost;
            }
        } finally {
            lock.unlock();
        }
        if (pending.entriesFrom() >= 0 && !restoreLostEntries(repair, pending)) {
            return false;
        }
        LostData restoring = pending;
        return inLockOrder(
                raftLog(),
                () -> { // the deferred writes may read the Raft log
                    if (lost == restoring) {
                        log.flush();
                        lastFlushedIndex = Math.max(lastFlushedIndex, lastWrittenIndex);
                        lost = null;
                        releaseDeferred();
                        LOG.warn(
                                "{}: restored the lost data from other replicas; the log ends at offset {}",
                                tp,
                                log.logEndOffset());
                    }
                    return lost == null;
                });
    }

    /** Fetches the batches of the entries from {@code from} on that this replica's Raft log holds. */
    private boolean restoreLostEntries(ReplicaRepair repair, LostData pending) throws IOException {
        RaftLog raftLog = raftLog();
        for (long index = pending.entriesFrom(); ; index++) {
            long at = index;
            LogEntryProto entry;
            try {
                entry = inLockOrder(raftLog, () -> at <= lastRecordedIndex ? RESTORED_ALREADY : raftLog.get(at));
            } catch (RaftLogIOException e) {
                throw new IOException(tp + ": cannot read Raft entry " + index + " to restore its data", e);
            }
            if (entry == RESTORED_ALREADY) {
                continue;
            }
            if (entry == null) {
                return true; // past the end of the Raft log (or truncated by the leader)
            }
            if (!entry.hasStateMachineLogEntry()) {
                continue;
            }
            ReplicaRepair.EntryFetch fetched = repair.fetchEntry(this, index, entry.getTerm());
            ByteString data = fetched.data();
            if (data == null && fetched.purged() && pending.discarded().containsKey(index)) {
                if (!restoreCommittedEntry(repair, pending.discarded().get(index))) {
                    return false;
                }
                continue;
            }
            if (data == null) {
                LOG.info("{}: no replica has the data of Raft entry {} (term {}) yet", tp, index, entry.getTerm());
                return false;
            }
            boolean written;
            try {
                written = inLockOrder(
                        raftLog,
                        () -> { // and no truncation in between
                            LogEntryProto now = raftLog.get(at);
                            if (now == null || now.getTerm() != entry.getTerm() || at <= lastRecordedIndex) {
                                return false;
                            }
                            var smEntry = entry.getStateMachineLogEntry();
                            writeEntry(at, entry.getTerm(), EntryCodec.decodeHeader(smEntry.getLogData()), data);
                            return true;
                        });
            } catch (RaftLogIOException e) {
                throw new IOException(tp + ": cannot read Raft entry " + index + " to restore its data", e);
            }
            if (!written) {
                index--; // the Raft log changed meanwhile: look again
            }
        }
    }

    /**
     * Restores an entry every other replica has purged from its Raft log — it is committed, below their
     * snapshots — as the committed bytes at the offsets the entry had here, and records it again.
     */
    private boolean restoreCommittedEntry(ReplicaRepair repair, RaftEntryRange range) throws IOException {
        if (log.logEndOffset() != range.firstOffset()) {
            return false;
        }
        if (!range.isEmpty() && !repair.restoreRange(this, range.firstOffset(), range.nextOffset())) {
            return false;
        }
        lock.lock();
        try {
            if (log.logEndOffset() != range.nextOffset() || range.raftIndex() <= lastRecordedIndex) {
                return false;
            }
            written = replayProducers(written, range.firstOffset(), range.nextOffset());
            record(range);
            LOG.info(
                    "{}: restored Raft entry {} (offsets [{}, {})) from a replica that purged it",
                    tp,
                    range.raftIndex(),
                    range.firstOffset(),
                    range.nextOffset());
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Runs the writes and truncations that waited for lost data, in order, and wakes waiting applies. */
    private void releaseDeferred() {
        while (!deferred.isEmpty()) {
            deferred.poll().run();
        }
        restored.signalAll();
    }

    /** Whether this replica is restoring data its segments lost. */
    public boolean restoringLostData() {
        return lost != null;
    }

    /** Appends batches copied from another replica (see {@link PartitionLog#appendReplicated}); under the lock. */
    void appendReplicated(long segmentBaseOffset, ByteBuffer batches) {
        lock.lock();
        try {
            log.appendReplicated(segmentBaseOffset, batches);
        } finally {
            lock.unlock();
        }
    }

    /** The bytes of a range are restored: adds the aborted transactions they end and makes them durable. */
    void restoredRange(List<AbortedTxn> abortedTxns) {
        lock.lock();
        try {
            abortedTxns.forEach(log.metadata()::putAbortedTxn);
            log.flush();
        } finally {
            lock.unlock();
        }
    }

    /** Replaces a damaged closed segment with a checked copy (see {@link PartitionLog#replaceClosedSegment}). */
    void replaceClosedSegment(long baseOffset, Path copy) {
        lock.lock();
        try {
            log.replaceClosedSegment(baseOffset, copy);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Whether the entry at {@code index} is committed and applied here but purged from this replica's Raft
     * log (below its snapshot), so that its term can no longer be compared.
     */
    boolean purgedEntry(long index) {
        try {
            long start =
                    getServer().join().getDivision(getGroupId()).getRaftLog().getStartIndex();
            TermIndex applied = getLastAppliedTermIndex();
            return index < start && applied != null && index <= applied.getIndex() && lost == null;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * The batches of the Raft entry at {@code index}, as {@link #read} gives them, when this replica's Raft
     * log holds that entry in {@code term} and its data is here; else null. For a replica restoring it.
     */
    ByteString entryData(long index, long term) {
        TermIndex held;
        try {
            held = getServer().join().getDivision(getGroupId()).getRaftLog().getTermIndex(index);
        } catch (IOException | RuntimeException e) {
            return null;
        }
        if (held == null || held.getTerm() != term || lost != null) {
            return null;
        }
        RaftEntryRange range = log.metadata().floorRaftEntry(index);
        if (range == null || range.raftIndex() != index) {
            return null;
        }
        if (range.isEmpty()) {
            return WROTE_NOTHING;
        }
        LogReadResult read = log.readRetained(range.firstOffset(), Integer.MAX_VALUE, range.nextOffset());
        if (read.error() != Errors.NONE || read.sizeInBytes() == 0) {
            return null;
        }
        return UnsafeByteOperations.unsafeWrap(copyOf(read.records()));
    }

    // ---- events ------------------------------------------------------------------------------------------------

    @Override
    public void notifyLeaderChanged(RaftGroupMemberId groupMemberId, RaftPeerId newLeaderId) {
        long term = -1;
        try {
            term = getServer().join().getDivision(getGroupId()).getInfo().getCurrentTerm();
        } catch (IOException | RuntimeException e) {
            // the division is going away; report the change without a term
        }
        host.leaderChanged(tp, newLeaderId, term);
    }

    /**
     * Ratis shut the division down: from an election ({@code allServers} false) when the group's leader
     * answered that this replica is not a member — it was created before the leader added it, or the group
     * removed it — or its own configuration lacks it; or with the whole server. The first closes this
     * division for good, which the node must know to re-create it.
     */
    @Override
    public void notifyServerShutdown(RoleInfoProto roleInfo, boolean allServers) {
        if (!allServers) {
            LOG.info(
                    "{}: Ratis shut this replica's division down as a non-member of the group (role {})",
                    tp,
                    roleInfo.getRole());
            host.shutDownAsNonMember(this);
        }
    }

    // ---- queries -------------------------------------------------------------------------------------------

    @Override
    public CompletableFuture<Message> query(Message request) {
        return SnapshotInstaller.serve(this, request);
    }

    public TopicPartition topicPartition() {
        return tp;
    }

    /** The partition's log; read it freely, write it only through Raft. */
    public PartitionLog log() {
        return log;
    }

    /**
     * Kafka's last stable offset on this replica: the first offset of the earliest transaction open after
     * the last applied entry, else the high watermark; never below the log start offset nor above the
     * high watermark ({@code logStartOffset <= lastStableOffset <= highWatermark}). A read_committed
     * consumer reads up to it.
     */
    public long lastStableOffset() {
        PartitionLog current = log;
        long logStart = current == null ? 0 : current.logStartOffset();
        return ProducerStates.lastStableOffset(firstUnstableOffset, logStart, highWatermark);
    }

    /**
     * The aborted transactions a read_committed fetch of {@code [fetchOffset, upperBoundOffset)} must be
     * told about, by first offset: those whose ABORT marker is at or after {@code fetchOffset} and whose
     * first offset is below {@code upperBoundOffset} (Kafka's {@code collectAbortedTxns}).
     */
    public List<AbortedTxn> abortedTransactions(long fetchOffset, long upperBoundOffset) {
        return log.metadata().abortedTxns(fetchOffset, upperBoundOffset);
    }

    /**
     * Whether the producer has a transaction open on this partition at exactly {@code producerEpoch}, counting
     * every entry written to the log (on the leader: also those not committed yet). A transactional produce
     * that continues such a transaction needs no check with the transaction coordinator.
     */
    /**
     * Where this replica's log stands for a transactional produce about to be checked with the transaction
     * coordinator: the division's current term and the log end offset of every written entry. Take it before
     * asking the coordinator (see {@link VerificationGuard}).
     */
    public VerificationGuard verificationGuard() {
        long term;
        try {
            term = getServer().join().getDivision(getGroupId()).getInfo().getCurrentTerm();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        lock.lock();
        try {
            PartitionLog current = log;
            return new VerificationGuard(term, current == null ? 0 : current.logEndOffset());
        } finally {
            lock.unlock();
        }
    }

    public boolean hasOpenTransaction(long producerId, short producerEpoch) {
        lock.lock();
        try {
            ProducerStateEntry entry = written.get(producerId);
            return entry != null && entry.producerEpoch() == producerEpoch && entry.currentTxnFirstOffset() >= 0;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Every producer this replica knows after its last applied entry (Kafka's active producers, as
     * DescribeProducers reports them): a copy, safe to read from any thread.
     */
    public List<ProducerStateEntry> producerStates() {
        lock.lock();
        try {
            return List.copyOf(applied.entries());
        } finally {
            lock.unlock();
        }
    }

    /** The offset after the last record whose Raft entry is committed and applied on this replica. */
    public long highWatermark() {
        return highWatermark;
    }

    /** Runs {@code listener} (on the apply thread; keep it short) whenever the high watermark may move. */
    public void onHighWatermarkChange(Runnable listener) {
        highWatermarkListeners.add(listener);
    }

    ReentrantLock lock() {
        return lock;
    }

    boolean isLeaderRole(RaftPeerRole role) {
        return role == RaftPeerRole.LEADER;
    }

    @Override
    public String toString() {
        return "PartitionStateMachine[" + tp + "]";
    }

    /** Raft index constants. */
    static final class RaftLogIndex {
        static final long INVALID = -1;

        private RaftLogIndex() {}
    }
}
