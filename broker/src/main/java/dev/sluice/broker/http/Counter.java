package dev.sluice.broker.http;

import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * A monotonically increasing count, one per combination of label values (Prometheus type {@code counter}).
 * Names end in {@code _total} by convention. Thread-safe; an increment is a {@link LongAdder} add.
 */
public final class Counter extends Metric<Counter.Child> {
    private final Child unlabelled;

    Counter(String name, String help, String[] labelNames) {
        super(name, help, labelNames);
        this.unlabelled = labelNames.length == 0 ? labels() : null;
    }

    /** The series with these label values, created at 0 on first use. Keep it on hot paths. */
    public Child labels(String... labelValues) {
        return child(labelValues, key -> new Child());
    }

    /** Adds one to the counter without labels. */
    public void inc() {
        inc(1);
    }

    /** Adds {@code amount} (>= 0) to the counter without labels. */
    public void inc(long amount) {
        if (unlabelled == null) {
            throw new IllegalStateException(name() + " has labels " + labelNames() + "; use labels(...)");
        }
        unlabelled.inc(amount);
    }

    @Override
    String type() {
        return "counter";
    }

    @Override
    void renderChild(StringBuilder out, List<String> labelValues, Child child) {
        appendSeries(out, name(), labelValues, null, null);
        out.append(child.value()).append('\n');
    }

    /** One counter series. */
    public static final class Child {
        private final LongAdder count = new LongAdder();

        Child() {}

        public void inc() {
            count.increment();
        }

        /** @throws IllegalArgumentException if {@code amount} is negative: counters never go down */
        public void inc(long amount) {
            if (amount < 0) {
                throw new IllegalArgumentException("a counter cannot decrease, amount was " + amount);
            }
            count.add(amount);
        }

        public long value() {
            return count.sum();
        }
    }
}
