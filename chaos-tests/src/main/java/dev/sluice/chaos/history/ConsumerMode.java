package dev.sluice.chaos.history;

/**
 * How a consumer gets its partitions. In {@link #ASSIGN} mode it reads partitions it chose, from positions it
 * chose, so within one session its polls of a partition must never go back or skip a record. In
 * {@link #SUBSCRIBE} mode a group rebalance may move it back to a committed offset (a new session).
 */
public enum ConsumerMode {
    ASSIGN,
    SUBSCRIBE
}
