package dev.sluice.raft.transport;

/**
 * Counts of the messages that crossed one directed link since its {@link FaultInjector} was created.
 * A request from A to B and the reply to a request from B to A both cross the link A&rarr;B.
 *
 * <p>Invariants: {@code lost <= requests + replies}, {@code duplicated <= requests}.
 *
 * @param requests requests offered to the link (sent by its source peer)
 * @param replies replies offered to the link (answers to requests its destination peer sent)
 * @param lost messages the link lost (dropped or cut)
 * @param duplicated requests the link delivered twice
 */
public record LinkStats(long requests, long replies, long lost, long duplicated) {

    /** No traffic yet. */
    public static final LinkStats EMPTY = new LinkStats(0, 0, 0, 0);

    /** @return every message offered to the link, requests and replies */
    public long messages() {
        return requests + replies;
    }

    /** @return the messages that arrived (a duplicated request counts once) */
    public long delivered() {
        return messages() - lost;
    }
}
