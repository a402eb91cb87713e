package dev.sluice.raft.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.ratis.proto.RaftProtos.AppendEntriesReplyProto;
import org.apache.ratis.proto.RaftProtos.AppendEntriesRequestProto;
import org.apache.ratis.proto.RaftProtos.InstallSnapshotReplyProto;
import org.apache.ratis.proto.RaftProtos.InstallSnapshotRequestProto;
import org.apache.ratis.proto.RaftProtos.RaftRpcRequestProto;
import org.apache.ratis.proto.RaftProtos.RequestVoteReplyProto;
import org.apache.ratis.proto.RaftProtos.RequestVoteRequestProto;
import org.apache.ratis.proto.RaftProtos.StartLeaderElectionReplyProto;
import org.apache.ratis.proto.RaftProtos.StartLeaderElectionRequestProto;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.TimeoutIOException;
import org.apache.ratis.rpc.RpcType;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.server.RaftServerRpc;
import org.junit.jupiter.api.Test;

/** The wrapper's message semantics against a recording transport; no network, no real sleeping. */
class FaultInjectingServerRpcTest {
    private static final long LOST_CALL_TIMEOUT_MS = 40;
    private static final RequestVoteReplyProto VOTE =
            RequestVoteReplyProto.newBuilder().setTerm(7).build();

    private final FaultInjector injector = new FaultInjector("rpc-test", 99);
    private final RecordingServerRpc network = new RecordingServerRpc();
    private final List<Long> sleeps = new CopyOnWriteArrayList<>();
    private final FaultInjectingServerRpc rpc =
            new FaultInjectingServerRpc(network, injector, new FaultInjectingRpcFactory(), sleeps::add);

    FaultInjectingServerRpcTest() {
        injector.setLostCallTimeoutMs(LOST_CALL_TIMEOUT_MS);
    }

    @Test
    void shouldDeliverRequestAndReplyWhenTheLinkIsHealthy() throws IOException {
        assertThat(rpc.requestVote(vote("a", "b"))).isEqualTo(VOTE);

        assertThat(network.calls).hasValue(1);
        assertThat(sleeps).isEmpty();
        assertThat(injector.stats("a", "b").requests()).isEqualTo(1);
        assertThat(injector.stats("b", "a").replies()).isEqualTo(1);
    }

    @Test
    void shouldNeverDeliverARequestOverACutLink() {
        injector.cut("a", "b");

        assertThatThrownBy(() -> rpc.requestVote(vote("a", "b")))
                .isInstanceOf(TimeoutIOException.class)
                .isInstanceOf(InjectedFaultException.class)
                .hasMessageContaining("request a->b");
        assertThat(network.calls).as("the target never sees the request").hasValue(0);
        assertThat(sleeps).containsExactly(LOST_CALL_TIMEOUT_MS);
    }

    @Test
    void shouldDeliverTheRequestButLoseTheReplyWhenOnlyTheReturnLinkIsCut() {
        injector.cut("b", "a");

        assertThatThrownBy(() -> rpc.appendEntries(append("a", "b")))
                .isInstanceOf(InjectedFaultException.class)
                .hasMessageContaining("reply b->a");
        assertThat(network.calls).as("the target processed the request").hasValue(1);
        assertThat(sleeps).containsExactly(LOST_CALL_TIMEOUT_MS);
    }

    @Test
    void shouldSendADuplicatedRequestTwiceAndAnswerOnce() throws IOException {
        injector.setFaults("a", "b", LinkFaults.NONE.withDuplicateProbability(1.0));

        assertThat(rpc.requestVote(vote("a", "b"))).isEqualTo(VOTE);

        assertThat(network.calls).hasValue(2);
        assertThat(injector.stats("a", "b").duplicated()).isEqualTo(1);
    }

    @Test
    void shouldIgnoreAFailingDuplicate() throws IOException {
        injector.setFaults("a", "b", LinkFaults.NONE.withDuplicateProbability(1.0));
        network.failFromCall = 2;

        assertThat(rpc.requestVote(vote("a", "b"))).isEqualTo(VOTE);
        assertThat(network.calls).hasValue(2);
    }

    @Test
    void shouldWaitOutTheDelaysOfBothCrossings() throws IOException {
        injector.setFaults("a", "b", LinkFaults.NONE.withDelayMs(30));
        injector.setFaults("b", "a", LinkFaults.NONE.withDelayMs(7));

        rpc.startLeaderElection(startElection("a", "b"));

        assertThat(sleeps).containsExactly(30L, 7L);
    }

