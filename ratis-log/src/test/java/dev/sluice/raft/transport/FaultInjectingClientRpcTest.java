package dev.sluice.raft.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.ratis.client.RaftClientRpc;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.TimeoutIOException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The client wrapper's message semantics against a recording transport; no network. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class FaultInjectingClientRpcTest {
    private static final long LOST_CALL_TIMEOUT_MS = 40;
    private static final ClientId CLIENT = ClientId.randomId();
    private static final RaftGroupId GROUP = RaftGroupId.randomId();

    private final FaultInjector injector = new FaultInjector("client-rpc-test", 99);
    private final RecordingClientRpc network = new RecordingClientRpc();
    private final List<Long> sleeps = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final FaultInjectingClientRpc rpc = new FaultInjectingClientRpc(network, injector, "a", sleeps::add, timer);

    FaultInjectingClientRpcTest() {
        injector.setLostCallTimeoutMs(LOST_CALL_TIMEOUT_MS);
    }

    @AfterEach
    void stopTimer() {
        timer.shutdownNow();
    }

    @Test
    void shouldDeliverRequestAndReplyWhenTheLinkIsHealthy() throws IOException {
        assertThat(rpc.sendRequest(request("b")).isSuccess()).isTrue();

        assertThat(network.calls).hasValue(1);
        assertThat(sleeps).isEmpty();
        assertThat(injector.stats("a", "b").requests()).isEqualTo(1);
        assertThat(injector.stats("b", "a").replies()).isEqualTo(1);
    }

    @Test
    void shouldFailARequestOverACutLinkWithATimeoutTheClientRetriesElsewhere() {
        injector.cut("a", "b");

        assertThatThrownBy(() -> rpc.sendRequest(request("b")))
                .isInstanceOf(TimeoutIOException.class)
                .isInstanceOf(InjectedFaultException.class)
                .hasMessageContaining("request a->b");
        assertThat(network.calls).as("the server never sees the request").hasValue(0);
        assertThat(sleeps).containsExactly(LOST_CALL_TIMEOUT_MS);
    }

    @Test
    void shouldDeliverTheRequestButLoseTheReplyWhenOnlyTheReturnLinkIsCut() {
        injector.cut("b", "a");

        assertThatThrownBy(() -> rpc.sendRequest(request("b")))
                .isInstanceOf(InjectedFaultException.class)
                .hasMessageContaining("reply b->a");
        assertThat(network.calls).as("the server processed the request").hasValue(1);
    }

    @Test
    void shouldLoseEveryRequestOfAnIsolatedNodeButItsRequestsToItself() throws IOException {
        injector.isolate("a");

        assertThatThrownBy(() -> rpc.sendRequest(request("c"))).isInstanceOf(InjectedFaultException.class);
        assertThat(rpc.sendRequest(request("a")).isSuccess())
                .as("a host is never cut off from itself")
                .isTrue();
        assertThat(injector.stats("a", "a").messages()).isZero();
    }

    @Test
    void shouldPassAWrappedFailureOnAfterTheReplyLinkDecidedIt() {
        network.failure = new IOException("connection refused");
        injector.setFaults("b", "a", LinkFaults.NONE.withDelayMs(7));

        assertThatThrownBy(() -> rpc.sendRequest(request("b"))).hasMessage("connection refused");
        assertThat(sleeps).containsExactly(7L);
    }

    @Test
    void shouldDelayRequestAndReplyAsTheirLinksSay() throws IOException {
        injector.setFaults("a", "b", LinkFaults.NONE.withDelayMs(5));
        injector.setFaults("b", "a", LinkFaults.NONE.withDelayMs(9));

        rpc.sendRequest(request("b"));

        assertThat(sleeps).containsExactly(5L, 9L);
    }

    @Test
    void shouldSendADuplicatedRequestTwiceAndAnswerOnce() throws IOException {
        injector.setFaults("a", "b", LinkFaults.NONE.withDuplicateProbability(1));

        assertThat(rpc.sendRequest(request("b")).isSuccess()).isTrue();

        assertThat(network.calls).hasValue(2);
    }

    @Test
    void shouldFailAnAsyncRequestOverACutLinkAfterTheLostCallTimeoutWithoutSendingIt() {
        injector.cut("a", "b");

        CompletableFuture<RaftClientReply> reply = rpc.sendRequestAsync(request("b"));

        assertThatThrownBy(() -> reply.get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(InjectedFaultException.class);
        assertThat(network.calls).hasValue(0);
        assertThat(sleeps).as("asynchronous calls never block their caller").isEmpty();
    }

    @Test
    void shouldLoseTheReplyOfAnAsyncRequestWhenTheReturnLinkIsCut() {
        injector.cut("b", "a");

        CompletableFuture<RaftClientReply> reply = rpc.sendRequestAsyncUnordered(request("b"));

        assertThatThrownBy(() -> reply.get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(InjectedFaultException.class)
                .hasMessageContaining("reply b->a");
        assertThat(network.unorderedCalls).hasValue(1);
    }

    @Test
    void shouldAnswerAnAsyncRequestOverAHealthyOrDelayedLink() throws Exception {
        injector.setFaults("a", "b", LinkFaults.NONE.withDelayMs(20));
        injector.setFaults("b", "a", LinkFaults.NONE.withDelayMs(20));

        assertThat(rpc.sendRequestAsync(request("b")).get(10, TimeUnit.SECONDS).isSuccess())
                .isTrue();
        assertThat(network.calls).hasValue(1);
        assertThat(injector.stats("b", "a").replies()).isEqualTo(1);
    }

    @Test
    void shouldPassAnAsyncFailureOfTheWrappedTransportOn() {
        network.failure = new IOException("not the leader");

        CompletableFuture<RaftClientReply> reply = rpc.sendRequestAsync(request("b"));

        assertThatThrownBy(() -> reply.get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(IOException.class)
                .hasMessageContaining("not the leader");
    }

    @Test
    void shouldNotResetTheConnectionForAnInjectedLossButForARealOne() {
        rpc.handleException(RaftPeerId.valueOf("b"), new InjectedFaultException("lost"), true);
        assertThat(network.resets).hasValue(0);

        rpc.handleException(RaftPeerId.valueOf("b"), new IOException("reset by peer"), true);
        assertThat(network.resets).hasValue(1);
    }

    private static RaftClientRequest request(String to) {
        return RaftClientRequest.newBuilder()
                .setClientId(CLIENT)
                .setServerId(RaftPeerId.valueOf(to))
                .setGroupId(GROUP)
                .setCallId(1)
                .setMessage(Message.valueOf("m"))
                .setType(RaftClientRequest.writeRequestType())
                .build();
    }

    /** Answers every request with success (or {@link #failure}) and counts the calls. */
    private static final class RecordingClientRpc implements RaftClientRpc {
        final AtomicInteger calls = new AtomicInteger();
        final AtomicInteger unorderedCalls = new AtomicInteger();
        final AtomicInteger resets = new AtomicInteger();
        volatile IOException failure;

        @Override
        public RaftClientReply sendRequest(RaftClientRequest request) throws IOException {
            calls.incrementAndGet();
            if (failure != null) {
                throw failure;
            }
            return reply(request);
        }

        @Override
        public CompletableFuture<RaftClientReply> sendRequestAsync(RaftClientRequest request) {
            calls.incrementAndGet();
            return failure != null
                    ? CompletableFuture.failedFuture(failure)
                    : CompletableFuture.completedFuture(reply(request));
        }

        @Override
        public CompletableFuture<RaftClientReply> sendRequestAsyncUnordered(RaftClientRequest request) {
            unorderedCalls.incrementAndGet();
            return CompletableFuture.completedFuture(reply(request));
        }

        private static RaftClientReply reply(RaftClientRequest request) {
            return RaftClientReply.newBuilder()
                    .setRequest(request)
                    .setSuccess()
                    .setMessage(Message.valueOf("ok"))
                    .build();
        }

        @Override
        public boolean handleException(RaftPeerId serverId, Throwable t, boolean reconnect) {
            resets.incrementAndGet();
            return true;
        }

        @Override
        public void addRaftPeers(Collection<RaftPeer> peers) {}

        @Override
        public void close() {}
    }
}
