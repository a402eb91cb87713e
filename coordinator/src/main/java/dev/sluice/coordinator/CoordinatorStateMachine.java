package dev.sluice.coordinator;

import dev.sluice.coordinator.CoordinatorQuery.HeartbeatReply;
import dev.sluice.coordinator.CoordinatorQuery.ImageReply;
import dev.sluice.coordinator.CoordinatorQuery.TransactionReply;
import dev.sluice.coordinator.txn.TxnRecord;
import dev.sluice.coordinator.txn.TxnRecordCodec;
import dev.sluice.raft.RaftLogFiles;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.proto.RaftProtos.RoleInfoProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.util.MD5FileUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Ratis adapter of the coordinator group: decodes a command, lets {@link ClusterState} apply it,
 * answers with the result. Besides the image, the group keeps the transaction coordinator's state: the latest
 * record of every transactional id ({@link CoordinatorCommand.TxnRecords} entries), which a new leader's
 * transaction coordinator loads. Snapshots are a {@link Snapshot} as JSON in one file. Leader-local, not replicated:
 * when each node was last heard from (heartbeat queries and registrations) and the partition leadership
 * they report.
 *
 * <p>Threading: apply runs on the group's updater thread; queries on Ratis's server threads; image
 * listeners run on the apply thread (keep them short).
 */
public final class CoordinatorStateMachine extends BaseStateMachine {
    private static final Logger LOG = LoggerFactory.getLogger(CoordinatorStateMachine.class);

    private static final long APPLY_WAIT_MS = 3_000;

    private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
    private final ClusterState state = new ClusterState(ClusterImage.empty());
    private final List<Consumer<ClusterImage>> listeners = new CopyOnWriteArrayList<>();
    private final Map<Integer, Long> lastHeardNs = new ConcurrentHashMap<>();
    private final Map<String, PartitionLeadership> leadership = new ConcurrentHashMap<>();
    private final Function<RaftGroup, RaftClient> clients;
    /** The latest record of every transactional id; guarded by {@code state}. */
    private final TreeMap<String, TxnRecord.TxnMetadata> transactions = new TreeMap<>();

    private volatile ClusterImage image = ClusterImage.empty();

    /**
     * What a snapshot file holds.
     *
     * @param transactions the latest record of every transactional id ({@link TxnRecordCodec#encodeBatch})
     */
    record Snapshot(ClusterImage image, byte[] transactions) {}

    /** @param clients makes a client of this group, to copy the leader's image when Ratis asks for an install */
    public CoordinatorStateMachine(Function<RaftGroup, RaftClient> clients) {
        this.clients = clients;
    }

    public ClusterImage image() {
        return image;
    }

    /** Runs {@code listener} with every new image (and now with the current one). */
    public void addListener(Consumer<ClusterImage> listener) {
        listeners.add(listener);
        listener.accept(image);
    }

    /** The latest committed record of every transactional id, in id order. */
    public List<TxnRecord.TxnMetadata> transactions() {
        synchronized (state) {
            return List.copyOf(transactions.values());
        }
    }

    /** When a node was last heard from by this member (meaningful on the leader), in nanoTime. */
    public Map<Integer, Long> lastHeardNs() {
        return Map.copyOf(lastHeardNs);
    }

