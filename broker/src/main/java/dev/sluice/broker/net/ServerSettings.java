package dev.sluice.broker.net;

import java.util.Objects;

/**
 * Settings of the Kafka listener.
 *
 * @param host the address to bind, e.g. {@code 0.0.0.0} or {@code 127.0.0.1}
 * @param port the port to bind; 0 picks an ephemeral port
 * @param requestMaxBytes {@code socket.request.max.bytes}: a request frame larger than this closes the
 *     connection (default {@value #DEFAULT_REQUEST_MAX_BYTES})
 * @param maxInFlightPerConnection requests of one connection read but not yet answered; beyond it the server
 *     stops reading from that socket (default {@value #DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION})
 * @param ioThreads Netty event-loop threads for connections ({@code num.network.threads}); 0 = Netty default
 *     (twice the processors)
 */
public record ServerSettings(String host, int port, int requestMaxBytes, int maxInFlightPerConnection, int ioThreads) {
    public static final int DEFAULT_REQUEST_MAX_BYTES = 104_857_600;
    public static final int DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION = 100;

    public ServerSettings {
        Objects.requireNonNull(host, "host");
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("port must be in [0, 65535], was " + port);
        }
        if (requestMaxBytes <= 0) {
            throw new IllegalArgumentException("socket.request.max.bytes must be > 0, was " + requestMaxBytes);
        }
        if (maxInFlightPerConnection <= 0) {
            throw new IllegalArgumentException("maxInFlightPerConnection must be > 0, was " + maxInFlightPerConnection);
        }
        if (ioThreads < 0) {
            throw new IllegalArgumentException("ioThreads must be >= 0 (0 = Netty default), was " + ioThreads);
        }
    }

    /** The defaults for everything but the address. */
    public static ServerSettings defaults(String host, int port) {
        return new ServerSettings(host, port, DEFAULT_REQUEST_MAX_BYTES, DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION, 0);
    }
}
