package dev.sluice.chaos.history;

import java.util.List;

/**
 * What a chaos run was: enough to read its history and to run it again.
 *
 * @param name the run's name (its directory's name)
 * @param seed the seed every random choice of the run came from
 * @param nodes how many node processes the cluster had at the start
 * @param faults the fault kinds the nemesis could choose from
 * @param workload the workload's name ({@code queue}, {@code txn})
 * @param startedAtEpochMs wall-clock time of the run's time zero
 * @param durationMs how long the fault phase was meant to last
 */
public record RunInfo(
        String name,
        long seed,
        int nodes,
        List<String> faults,
        String workload,
        long startedAtEpochMs,
        long durationMs) {
    public RunInfo {
        faults = List.copyOf(faults);
    }
}