    @Override
    public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
        super.initialize(server, groupId, raftStorage);
        storage.init(raftStorage);
        loadLatestSnapshot();
        SingleFileSnapshotInfo snapshot = storage.getLatestSnapshot();
        if (snapshot != null) {
            RaftLogFiles.dropOpenSegmentBelowSnapshot(
                    raftStorage.getStorageDir().getCurrentDir(), snapshot.getIndex());
        }
    }

    @Override
    public void reinitialize() throws IOException {
        loadLatestSnapshot();
    }

    @Override
    public SimpleStateMachineStorage getStateMachineStorage() {
        return storage;
    }

    private void loadLatestSnapshot() throws IOException {
        SingleFileSnapshotInfo snapshot = storage.getLatestSnapshot();
        if (snapshot == null) {
            return;
        }
        Path file = snapshot.getFile().getPath();
        byte[] bytes = Files.readAllBytes(file);
        Snapshot loadedSnapshot = CoordinatorCodec.decode(bytes, Snapshot.class);
        if (loadedSnapshot.image() == null) {
            // a snapshot written before transactions existed: the image alone
            loadedSnapshot = new Snapshot(CoordinatorCodec.decode(bytes, ClusterImage.class), null);
        }
        ClusterImage loaded = loadedSnapshot.image();
        synchronized (state) {
            state.reset(loaded);
            image = loaded;
            transactions.clear();
            if (loadedSnapshot.transactions() != null) {
                applyTxnRecords(TxnRecordCodec.decodeBatch(loadedSnapshot.transactions()));
            }
        }
        updateLastAppliedTermIndex(snapshot.getTermIndex());
        publish(loaded);
    }

    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
        var entry = trx.getLogEntry();
        CoordinatorResult result;
        try {
            CoordinatorCommand command = CoordinatorCodec.decode(
                    entry.getStateMachineLogEntry().getLogData().toByteArray(), CoordinatorCommand.class);
            if (command instanceof CoordinatorCommand.ReadTransaction read) {
                TxnRecord.TxnMetadata metadata;
                synchronized (state) {
                    metadata = transactions.get(read.transactionalId());
                }
                updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
                return CompletableFuture.completedFuture(Message.valueOf(
                        org.apache.ratis.thirdparty.com.google.protobuf.ByteString.copyFrom(CoordinatorCodec.encode(
                                new TransactionReply(metadata == null ? null : TxnRecordCodec.encode(metadata))))));
            }
            if (command instanceof CoordinatorCommand.TxnRecords txn) {
                List<TxnRecord> records = TxnRecordCodec.decodeBatch(txn.batch());
                synchronized (state) {
                    applyTxnRecords(records);
                }
                updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
                return CompletableFuture.completedFuture(
                        Message.valueOf(org.apache.ratis.thirdparty.com.google.protobuf.ByteString.copyFrom(
                                CoordinatorCodec.encode(CoordinatorResult.ok(records.size())))));
            }
            synchronized (state) {
                result = state.apply(command);
                image = state.image();
            }
            if (command instanceof CoordinatorCommand.RegisterNode register && result.errorCode() == 0) {
                // A registration is a sign of life: without this, the controller could fence a returning
                // node again between its registration and its first heartbeat.
                lastHeardNs.put(register.nodeId(), System.nanoTime());
            }
        } catch (IllegalArgumentException e) {
            result = CoordinatorResult.error(org.apache.kafka.common.protocol.Errors.INVALID_REQUEST, e.getMessage());
        }
        updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
        if (result.errorCode() == 0) {
            publish(image);
        }
        return CompletableFuture.completedFuture(Message.valueOf(
                org.apache.ratis.thirdparty.com.google.protobuf.ByteString.copyFrom(CoordinatorCodec.encode(result))));
    }

    /** Under the {@code state} lock. */
    private void applyTxnRecords(List<TxnRecord> records) {
        for (TxnRecord record : records) {
            if (record instanceof TxnRecord.TxnMetadata metadata) {
                transactions.put(metadata.transactionalId(), metadata);
            } else {
                transactions.remove(record.transactionalId());
            }
        }
    }

    private byte[] encodedTransactions() {
        return TxnRecordCodec.encodeBatch(List.copyOf(transactions.values()));
    }

    private void publish(ClusterImage current) {
        for (Consumer<ClusterImage> listener : listeners) {
            try {
                listener.accept(current);
            } catch (RuntimeException e) {
                LOG.warn("a coordinator image listener failed", e);
            }
        }
    }

    @Override
    public CompletableFuture<Message> query(Message request) {
        try {
            CoordinatorQuery query =
                    CoordinatorCodec.decode(request.getContent().toByteArray(), CoordinatorQuery.class);
            Object reply;
            if (CoordinatorQuery.HEARTBEAT.equals(query.kind())) {
                lastHeardNs.put(query.nodeId(), System.nanoTime());
                if (query.leaders() != null) {
                    for (PartitionLeadership l : query.leaders()) {
                        leadership.merge(
                                l.topic() + "-" + l.partition(),
                                l,
                                (old, now) -> now.leaderEpoch() >= old.leaderEpoch() ? now : old);
                    }
                }
                reply = new HeartbeatReply(image.version(), leadershipOfExistingPartitions());
            } else if (CoordinatorQuery.IMAGE.equals(query.kind())) {
                TermIndex applied = getLastAppliedTermIndex();
                synchronized (state) {
                    reply = new ImageReply(applied.getTerm(), applied.getIndex(), image, encodedTransactions());
                }
            } else if (CoordinatorQuery.TRANSACTION.equals(query.kind())) {
                return transactionAfterCommitted(query.transactionalId());
            } else {
                throw new IllegalArgumentException("unknown coordinator query " + query.kind());
            }
            return CompletableFuture.completedFuture(
                    Message.valueOf(org.apache.ratis.thirdparty.com.google.protobuf.ByteString.copyFrom(
                            CoordinatorCodec.encode(reply))));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * A transactional id's record once this member has applied everything committed when the query arrived:
     * a leader that has just taken over may have committed entries of the previous term that it has not
     * applied yet, and an answer without them could deny a partition the transaction's coordinator added.
     */
    private CompletableFuture<Message> transactionAfterCommitted(String transactionalId) {
        long committed;
        try {
            committed =
                    getServer().join().getDivision(getGroupId()).getRaftLog().getLastCommittedIndex();
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
        long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(APPLY_WAIT_MS);
        CompletableFuture<Message> answer = new CompletableFuture<>();
        answerWhenApplied(transactionalId, committed, deadlineNs, answer);
        return answer;
    }

    private void answerWhenApplied(
            String transactionalId, long committed, long deadlineNs, CompletableFuture<Message> answer) {
        TermIndex applied = getLastAppliedTermIndex();
        if (applied == null || applied.getIndex() < committed) {
            if (System.nanoTime() > deadlineNs) {
                answer.completeExceptionally(new IOException(
                        "the coordinator has not applied index " + committed + " within " + APPLY_WAIT_MS + " ms"));
                return;
            }
            CompletableFuture.delayedExecutor(5, TimeUnit.MILLISECONDS)
                    .execute(() -> answerWhenApplied(transactionalId, committed, deadlineNs, answer));
            return;
        }
        TxnRecord.TxnMetadata metadata;
        synchronized (state) {
            metadata = transactions.get(transactionalId);
        }
        answer.complete(Message.valueOf(
                org.apache.ratis.thirdparty.com.google.protobuf.ByteString.copyFrom(CoordinatorCodec.encode(
                        new TransactionReply(metadata == null ? null : TxnRecordCodec.encode(metadata))))));
    }

    private List<PartitionLeadership> leadershipOfExistingPartitions() {
        ClusterImage current = image;
        List<PartitionLeadership> result = new ArrayList<>();
        leadership.values().removeIf(l -> {
            var topic = current.topic(l.topic());
            return topic == null || !topic.replicas().containsKey(l.partition());
        });
        result.addAll(leadership.values());
        return result;
    }

    /** Forgets reports about a node's leadership (it was fenced). */
    public void forgetLeadershipOf(int nodeId) {
        leadership.values().removeIf(l -> l.leader() == nodeId);
    }

    @Override
    public long takeSnapshot() throws IOException {
        Snapshot current;
        TermIndex applied;
        synchronized (state) {
            current = new Snapshot(image, encodedTransactions());
            applied = getLastAppliedTermIndex();
        }
        if (applied == null || applied.getIndex() < 0) {
            return -1;
        }
        writeSnapshot(current, applied);
        return applied.getIndex();
    }

    private void writeSnapshot(Snapshot current, TermIndex applied) throws IOException {
        File file = storage.getSnapshotFile(applied.getTerm(), applied.getIndex());
        Path tmp = file.toPath().resolveSibling(file.getName() + ".tmp");
        Files.write(tmp, CoordinatorCodec.encode(current));
        try (var channel = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        Files.move(tmp, file.toPath(), StandardCopyOption.ATOMIC_MOVE);
        MD5FileUtil.computeAndSaveMd5ForFile(file);
        storage.updateLatestSnapshot(new SingleFileSnapshotInfo(
                new org.apache.ratis.server.storage.FileInfo(file.toPath(), MD5FileUtil.readStoredMd5ForFile(file)),
                applied));
    }

    @Override
    public CompletableFuture<TermIndex> notifyInstallSnapshotFromLeader(
            RoleInfoProto roleInfoProto, TermIndex firstTermIndexInLog) {
        return CompletableFuture.supplyAsync(() -> {
            RaftPeerId leader = RaftPeerId.valueOf(
                    roleInfoProto.getFollowerInfo().getLeaderInfo().getId().getId());
            try (RaftClient client =
                    clients.apply(getServer().join().getDivision(getGroupId()).getGroup())) {
                byte[] query = CoordinatorCodec.encode(new CoordinatorQuery(CoordinatorQuery.IMAGE, -1, null, null));
                RaftClientReply reply = client.io()
                        .sendStaleRead(
                                Message.valueOf(
                                        org.apache.ratis.thirdparty.com.google.protobuf.ByteString.copyFrom(query)),
                                0,
                                leader);
                if (!reply.isSuccess()) {
                    throw new IOException("the coordinator leader refused the image query: " + reply.getException());
                }
                ImageReply imageReply =
                        CoordinatorCodec.decode(reply.getMessage().getContent().toByteArray(), ImageReply.class);
                TermIndex at = TermIndex.valueOf(imageReply.term(), imageReply.index());
                writeSnapshot(new Snapshot(imageReply.image(), imageReply.transactions()), at);
                LOG.info("coordinator: installed the leader's image at Raft index {}", at.getIndex());
                return at;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }
}
