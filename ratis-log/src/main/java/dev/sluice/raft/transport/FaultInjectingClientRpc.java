package dev.sluice.raft.transport;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.Collection;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.ratis.client.RaftClientRpc;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link RaftClientRpc} that passes every request a node's Raft client sends to a server through a
 * {@link FaultInjector}, as the link from the node ({@code self}) to that server: the coordinator heartbeats,
 * transaction markers, snapshot-install reads and group administration a node sends over the network are then
 * cut, dropped and delayed like its server-to-server calls. A request crosses its link twice:
 *
 * <ol>
 *   <li>the request over {@code self -> to} ({@code to} is {@link RaftClientRequest#getServerId()}): if lost,
 *       the call fails after the injector's lost-call timeout with {@link InjectedFaultException} (a
 *       {@code TimeoutIOException}, which Ratis's client treats as a failure to reach that server: it tries
 *       another server as its retry policy allows) and the server never sees it; otherwise it is held back for
 *       the decided delay and sent, twice if duplicated (the second answer discarded);
 *   <li>the answer over {@code to -> self}: whatever came back (a reply, or the error of the wrapped
 *       transport: it too is what the caller learns over the network) is lost with the same failure after the
 *       lost-call timeout, or delivered after the decided delay.
 * </ol>
 *
 * Requests a node sends to itself pass unchanged: a network partition does not cut a host off from itself.
 *
 * <p>All three send methods of Ratis 3.3.0's {@code RaftClientRpc} are covered: {@link #sendRequest}
 * (blocking: delays block the caller, as the wrapped Netty call does), {@link #sendRequestAsync} and {@link
 * #sendRequestAsyncUnordered} (never block: delays are timers on a shared daemon scheduler). Ratis's data
 * stream API is a separate transport ({@code raft.datastream.type}, off in Sluice) and is not wrapped.
 *
 * <p>Thread-safe: any number of client threads may call at once.
 */
final class FaultInjectingClientRpc implements RaftClientRpc {
    private static final Logger LOG = LoggerFactory.getLogger(FaultInjectingClientRpc.class);

    private final RaftClientRpc delegate;
    private final FaultInjector injector;
    private final String self;
    private final Sleeper sleeper;
    private final ScheduledExecutorService timer;

    FaultInjectingClientRpc(RaftClientRpc delegate, FaultInjector injector, String self) {
        this(delegate, injector, self, Sleeper.THREAD, Timer.INSTANCE);
    }

    FaultInjectingClientRpc(
            RaftClientRpc delegate,
            FaultInjector injector,
            String self,
            Sleeper sleeper,
            ScheduledExecutorService timer) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
        this.injector = Objects.requireNonNull(injector, "injector");
        this.self = Objects.requireNonNull(self, "self");
        this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
        this.timer = Objects.requireNonNull(timer, "timer");
    }

    /** The delay timers of every faulted client in the JVM: two daemon threads, made on first use. */
    private static final class Timer {
        static final ScheduledExecutorService INSTANCE = create();

        private static ScheduledExecutorService create() {
            ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(2, runnable -> {
                Thread thread = new Thread(runnable, "sluice-fault-client-timer");
                thread.setDaemon(true);
                return thread;
            });
            executor.setRemoveOnCancelPolicy(true);
            return Executors.unconfigurableScheduledExecutorService(executor);
        }
    }

    // ---- blocking -------------------------------------------------------------------------------------------

    @Override
    public RaftClientReply sendRequest(RaftClientRequest request) throws IOException {
        String to = request.getServerId().toString();
        if (to.equals(self)) {
            return delegate.sendRequest(request);
        }
        Delivery sent = injector.onRequest(self, to);
        if (sent.lost()) {
            pause(injector.lostCallTimeoutMs());
            throw lost(request, "request", self, to);
        }
        pause(sent.delayMs());
        RaftClientReply reply = null;
        IOException failure = null;
        try {
            reply = delegate.sendRequest(request);
        } catch (InterruptedIOException e) {
            throw e;
        } catch (IOException e) {
            failure = e;
        }
        if (sent.duplicated()) {
            sendDuplicate(request, to);
        }
        Delivery answered = injector.onReply(to, self);
        if (answered.lost()) {
            pause(injector.lostCallTimeoutMs());
            throw lost(request, "reply", to, self);
        }
        pause(answered.delayMs());
        if (failure != null) {
            throw failure;
        }
        return reply;
    }

    private void sendDuplicate(RaftClientRequest request, String to) throws InterruptedIOException {
        try {
            delegate.sendRequest(request);
            LOG.debug("client {}->{} callId={}: request delivered twice", self, to, request.getCallId());
        } catch (InterruptedIOException e) {
            throw e;
        } catch (IOException e) {
            LOG.debug("client {}->{}: duplicate request failed, ignored: {}", self, to, e.toString());
        }
    }

    private void pause(long durationMs) throws InterruptedIOException {
        if (durationMs <= 0) {
            return;
        }
        try {
            sleeper.sleep(durationMs);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            InterruptedIOException interrupted =
                    new InterruptedIOException("client request interrupted during an injected delay");
            interrupted.initCause(e);
            throw interrupted;
        }
    }

    // ---- asynchronous ---------------------------------------------------------------------------------------

    @Override
    public CompletableFuture<RaftClientReply> sendRequestAsync(RaftClientRequest request) {
        return sendAsync(request, delegate::sendRequestAsync);
    }

    @Override
    public CompletableFuture<RaftClientReply> sendRequestAsyncUnordered(RaftClientRequest request) {
        return sendAsync(request, delegate::sendRequestAsyncUnordered);
    }

    private CompletableFuture<RaftClientReply> sendAsync(
            RaftClientRequest request, Function<RaftClientRequest, CompletableFuture<RaftClientReply>> send) {
        String to = request.getServerId().toString();
        if (to.equals(self)) {
            return send.apply(request);
        }
        Delivery sent = injector.onRequest(self, to);
        if (sent.lost()) {
            return failAfter(injector.lostCallTimeoutMs(), lost(request, "request", self, to));
        }
        CompletableFuture<RaftClientReply> answer =
                after(sent.delayMs()).thenCompose(ignored -> sendSafely(send, request));
        if (sent.duplicated()) {
            answer.whenComplete((reply, failure) -> sendSafely(send, request)
                    .whenComplete((r, e) -> LOG.debug(
                            "client {}->{} callId={}: request delivered twice", self, to, request.getCallId())));
        }
        return answer.handle((reply, failure) -> {
                    Delivery answered = injector.onReply(to, self);
                    if (answered.lost()) {
                        return failAfter(injector.lostCallTimeoutMs(), lost(request, "reply", to, self));
                    }
                    return after(answered.delayMs()).thenCompose(ignored -> outcome(reply, failure));
                })
                .thenCompose(Function.identity());
    }

    /** The wrapped send, with a synchronous throw turned into a failed future. */
    private static CompletableFuture<RaftClientReply> sendSafely(
            Function<RaftClientRequest, CompletableFuture<RaftClientReply>> send, RaftClientRequest request) {
        try {
            return send.apply(request);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private static CompletableFuture<RaftClientReply> outcome(RaftClientReply reply, Throwable failure) {
        if (failure == null) {
            return CompletableFuture.completedFuture(reply);
        }
        Throwable cause =
                failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        return CompletableFuture.failedFuture(cause);
    }

    private CompletableFuture<Void> after(long delayMs) {
        if (delayMs <= 0) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> elapsed = new CompletableFuture<>();
        timer.schedule(() -> elapsed.complete(null), delayMs, TimeUnit.MILLISECONDS);
        return elapsed;
    }

    private CompletableFuture<RaftClientReply> failAfter(long delayMs, InjectedFaultException failure) {
        return after(delayMs).thenCompose(ignored -> CompletableFuture.failedFuture(failure));
    }

    // ---- failures and the rest --------------------------------------------------------------------------------

    private InjectedFaultException lost(RaftClientRequest request, String message, String from, String to) {
        LOG.debug("client {} callId={}: {} {}->{} lost", request.getClientId(), request.getCallId(), message, from, to);
        return new InjectedFaultException("client request callId=" + request.getCallId() + " to "
                + request.getServerId()
                + ": the " + message + " " + from + "->" + to + " was lost by " + injector + " (timed out after "
                + injector.lostCallTimeoutMs() + " ms)");
    }

    /**
     * Passes real failures on (Ratis's client reconnects to the server), but not injected ones: the connection
     * under an injected loss is healthy, and closing it would fail this client's other calls in flight on it.
     */
    @Override
    public boolean handleException(RaftPeerId serverId, Throwable t, boolean reconnect) {
        for (Throwable cause = t; cause != null; cause = cause.getCause()) {
            if (cause instanceof InjectedFaultException) {
                return false;
            }
        }
        return delegate.handleException(serverId, t, reconnect);
    }

    @Override
    public boolean shouldReconnect(Throwable t) {
        return delegate.shouldReconnect(t);
    }

    @Override
    public void addRaftPeers(Collection<RaftPeer> peers) {
        delegate.addRaftPeers(peers);
    }

    @Override
    public void close() throws IOException {
        delegate.close();
    }

    @Override
    public String toString() {
        return "FaultInjectingClientRpc[self=" + self + ", " + injector + ", " + delegate + "]";
    }
}
