package dev.sluice.coordinator;

import dev.sluice.coordinator.CoordinatorQuery.HeartbeatReply;
import dev.sluice.coordinator.CoordinatorQuery.ImageReply;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
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
 * answers with the result. Snapshots are the image as JSON in one file. Leader-local, not replicated:
 * when each node was last heard from (heartbeat queries and registrations) and the partition leadership
 * they report.
 *
 * <p>Threading: apply runs on the group's updater thread; queries on Ratis's server threads; image
 * listeners run on the apply thread (keep them short).
 */
public final class CoordinatorStateMachine extends BaseStateMachine {
    private static final Logger LOG = LoggerFactory.getLogger(CoordinatorStateMachine.class);

    private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
    private final ClusterState state = new ClusterState(ClusterImage.empty());
    private final List<Consumer<ClusterImage>> listeners = new CopyOnWriteArrayList<>();
    private final Map<Integer, Long> lastHeardNs = new ConcurrentHashMap<>();
    private final Map<String, PartitionLeadership> leadership = new ConcurrentHashMap<>();
    private final Function<RaftGroup, RaftClient> clients;
    private volatile ClusterImage image = ClusterImage.empty();

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

    /** When a node was last heard from by this member (meaningful on the leader), in nanoTime. */
    public Map<Integer, Long> lastHeardNs() {
        return Map.copyOf(lastHeardNs);
    }

    @Override
    public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
        super.initialize(server, groupId, raftStorage);
        storage.init(raftStorage);
        loadLatestSnapshot();
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
        ClusterImage loaded = CoordinatorCodec.decode(Files.readAllBytes(file), ClusterImage.class);
        synchronized (state) {
            state.reset(loaded);
            image = loaded;
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
                    reply = new ImageReply(applied.getTerm(), applied.getIndex(), image);
                }
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
        ClusterImage current;
        TermIndex applied;
        synchronized (state) {
            current = image;
            applied = getLastAppliedTermIndex();
        }
        if (applied == null || applied.getIndex() < 0) {
            return -1;
        }
        writeSnapshot(current, applied);
        return applied.getIndex();
    }

    private void writeSnapshot(ClusterImage current, TermIndex applied) throws IOException {
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
                byte[] query = CoordinatorCodec.encode(new CoordinatorQuery(CoordinatorQuery.IMAGE, -1, null));
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
                writeSnapshot(imageReply.image(), at);
                LOG.info("coordinator: installed the leader's image at Raft index {}", at.getIndex());
                return at;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }
}
