package dev.sluice.broker.net;

import java.net.InetSocketAddress;
import java.util.Objects;
import org.apache.kafka.common.requests.RequestHeader;

/**
 * What a handler learns about a request besides its body.
 *
 * @param header the parsed request header (api key, version, client id, correlation id)
 * @param clientAddress the remote address of the connection the request arrived on
 * @param connectionId Kafka-style connection id, {@code localHost:localPort-remoteHost:remotePort-index}, unique
 *     within one server
 * @param receivedNs {@link System#nanoTime()} when the complete request frame had been read
 */
public record RequestContext(
        RequestHeader header, InetSocketAddress clientAddress, String connectionId, long receivedNs) {
    public RequestContext {
        Objects.requireNonNull(header, "header");
        Objects.requireNonNull(clientAddress, "clientAddress");
        Objects.requireNonNull(connectionId, "connectionId");
    }
}
