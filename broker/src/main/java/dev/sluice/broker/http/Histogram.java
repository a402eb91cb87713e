package dev.sluice.broker.http;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/**
 * Observations counted into fixed buckets, one set per combination of label values (Prometheus type
 * {@code histogram}): {@code _bucket{le="b"}} is the number of observations {@code <= b} (cumulative, the last
 * bucket is {@code le="+Inf"}), {@code _sum} their sum, {@code _count} their number.
 *
 * <p>Thread-safe and cheap to observe: a binary search over the bounds and two adder updates. Each bucket is
 * counted on its own and made cumulative when scraped, and {@code _count} is the sum of the buckets, so a
 * scrape concurrent with observations still shows {@code _count == _bucket{le="+Inf"}} and non-decreasing
 * buckets.
 */
public final class Histogram extends Metric<Histogram.Child> {
    private static final double[] LATENCY_MS_BUCKETS = {
        0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000
    };
    private static final double[] BYTES_BUCKETS = {
        64, 256, 1_024, 4_096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304, 16_777_216, 67_108_864, 268_435_456
    };

    private final double[] upperBounds;
    private final String[] upperBoundLabels;
    private final Child unlabelled;

    Histogram(String name, String help, double[] upperBounds, String[] labelNames) {
        super(name, help, labelNames);
        if (upperBounds.length == 0) {
            throw new IllegalArgumentException("histogram " + name + " needs at least one bucket");
        }
        for (int i = 0; i < upperBounds.length; i++) {
            if (Double.isNaN(upperBounds[i]) || Double.isInfinite(upperBounds[i])) {
                throw new IllegalArgumentException("bucket bounds of " + name + " must be finite (+Inf is implied)");
            }
            if (i > 0 && upperBounds[i] <= upperBounds[i - 1]) {
                throw new IllegalArgumentException(
                        "bucket bounds of " + name + " must increase strictly: " + Arrays.toString(upperBounds));
            }
        }
        if (labelNames().contains("le")) {
            throw new IllegalArgumentException("histogram " + name + " cannot have a label named le");
        }
        this.upperBounds = upperBounds.clone();
        this.upperBoundLabels = new String[upperBounds.length + 1];
        for (int i = 0; i < upperBounds.length; i++) {
            upperBoundLabels[i] = PrometheusText.formatDouble(upperBounds[i]);
        }
        upperBoundLabels[upperBounds.length] = "+Inf";
        this.unlabelled = labelNames.length == 0 ? labels() : null;
    }

    /** Latency buckets in milliseconds, 0.5 ms to 30 s. */
    public static double[] latencyMsBuckets() {
        return LATENCY_MS_BUCKETS.clone();
    }

    /** Size buckets in bytes, 64 B to 256 MiB, by powers of four. */
    public static double[] bytesBuckets() {
        return BYTES_BUCKETS.clone();
    }

    /** The bucket upper bounds, without the implied +Inf. */
    public double[] upperBounds() {
        return upperBounds.clone();
    }

    /** The series with these label values, created empty on first use. Keep it on hot paths. */
    public Child labels(String... labelValues) {
        return child(labelValues, key -> new Child(upperBounds));
    }

    /** Records {@code value} in the histogram without labels. */
    public void observe(double value) {
        if (unlabelled == null) {
            throw new IllegalStateException(name() + " has labels " + labelNames() + "; use labels(...)");
        }
        unlabelled.observe(value);
    }

    @Override
    String type() {
        return "histogram";
    }

    @Override
    void renderChild(StringBuilder out, List<String> labelValues, Child child) {
        long[] cumulative = child.cumulativeCounts();
        String bucketName = name() + "_bucket";
        for (int i = 0; i < cumulative.length; i++) {
            appendSeries(out, bucketName, labelValues, "le", upperBoundLabels[i]);
            out.append(cumulative[i]).append('\n');
        }
        appendSeries(out, name() + "_sum", labelValues, null, null);
        out.append(PrometheusText.formatDouble(child.sum())).append('\n');
        appendSeries(out, name() + "_count", labelValues, null, null);
        out.append(cumulative[cumulative.length - 1]).append('\n');
    }

    /** One histogram series. */
    public static final class Child {
        private final double[] upperBounds;
        /** counts[i]: observations in (upperBounds[i-1], upperBounds[i]]; the last one is (last bound, +Inf). */
        private final LongAdder[] counts;

        private final DoubleAdder sum = new DoubleAdder();

        Child(double[] upperBounds) {
            this.upperBounds = upperBounds;
            this.counts = new LongAdder[upperBounds.length + 1];
            for (int i = 0; i < counts.length; i++) {
                counts[i] = new LongAdder();
            }
        }

        /** Records one observation; NaN is ignored. */
        public void observe(double value) {
            if (Double.isNaN(value)) {
                return;
            }
            int index = Arrays.binarySearch(upperBounds, value);
            counts[index >= 0 ? index : -index - 1].increment();
            sum.add(value);
        }

        /** Cumulative bucket counts, the last one (+Inf) being the total count. */
        public long[] cumulativeCounts() {
            long[] cumulative = new long[counts.length];
            long running = 0;
            for (int i = 0; i < counts.length; i++) {
                running += counts[i].sum();
                cumulative[i] = running;
            }
            return cumulative;
        }

        public long count() {
            long total = 0;
            for (LongAdder count : counts) {
                total += count.sum();
            }
            return total;
        }

        public double sum() {
            return sum.sum();
        }
    }
}
