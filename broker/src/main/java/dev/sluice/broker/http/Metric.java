package dev.sluice.broker.http;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * A metric family: one name, one help text, one type, and one time series (child) per combination of label
 * values. Children are created on first use and live until {@link #remove removed}.
 *
 * <p>Thread-safe. Looking a child up allocates; hot paths keep the child ({@code Counter.Child},
 * {@code Histogram.Child}) instead of calling {@code labels(...)} each time.
 *
 * @param <C> the child type
 */
public abstract sealed class Metric<C> permits Counter, Gauge, Histogram {
    private static final Pattern METRIC_NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
    private static final Comparator<List<String>> LABEL_VALUES_ORDER = (a, b) -> {
        for (int i = 0; i < a.size(); i++) {
            int c = a.get(i).compareTo(b.get(i));
            if (c != 0) {
                return c;
            }
        }
        return 0;
    };

    private final String name;
    private final String help;
    private final List<String> labelNames;
    private final Map<List<String>, C> children = new ConcurrentHashMap<>();

    Metric(String name, String help, String[] labelNames) {
        this.name = Objects.requireNonNull(name, "name");
        this.help = Objects.requireNonNull(help, "help");
        if (!METRIC_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("metric name " + name + " must match " + METRIC_NAME);
        }
        List<String> names = List.of(labelNames);
        for (String label : names) {
            if (!LABEL_NAME.matcher(label).matches() || label.startsWith("__")) {
                throw new IllegalArgumentException(
                        "label name " + label + " of " + name + " must match " + LABEL_NAME + " and not start with __");
            }
        }
        if (names.size() != names.stream().distinct().count()) {
            throw new IllegalArgumentException("label names of " + name + " repeat: " + names);
        }
        this.labelNames = names;
    }

    public final String name() {
        return name;
    }

    public final String help() {
        return help;
    }

    public final List<String> labelNames() {
        return labelNames;
    }

    /** The Prometheus type: counter, gauge or histogram. */
    abstract String type();

    /** Appends the samples of one child, one line each. */
    abstract void renderChild(StringBuilder out, List<String> labelValues, C child);

    /** Removes the child with these label values, if any: its series disappears from the exposition. */
    public final void remove(String... labelValues) {
        children.remove(key(labelValues));
    }

    final C child(String[] labelValues, Function<List<String>, C> create) {
        List<String> key = key(labelValues);
        C child = children.get(key);
        return child != null ? child : children.computeIfAbsent(key, create);
    }

    final void put(String[] labelValues, C child) {
        children.put(key(labelValues), child);
    }

    private List<String> key(String[] labelValues) {
        if (labelValues.length != labelNames.size()) {
            throw new IllegalArgumentException(
                    name + " has labels " + labelNames + ", got values " + Arrays.toString(labelValues));
        }
        for (String value : labelValues) {
            Objects.requireNonNull(value, "label value");
        }
        return List.of(labelValues);
    }

    final void render(StringBuilder out) {
        out.append("# HELP ").append(name).append(' ');
        PrometheusText.appendEscapedHelp(out, help);
        out.append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type()).append('\n');
        List<Map.Entry<List<String>, C>> sorted = new ArrayList<>(children.entrySet());
        sorted.sort(Map.Entry.comparingByKey(LABEL_VALUES_ORDER));
        for (Map.Entry<List<String>, C> entry : sorted) {
            renderChild(out, entry.getKey(), entry.getValue());
        }
    }

    /** Appends {@code name{l1="v1",...,extraName="extraValue"} } (the braces only when there are labels). */
    final void appendSeries(
            StringBuilder out, String sampleName, List<String> labelValues, String extraName, String extraValue) {
        out.append(sampleName);
        if (labelNames.isEmpty() && extraName == null) {
            out.append(' ');
            return;
        }
        out.append('{');
        for (int i = 0; i < labelNames.size(); i++) {
            if (i > 0) {
                out.append(',');
            }
            out.append(labelNames.get(i)).append("=\"");
            PrometheusText.appendEscapedLabelValue(out, labelValues.get(i));
            out.append('"');
        }
        if (extraName != null) {
            if (!labelNames.isEmpty()) {
                out.append(',');
            }
            out.append(extraName).append("=\"").append(extraValue).append('"');
        }
        out.append("} ");
    }
}
