package dev.sluice.raft;

import dev.sluice.partitionstore.AbortedTxn;
import dev.sluice.partitionstore.BatchHeader;
import dev.sluice.partitionstore.LogSegmentInfo;
import dev.sluice.partitionstore.OffsetPosition;
import dev.sluice.partitionstore.PartitionLog;
import dev.sluice.partitionstore.SegmentCorruption;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.KafkaStorageException;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Repairs a replica's partition files from another replica, with the partition queries of {@link
 * SnapshotInstaller} (stale reads to one chosen replica, chunks checked by CRC-32C): the bytes of committed
 * entries are the same on every replica, so a damaged or lost piece can be copied from any replica that
 * has it — the leader first, then the other replicas.
 *
 * <ul>
 *   <li>A damaged closed segment: the replica's copy of the same segment (same base offset, size and next
 *       offset, not known damaged there) replaces it whole, after the whole copy is checked again ({@link
 *       PartitionLog#replaceClosedSegment}).
 *   <li>Lost committed data (a cut segment): the bytes of offsets {@code [from, to)} from a replica whose
 *       high watermark reached {@code to}, appended as they are ({@link PartitionLog#appendReplicated}),
 *       split into segments where the replica's are split, with the aborted transactions they end.
 *   <li>A Raft entry whose data was lost: that entry's batches from a replica whose Raft log holds the
 *       same entry (same index and term), as the leader's log appender would send them.
 * </ul>
 *
 * <pre>
 * segment request  u8 version | u8 3 | i64 baseOffset
 * segment reply    u8 version | u8 found | i32 sizeInBytes | i64 nextOffset
 * range request    u8 version | u8 4 | i64 fromOffset | i64 toOffset
 * range reply      u8 version | u8 found | i32 n | n × (i64 segmentBaseOffset | i32 startPosition | i32 endPosition)
 *                  | i32 m | m × aborted transaction (i64 producerId | i64 firstOffset | i64 lastOffset
 *                  | i64 lastStableOffset)
 * entry request    u8 version | u8 5 | i64 raftIndex | i64 term
 * entry reply      u8 version | u8 found | the entry's batches (one 0 byte: the entry wrote nothing)
 *                  (found = 2: applied and purged from the replica's Raft log, so its term is unknown there)
 * </pre>
 *
 * A replica answers "not found" (found = 0) when it cannot vouch for the bytes: the segment is its active
 * one or known damaged, its high watermark is below {@code toOffset}, or its Raft log holds another entry
 * at the index.
 *
 * <p>Thread-safe; the copying side runs on the node's repair threads.
 */
final class ReplicaRepair {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicaRepair.class);

    static final byte SEGMENT = 3;
    static final byte RANGE = 4;
    static final byte ENTRY = 5;

    /** The entry answer of a replica that applied the entry and purged it from its Raft log. */
    private static final byte PURGED = 2;

    private final RaftNode node;

    ReplicaRepair(RaftNode node) {
        this.node = node;
    }

    // ---- serving side ----------------------------------------------------------------------------------------

    /** Answers a repair query of {@code kind}; {@code in} is positioned after the kind byte. */
    static ByteString serve(PartitionStateMachine stateMachine, byte kind, ByteBuffer in) {
        ByteBuffer reply =
                switch (kind) {
                    case SEGMENT -> serveSegment(stateMachine, in.getLong());
                    case RANGE -> serveRange(stateMachine, in.getLong(), in.getLong());
                    case ENTRY -> serveEntry(stateMachine, in.getLong(), in.getLong());
                    default -> throw new IllegalArgumentException("unknown repair query kind " + kind);
                };
        return UnsafeByteOperations.unsafeWrap(reply);
    }

    private static ByteBuffer notFound() {
        return ByteBuffer.allocate(2)
                .put(SnapshotInstaller.VERSION)
                .put((byte) 0)
                .flip();
    }

    private static ByteBuffer serveSegment(PartitionStateMachine stateMachine, long baseOffset) {
        stateMachine.lock().lock();
        try {
            PartitionLog log = stateMachine.log();
            if (log == null) {
                return notFound();
            }
            for (SegmentCorruption damaged : log.corruptions()) {
                if (damaged.segmentBaseOffset() == baseOffset) {
                    return notFound();
                }
            }
            for (LogSegmentInfo segment : log.segments()) {
                if (segment.baseOffset() == baseOffset && !segment.active()) {
                    return ByteBuffer.allocate(14)
                            .put(SnapshotInstaller.VERSION)
                            .put((byte) 1)
                            .putInt(segment.sizeInBytes())
                            .putLong(segment.nextOffset())
                            .flip();
                }
            }
            return notFound();
        } finally {
            stateMachine.lock().unlock();
        }
    }

    /** One piece of a range: bytes {@code [startPosition, endPosition)} of a segment file. */
    record Piece(long segmentBaseOffset, int startPosition, int endPosition) {}

    private static ByteBuffer serveRange(PartitionStateMachine stateMachine, long from, long to) {
        stateMachine.lock().lock();
        try {
            PartitionLog log = stateMachine.log();
            if (log == null || from >= to || stateMachine.highWatermark() < to) {
                return notFound();
            }
            OffsetPosition start = log.locate(from);
            OffsetPosition end = to < log.logEndOffset() ? log.locate(to) : null;
            if (start == null
                    || start.offset() != from
                    || (to < log.logEndOffset() && (end == null || end.offset() != to))) {
                return notFound(); // not a batch boundary here, or no longer in the log
            }
            List<Long> damaged = new ArrayList<>();
            log.corruptions().forEach(c -> damaged.add(c.segmentBaseOffset()));
            List<Piece> pieces = new ArrayList<>();
            for (LogSegmentInfo segment : log.segments()) {
                if (segment.nextOffset() <= from || segment.baseOffset() >= to || segment.sizeInBytes() == 0) {
                    continue;
                }
                if (damaged.contains(segment.baseOffset())) {
                    return notFound();
                }
                int startPosition = segment.baseOffset() == start.segmentBaseOffset() ? start.position() : 0;
                int endPosition = end != null && segment.baseOffset() == end.segmentBaseOffset()
                        ? end.position()
                        : segment.sizeInBytes();
                if (endPosition > startPosition) {
                    pieces.add(new Piece(segment.baseOffset(), startPosition, endPosition));
                }
            }
            List<AbortedTxn> aborted = log.metadata().abortedTxns(from, to).stream()
                    .filter(txn -> txn.firstOffset() >= from && txn.lastOffset() < to)
                    .toList();
            ByteBuffer out = ByteBuffer.allocate(2 + 4 + pieces.size() * 16 + 4 + aborted.size() * 32)
                    .put(SnapshotInstaller.VERSION)
                    .put((byte) 1)
                    .putInt(pieces.size());
            pieces.forEach(p ->
                    out.putLong(p.segmentBaseOffset()).putInt(p.startPosition()).putInt(p.endPosition()));
            out.putInt(aborted.size());
            aborted.forEach(txn -> out.putLong(txn.producerId())
                    .putLong(txn.firstOffset())
                    .putLong(txn.lastOffset())
                    .putLong(txn.lastStableOffset()));
            return out.flip();
        } finally {
            stateMachine.lock().unlock();
        }
    }

    private static ByteBuffer serveEntry(PartitionStateMachine stateMachine, long index, long term) {
        ByteString data = stateMachine.entryData(index, term);
        if (data == null) {
            return stateMachine.purgedEntry(index)
                    ? ByteBuffer.allocate(2)
                            .put(SnapshotInstaller.VERSION)
                            .put(PURGED)
                            .flip()
                    : notFound();
        }
        ByteBuffer out = ByteBuffer.allocate(2 + data.size())
                .put(SnapshotInstaller.VERSION)
                .put((byte) 1);
        data.copyTo(out);
        return out.flip();
    }

    // ---- copying side ----------------------------------------------------------------------------------------

    /**
     * Replaces a damaged closed segment with a replica's copy. Returns the replica it came from ("" when
     * the segment is gone meanwhile), or null when no replica could provide a good copy now (try again
     * later).
     */
    String repairClosedSegment(PartitionStateMachine stateMachine, SegmentCorruption corruption) throws IOException {
        TopicPartition tp = stateMachine.topicPartition();
        long base = corruption.segmentBaseOffset();
        LogSegmentInfo ours = closedSegment(stateMachine.log(), base);
        if (ours == null) {
            return ""; // deleted (retention) or replaced meanwhile
        }
        Path stage = repairDir(tp);
        Files.createDirectories(stage);
        Path copy = stage.resolve(String.format("%020d.log.copy", base));
        try (RaftClient client = node.groupClient(tp)) {
            for (RaftPeerId source : sources(tp)) {
                try {
                    ByteBuffer info = SnapshotInstaller.query(client, source, segmentRequest(base));
                    if (info.get() != SnapshotInstaller.VERSION || info.get() == 0) {
                        continue;
                    }
                    int size = info.getInt();
                    long nextOffset = info.getLong();
                    if (size != ours.sizeInBytes() || nextOffset != ours.nextOffset()) {
                        LOG.warn(
                                "{}: {} has segment {} with {} bytes up to offset {}, this replica {} bytes up to {};"
                                        + " not copying it",
                                tp,
                                source,
                                base,
                                size,
                                nextOffset,
                                ours.sizeInBytes(),
                                ours.nextOffset());
                        continue;
                    }
                    copyFile(client, source, base, size, copy);
                    stateMachine.replaceClosedSegment(base, copy);
                    return source.toString();
                } catch (IOException | KafkaStorageException e) {
                    LOG.warn("{}: cannot copy segment {} from {}: {}", tp, base, source, e.getMessage());
                } finally {
                    Files.deleteIfExists(copy);
                }
            }
        }
        return null;
    }

    private static LogSegmentInfo closedSegment(PartitionLog log, long base) {
        if (log == null) {
            return null;
        }
        for (LogSegmentInfo segment : log.segments()) {
            if (segment.baseOffset() == base && !segment.active()) {
                return segment;
            }
        }
        return null;
    }

    private void copyFile(RaftClient client, RaftPeerId source, long base, int size, Path copy) throws IOException {
        int chunkBytes = node.settings().installChunkBytes();
        try (FileChannel out = FileChannel.open(
                copy, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            long position = 0;
            while (position < size) {
                int length = (int) Math.min(chunkBytes, size - position);
                ByteBuffer chunk = SnapshotInstaller.fetchChunk(client, source, base, position, length);
                while (chunk.hasRemaining()) {
                    position += out.write(chunk, position);
                }
            }
            out.force(true);
        }
    }

    /**
     * Copies the committed bytes of offsets {@code [from, to)} from a replica and appends them to the log.
     * Returns true when the log now reaches {@code to}; false when no replica could provide them now.
     */
    boolean restoreRange(PartitionStateMachine stateMachine, long from, long to) throws IOException {
        TopicPartition tp = stateMachine.topicPartition();
        try (RaftClient client = node.groupClient(tp)) {
            for (RaftPeerId source : sources(tp)) {
                try {
                    ByteBuffer reply = SnapshotInstaller.query(client, source, rangeRequest(from, to));
                    if (reply.get() != SnapshotInstaller.VERSION || reply.get() == 0) {
                        continue;
                    }
                    List<Piece> pieces = new ArrayList<>();
                    for (int i = reply.getInt(); i > 0; i--) {
                        pieces.add(new Piece(reply.getLong(), reply.getInt(), reply.getInt()));
                    }
                    List<AbortedTxn> aborted = new ArrayList<>();
                    for (int i = reply.getInt(); i > 0; i--) {
                        aborted.add(new AbortedTxn(reply.getLong(), reply.getLong(), reply.getLong(), reply.getLong()));
                    }
                    for (Piece piece : pieces) {
                        copyPiece(client, source, stateMachine, piece);
                    }
                    if (stateMachine.log().logEndOffset() != to) {
                        LOG.warn(
                                "{}: the bytes of offsets [{}, {}) copied from {} end at {}",
                                tp,
                                from,
                                to,
                                source,
                                stateMachine.log().logEndOffset());
                        return false;
                    }
                    stateMachine.restoredRange(aborted);
                    LOG.info("{}: restored offsets [{}, {}) from {}", tp, from, to, source);
                    return true;
                } catch (IOException | KafkaStorageException e) {
                    LOG.warn("{}: cannot copy offsets [{}, {}) from {}: {}", tp, from, to, source, e.getMessage());
                    if (stateMachine.log().logEndOffset() != from) {
                        return false; // copied a part: the caller asks again from the new end
                    }
                }
            }
        }
        return false;
    }

    /** Copies one piece chunk by chunk, appending the whole batches of every chunk as they arrive. */
    private void copyPiece(RaftClient client, RaftPeerId source, PartitionStateMachine stateMachine, Piece piece)
            throws IOException {
        int chunkBytes = node.settings().installChunkBytes();
        ByteBuffer pending = ByteBuffer.allocate(0);
        long position = piece.startPosition();
        while (position < piece.endPosition()) {
            int length = (int) Math.min(chunkBytes, piece.endPosition() - position);
            ByteBuffer chunk =
                    SnapshotInstaller.fetchChunk(client, source, piece.segmentBaseOffset(), position, length);
            position += length;
            ByteBuffer joined = ByteBuffer.allocate(pending.remaining() + chunk.remaining());
            joined.put(pending).put(chunk).flip();
            int whole = wholeBatches(joined);
            if (whole > 0) {
                stateMachine.appendReplicated(
                        piece.segmentBaseOffset(), joined.duplicate().limit(whole));
            }
            pending = joined.position(whole).slice();
        }
        if (pending.hasRemaining()) {
            throw new IOException("the bytes of segment " + piece.segmentBaseOffset() + " up to position "
                    + piece.endPosition() + " end inside a batch");
        }
    }

    /** The length of the prefix of {@code data} that holds whole batches. */
    private static int wholeBatches(ByteBuffer data) {
        int position = 0;
        while (position + BatchHeader.LOG_OVERHEAD <= data.limit()) {
            int size = BatchHeader.sizeInBytes(data, position);
            if (size < BatchHeader.HEADER_BYTES || position + size > data.limit()) {
                break;
            }
            position += size;
        }
        return position;
    }

    /**
     * What replicas answered for an entry's data.
     *
     * @param data the entry's batches from a replica whose log holds the same entry, or null
     * @param purged whether a replica applied the entry and purged it from its Raft log
     */
    record EntryFetch(ByteString data, boolean purged) {}

    /**
     * The batches of the Raft entry at {@code index} of {@code term} from a replica whose log holds that
     * entry, as {@link PartitionStateMachine#read} gives them; no data when no replica has it now.
     */
    EntryFetch fetchEntry(PartitionStateMachine stateMachine, long index, long term) throws IOException {
        TopicPartition tp = stateMachine.topicPartition();
        boolean purged = false;
        try (RaftClient client = node.groupClient(tp)) {
            for (RaftPeerId source : sources(tp)) {
                try {
                    ByteBuffer reply = SnapshotInstaller.query(client, source, entryRequest(index, term));
                    if (reply.get() != SnapshotInstaller.VERSION) {
                        continue;
                    }
                    byte found = reply.get();
                    if (found == 1) {
                        return new EntryFetch(UnsafeByteOperations.unsafeWrap(reply.slice()), false);
                    }
                    purged |= found == PURGED;
                } catch (IOException e) {
                    LOG.debug("{}: cannot fetch entry {} from {}: {}", tp, index, source, e.getMessage());
                }
            }
        }
        return new EntryFetch(null, purged);
    }

    /** The replicas to copy from: the leader first (unless it is this node), then the other peers. */
    List<RaftPeerId> sources(TopicPartition tp) throws IOException {
        RaftServer.Division division = node.division(tp);
        RaftPeerId self = division.getId();
        RaftPeerId leader = division.getInfo().getLeaderId();
        List<RaftPeerId> result = new ArrayList<>();
        if (leader != null && !leader.equals(self)) {
            result.add(leader);
        }
        List<RaftPeerId> others = new ArrayList<>();
        for (RaftPeer peer : division.getGroup().getPeers()) {
            if (!peer.getId().equals(self) && !peer.getId().equals(leader)) {
                others.add(peer.getId());
            }
        }
        others.sort((a, b) -> a.toString().compareTo(b.toString()));
        result.addAll(others);
        return result;
    }

    private Path repairDir(TopicPartition tp) {
        return node.dataDir().resolve("repair").resolve(tp.topic() + "-" + tp.partition());
    }

    private static ByteBuffer segmentRequest(long base) {
        return ByteBuffer.allocate(10)
                .put(SnapshotInstaller.VERSION)
                .put(SEGMENT)
                .putLong(base);
    }

    private static ByteBuffer rangeRequest(long from, long to) {
        return ByteBuffer.allocate(18)
                .put(SnapshotInstaller.VERSION)
                .put(RANGE)
                .putLong(from)
                .putLong(to);
    }

    private static ByteBuffer entryRequest(long index, long term) {
        return ByteBuffer.allocate(18)
                .put(SnapshotInstaller.VERSION)
                .put(ENTRY)
                .putLong(index)
                .putLong(term);
    }
}
