package dev.sluice.chaos.history;

/**
 * One fault the nemesis injected, from when it began to when it was healed.
 *
 * @param startNs when the fault began (ns since the run started)
 * @param endNs when it was healed, or {@code -1} while it lasts
 * @param kind the fault's kind (kill, term, pause, isolate, split, cut, latency, loss, truncate-segment,
 *     truncate-raft-log, bit-flip, lose-unsynced, add-node, remove-node, restart)
 * @param target what it hit ({@code node 2}, {@code nodes 1,2 | 3}, ...)
 * @param detail why this target (for example {@code leader of chaos-3}) and what was done
 */
public record NemesisEvent(long startNs, long endNs, String kind, String target, String detail) {}
