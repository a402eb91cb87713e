package dev.sluice.tools.kafka;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import org.slf4j.LoggerFactory;

/**
 * Keeps Kafka's clients quiet. They log every failed connection attempt at WARN, which would bury the
 * one clear message a command prints when the cluster is unreachable; so {@code org.apache.kafka}
 * logs errors only, unless {@code SLUICE_LOG_LEVEL} asks for more.
 */
public final class KafkaLogging {
    private KafkaLogging() {}

    public static void quiet() {
        if (System.getenv("SLUICE_LOG_LEVEL") != null || System.getProperty("SLUICE_LOG_LEVEL") != null) {
            return;
        }
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
            context.getLogger("org.apache.kafka").setLevel(Level.ERROR);
        }
    }
}
