package dev.sluice.chaos.check;

import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * What a chaos run proved: the count of every {@link Anomaly} kind with a few concrete examples each, plain
 * statistics, the cluster-level checks the harness makes itself (replica segment comparison,
 * {@code sluice dump --verify}), and the problems of the run itself (a node that did not come back, a cluster
 * that did not settle, a final read that did not reach the end, a workload's own check). Immutable; safe to
 * share between threads.
 *
 * <p>Invariants: {@code counts} and {@code examples} hold every kind (a zero count and an empty list when it
 * never happened); {@code valid} is true exactly when every count is zero and the three lists of failures are
 * empty.
 *
 * @param valid whether the run showed no anomaly and no cluster-check failure
 * @param counts how many of each kind, in {@link Anomaly} order
 * @param examples up to a few human-readable examples of each kind, in {@link Anomaly} order
 * @param stats plain counts about the history
 * @param replicaMismatches segment files that differ between replicas, one line each
 * @param verifyFailures failures reported by {@code sluice dump --verify}, one line each
 * @param runProblems what kept the run from ending as it must, one line each
 */
public record Verdict(
        boolean valid,
        Map<Anomaly, Long> counts,
        Map<Anomaly, List<String>> examples,
        Statistics stats,
        List<String> replicaMismatches,
        List<String> verifyFailures,
        List<String> runProblems) {

    public Verdict {
        counts = Collections.unmodifiableMap(complete(counts));
        examples = Collections.unmodifiableMap(copyExamples(examples));
        replicaMismatches = List.copyOf(replicaMismatches);
        verifyFailures = List.copyOf(verifyFailures);
        runProblems = List.copyOf(runProblems);
        boolean expected = computeValid(counts, replicaMismatches, verifyFailures, runProblems);
        if (valid != expected) {
            throw new IllegalArgumentException(
                    "valid=" + valid + " contradicts counts " + counts + ", " + replicaMismatches.size()
                            + " replica mismatches, " + verifyFailures.size() + " verify failures and "
                            + runProblems.size() + " run problems");
        }
    }

    /** A verdict on a history alone, before any cluster check: {@code valid} follows from {@code counts}. */
    public static Verdict of(Map<Anomaly, Long> counts, Map<Anomaly, List<String>> examples, Statistics stats) {
        return new Verdict(
                computeValid(complete(counts), List.of(), List.of(), List.of()),
                counts,
                examples,
                stats,
                List.of(),
                List.of(),
                List.of());
    }

    /**
     * @return a copy with the harness's cluster checks added; it is valid only if this verdict is free of
     *     anomalies and both lists are empty
     */
    public Verdict withClusterChecks(List<String> replicaMismatches, List<String> verifyFailures) {
        boolean newValid = computeValid(counts, replicaMismatches, verifyFailures, runProblems);
        return new Verdict(newValid, counts, examples, stats, replicaMismatches, verifyFailures, runProblems);
    }

    /** @return a copy with {@code problems} of the run itself added; any problem makes it invalid */
    public Verdict withRunProblems(List<String> problems) {
        List<String> all = new java.util.ArrayList<>(runProblems);
        all.addAll(problems);
        boolean newValid = computeValid(counts, replicaMismatches, verifyFailures, all);
        return new Verdict(newValid, counts, examples, stats, replicaMismatches, verifyFailures, all);
    }

    /** @return the count of {@code anomaly} */
    public long count(Anomaly anomaly) {
        return counts.get(anomaly);
    }

    /** @return the kinds with a non-zero count, in {@link Anomaly} order */
    public List<Anomaly> anomalies() {
        return counts.entrySet().stream()
                .filter(e -> e.getValue() > 0)
                .map(Map.Entry::getKey)
                .toList();
    }

    private static boolean computeValid(
            Map<Anomaly, Long> counts,
            List<String> replicaMismatches,
            List<String> verifyFailures,
            List<String> runProblems) {
        return counts.values().stream().allMatch(c -> c == 0)
                && replicaMismatches.isEmpty()
                && verifyFailures.isEmpty()
                && runProblems.isEmpty();
    }

    private static EnumMap<Anomaly, Long> complete(Map<Anomaly, Long> counts) {
        EnumMap<Anomaly, Long> result = new EnumMap<>(Anomaly.class);
        for (Anomaly anomaly : Anomaly.values()) {
            Long count = counts.get(anomaly);
            if (count != null && count < 0) {
                throw new IllegalArgumentException("negative count " + count + " of " + anomaly);
            }
            result.put(anomaly, count == null ? 0L : count);
        }
        return result;
    }

    private static EnumMap<Anomaly, List<String>> copyExamples(Map<Anomaly, List<String>> examples) {
        EnumMap<Anomaly, List<String>> result = new EnumMap<>(Anomaly.class);
        for (Anomaly anomaly : Anomaly.values()) {
            result.put(anomaly, List.copyOf(examples.getOrDefault(anomaly, List.of())));
        }
        return result;
    }
}
