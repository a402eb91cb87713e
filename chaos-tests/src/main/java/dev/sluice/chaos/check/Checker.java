package dev.sluice.chaos.check;

import dev.sluice.chaos.history.FinalRead;
import dev.sluice.chaos.history.History;
import dev.sluice.chaos.history.Outcome;
import dev.sluice.chaos.history.Send;
import dev.sluice.chaos.history.Txn;
import java.util.Comparator;
import java.util.List;

/**
 * Judges a chaos run's {@link History}: counts every {@link Anomaly} (whose Javadoc defines each kind
 * precisely), keeps a few concrete examples of each, and adds plain statistics. Pure and deterministic: the
 * same history always gives an equal {@link Verdict}; nothing is read but the history. Time and memory are
 * roughly linear in the number of observations (hash maps of primitives, sorting within partitions), so
 * histories of a few million records are checked in seconds.
 *
 * <p>Stateless and thread-safe; one instance may check many histories concurrently.
 */
public final class Checker {
    /** How many examples of each kind a verdict keeps unless told otherwise. */
    public static final int DEFAULT_EXAMPLES_PER_KIND = 10;

    private final int examplesPerKind;

    public Checker() {
        this(DEFAULT_EXAMPLES_PER_KIND);
    }

    /** @param examplesPerKind how many examples of each kind to keep ({@code >= 0}) */
    public Checker(int examplesPerKind) {
        if (examplesPerKind < 0) {
            throw new IllegalArgumentException("examplesPerKind must be >= 0, was " + examplesPerKind);
        }
        this.examplesPerKind = examplesPerKind;
    }

    /**
     * @return the verdict on {@code history}, without cluster checks (see {@link Verdict#withClusterChecks})
     * @throws IllegalArgumentException if the history holds a negative partition or offset of a read
     */
    public Verdict check(History history) {
        HistoryIndex index = new HistoryIndex(history);
        Findings findings = new Findings(examplesPerKind);
        LogCheck log = new LogCheck(index, findings, examplesPerKind);
        log.run();
        OrderCheck order = new OrderCheck(index, findings);
        order.run();
        new TxnCheck(index, log.positionByValue(), findings).run();
        new CycleCheck(index, log.positionByValue(), findings).run();
        return Verdict.of(findings.counts(), findings.examples(), statistics(history, log, order));
    }

    private static Statistics statistics(History history, LogCheck log, OrderCheck order) {
        long[] sends = new long[Outcome.values().length];
        for (Send send : history.sends()) {
            sends[send.outcome().ordinal()]++;
        }
        long pollRecords =
                history.polls().stream().mapToLong(p -> p.records().size()).sum();
        long finalRecords =
                history.finalReads().stream().mapToLong(f -> f.records().size()).sum();
        long committed = history.txns().stream().filter(Txn::committed).count();
        long aborted = history.txns().stream().filter(Txn::aborted).count();
        List<Statistics.FinalReadStats> finals = history.finalReads().stream()
                .sorted(Comparator.comparing(FinalRead::topic)
                        .thenComparingInt(FinalRead::partition)
                        .thenComparing(FinalRead::isolation))
                .map(f -> new Statistics.FinalReadStats(
                        f.topic(),
                        f.partition(),
                        f.isolation(),
                        f.logStartOffset(),
                        f.endOffset(),
                        f.records().size()))
                .toList();
        return new Statistics(
                sends[Outcome.OK.ordinal()],
                sends[Outcome.FAIL.ordinal()],
                sends[Outcome.INFO.ordinal()],
                history.polls().size(),
                pollRecords,
                finalRecords,
                log.distinctValuesRead(),
                sends[Outcome.OK.ordinal()],
                committed,
                aborted,
                history.txns().size() - committed - aborted,
                order.subscribeNonmonotonic(),
                order.subscribeSkips(),
                finals);
    }
}
