/**
 * The node's HTTP side: a small Prometheus metrics registry ({@link dev.sluice.broker.http.MetricsRegistry}),
 * the Kafka request metrics recorded into it, and the Netty HTTP endpoint serving {@code /metrics},
 * {@code /health}, {@code /ready}, {@code /status} ({@link dev.sluice.broker.http.NodeStatus}) and, on a node
 * running the fault-injecting transport, the control of network faults ({@link
 * dev.sluice.broker.http.FaultControl}).
 */
package dev.sluice.broker.http;
