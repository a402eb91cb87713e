package dev.sluice.chaos.history;

/** How an operation ended, as the client saw it (Jepsen's {@code :ok}, {@code :fail}, {@code :info}). */
public enum Outcome {
    /** Acknowledged: it happened. */
    OK,
    /** Refused for certain: it did not happen (a non-retriable error before anything was written). */
    FAIL,
    /** Indeterminate: a timeout or a lost connection; it may or may not have happened. */
    INFO
}
