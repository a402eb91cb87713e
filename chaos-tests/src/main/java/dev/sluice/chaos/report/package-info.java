/**
 * The report of a chaos run, written next to its history: {@link dev.sluice.chaos.report.RunReport} writes
 * {@code verdict.json}, {@code summary.md} and {@code timeline.png}.
 */
package dev.sluice.chaos.report;
