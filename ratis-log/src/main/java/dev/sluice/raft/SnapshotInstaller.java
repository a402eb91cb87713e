package dev.sluice.raft;

import dev.sluice.partitionstore.AbortedTxn;
import dev.sluice.partitionstore.BatchHeader;
import dev.sluice.partitionstore.LogSegmentInfo;
import dev.sluice.partitionstore.NodeStore;
import dev.sluice.partitionstore.PartitionLog;
import dev.sluice.partitionstore.PartitionMetadataStore;
import dev.sluice.partitionstore.PartitionState;
import dev.sluice.partitionstore.ProducerStateEntry;
import dev.sluice.partitionstore.ProducerStateEntry.BatchMetadata;
import dev.sluice.partitionstore.RaftEntryRange;
import dev.sluice.partitionstore.SegmentScanner;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.apache.kafka.common.TopicPartition;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.statemachine.SnapshotInfo;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings a replica that is too far behind (or brand new) up to the leader's last snapshot by copying
 * the partition's segment files and state from the leader — Ratis's state-machine driven install.
 *
 * <p>The follower asks the leader, through stale-read queries to that server, for a manifest (the
 * snapshot's Raft term and index, the offset it ends at, the log start offset, leader epochs, producer
 * state, the aborted transactions whose markers lie below the snapshot's end, and every segment file with the byte length below the snapshot's end) and then for the files
 * in chunks, each carrying a CRC32C that the follower checks. Chunks land in {@code
 * install/<topic>-<partition>/} under the data directory and are synced as they arrive, so an
 * interrupted install resumes where it stopped. Once every file is complete, the replica's log is
 * replaced and reopened — which checks every batch's CRC again — and Ratis continues from the index
 * after the snapshot.
 *
 * <pre>
 * manifest request  u8 version | u8 1
 * manifest reply    u8 version | i64 term | i64 index | i64 logStartOffset | i64 endOffset
 *                   | i32 n | n × (i32 epoch | i64 startOffset)
 *                   | i32 n | n × producer (i64 id | i16 epoch | i64 txnFirstOffset | i64 lastTimestamp
 *                     | i32 m | m × (i32 firstSeq | i32 lastSeq | i64 firstOffset | i64 lastOffset | i64 ts))
 *                   | i32 n | n × (i64 baseOffset | i64 length)
 *                   [ | i32 n | n × aborted transaction (i64 producerId | i64 firstOffset | i64 lastOffset
 *                     | i64 lastStableOffset)
 *                     | i32 n | n × (i64 producerId | i32 coordinatorEpoch) ]
 *                   [ | i32 n | n × (i64 producerId | i64 lastMarkerOffset) ]
 *                                                  (optional: a manifest without them has no aborted
 *                                                  transactions, no coordinator epochs, no marker offsets)
 * chunk request     u8 version | u8 2 | i64 baseOffset | i64 position | i32 length
 * chunk reply       u8 version | i32 crc32c | bytes
 * </pre>
 */
final class SnapshotInstaller {
    private static final Logger LOG = LoggerFactory.getLogger(SnapshotInstaller.class);
    static final byte VERSION = 1;
    private static final byte MANIFEST = 1;
    static final byte CHUNK = 2;

    private final RaftNode node;
    private final Map<TopicPartition, ReentrantLock> installLocks = new ConcurrentHashMap<>();
    private volatile InstallStats lastInstall;

    /** What the last completed install on this node copied; for operators and tests. */
    record InstallStats(TopicPartition tp, long index, long totalBytes, long copiedBytes) {}

    SnapshotInstaller(RaftNode node) {
        this.node = node;
    }

    /** A segment file to copy: its first offset and how many of its bytes the snapshot covers. */
    record FileSpec(long baseOffset, long length) {}

    /** What the leader's snapshot consists of. */
    record Manifest(
            long term,
            long index,
            long logStartOffset,
            long endOffset,
            Map<Integer, Long> leaderEpochs,
            List<ProducerStateEntry> producers,
            List<FileSpec> files,
            List<AbortedTxn> abortedTxns) {}

