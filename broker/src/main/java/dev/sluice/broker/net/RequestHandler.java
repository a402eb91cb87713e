package dev.sluice.broker.net;

import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;

/**
 * Handles every parsed request except ApiVersions, which {@link KafkaServer} answers itself from
 * {@link SupportedApis}.
 *
 * <p>Threading: {@link #handle} is called on the connection's Netty event loop and must not block; do the
 * work elsewhere and complete the future from any thread. Requests of one connection may be handled
 * concurrently (pipelining, up to {@link ServerSettings#maxInFlightPerConnection()}); the server puts the
 * responses back in request order.
 *
 * <p>Buffers: the request is parsed from a heap buffer that belongs to the request alone, so record bytes of
 * a Produce request stay valid for as long as the handler keeps a reference. Record bytes of a response (a
 * {@code MemoryRecords} over a memory-mapped segment, a {@code FileRecords}) are written to the socket
 * without copying, so they must stay valid until {@link #responseReleased} is called for that response.
 */
public interface RequestHandler {
    /**
     * Completes with the response to send, or with null to send none (Produce with acks=0). May complete on
     * any thread. An exceptional completion, or an exception thrown by this method, is answered with the
     * request's error response for {@code Errors.forException(e)} ({@code AbstractRequest.getErrorResponse}).
     */
    CompletableFuture<AbstractResponse> handle(RequestContext context, AbstractRequest request);

    /**
     * Called once for every non-null response this handler produced, when the server no longer references
     * the response's buffers: its bytes are on the socket, or it was dropped because the connection closed.
     * Release pinned record memory here. Called on the connection's event loop; must not block or throw.
     */
    default void responseReleased(RequestContext context, AbstractResponse response) {}
}
