package dev.sluice.coordinator.txn;

/**
 * Where {@link TransactionCoordinatorState} gets new producer ids. Allocating them (blocks reserved through the
 * coordinator group, as Kafka's controller hands out producer-id blocks) is the runtime's business; the state
 * only asks for the next one, on the leader, and persists it inside its own records, so replay never asks.
 */
@FunctionalInterface
public interface ProducerIdSource {
    /** What {@link #next()} returns when no id is available right now. */
    long NONE_AVAILABLE = -1L;

    /**
     * A producer id never handed out before, greater than every id handed out before; or {@link
     * #NONE_AVAILABLE} if none can be given right now (the request then fails with the retriable
     * {@code COORDINATOR_LOAD_IN_PROGRESS}, as Kafka answers while it waits for its next block of ids).
     */
    long next();
}
