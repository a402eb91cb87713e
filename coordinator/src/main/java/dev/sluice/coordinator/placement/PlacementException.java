package dev.sluice.coordinator.placement;

/**
 * A placement request that cannot be met with the live nodes, such as a replication factor larger than
 * the number of live nodes. The message is written for a client: the request handler sends it with
 * Kafka's {@code INVALID_REPLICATION_FACTOR} error code as it is.
 */
public final class PlacementException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public PlacementException(String message) {
        super(message);
    }
}
