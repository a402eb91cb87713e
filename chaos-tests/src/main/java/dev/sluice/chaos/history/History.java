package dev.sluice.chaos.history;

import java.util.List;

/**
 * Everything a run recorded, in the order it was recorded. Immutable.
 *
 * @param info what the run was
 * @param sends every send, in completion order
 * @param polls every poll, in completion order
 * @param txns every transaction, in completion order
 * @param finalReads the final phase's reads, one per partition and isolation level
 * @param nemesis every fault injected, in start order
 */
public record History(
        RunInfo info,
        List<Send> sends,
        List<Poll> polls,
        List<Txn> txns,
        List<FinalRead> finalReads,
        List<NemesisEvent> nemesis) {
    public History {
        sends = List.copyOf(sends);
        polls = List.copyOf(polls);
        txns = List.copyOf(txns);
        finalReads = List.copyOf(finalReads);
        nemesis = List.copyOf(nemesis);
    }
}
