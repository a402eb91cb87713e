package dev.sluice.chaos.check;

import dev.sluice.chaos.history.ConsumerMode;
import dev.sluice.chaos.history.FinalRead;
import dev.sluice.chaos.history.History;
import dev.sluice.chaos.history.Isolation;
import dev.sluice.chaos.history.NemesisEvent;
import dev.sluice.chaos.history.Outcome;
import dev.sluice.chaos.history.Poll;
import dev.sluice.chaos.history.Read;
import dev.sluice.chaos.history.RunInfo;
import dev.sluice.chaos.history.Send;
import dev.sluice.chaos.history.Txn;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Builds small synthetic histories for checker and report tests. Every record is on topic {@value #TOPIC};
 * unless given, times come from a clock that advances one millisecond per entry. Not thread-safe.
 */
public final class HistoryBuilder {
    public static final String TOPIC = "chaos";
    public static final long MS = 1_000_000L;

    private final List<Send> sends = new ArrayList<>();
    private final List<Poll> polls = new ArrayList<>();
    private final List<Txn> txns = new ArrayList<>();
    private final List<FinalRead> finalReads = new ArrayList<>();
    private final List<NemesisEvent> nemesis = new ArrayList<>();
    private long nowNs;

    /** @return a read of {@code value} at {@code partition}@{@code offset} */
    public static Read r(int partition, long offset, long value) {
        return new Read(TOPIC, partition, offset, "k" + value, value);
    }

    private long tick() {
        nowNs += MS;
        return nowNs;
    }

    /** An acknowledged non-transactional send. */
    public HistoryBuilder ok(int process, int partition, long value, long offset) {
        return send(process, partition, value, Outcome.OK, offset, -1);
    }

    public HistoryBuilder send(int process, int partition, long value, Outcome outcome, long offset, long txn) {
        long invoke = tick();
        return send(new Send(
                process,
                TOPIC,
                partition,
                "k" + value,
                value,
                invoke,
                invoke + MS / 2,
                outcome,
                outcome == Outcome.OK ? offset : -1,
                outcome == Outcome.OK ? null : "TimeoutException",
                txn));
    }

    public HistoryBuilder send(Send send) {
        sends.add(send);
        return this;
    }

    public HistoryBuilder txn(long id, int process, boolean commit, Outcome outcome, long endInvokeNs) {
        txns.add(new Txn(
                id,
                process,
                "tx-" + process,
                0,
                endInvokeNs,
                endInvokeNs < 0 ? tick() : endInvokeNs + MS,
                commit,
                outcome));
        return this;
    }

    public HistoryBuilder poll(int process, ConsumerMode mode, Isolation isolation, int session, Read... records) {
        long invoke = tick();
        return poll(new Poll(process, mode, isolation, session, invoke, invoke + MS / 2, Arrays.asList(records), -1));
    }

    public HistoryBuilder poll(Poll poll) {
        polls.add(poll);
        return this;
    }

    /** A poll completing at {@code completeNs}, the input of transaction {@code txn} (or -1). */
    public HistoryBuilder pollAt(long completeNs, int process, Isolation isolation, long txn, Read... records) {
        return poll(new Poll(
                process,
                ConsumerMode.ASSIGN,
                isolation,
                1,
                completeNs - MS / 2,
                completeNs,
                Arrays.asList(records),
                txn));
    }

    public HistoryBuilder assign(int process, Isolation isolation, Read... records) {
        return poll(process, ConsumerMode.ASSIGN, isolation, 1, records);
    }

    public HistoryBuilder finalRead(int partition, Isolation isolation, long logStart, long end, Read... records) {
        finalReads.add(new FinalRead(TOPIC, partition, isolation, logStart, end, Arrays.asList(records)));
        return this;
    }

    /** Both final reads of a partition returning the same records, from offset 0 to {@code end}. */
    public HistoryBuilder finalReads(int partition, long end, Read... records) {
        finalRead(partition, Isolation.READ_UNCOMMITTED, 0, end, records);
        return finalRead(partition, Isolation.READ_COMMITTED, 0, end, records);
    }

    public HistoryBuilder nemesis(long startNs, long endNs, String kind, String target) {
        nemesis.add(new NemesisEvent(startNs, endNs, kind, target, "because " + kind));
        return this;
    }

    public History build() {
        RunInfo info = new RunInfo("test-run", 42, 3, List.of("kill", "pause"), "queue", 1_700_000_000_000L, 60_000);
        return new History(info, sends, polls, txns, finalReads, nemesis);
    }
}
