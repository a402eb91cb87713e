package dev.sluice.chaos.history;

/** A consumer's {@code isolation.level}. */
public enum Isolation {
    READ_UNCOMMITTED,
    READ_COMMITTED
}
