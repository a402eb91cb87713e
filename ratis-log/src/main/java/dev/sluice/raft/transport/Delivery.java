package dev.sluice.raft.transport;

/**
 * The fate of one message crossing one directed link, as decided by {@link FaultInjector}.
 *
 * @param lost the message never arrives; the sender sees a timeout
 * @param delayMs how long the message is held back before it arrives (0 when lost)
 * @param duplicated the message (always a request) arrives twice
 */
public record Delivery(boolean lost, long delayMs, boolean duplicated) {

    /** A message that never arrives. */
    public static final Delivery LOST = new Delivery(true, 0, false);

    /** A message that arrives at once, exactly once. */
    public static final Delivery ON_TIME = new Delivery(false, 0, false);

    /** Checks that a lost message carries neither delay nor duplicate, and that the delay is not negative. */
    public Delivery {
        if (delayMs < 0) {
            throw new IllegalArgumentException("delayMs must be >= 0, got " + delayMs);
        }
        if (lost && (delayMs != 0 || duplicated)) {
            throw new IllegalArgumentException(
                    "a lost message has no delay or duplicate, got delayMs=" + delayMs + ", duplicated=" + duplicated);
        }
    }
}