    InstallStats lastInstall() {
        return lastInstall;
    }

    // ---- leader side ---------------------------------------------------------------------------------------

    /** Answers a follower's query (on the leader; any replica with a snapshot can answer). */
    static CompletableFuture<Message> serve(PartitionStateMachine stateMachine, Message request) {
        try {
            ByteBuffer in = request.getContent().asReadOnlyByteBuffer();
            if (in.remaining() < 2 || in.get() != VERSION) {
                throw new IllegalArgumentException("unknown partition query");
            }
            byte kind = in.get();
            ByteString reply =
                    switch (kind) {
                        case MANIFEST -> encodeManifest(manifestOf(stateMachine));
                        case CHUNK -> chunk(stateMachine, in.getLong(), in.getLong(), in.getInt());
                        case ReplicaRepair.SEGMENT, ReplicaRepair.RANGE, ReplicaRepair.ENTRY ->
                            ReplicaRepair.serve(stateMachine, kind, in);
                        default -> throw new IllegalArgumentException("unknown partition query kind " + kind);
                    };
            return CompletableFuture.completedFuture(Message.valueOf(reply));
        } catch (IOException | RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private static Manifest manifestOf(PartitionStateMachine stateMachine) throws IOException {
        stateMachine.lock().lock();
        try {
            SnapshotInfo snapshot = stateMachine.getLatestSnapshot();
            if (snapshot == null) {
                throw new IllegalStateException(stateMachine.topicPartition() + " has no snapshot to install yet");
            }
            if (stateMachine.restoringLostData()) {
                throw new IllegalStateException(stateMachine.topicPartition()
                        + " is restoring data its segments lost; install from another replica");
            }
            PartitionLog log = stateMachine.log();
            PartitionMetadataStore metadata = log.metadata();
            RaftEntryRange range = metadata.floorRaftEntry(snapshot.getIndex());
            long end = range == null ? log.logStartOffset() : range.nextOffset();
            Map<Integer, Long> epochs = new TreeMap<>(log.leaderEpochs().headMap(Integer.MAX_VALUE, true));
            epochs.values().removeIf(start -> start >= end);
            List<FileSpec> files = new ArrayList<>();
            for (LogSegmentInfo segment : log.segments()) {
                if (segment.baseOffset() >= end && segment.baseOffset() > log.logStartOffset()) {
                    break;
                }
                long length = segment.nextOffset() <= end ? segment.sizeInBytes() : bytesBelow(segment.path(), end);
                files.add(new FileSpec(segment.baseOffset(), length));
            }
            return new Manifest(
                    snapshot.getTerm(),
                    snapshot.getIndex(),
                    log.logStartOffset(),
                    end,
                    epochs,
                    metadata.producers(),
                    files,
                    metadata.abortedTxns(0, end).stream()
                            .filter(txn -> txn.lastOffset() < end)
                            .toList());
        } finally {
            stateMachine.lock().unlock();
        }
    }

    /** The length of the prefix of a segment file that holds the batches below {@code endOffset}. */
    private static long bytesBelow(Path path, long endOffset) throws IOException {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            ByteBuffer header = ByteBuffer.allocate(BatchHeader.HEADER_BYTES);
            long position = 0;
            long size = channel.size();
            while (position + BatchHeader.HEADER_BYTES <= size) {
                header.clear();
                while (header.hasRemaining() && channel.read(header, position + header.position()) > 0) {
                    // read the whole header
                }
                int batchSize = BatchHeader.sizeInBytes(header, 0);
                if (batchSize <= 0 || BatchHeader.lastOffset(header, 0) >= endOffset) {
                    break;
                }
                position += batchSize;
            }
            return position;
        }
    }

    private static ByteString chunk(PartitionStateMachine stateMachine, long baseOffset, long position, int length)
            throws IOException {
        Path path = segmentPath(stateMachine.log().directory(), baseOffset);
        if (length <= 0 || length > 64 * 1024 * 1024 || position < 0) {
            throw new IllegalArgumentException("bad chunk request: " + length + " bytes at " + position);
        }
        ByteBuffer data = ByteBuffer.allocate(length);
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            while (data.hasRemaining()) {
                if (channel.read(data, position + data.position()) < 0) {
                    throw new IOException(path + " ends before " + (position + length));
                }
            }
        }
        data.flip();
        CRC32C crc = new CRC32C();
        crc.update(data.duplicate());
        ByteBuffer head = ByteBuffer.allocate(5).put(VERSION).putInt((int) crc.getValue());
        head.flip();
        return UnsafeByteOperations.unsafeWrap(head).concat(UnsafeByteOperations.unsafeWrap(data));
    }

