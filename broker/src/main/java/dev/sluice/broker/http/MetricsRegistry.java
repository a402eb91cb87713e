package dev.sluice.broker.http;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleSupplier;

/**
 * The metrics of one node, rendered in the Prometheus text exposition format 0.0.4.
 *
 * <p>Registration is rare and takes a lock; recording is lock-free ({@link Counter}, {@link Histogram}) or
 * free ({@link Gauge} suppliers, read at scrape). Families render in registration order, series within a
 * family sorted by label values. A name can be registered once.
 *
 * <p>Thread-safe.
 */
public final class MetricsRegistry {
    /** The content type of {@link #scrape()}'s output. */
    public static final String CONTENT_TYPE = PrometheusText.CONTENT_TYPE;

    private final Map<String, Metric<?>> metrics = new LinkedHashMap<>();

    /** A counter family; without label names it is a single series starting at 0. */
    public Counter counter(String name, String help, String... labelNames) {
        return register(new Counter(name, help, labelNames));
    }

    /** A gauge family whose series are added with {@link Gauge#register}. */
    public Gauge gauge(String name, String help, String... labelNames) {
        return register(new Gauge(name, help, labelNames));
    }

    /** A gauge without labels, read from {@code supplier} at every scrape. */
    public Gauge gauge(String name, String help, DoubleSupplier supplier) {
        Gauge gauge = register(new Gauge(name, help, new String[0]));
        gauge.register(supplier);
        return gauge;
    }

    /**
     * A histogram family.
     *
     * @param upperBounds finite, strictly increasing bucket bounds; +Inf is implied (see
     *     {@link Histogram#latencyMsBuckets()}, {@link Histogram#bytesBuckets()})
     */
    public Histogram histogram(String name, String help, double[] upperBounds, String... labelNames) {
        return register(new Histogram(name, help, upperBounds, labelNames));
    }

    /** The registered metric of that name, or null. */
    public synchronized Metric<?> get(String name) {
        return metrics.get(name);
    }

    /** Every metric in the text exposition format 0.0.4. */
    public String scrape() {
        List<Metric<?>> snapshot;
        synchronized (this) {
            snapshot = new ArrayList<>(metrics.values());
        }
        StringBuilder out = new StringBuilder(4096);
        for (Metric<?> metric : snapshot) {
            metric.render(out);
        }
        return out.toString();
    }

    private synchronized <M extends Metric<?>> M register(M metric) {
        String name = metric.name();
        for (String existing : metrics.keySet()) {
            if (collides(name, existing) || collides(existing, name)) {
                throw new IllegalArgumentException("metric " + name + " collides with registered metric " + existing);
            }
        }
        metrics.put(name, metric);
        return metric;
    }

    /** True when {@code name} equals {@code other} or one of the sample names of histogram {@code other}. */
    private boolean collides(String name, String other) {
        if (name.equals(other)) {
            return true;
        }
        Metric<?> otherMetric = metrics.get(other);
        return otherMetric instanceof Histogram
                && (name.equals(other + "_bucket") || name.equals(other + "_sum") || name.equals(other + "_count"));
    }
}
