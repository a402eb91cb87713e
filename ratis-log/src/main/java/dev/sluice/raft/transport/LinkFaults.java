package dev.sluice.raft.transport;

/**
 * The faults injected on one directed link (from one peer to another): every message that crosses the
 * link is lost with {@code dropProbability}, otherwise held back for a delay drawn uniformly from
 * {@code delayMinMs..delayMaxMs}, plus, with {@code reorderProbability}, an extra delay drawn uniformly from
 * {@code 0..reorderDelayMaxMs} so that later messages can overtake it. A request (never a reply) that is
 * delivered is sent a second time with {@code duplicateProbability}.
 *
 * <p>Immutable. Invariants: every probability is in {@code [0, 1]}, {@code 0 <= delayMinMs <= delayMaxMs},
 * {@code reorderDelayMaxMs >= 0}.
 *
 * @param dropProbability chance that a message is lost
 * @param delayMinMs smallest delay added to a delivered message
 * @param delayMaxMs largest delay added to a delivered message
 * @param duplicateProbability chance that a delivered request is delivered twice
 * @param reorderProbability chance that a delivered message gets an extra, reordering delay
 * @param reorderDelayMaxMs largest reordering delay
 */
public record LinkFaults(
        double dropProbability,
        long delayMinMs,
        long delayMaxMs,
        double duplicateProbability,
        double reorderProbability,
        long reorderDelayMaxMs) {

    /** A healthy link: nothing lost, delayed, duplicated or reordered. */
    public static final LinkFaults NONE = new LinkFaults(0, 0, 0, 0, 0, 0);

    /** Checks the invariants; throws {@link IllegalArgumentException} naming the field and its value. */
    public LinkFaults {
        checkProbability("dropProbability", dropProbability);
        checkProbability("duplicateProbability", duplicateProbability);
        checkProbability("reorderProbability", reorderProbability);
        if (delayMinMs < 0 || delayMaxMs < delayMinMs) {
            throw new IllegalArgumentException("delay must satisfy 0 <= delayMinMs <= delayMaxMs, got delayMinMs="
                    + delayMinMs + ", delayMaxMs=" + delayMaxMs);
        }
        if (reorderDelayMaxMs < 0) {
            throw new IllegalArgumentException("reorderDelayMaxMs must be >= 0, got " + reorderDelayMaxMs);
        }
    }

    /** @return a copy that loses each message with the given probability */
    public LinkFaults withDropProbability(double probability) {
        return new LinkFaults(
                probability, delayMinMs, delayMaxMs, duplicateProbability, reorderProbability, reorderDelayMaxMs);
    }

    /** @return a copy that delays each delivered message by exactly {@code delayMs} */
    public LinkFaults withDelayMs(long delayMs) {
        return withDelayMs(delayMs, delayMs);
    }

    /** @return a copy that delays each delivered message by a uniform draw from {@code minMs..maxMs} */
    public LinkFaults withDelayMs(long minMs, long maxMs) {
        return new LinkFaults(
                dropProbability, minMs, maxMs, duplicateProbability, reorderProbability, reorderDelayMaxMs);
    }

    /** @return a copy that delivers each delivered request twice with the given probability */
    public LinkFaults withDuplicateProbability(double probability) {
        return new LinkFaults(
                dropProbability, delayMinMs, delayMaxMs, probability, reorderProbability, reorderDelayMaxMs);
    }

    /**
     * @return a copy that, with the given probability, holds a delivered message back for an extra uniform
     *     draw from {@code 0..maxExtraDelayMs}, letting later messages overtake it
     */
    public LinkFaults withReorder(double probability, long maxExtraDelayMs) {
        return new LinkFaults(
                dropProbability, delayMinMs, delayMaxMs, duplicateProbability, probability, maxExtraDelayMs);
    }

    private static void checkProbability(String field, double value) {
        if (!(value >= 0.0 && value <= 1.0)) {
            throw new IllegalArgumentException(field + " must be in [0, 1], got " + value);
        }
    }
}