    static Path segmentPath(Path partitionDir, long baseOffset) {
        return partitionDir.resolve(String.format("%020d.log", baseOffset));
    }

    // ---- follower side ---------------------------------------------------------------------------------

    /**
     * Copies the snapshot of {@code leader} (the replica that asked for the install; when unknown, the
     * leader this replica knows of) into this replica; returns the snapshot's term and index.
     *
     * <p>The queries go to that one server as stale reads, which need no ready leader: a new leader is
     * not ready until a majority holds the first entry of its term, and that majority may need this very
     * replica, which cannot take entries until it has installed. A query through the leader would wait
     * for the install it is part of. The leader need not be in this replica's configuration (a replica
     * that joins a group starts without one): its address comes with the request.
     *
     * <p>A failed attempt is logged here, once, with its cause (Ratis reports only that the install
     * failed) and then thrown: the leader asks again and the copy resumes where it stopped.
     */
    TermIndex install(PartitionStateMachine stateMachine, RaftPeer leader, TermIndex leaderFirst) {
        TopicPartition tp = stateMachine.topicPartition();
        long started = System.nanoTime();
        RaftPeer source = leader;
        try {
            if (source == null) {
                source = node.leaderPeerOf(tp);
            }
            if (source == null) {
                throw new IOException("no leader is known to copy the snapshot from");
            }
            // One install per partition at a time: a division re-created while the one Ratis closed was still
            // copying installs into the same staging directory (the closed one's copy stops at its next chunk).
            ReentrantLock installing = installLocks.computeIfAbsent(tp, k -> new ReentrantLock());
            installing.lock();
            try {
                return copyFrom(stateMachine, source, leaderFirst, started);
            } finally {
                installing.unlock();
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn(
                    "{}: installing the leader's snapshot from {} failed after {} ms: {}. The leader asks again and"
                            + " the copy resumes where it stopped; if this repeats, check that {} is reachable and"
                            + " serves {} (its log and the status of its replica), and this node's disk under {}",
                    tp,
                    source == null ? "an unknown leader" : source.getId(),
                    (System.nanoTime() - started) / 1_000_000,
                    causes(e),
                    source == null ? "the leader" : source.getId() + " (" + source.getAddress() + ")",
                    tp,
                    node.dataDir());
            LOG.debug("{}: the failed install", tp, e);
            throw new UncheckedIOException(
                    tp + ": snapshot install from " + (source == null ? "the leader" : source.getId()) + " failed ("
                            + causes(e) + "); it resumes on the next attempt",
                    e instanceof IOException io ? io : new IOException(e));
        }
    }

    private TermIndex copyFrom(PartitionStateMachine stateMachine, RaftPeer source, TermIndex leaderFirst, long started)
            throws IOException {
        TopicPartition tp = stateMachine.topicPartition();
        try (RaftClient client = node.groupClient(tp, source)) {
            Manifest manifest = decodeManifest(query(
                    client, source.getId(), ByteBuffer.allocate(2).put(VERSION).put(MANIFEST)));
            if (leaderFirst != null && manifest.index() + 1 < leaderFirst.getIndex()) {
                throw new IllegalStateException(tp + ": the leader's snapshot ends at Raft index " + manifest.index()
                        + " but its log starts at " + leaderFirst.getIndex());
            }
            Path stage = node.dataDir().resolve("install").resolve(tp.topic() + "-" + tp.partition());
            long copied = fetchFiles(stateMachine, client, source.getId(), manifest, stage);
            long total = manifest.files().stream().mapToLong(FileSpec::length).sum();
            stateMachine.replaceLog(() -> {
                adopt(tp, manifest, stage);
                // Before the replica shows the installed state: whoever sees it sees the stats too.
                lastInstall = new InstallStats(tp, manifest.index(), total, copied);
            });
            deleteTree(stage);
            LOG.info(
                    "{}: installed the leader's snapshot at Raft index {} (offsets {}..{}, {} files, {} bytes"
                            + " copied) in {} ms",
                    tp,
                    manifest.index(),
                    manifest.logStartOffset(),
                    manifest.endOffset(),
                    manifest.files().size(),
                    copied,
                    (System.nanoTime() - started) / 1_000_000);
            return TermIndex.valueOf(manifest.term(), manifest.index());
        }
    }

    /** The messages of a failure and of its causes, outermost first: what a log line needs to say why. */
    static String causes(Throwable failure) {
        StringBuilder text = new StringBuilder();
        Set<Throwable> seen = new HashSet<>();
        for (Throwable t = failure; t != null && seen.add(t); t = t.getCause()) {
            if (text.length() > 0) {
                text.append(" <- ");
            }
            text.append(t.getClass().getSimpleName());
            if (t.getMessage() != null) {
                text.append(": ").append(t.getMessage());
            }
        }
        return text.toString();
    }

    /** Sends a partition query to one replica as a stale read (no ready leader needed); the reply's content. */
    static ByteBuffer query(RaftClient client, RaftPeerId source, ByteBuffer request) throws IOException {
        request.flip();
        RaftClientReply reply =
                client.io().sendStaleRead(Message.valueOf(UnsafeByteOperations.unsafeWrap(request)), 0, source);
        if (!reply.isSuccess()) {
            throw new IOException("the leader refused the query: " + reply.getException());
        }
        return reply.getMessage().getContent().asReadOnlyByteBuffer();
    }

    /** Copies every file of the manifest into {@code stage}, keeping what an earlier attempt copied. */
    private long fetchFiles(
            PartitionStateMachine stateMachine, RaftClient client, RaftPeerId source, Manifest manifest, Path stage)
            throws IOException {
        Files.createDirectories(stage);
        Set<Path> wanted = new HashSet<>();
        manifest.files().forEach(f -> wanted.add(segmentPath(stage, f.baseOffset())));
        try (Stream<Path> existing = Files.list(stage)) {
            for (Path path : (Iterable<Path>) existing::iterator) {
                if (!wanted.contains(path)) {
                    Files.delete(path);
                }
            }
        }
        int chunkBytes = node.settings().installChunkBytes();
        long copied = 0;
        for (FileSpec file : manifest.files()) {
            Path path = segmentPath(stage, file.baseOffset());
            try (FileChannel out = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                long position = out.size();
                if (position > file.length()) {
                    out.truncate(file.length());
                    position = file.length();
                }
                while (position < file.length()) {
                    if (stateMachine.isClosed()) {
                        throw new IOException("this replica's division was closed; the copy stops");
                    }
                    int length = (int) Math.min(chunkBytes, file.length() - position);
                    ByteBuffer reply = fetchChunk(client, source, file.baseOffset(), position, length);
                    while (reply.hasRemaining()) {
                        position += out.write(reply, position);
                    }
                    out.force(false);
                    copied += length;
                }
            }
            String damage = firstProblem(path, file.baseOffset());
            if (damage != null) {
                Files.delete(path); // copy it again on the next attempt, perhaps from another leader
                throw new IOException(
                        "the copy of segment " + file.baseOffset() + " from " + source + " is damaged: " + damage);
            }
        }
        return copied;
    }

    /** Null when the file holds only whole, valid, continuous batches from {@code baseOffset} on. */
    static String firstProblem(Path file, long baseOffset) throws IOException {
        ByteBuffer data;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            data = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size());
        }
        int position = 0;
        long expected = baseOffset;
        while (position < data.capacity()) {
            SegmentScanner.Step step = SegmentScanner.check(data, position, data.capacity(), expected);
            if (!step.ok()) {
                return step.describe();
            }
            expected = step.lastOffset() + 1;
            position = step.end();
        }
        return null;
    }

    /**
     * Copies {@code length} bytes at {@code position} of the segment starting at {@code baseOffset} from
     * {@code source}, checking the chunk's CRC-32C; the bytes (position 0).
     */
    static ByteBuffer fetchChunk(RaftClient client, RaftPeerId source, long baseOffset, long position, int length)
            throws IOException {
        ByteBuffer request = ByteBuffer.allocate(22)
                .put(VERSION)
                .put(CHUNK)
                .putLong(baseOffset)
                .putLong(position)
                .putInt(length);
        ByteBuffer reply = query(client, source, request);
        String name = String.format("%020d.log", baseOffset);
        if (reply.remaining() != 5 + length || reply.get() != VERSION) {
            throw new IOException("malformed chunk of " + name + " at " + position + " from " + source);
        }
        int expected = reply.getInt();
        CRC32C crc = new CRC32C();
        crc.update(reply.duplicate());
        if ((int) crc.getValue() != expected) {
            throw new IOException("CRC mismatch in the chunk of " + name + " at " + position + " from " + source);
        }
        return reply.slice();
    }

    /** Replaces the partition's files and metadata with the copied snapshot (its log is closed). */
    private void adopt(TopicPartition tp, Manifest manifest, Path stage) {
        NodeStore store = node.store();
        Path partitionDir = NodeStore.partitionDir(store.dataDir(), tp);
        PartitionMetadataStore metadata = store.metadata().partition(tp);
        try {
            Files.createDirectories(partitionDir);
            try (Stream<Path> old = Files.list(partitionDir)) {
                for (Path path : (Iterable<Path>) old::iterator) {
                    Files.delete(path);
                }
            }
            metadata.deleteAll();
            for (FileSpec file : manifest.files()) {
                Files.move(
                        segmentPath(stage, file.baseOffset()),
                        segmentPath(partitionDir, file.baseOffset()),
                        StandardCopyOption.ATOMIC_MOVE);
            }
            manifest.leaderEpochs().forEach(metadata::putLeaderEpoch);
            manifest.producers().forEach(metadata::putProducer);
            manifest.abortedTxns().forEach(metadata::putAbortedTxn);
            metadata.putRaftEntry(new RaftEntryRange(manifest.index(), manifest.endOffset(), manifest.endOffset()));
            metadata.saveState(new PartitionState(manifest.logStartOffset(), 0, manifest.term(), manifest.index()));
            metadata.sync();
        } catch (IOException e) {
            throw new UncheckedIOException(tp + ": cannot move the installed snapshot into " + partitionDir, e);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path path : (Iterable<Path>) walk.sorted((a, b) -> b.compareTo(a))::iterator) {
                Files.delete(path);
            }
        }
    }

    // ---- manifest codec ------------------------------------------------------------------------------------

    static ByteString encodeManifest(Manifest manifest) {
        int size = 1
                + 32
                + 4
                + manifest.leaderEpochs().size() * 12
                + 4
                + 4
                + manifest.files().size() * 16
                + 4
                + manifest.abortedTxns().size() * 32
                + 4
                + manifest.producers().size() * 12
                + 4
                + manifest.producers().size() * 16;
        for (ProducerStateEntry producer : manifest.producers()) {
            size += 8 + 2 + 8 + 8 + 4 + producer.batches().size() * 32;
        }
        ByteBuffer out = ByteBuffer.allocate(size)
                .put(VERSION)
                .putLong(manifest.term())
                .putLong(manifest.index())
                .putLong(manifest.logStartOffset())
                .putLong(manifest.endOffset());
        out.putInt(manifest.leaderEpochs().size());
        manifest.leaderEpochs().forEach((epoch, start) -> out.putInt(epoch).putLong(start));
        out.putInt(manifest.producers().size());
        for (ProducerStateEntry producer : manifest.producers()) {
            out.putLong(producer.producerId())
                    .putShort(producer.producerEpoch())
                    .putLong(producer.currentTxnFirstOffset())
                    .putLong(producer.lastTimestampMs())
                    .putInt(producer.batches().size());
            for (BatchMetadata batch : producer.batches()) {
                out.putInt(batch.firstSequence())
                        .putInt(batch.lastSequence())
                        .putLong(batch.firstOffset())
                        .putLong(batch.lastOffset())
                        .putLong(batch.timestampMs());
            }
        }
        out.putInt(manifest.files().size());
        manifest.files().forEach(f -> out.putLong(f.baseOffset()).putLong(f.length()));
        out.putInt(manifest.abortedTxns().size());
        for (AbortedTxn txn : manifest.abortedTxns()) {
            out.putLong(txn.producerId())
                    .putLong(txn.firstOffset())
                    .putLong(txn.lastOffset())
                    .putLong(txn.lastStableOffset());
        }
        out.putInt(manifest.producers().size());
        manifest.producers().forEach(p -> out.putLong(p.producerId()).putInt(p.coordinatorEpoch()));
        out.putInt(manifest.producers().size());
        manifest.producers().forEach(p -> out.putLong(p.producerId()).putLong(p.lastMarkerOffset()));
        out.flip();
        return UnsafeByteOperations.unsafeWrap(out);
    }

    static Manifest decodeManifest(ByteBuffer in) {
        if (in.get() != VERSION) {
            throw new IllegalStateException("unknown snapshot manifest version");
        }
        long term = in.getLong();
        long index = in.getLong();
        long logStart = in.getLong();
        long end = in.getLong();
        Map<Integer, Long> epochs = new TreeMap<>();
        for (int i = in.getInt(); i > 0; i--) {
            epochs.put(in.getInt(), in.getLong());
        }
        List<ProducerStateEntry> producers = new ArrayList<>();
        for (int i = in.getInt(); i > 0; i--) {
            long id = in.getLong();
            short epoch = in.getShort();
            long txnFirst = in.getLong();
            long lastTimestamp = in.getLong();
            List<BatchMetadata> batches = new ArrayList<>();
            for (int j = in.getInt(); j > 0; j--) {
                batches.add(new BatchMetadata(in.getInt(), in.getInt(), in.getLong(), in.getLong(), in.getLong()));
            }
            producers.add(new ProducerStateEntry(id, epoch, batches, txnFirst, lastTimestamp));
        }
        List<FileSpec> files = new ArrayList<>();
        for (int i = in.getInt(); i > 0; i--) {
            files.add(new FileSpec(in.getLong(), in.getLong()));
        }
        List<AbortedTxn> aborted = new ArrayList<>();
        if (in.remaining() >= 4) {
            for (int i = in.getInt(); i > 0; i--) {
                aborted.add(new AbortedTxn(in.getLong(), in.getLong(), in.getLong(), in.getLong()));
            }
        }
        Map<Long, Integer> coordinatorEpochs = new HashMap<>();
        if (in.remaining() >= 4) {
            for (int i = in.getInt(); i > 0; i--) {
                coordinatorEpochs.put(in.getLong(), in.getInt());
            }
        }
        Map<Long, Long> markerOffsets = new HashMap<>();
        if (in.remaining() >= 4) {
            for (int i = in.getInt(); i > 0; i--) {
                markerOffsets.put(in.getLong(), in.getLong());
            }
        }
        producers.replaceAll(p -> new ProducerStateEntry(
                p.producerId(),
                p.producerEpoch(),
                p.batches(),
                p.currentTxnFirstOffset(),
                p.lastTimestampMs(),
                coordinatorEpochs.getOrDefault(p.producerId(), ProducerStateEntry.NO_COORDINATOR_EPOCH),
                markerOffsets.getOrDefault(p.producerId(), ProducerStateEntry.NO_MARKER)));
        return new Manifest(term, index, logStart, end, epochs, producers, files, aborted);
    }
}
