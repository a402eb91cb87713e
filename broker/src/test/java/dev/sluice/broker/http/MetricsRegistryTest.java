package dev.sluice.broker.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.broker.http.PrometheusTextParser.Family;
import dev.sluice.broker.http.PrometheusTextParser.Sample;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class MetricsRegistryTest {
    private final MetricsRegistry registry = new MetricsRegistry();

    @Test
    void shouldRenderAnExpositionThatParsesBack() {
        Counter requests = registry.counter("test_requests_total", "Requests\nby \\kind\\", "kind", "status");
        requests.labels("produce", "ok").inc(3);
        requests.labels("fe\"tch\\\n", "ok").inc();
        registry.gauge("test_temperature", "A gauge", () -> 21.5);
        registry.gauge("test_unlabelled_counter_like", "Integral gauge", () -> 7);
        Histogram latency = registry.histogram("test_latency_ms", "Latency", new double[] {1, 5, 10}, "api");
        for (double value : new double[] {0.5, 1, 2, 5, 7, 100}) {
            latency.labels("Fetch").observe(value);
        }
        registry.counter("test_plain_total", "No labels").inc();

        Map<String, Family> families = PrometheusTextParser.parse(registry.scrape());

        assertThat(families.keySet())
                .containsExactly(
                        "test_requests_total",
                        "test_temperature",
                        "test_unlabelled_counter_like",
                        "test_latency_ms",
                        "test_plain_total");
        Family counter = families.get("test_requests_total");
        assertThat(counter.type()).isEqualTo("counter");
        assertThat(counter.help()).isEqualTo("Requests\nby \\kind\\");
        assertThat(counter.samples())
                .containsExactly(
                        new Sample("test_requests_total", Map.of("kind", "fe\"tch\\\n", "status", "ok"), 1),
                        new Sample("test_requests_total", Map.of("kind", "produce", "status", "ok"), 3));
        assertThat(families.get("test_temperature").samples())
                .containsExactly(new Sample("test_temperature", Map.of(), 21.5));
        assertThat(families.get("test_plain_total").samples())
                .containsExactly(new Sample("test_plain_total", Map.of(), 1));

        Family histogram = families.get("test_latency_ms");
        assertThat(histogram.type()).isEqualTo("histogram");
        assertThat(histogram.samples())
                .containsExactly(
                        new Sample("test_latency_ms_bucket", Map.of("api", "Fetch", "le", "1"), 2),
                        new Sample("test_latency_ms_bucket", Map.of("api", "Fetch", "le", "5"), 4),
                        new Sample("test_latency_ms_bucket", Map.of("api", "Fetch", "le", "10"), 5),
                        new Sample("test_latency_ms_bucket", Map.of("api", "Fetch", "le", "+Inf"), 6),
                        new Sample("test_latency_ms_sum", Map.of("api", "Fetch"), 115.5),
                        new Sample("test_latency_ms_count", Map.of("api", "Fetch"), 6));
        assertHistogramsWellFormed(families);
    }

    @Test
    void shouldRenderHelpAndTypeForAFamilyWithoutSeries() {
        registry.counter("test_empty_total", "Nothing yet", "api");

        assertThat(registry.scrape())
                .isEqualTo("# HELP test_empty_total Nothing yet\n# TYPE test_empty_total counter\n");
    }

    @Test
    void shouldLeaveOutAGaugeWhoseSupplierFailsAndRemoveSeries() {
        Gauge gauge = registry.gauge("test_gauge", "Per partition", "partition");
        gauge.register(() -> 1, "p0");
        gauge.register(
                () -> {
                    throw new IllegalStateException("gone");
                },
                "p1");
        gauge.register(() -> Double.NaN, "p2");

        assertThat(PrometheusTextParser.parse(registry.scrape())
                        .get("test_gauge")
                        .samples())
                .extracting(s -> s.labels().get("partition"))
                .containsExactly("p0", "p2");
        gauge.remove("p0");
        assertThat(PrometheusTextParser.parse(registry.scrape())
                        .get("test_gauge")
                        .samples())
                .extracting(s -> s.labels().get("partition"))
                .containsExactly("p2");
    }

    @Test
    void shouldRejectMisuse() {
        registry.counter("test_total", "x", "api");
        Histogram histogram = registry.histogram("test_size", "x", Histogram.bytesBuckets());

        assertThatThrownBy(() -> registry.gauge("test_total", "again", () -> 1))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> registry.counter("test_size_count", "clashes with the histogram"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> registry.counter("bad-name", "x")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> registry.counter("test_other_total", "x", "__reserved"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> registry.histogram("test_h", "x", new double[] {1, 1}))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> registry.histogram("test_h2", "x", new double[] {1}, "le"))
                .isInstanceOf(IllegalArgumentException.class);
        Counter counter = (Counter) registry.get("test_total");
        assertThatThrownBy(() -> counter.labels("a", "b")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(counter::inc).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> counter.labels("a").inc(-1)).isInstanceOf(IllegalArgumentException.class);
        histogram.observe(Double.NaN);
        assertThat(histogram.labels().count()).isZero();
    }

    @Test
    @Timeout(30)
    void shouldCountExactlyUnderConcurrentUpdatesAndStayConsistentWhileScraped() throws Exception {
        Counter counter = registry.counter("test_ops_total", "ops", "thread");
        Histogram histogram = registry.histogram("test_op_ms", "op latency", Histogram.latencyMsBuckets());
        int threads = 4;
        int perThread = 50_000;
        ExecutorService pool = Executors.newFixedThreadPool(threads + 1);
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<Future<?>> writers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                Counter.Child child = counter.labels("all");
                writers.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < perThread; i++) {
                        child.inc();
                        histogram.observe(i % 1_000);
                    }
                    return null;
                }));
            }
            Future<Integer> scraper = pool.submit(() -> {
                start.await();
                int scrapes = 0;
                while (writers.stream().anyMatch(w -> !w.isDone())) {
                    assertHistogramsWellFormed(PrometheusTextParser.parse(registry.scrape()));
                    scrapes++;
                }
                return scrapes;
            });
            start.countDown();
            for (Future<?> writer : writers) {
                writer.get(20, TimeUnit.SECONDS);
            }
            assertThat(scraper.get(20, TimeUnit.SECONDS)).isPositive();
        } finally {
            pool.shutdownNow();
        }
        assertThat(counter.labels("all").value()).isEqualTo((long) threads * perThread);
        assertThat(histogram.labels().count()).isEqualTo((long) threads * perThread);
        assertHistogramsWellFormed(PrometheusTextParser.parse(registry.scrape()));
    }

    /** Buckets ascend in le, counts never decrease, the last is +Inf and equals _count. */
    static void assertHistogramsWellFormed(Map<String, Family> families) {
        for (Family family : families.values()) {
            if (!family.type().equals("histogram")) {
                continue;
            }
            Map<Map<String, String>, List<Sample>> bucketsBySeries = new java.util.LinkedHashMap<>();
            Map<Map<String, String>, Double> counts = new java.util.HashMap<>();
            for (Sample sample : family.samples()) {
                Map<String, String> series = new java.util.TreeMap<>(sample.labels());
                series.remove("le");
                if (sample.name().endsWith("_bucket")) {
                    bucketsBySeries
                            .computeIfAbsent(series, k -> new ArrayList<>())
                            .add(sample);
                } else if (sample.name().endsWith("_count")) {
                    counts.put(series, sample.value());
                }
            }
            bucketsBySeries.forEach((series, buckets) -> {
                double previousBound = Double.NEGATIVE_INFINITY;
                double previousCount = 0;
                for (Sample bucket : buckets) {
                    String le = bucket.labels().get("le");
                    double bound = le.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le);
                    assertThat(bound).isGreaterThan(previousBound);
                    assertThat(bucket.value()).isGreaterThanOrEqualTo(previousCount);
                    previousBound = bound;
                    previousCount = bucket.value();
                }
                assertThat(previousBound).isEqualTo(Double.POSITIVE_INFINITY);
                assertThat(counts.get(series)).isEqualTo(previousCount);
            });
        }
    }
}
