package dev.sluice.broker.net;

import java.util.Map;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;

/**
 * Per-request and per-connection observations, for metrics.
 *
 * <p>Threading: called on Netty event loops, several at once; implementations must be thread-safe, cheap and
 * must not block. An exception thrown here is logged and otherwise ignored.
 */
public interface RequestObserver {
    /** An observer that records nothing. */
    RequestObserver NONE = (api, version, errorCounts, requestBytes, responseBytes, latencyNs) -> {};

    /**
     * A request was answered: its response is on the socket, or it needed none (acks=0, then
     * {@code errorCounts} is empty and {@code responseBytes} is 0).
     *
     * @param errorCounts the response's {@code AbstractResponse.errorCounts()}
     * @param requestBytes the request frame size including the 4-byte size prefix
     * @param responseBytes the response size including the 4-byte size prefix
     * @param latencyNs from the complete request frame being read to the response being written
     */
    void completed(
            ApiKeys api,
            short version,
            Map<Errors, Integer> errorCounts,
            long requestBytes,
            long responseBytes,
            long latencyNs);

    default void connectionOpened() {}

    default void connectionClosed() {}
}
