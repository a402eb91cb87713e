package dev.sluice.partitionstore;

/**
 * The only way time enters storage logic, so tests can drive it by hand.
 *
 * <p>Implementations must be thread-safe.
 */
@FunctionalInterface
public interface Clock {
    /** The wall-clock time used for timestamps, retention and segment rolling. */
    long nowMs();

    /** The system wall clock. */
    Clock SYSTEM = System::currentTimeMillis;
}
