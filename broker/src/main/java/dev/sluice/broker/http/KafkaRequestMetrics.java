package dev.sluice.broker.http;

import dev.sluice.broker.net.RequestObserver;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;

/**
 * Records the Kafka listener's requests and connections into a {@link MetricsRegistry}:
 *
 * <ul>
 *   <li>{@code sluice_requests_total{api,error}}: answered requests, one per request; {@code error} is the
 *       request's main error: {@code NONE} when every part succeeded, else the most frequent other error;
 *   <li>{@code sluice_request_errors_total{api,error}}: the errors of the responses counted as Kafka's
 *       {@code ErrorsPerSec} does, one per partition or resource ({@code AbstractResponse.errorCounts()});
 *   <li>{@code sluice_request_latency_ms{api}}: histogram, from the request read to the response written;
 *   <li>{@code sluice_request_bytes_total{api}}, {@code sluice_response_bytes_total{api}}: bytes on the wire,
 *       size prefix included;
 *   <li>{@code sluice_connections}: open connections.
 * </ul>
 *
 * <p>{@code api} is Kafka's request name ({@code Produce}, {@code Fetch}, ...), {@code error} the
 * {@link Errors} name. Thread-safe; each series is looked up once and then cached in arrays indexed by
 * {@link ApiKeys} and {@link Errors} ordinals, so recording allocates nothing.
 */
public final class KafkaRequestMetrics implements RequestObserver {
    private static final ApiKeys[] APIS = ApiKeys.values();
    private static final Errors[] ERRORS = Errors.values();

    private final Counter requests;
    private final Counter errors;
    private final Histogram latencyMs;
    private final Counter requestBytes;
    private final Counter responseBytes;
    private final AtomicInteger connections = new AtomicInteger();

    private final AtomicReferenceArray<Counter.Child> requestsByApiAndError =
            new AtomicReferenceArray<>(APIS.length * ERRORS.length);
    private final AtomicReferenceArray<Counter.Child> errorsByApiAndError =
            new AtomicReferenceArray<>(APIS.length * ERRORS.length);
    private final AtomicReferenceArray<Histogram.Child> latencyByApi = new AtomicReferenceArray<>(APIS.length);
    private final AtomicReferenceArray<Counter.Child> requestBytesByApi = new AtomicReferenceArray<>(APIS.length);
    private final AtomicReferenceArray<Counter.Child> responseBytesByApi = new AtomicReferenceArray<>(APIS.length);

    public KafkaRequestMetrics(MetricsRegistry registry) {
        this.requests = registry.counter(
                "sluice_requests_total", "Kafka requests answered, by API and main error", "api", "error");
        this.errors = registry.counter(
                "sluice_request_errors_total",
                "Errors in Kafka responses, one per partition or resource, by API and error",
                "api",
                "error");
        this.latencyMs = registry.histogram(
                "sluice_request_latency_ms",
                "Kafka request latency from request read to response written, in milliseconds",
                Histogram.latencyMsBuckets(),
                "api");
        this.requestBytes =
                registry.counter("sluice_request_bytes_total", "Bytes of Kafka requests received, by API", "api");
        this.responseBytes =
                registry.counter("sluice_response_bytes_total", "Bytes of Kafka responses sent, by API", "api");
        registry.gauge("sluice_connections", "Open Kafka client connections", connections::get);
    }

    @Override
    public void completed(
            ApiKeys api,
            short version,
            Map<Errors, Integer> errorCounts,
            long requestBytes,
            long responseBytes,
            long latencyNs) {
        Errors main = Errors.NONE;
        int mainCount = 0;
        for (Map.Entry<Errors, Integer> entry : errorCounts.entrySet()) {
            Errors error = entry.getKey();
            int count = entry.getValue() == null ? 0 : entry.getValue();
            if (count > 0) {
                errorChild(errorsByApiAndError, errors, api, error).inc(count);
                if (error != Errors.NONE && (count > mainCount || (count == mainCount && error.code() < main.code()))) {
                    main = error;
                    mainCount = count;
                }
            }
        }
        errorChild(requestsByApiAndError, requests, api, main).inc();
        latencyChild(api).observe(latencyNs / 1_000_000.0);
        apiChild(requestBytesByApi, this.requestBytes, api).inc(Math.max(0, requestBytes));
        apiChild(responseBytesByApi, this.responseBytes, api).inc(Math.max(0, responseBytes));
    }

    @Override
    public void connectionOpened() {
        connections.incrementAndGet();
    }

    @Override
    public void connectionClosed() {
        connections.decrementAndGet();
    }

    private static Counter.Child errorChild(
            AtomicReferenceArray<Counter.Child> cache, Counter counter, ApiKeys api, Errors error) {
        int index = api.ordinal() * ERRORS.length + error.ordinal();
        Counter.Child child = cache.get(index);
        if (child == null) {
            child = counter.labels(api.name, error.name());
            cache.set(index, child);
        }
        return child;
    }

    private static Counter.Child apiChild(AtomicReferenceArray<Counter.Child> cache, Counter counter, ApiKeys api) {
        Counter.Child child = cache.get(api.ordinal());
        if (child == null) {
            child = counter.labels(api.name);
            cache.set(api.ordinal(), child);
        }
        return child;
    }

    private Histogram.Child latencyChild(ApiKeys api) {
        Histogram.Child child = latencyByApi.get(api.ordinal());
        if (child == null) {
            child = latencyMs.labels(api.name);
            latencyByApi.set(api.ordinal(), child);
        }
        return child;
    }
}
