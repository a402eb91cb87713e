package dev.sluice.broker.http;

import java.util.List;
import java.util.Objects;
import java.util.function.DoubleSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A value read when scraped, from a supplier per combination of label values (Prometheus type {@code gauge}).
 * Nothing is recorded on the hot path: the supplier reads state that exists anyway.
 *
 * <p>Suppliers are called on the scraping thread and must be thread-safe and fast. A supplier that throws
 * leaves its series out of that scrape.
 */
public final class Gauge extends Metric<DoubleSupplier> {
    private static final Logger log = LoggerFactory.getLogger(Gauge.class);

    Gauge(String name, String help, String[] labelNames) {
        super(name, help, labelNames);
    }

    /** Sets (or replaces) the supplier of the series with these label values. */
    public void register(DoubleSupplier supplier, String... labelValues) {
        put(labelValues, Objects.requireNonNull(supplier, "supplier"));
    }

    @Override
    String type() {
        return "gauge";
    }

    @Override
    void renderChild(StringBuilder out, List<String> labelValues, DoubleSupplier supplier) {
        double value;
        try {
            value = supplier.getAsDouble();
        } catch (RuntimeException e) {
            log.debug("Gauge {}{} failed; left out of this scrape", name(), labelValues, e);
            return;
        }
        appendSeries(out, name(), labelValues, null, null);
        out.append(PrometheusText.formatDouble(value)).append('\n');
    }
}
