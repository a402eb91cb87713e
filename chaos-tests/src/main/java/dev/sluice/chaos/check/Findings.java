package dev.sluice.chaos.check;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Accumulates what the checks find: an exact count per {@link Anomaly} and the first few examples of each, in
 * the order found. Examples are built only while there is room for them, so a run with millions of anomalies
 * does not build millions of strings. Not thread-safe.
 */
final class Findings {
    private final int examplesPerKind;
    private final long[] counts = new long[Anomaly.values().length];
    private final List<List<String>> examples = new ArrayList<>();

    Findings(int examplesPerKind) {
        this.examplesPerKind = examplesPerKind;
        for (int i = 0; i < counts.length; i++) {
            examples.add(new ArrayList<>());
        }
    }

    /** Counts one {@code anomaly}, and keeps its example if there is still room. */
    void report(Anomaly anomaly, Supplier<String> example) {
        counts[anomaly.ordinal()]++;
        List<String> kept = examples.get(anomaly.ordinal());
        if (kept.size() < examplesPerKind) {
            kept.add(example.get());
        }
    }

    long count(Anomaly anomaly) {
        return counts[anomaly.ordinal()];
    }

    Map<Anomaly, Long> counts() {
        Map<Anomaly, Long> result = new EnumMap<>(Anomaly.class);
        for (Anomaly anomaly : Anomaly.values()) {
            result.put(anomaly, counts[anomaly.ordinal()]);
        }
        return result;
    }

    Map<Anomaly, List<String>> examples() {
        Map<Anomaly, List<String>> result = new EnumMap<>(Anomaly.class);
        for (Anomaly anomaly : Anomaly.values()) {
            result.put(anomaly, List.copyOf(examples.get(anomaly.ordinal())));
        }
        return result;
    }
}
