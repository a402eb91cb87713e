package dev.sluice.tools.kafka;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.KafkaFuture;

/**
 * Waits for {@code Admin} results in bounded time and turns failures into {@link ToolFailure}s. The
 * client already gives up after {@code default.api.timeout.ms}; the extra wait here only guards
 * against a call that never completes.
 */
public final class AdminCalls {
    /** Slack on top of the client's own timeout before the command stops waiting by itself. */
    static final long GUARD_MS = 5_000;

    private AdminCalls() {}

    /** Creates an {@code Admin} client bounded by the target's timeout. */
    public static Admin open(ClusterTarget target, String clientId) {
        try {
            return Admin.create(ClientSettings.admin(target, clientId));
        } catch (KafkaException e) {
            throw ClusterErrors.translate(e, target, null);
        }
    }

    /** Closes an {@code Admin} client, waiting at most the target's timeout for calls in flight. */
    public static void close(Admin admin, ClusterTarget target) {
        admin.close(Duration.ofMillis(target.timeoutMs()));
    }

    /** The future's value, or a {@link ToolFailure} naming the cluster (and the topic, when given). */
    public static <T> T await(KafkaFuture<T> future, ClusterTarget target, String topic) {
        try {
            return future.get(target.timeoutMs() + GUARD_MS, TimeUnit.MILLISECONDS);
        } catch (ExecutionException | java.util.concurrent.TimeoutException | KafkaException e) {
            throw ClusterErrors.translate(e, target, topic);
        } catch (InterruptedException e) {
            throw ClusterErrors.translate(e, target, topic);
        }
    }

    /**
     * Waits for the future like {@link #await}, but a failure of class {@code tolerated} (when not null)
     * is no failure: as for {@code --if-exists} and {@code --if-not-exists}.
     *
     * @return true when the call succeeded, false when it failed with the tolerated error
     */
    public static boolean awaitUnless(
            KafkaFuture<?> future, ClusterTarget target, String topic, Class<? extends Throwable> tolerated) {
        try {
            await(future, target, topic);
            return true;
        } catch (ToolFailure failure) {
            if (tolerated != null && future.isCompletedExceptionally() && tolerated.isInstance(causeOf(future))) {
                return false;
            }
            throw failure;
        }
    }

    private static Throwable causeOf(KafkaFuture<?> future) {
        try {
            future.getNow(null);
            return null;
        } catch (ExecutionException e) {
            return ClusterErrors.unwrap(e);
        } catch (InterruptedException | RuntimeException e) {
            return e;
        }
    }

    /** Describes one topic: fails with "topic 'T' does not exist" when the cluster does not know it. */
    public static TopicDescription describeTopic(Admin admin, ClusterTarget target, String topic) {
        Map<String, TopicDescription> descriptions =
                await(admin.describeTopics(java.util.List.of(topic)).allTopicNames(), target, topic);
        TopicDescription description = descriptions.get(topic);
        if (description == null) {
            throw new ToolFailure(ExitCodes.FAILED, "topic '" + topic + "' does not exist");
        }
        return description;
    }
}
