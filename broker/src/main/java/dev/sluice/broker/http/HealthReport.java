package dev.sluice.broker.http;

/**
 * Whether the node is ready to serve, and why (or why not), as shown by {@code GET /ready}.
 *
 * @param ready true when the node serves Kafka requests
 * @param detail a short human-readable reason, e.g. "serving" or "catching up with the coordinator's metadata"
 */
public record HealthReport(boolean ready, String detail) {
    public HealthReport {
        detail = detail == null ? "" : detail;
    }
}
