package dev.sluice.raft.transport;

/** Blocks the calling thread; tests substitute one that only records what it was asked. */
@FunctionalInterface
interface Sleeper {
    /** The real thing. */
    Sleeper THREAD = Thread::sleep;

    /** Blocks for {@code durationMs} milliseconds. */
    void sleep(long durationMs) throws InterruptedException;
}
