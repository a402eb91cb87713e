package dev.sluice.tools.kafka;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicIdException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.errors.UnsupportedVersionException;

/**
 * Translates what Kafka's clients throw into a {@link ToolFailure}: one line for the user that names
 * the cluster or the topic, and an exit code ({@link ExitCodes}). Pure.
 */
public final class ClusterErrors {
    private ClusterErrors() {}

    /**
     * @param failure what the client threw (an {@code ExecutionException} is unwrapped)
     * @param target the cluster the command talked to
     * @param topic the topic the request was about, or null
     */
    public static ToolFailure translate(Throwable failure, ClusterTarget target, String topic) {
        Throwable cause = unwrap(failure);
        String detail = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
        if (cause instanceof ToolFailure toolFailure) {
            return toolFailure;
        }
        if (cause instanceof TimeoutException || cause instanceof java.util.concurrent.TimeoutException) {
            return unreachable(target, "no answer within " + target.timeoutMs() + " ms: " + detail);
        }
        if (cause instanceof UnknownTopicOrPartitionException || cause instanceof UnknownTopicIdException) {
            return new ToolFailure(ExitCodes.FAILED, topic == null ? detail : "topic '" + topic + "' does not exist");
        }
        if (cause instanceof TopicExistsException) {
            return new ToolFailure(ExitCodes.FAILED, topic == null ? detail : "topic '" + topic + "' already exists");
        }
        if (cause instanceof InvalidTopicException) {
            return new ToolFailure(ExitCodes.FAILED, "invalid topic name '" + topic + "': " + detail);
        }
        if (cause instanceof AuthenticationException) {
            return new ToolFailure(
                    ExitCodes.FAILED,
                    "authentication with the cluster at " + target.bootstrapServers() + " failed: " + detail);
        }
        if (cause instanceof AuthorizationException) {
            return new ToolFailure(ExitCodes.FAILED, "not authorized: " + detail);
        }
        if (cause instanceof UnsupportedVersionException) {
            return new ToolFailure(
                    ExitCodes.FAILED,
                    "the cluster at " + target.bootstrapServers() + " does not support this request: " + detail);
        }
        if (cause instanceof ConfigException) {
            if (detail.contains("resolvable bootstrap")) {
                return unreachable(target, detail);
            }
            return new ToolFailure(ExitCodes.USAGE, "invalid client configuration: " + detail);
        }
        if (cause instanceof InterruptedException) {
            Thread.currentThread().interrupt();
            return new ToolFailure(ExitCodes.FAILED, "interrupted");
        }
        String prefix = topic == null ? "" : "topic '" + topic + "': ";
        return new ToolFailure(ExitCodes.FAILED, prefix + detail);
    }

    /** The failure for a cluster that did not answer. */
    public static ToolFailure unreachable(ClusterTarget target, String detail) {
        return new ToolFailure(
                ExitCodes.UNREACHABLE,
                "cannot reach the cluster at " + target.bootstrapServers() + " (" + detail + ")");
    }

    /**
     * Strips the wrappers around the real failure: {@code ExecutionException}, {@code CompletionException},
     * and the {@code KafkaException("Failed to construct kafka producer")} a client constructor throws.
     */
    static Throwable unwrap(Throwable failure) {
        Throwable current = failure;
        while (current.getCause() != null && current.getCause() != current && isWrapper(current)) {
            current = current.getCause();
        }
        return current;
    }

    private static boolean isWrapper(Throwable t) {
        return t instanceof ExecutionException
                || t instanceof CompletionException
                || (t.getClass() == KafkaException.class && t.getCause() instanceof KafkaException);
    }
}
