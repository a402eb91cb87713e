package dev.sluice.raft.transport;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetSocketAddress;
import java.util.Collection;
import java.util.Objects;
import org.apache.ratis.proto.RaftProtos.AppendEntriesReplyProto;
import org.apache.ratis.proto.RaftProtos.AppendEntriesRequestProto;
import org.apache.ratis.proto.RaftProtos.InstallSnapshotReplyProto;
import org.apache.ratis.proto.RaftProtos.InstallSnapshotRequestProto;
import org.apache.ratis.proto.RaftProtos.RaftRpcRequestProto;
import org.apache.ratis.proto.RaftProtos.RequestVoteReplyProto;
import org.apache.ratis.proto.RaftProtos.RequestVoteRequestProto;
import org.apache.ratis.proto.RaftProtos.StartLeaderElectionReplyProto;
import org.apache.ratis.proto.RaftProtos.StartLeaderElectionRequestProto;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.rpc.RpcType;
import org.apache.ratis.server.RaftServerRpc;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link RaftServerRpc} that passes every outgoing server-to-server call (vote, append, snapshot,
 * start-election) of the wrapped transport through a {@link FaultInjector}. A call crosses its link twice:
 *
 * <ol>
 *   <li>the request over {@code requestor -> target}: if lost, the call blocks for the injector's lost-call
 *       timeout and fails with {@link InjectedFaultException}, and the target never sees it; otherwise it
 *       waits out the decided delay and is sent, twice if duplicated (the second, after the first returned,
 *       with its result discarded);
 *   <li>the reply over {@code target -> requestor}: if lost, the target has processed the request, but the
 *       caller blocks for the lost-call timeout and fails the same way; otherwise it waits out the delay.
 * </ol>
 *
 * Failures of the wrapped transport itself propagate unchanged. Incoming calls, client traffic, start and
 * close go straight to the wrapped transport.
 *
 * <p>Delays block the calling thread, as a slow network blocks a synchronous call: Ratis's Netty transport
 * is synchronous (one appender thread per follower per group, one thread per vote request), so calls on one
 * link overtake each other when they come from different threads, e.g. different groups on the same server.
 * No thread is created here. The asynchronous protocol ({@link #async()}) is not offered, as Netty does not
 * offer it in Ratis 3.3.0 either.
 *
 * <p>Thread-safe: any number of Ratis threads may call at once.
 */
final class FaultInjectingServerRpc implements RaftServerRpc {
    private static final Logger LOG = LoggerFactory.getLogger(FaultInjectingServerRpc.class);

    private final RaftServerRpc delegate;
    private final FaultInjector injector;
    private final RpcType rpcType;
    private final Sleeper sleeper;

    FaultInjectingServerRpc(RaftServerRpc delegate, FaultInjector injector, RpcType rpcType, Sleeper sleeper) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
        this.injector = Objects.requireNonNull(injector, "injector");
        this.rpcType = Objects.requireNonNull(rpcType, "rpcType");
        this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
    }

    @Override
    public RequestVoteReplyProto requestVote(RequestVoteRequestProto request) throws IOException {
        return send("requestVote", request.getServerRequest(), () -> delegate.requestVote(request));
    }

    @Override
    public AppendEntriesReplyProto appendEntries(AppendEntriesRequestProto request) throws IOException {
        return send("appendEntries", request.getServerRequest(), () -> delegate.appendEntries(request));
    }

    @Override
    public InstallSnapshotReplyProto installSnapshot(InstallSnapshotRequestProto request) throws IOException {
        return send("installSnapshot", request.getServerRequest(), () -> delegate.installSnapshot(request));
    }

    @Override
    public StartLeaderElectionReplyProto startLeaderElection(StartLeaderElectionRequestProto request)
            throws IOException {
        return send("startLeaderElection", request.getServerRequest(), () -> delegate.startLeaderElection(request));
    }

    private <R> R send(String op, RaftRpcRequestProto header, Call<R> call) throws IOException {
        String from = RaftPeerId.valueOf(header.getRequestorId()).toString();
        String to = RaftPeerId.valueOf(header.getReplyId()).toString();

        Delivery request = injector.onRequest(from, to);
        if (request.lost()) {
            throw lost(op, "request", from, to, header.getCallId());
        }
        pause(request.delayMs(), op);
        R reply = call.call();
        if (request.duplicated()) {
            sendDuplicate(op, from, to, call);
        }

        Delivery response = injector.onReply(to, from);
        if (response.lost()) {
            throw lost(op, "reply", to, from, header.getCallId());
        }
        pause(response.delayMs(), op);
        return reply;
    }

    private <R> void sendDuplicate(String op, String from, String to, Call<R> call) throws InterruptedIOException {
        try {
            call.call();
            LOG.debug("{} {}->{}: request delivered twice", op, from, to);
        } catch (InterruptedIOException e) {
            throw e;
        } catch (IOException e) {
            LOG.debug("{} {}->{}: duplicate request failed, ignored: {}", op, from, to, e.toString());
        }
    }

    private InjectedFaultException lost(String op, String message, String from, String to, long callId)
            throws InterruptedIOException {
        LOG.debug("{} {}->{} callId={}: {} lost", op, from, to, callId, message);
        long timeoutMs = injector.lostCallTimeoutMs();
        pause(timeoutMs, op);
        return new InjectedFaultException(op + " callId=" + callId + ": the " + message + " " + from + "->" + to
                + " was lost by " + injector + " (timed out after " + timeoutMs + " ms)");
    }

    private void pause(long durationMs, String op) throws InterruptedIOException {
        if (durationMs <= 0) {
            return;
        }
        try {
            sleeper.sleep(durationMs);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            InterruptedIOException interrupted =
                    new InterruptedIOException(op + " interrupted during an injected delay");
            interrupted.initCause(e);
            throw interrupted;
        }
    }

    /**
     * Passes real failures on (Ratis may reset the connection), but not injected ones: the connection under
     * an injected loss is healthy, and resetting it would fail unrelated calls in flight on it.
     */
    @Override
    public void handleException(RaftPeerId serverId, Exception e, boolean reconnect) {
        if (e instanceof InjectedFaultException && !reconnect) {
            return;
        }
        delegate.handleException(serverId, e, reconnect);
    }

    @Override
    public void start() throws IOException {
        delegate.start();
    }

    @Override
    public void close() throws IOException {
        delegate.close();
    }

    @Override
    public InetSocketAddress getInetSocketAddress() {
        return delegate.getInetSocketAddress();
    }

    @Override
    public InetSocketAddress getClientServerAddress() {
        return delegate.getClientServerAddress();
    }

    @Override
    public InetSocketAddress getAdminServerAddress() {
        return delegate.getAdminServerAddress();
    }

    @Override
    public void addRaftPeers(Collection<RaftPeer> peers) {
        delegate.addRaftPeers(peers);
    }

    @Override
    public void notifyNotLeader(RaftGroupId groupId) {
        delegate.notifyNotLeader(groupId);
    }

    @Override
    public RpcType getRpcType() {
        return rpcType;
    }

    @Override
    public String toString() {
        return "FaultInjectingServerRpc[" + injector + ", " + delegate + "]";
    }

    /** One synchronous call on the wrapped transport. */
    @FunctionalInterface
    private interface Call<R> {
        R call() throws IOException;
    }
}
