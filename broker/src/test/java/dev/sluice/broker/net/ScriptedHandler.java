package dev.sluice.broker.net;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.MetadataResponse;

/**
 * A {@link RequestHandler} for tests: either answers at once through a function, or parks every request so the
 * test completes them in the order it likes. Counts requests outstanding (handed over, future not completed).
 */
final class ScriptedHandler implements RequestHandler {
    /** A request the handler holds until the test completes it. */
    record Parked(RequestContext context, AbstractRequest request, CompletableFuture<AbstractResponse> future) {}

    private final BiFunction<RequestContext, AbstractRequest, AbstractResponse> immediate;
    private final LinkedBlockingQueue<Parked> parked = new LinkedBlockingQueue<>();
    private final AtomicInteger outstanding = new AtomicInteger();
    private final AtomicInteger maxOutstanding = new AtomicInteger();
    final List<AbstractResponse> released = new CopyOnWriteArrayList<>();

    private ScriptedHandler(BiFunction<RequestContext, AbstractRequest, AbstractResponse> immediate) {
        this.immediate = immediate;
    }

    /** Answers every request at once with {@code answer}. */
    static ScriptedHandler answering(BiFunction<RequestContext, AbstractRequest, AbstractResponse> answer) {
        return new ScriptedHandler(answer);
    }

    /** Parks every request. */
    static ScriptedHandler parking() {
        return new ScriptedHandler(null);
    }

    /** A Metadata response at the request's version, with the correlation id as throttle time for checking. */
    static AbstractResponse metadataResponse(RequestContext context, AbstractRequest request) {
        return new MetadataResponse(
                new MetadataResponseData()
                        .setThrottleTimeMs(context.header().correlationId())
                        .setClusterId("test-cluster"),
                request.version());
    }

    @Override
    public CompletableFuture<AbstractResponse> handle(RequestContext context, AbstractRequest request) {
        if (immediate != null) {
            return CompletableFuture.completedFuture(immediate.apply(context, request));
        }
        int now = outstanding.incrementAndGet();
        maxOutstanding.accumulateAndGet(now, Math::max);
        CompletableFuture<AbstractResponse> future = new CompletableFuture<>();
        parked.add(new Parked(context, request, future));
        // The server sees the answer only after the count drops: completing a future runs the server's
        // continuation (which may dispatch the next request at once) before earlier-registered ones.
        return future.whenComplete((response, error) -> outstanding.decrementAndGet());
    }

    @Override
    public void responseReleased(RequestContext context, AbstractResponse response) {
        released.add(response);
    }

    /** Waits for {@code count} parked requests, in arrival order. */
    List<Parked> awaitParked(int count) throws InterruptedException {
        List<Parked> result = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            Parked next = parked.poll(5, TimeUnit.SECONDS);
            if (next == null) {
                throw new AssertionError("only " + i + " of " + count + " requests reached the handler");
            }
            result.add(next);
        }
        return result;
    }

    /** A parked request if one arrives within {@code timeoutMs}, else null. */
    Parked pollParked(long timeoutMs) throws InterruptedException {
        return parked.poll(timeoutMs, TimeUnit.MILLISECONDS);
    }

    int maxOutstanding() {
        return maxOutstanding.get();
    }
}
