/**
 * The history of a chaos run: what every client did and saw (sends, polls, transactions), what the final
 * phase read, and when the nemesis injected which fault. The workloads record it, the checker judges it,
 * the report draws it; {@link dev.sluice.chaos.history.HistoryFile} keeps it as JSON Lines.
 */
package dev.sluice.chaos.history;
