package dev.sluice.raft.transport;

import org.apache.ratis.protocol.exceptions.TimeoutIOException;

/**
 * The failure of a call whose request or reply the {@link FaultInjector} lost. It is a
 * {@link TimeoutIOException}, which is what a Netty call sees when a packet is really lost, so Ratis reacts
 * as it would to a real loss (the log appender retries, an election counts no vote).
 *
 * <p>Unlike a real loss, the connection underneath is healthy; {@link FaultInjectingServerRpc} therefore
 * does not let Ratis reset it for this exception, which would fail unrelated calls in flight on it.
 */
public final class InjectedFaultException extends TimeoutIOException {
    private static final long serialVersionUID = 1L;

    InjectedFaultException(String message) {
        super(message);
    }
}
