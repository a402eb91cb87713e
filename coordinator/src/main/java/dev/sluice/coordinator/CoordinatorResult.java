package dev.sluice.coordinator;

import org.apache.kafka.common.protocol.Errors;

/**
 * What applying a command answered: a Kafka error code (0 = none), a message for the client, and a
 * value where the command produces one (the first producer id of a block).
 */
public record CoordinatorResult(short errorCode, String message, long value) {
    public static CoordinatorResult ok() {
        return new CoordinatorResult((short) 0, null, 0);
    }

    public static CoordinatorResult ok(long value) {
        return new CoordinatorResult((short) 0, null, value);
    }

    public static CoordinatorResult error(Errors error, String message) {
        return new CoordinatorResult(error.code(), message, 0);
    }

    public Errors error() {
        return Errors.forCode(errorCode);
    }
}
