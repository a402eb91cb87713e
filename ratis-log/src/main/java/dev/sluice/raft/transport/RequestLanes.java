package dev.sluice.raft.transport;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executor;
import org.apache.ratis.proto.RaftProtos.RaftRpcRequestProto;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * Starts tasks on an executor so that the tasks of one {@link Lane} run one after another, in the order they were
 * handed in, while tasks of different lanes never wait for each other. A task that throws does not stop its lane.
 *
 * <p>A lane holds no thread while idle; a task waiting for an earlier one of its lane holds none either. Thread-safe.
 */
final class RequestLanes {
    /**
     * The requests that must start in order: those one sender sends about one Raft group.
     *
     * @param requestorId who sent the request (a peer or a client)
     * @param groupId the Raft group it is about
     */
    record Lane(ByteString requestorId, ByteString groupId) {
        static Lane of(RaftRpcRequestProto header) {
            return new Lane(header.getRequestorId(), header.getRaftGroupId().getId());
        }
    }

    private static final CompletableFuture<Void> IDLE = CompletableFuture.completedFuture(null);

    private final Executor executor;
    /** The last task handed to each busy lane; a lane is removed once its last task has run. */
    private final ConcurrentMap<Lane, CompletableFuture<Void>> tails = new ConcurrentHashMap<>();

    RequestLanes(Executor executor) {
        this.executor = executor;
    }

    /**
     * Runs {@code task} after every task handed to {@code lane} before it.
     *
     * @throws java.util.concurrent.RejectedExecutionException if the executor takes no more tasks
     */
    void start(Lane lane, Runnable task) {
        CompletableFuture<Void> tail = tails.compute(lane, (key, previous) -> (previous == null ? IDLE : previous)
                .handleAsync(
                        (ignored, failure) -> {
                            task.run();
                            return null;
                        },
                        executor));
        tail.whenComplete((ignored, failure) -> tails.remove(lane, tail));
    }

    /** How many lanes have a task waiting or running. */
    int busyLanes() {
        return tails.size();
    }
}
