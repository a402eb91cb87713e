package dev.sluice.tools.kafka;

import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Turns a {@link ClusterTarget} into the settings of Kafka's {@code Admin}, {@code KafkaProducer} and
 * {@code KafkaConsumer}. Pure: no client is created here.
 *
 * <p>Every client is bounded by the target's {@code timeoutMs}: connecting, each request and each API
 * call give up after it, so an unreachable cluster fails the command in bounded time instead of
 * retrying forever. Order of precedence, lowest first: these bounds, then {@code --command-config},
 * then the command's own flags ({@code --acks}, {@code --compression}, {@code --group}, ...).
 */
public final class ClientSettings {
    /** Kafka's default {@code socket.connection.setup.timeout.ms}; a shorter command timeout lowers it. */
    static final int CONNECTION_SETUP_TIMEOUT_MS = 10_000;

    /** Kafka's default {@code socket.connection.setup.timeout.max.ms}. */
    static final int CONNECTION_SETUP_TIMEOUT_MAX_MS = 30_000;

    /** Kafka 4's default {@code linger.ms}, used when the command config does not set one. */
    static final int LINGER_MS_DEFAULT = 5;

    private ClientSettings() {}

    /** Settings for {@code Admin.create}. */
    public static Map<String, Object> admin(ClusterTarget target, String clientId) {
        Map<String, Object> settings = common(target, clientId);
        settings.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, String.valueOf(target.timeoutMs()));
        settings.putAll(target.extraSettings());
        return settings;
    }

    /**
     * Settings for a byte-array {@code KafkaProducer}. {@code delivery.timeout.ms}, unless the command
     * config sets it, is the smallest value Kafka accepts that is at least the timeout ({@code linger.ms
     * + request.timeout.ms}).
     */
    public static Map<String, Object> producer(ClusterTarget target, String clientId, String acks, String compression) {
        Map<String, Object> settings = common(target, clientId);
        settings.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, String.valueOf(target.timeoutMs()));
        settings.putAll(target.extraSettings());
        settings.put(ProducerConfig.ACKS_CONFIG, acks);
        settings.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, compression);
        settings.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        settings.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        if (!target.extraSettings().containsKey(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG)) {
            long lingerMs = longSetting(settings, ProducerConfig.LINGER_MS_CONFIG, LINGER_MS_DEFAULT);
            long requestTimeoutMs = longSetting(settings, ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, target.timeoutMs());
            long deliveryTimeoutMs = Math.max(target.timeoutMs(), lingerMs + requestTimeoutMs);
            settings.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, String.valueOf(deliveryTimeoutMs));
        }
        return settings;
    }

    /**
     * Settings for a byte-array {@code KafkaConsumer}. Offsets are committed by the command (only for
     * records it printed), never automatically; topics are never created by a consumer's metadata
     * request.
     *
     * @param groupId the consumer group, or null for a consumer that assigns partitions itself
     * @param offsetReset {@code earliest} or {@code latest}: where to start without a committed offset
     */
    public static Map<String, Object> consumer(
            ClusterTarget target, String clientId, String groupId, String offsetReset) {
        Map<String, Object> settings = common(target, clientId);
        settings.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, String.valueOf(target.timeoutMs()));
        settings.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false");
        settings.putAll(target.extraSettings());
        settings.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        settings.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, offsetReset);
        settings.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        settings.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        if (groupId != null) {
            settings.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        } else {
            settings.remove(ConsumerConfig.GROUP_ID_CONFIG);
        }
        return settings;
    }

    private static Map<String, Object> common(ClusterTarget target, String clientId) {
        int setupMs = Math.min(target.timeoutMs(), CONNECTION_SETUP_TIMEOUT_MS);
        Map<String, Object> settings = new TreeMap<>();
        settings.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, target.bootstrapServers());
        settings.put(AdminClientConfig.CLIENT_ID_CONFIG, clientId);
        settings.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, String.valueOf(target.timeoutMs()));
        settings.put(AdminClientConfig.SOCKET_CONNECTION_SETUP_TIMEOUT_MS_CONFIG, String.valueOf(setupMs));
        settings.put(
                AdminClientConfig.SOCKET_CONNECTION_SETUP_TIMEOUT_MAX_MS_CONFIG,
                String.valueOf(Math.max(setupMs, Math.min(target.timeoutMs(), CONNECTION_SETUP_TIMEOUT_MAX_MS))));
        return settings;
    }

    private static long longSetting(Map<String, Object> settings, String key, long fallback) {
        Object value = settings.get(key);
        if (value == null) {
            return fallback;
        }
        try {
            return Long.parseLong(value.toString().trim());
        } catch (NumberFormatException e) {
            throw new ToolFailure(ExitCodes.USAGE, "invalid client setting " + key + "=" + value + ": not a number");
        }
    }
}
