/**
 * The Jepsen-style checker of chaos runs: {@link dev.sluice.chaos.check.Checker} turns a run's
 * {@link dev.sluice.chaos.history.History} into a {@link dev.sluice.chaos.check.Verdict} (anomaly counts and
 * examples, statistics, cluster checks), which {@link dev.sluice.chaos.check.VerdictJson} keeps as
 * {@code verdict.json}. Every anomaly kind is defined in {@link dev.sluice.chaos.check.Anomaly}.
 */
package dev.sluice.chaos.check;