    @Test
    void shouldPassFailuresOfTheRealTransportThrough() {
        network.failFromCall = 1;

        assertThatThrownBy(() -> rpc.installSnapshot(snapshot("a", "b")))
                .isInstanceOf(IOException.class)
                .isNotInstanceOf(InjectedFaultException.class)
                .hasMessage("connection refused");
        assertThat(injector.stats("b", "a").replies()).as("no reply crossed").isZero();
    }

    @Test
    void shouldNotResetTheConnectionAfterAnInjectedLoss() {
        rpc.handleException(RaftPeerId.valueOf("b"), new InjectedFaultException("lost"), false);
        rpc.handleException(RaftPeerId.valueOf("b"), new IOException("real"), false);

        assertThat(network.handled).containsExactly("real");
    }

    @Test
    void shouldRestoreTheInterruptFlagWhenInterruptedDuringADelay() {
        injector.setFaults("a", "b", LinkFaults.NONE.withDelayMs(10));
        FaultInjectingServerRpc interrupted = new FaultInjectingServerRpc(network, injector, rpc.getRpcType(), ms -> {
            throw new InterruptedException("stop");
        });

        try {
            assertThatThrownBy(() -> interrupted.requestVote(vote("a", "b")))
                    .isInstanceOf(java.io.InterruptedIOException.class);
            assertThat(Thread.currentThread().isInterrupted()).isTrue();
            assertThat(network.calls).hasValue(0);
        } finally {
            Thread.interrupted();
        }
    }

    private static RaftRpcRequestProto header(String from, String to) {
        return RaftRpcRequestProto.newBuilder()
                .setRequestorId(RaftPeerId.valueOf(from).toByteString())
                .setReplyId(RaftPeerId.valueOf(to).toByteString())
                .setCallId(17)
                .build();
    }

    private static RequestVoteRequestProto vote(String from, String to) {
        return RequestVoteRequestProto.newBuilder()
                .setServerRequest(header(from, to))
                .build();
    }

    private static AppendEntriesRequestProto append(String from, String to) {
        return AppendEntriesRequestProto.newBuilder()
                .setServerRequest(header(from, to))
                .build();
    }

    private static InstallSnapshotRequestProto snapshot(String from, String to) {
        return InstallSnapshotRequestProto.newBuilder()
                .setServerRequest(header(from, to))
                .build();
    }

    private static StartLeaderElectionRequestProto startElection(String from, String to) {
        return StartLeaderElectionRequestProto.newBuilder()
                .setServerRequest(header(from, to))
                .build();
    }

    /** Answers every call at once and counts it; from call number {@code failFromCall} on, it fails. */
    private static final class RecordingServerRpc implements RaftServerRpc {
        final AtomicInteger calls = new AtomicInteger();
        final List<String> handled = new ArrayList<>();
        volatile int failFromCall = Integer.MAX_VALUE;

        private void call() throws IOException {
            if (calls.incrementAndGet() >= failFromCall) {
                throw new IOException("connection refused");
            }
        }

        @Override
        public RequestVoteReplyProto requestVote(RequestVoteRequestProto request) throws IOException {
            call();
            return VOTE;
        }

        @Override
        public AppendEntriesReplyProto appendEntries(AppendEntriesRequestProto request) throws IOException {
            call();
            return AppendEntriesReplyProto.getDefaultInstance();
        }

        @Override
        public InstallSnapshotReplyProto installSnapshot(InstallSnapshotRequestProto request) throws IOException {
            call();
            return InstallSnapshotReplyProto.getDefaultInstance();
        }

        @Override
        public StartLeaderElectionReplyProto startLeaderElection(StartLeaderElectionRequestProto request)
                throws IOException {
            call();
            return StartLeaderElectionReplyProto.getDefaultInstance();
        }

        @Override
        public void handleException(RaftPeerId serverId, Exception e, boolean reconnect) {
            handled.add(e.getMessage());
        }

        @Override
        public void start() {}

        @Override
        public void close() {}

        @Override
        public InetSocketAddress getInetSocketAddress() {
            return new InetSocketAddress("127.0.0.1", 1);
        }

        @Override
        public RpcType getRpcType() {
            return SupportedRpcType.NETTY;
        }

        @Override
        public void addRaftPeers(Collection<RaftPeer> peers) {}
    }
}
