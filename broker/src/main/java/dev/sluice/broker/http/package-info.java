/**
 * The node's HTTP side: a small Prometheus metrics registry ({@link dev.sluice.broker.http.MetricsRegistry}),
 * the Kafka request metrics recorded into it, and the Netty HTTP endpoint serving {@code /metrics},
 * {@code /health} and {@code /ready}.
 */
package dev.sluice.broker.http;
