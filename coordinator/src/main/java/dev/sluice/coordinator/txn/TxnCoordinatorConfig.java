package dev.sluice.coordinator.txn;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;

/**
 * Settings of the transaction coordinator, with Kafka's broker-config names and defaults.
 *
 * <p>Every key has one typed definition in {@link #CONFIG_DEF}. A map of strings is parsed once into this
 * immutable record; an unknown or invalid key fails with a message naming the key.
 *
 * @param transactionMaxTimeoutMs {@code transaction.max.timeout.ms}: the longest {@code transaction.timeout.ms}
 *     a producer may ask for
 * @param transactionalIdExpirationMs {@code transactional.id.expiration.ms}: how long a transactional id without
 *     a transaction in progress is kept after its last update
 * @param abortTimedOutTransactionCleanupIntervalMs {@code
 *     transaction.abort.timed.out.transaction.cleanup.interval.ms}: how often timed-out transactions are looked
 *     for (and aborted)
 * @param removeExpiredTransactionalIdCleanupIntervalMs {@code
 *     transaction.remove.expired.transaction.cleanup.interval.ms}: how often expired transactional ids are
 *     looked for (and removed)
 */
public record TxnCoordinatorConfig(
        int transactionMaxTimeoutMs,
        int transactionalIdExpirationMs,
        int abortTimedOutTransactionCleanupIntervalMs,
        int removeExpiredTransactionalIdCleanupIntervalMs) {

    public static final String TRANSACTION_MAX_TIMEOUT_MS = "transaction.max.timeout.ms";
    public static final String TRANSACTIONAL_ID_EXPIRATION_MS = "transactional.id.expiration.ms";
    public static final String TRANSACTION_ABORT_TIMED_OUT_TRANSACTION_CLEANUP_INTERVAL_MS =
            "transaction.abort.timed.out.transaction.cleanup.interval.ms";
    public static final String TRANSACTION_REMOVE_EXPIRED_TRANSACTION_CLEANUP_INTERVAL_MS =
            "transaction.remove.expired.transaction.cleanup.interval.ms";

    public static final ConfigDef CONFIG_DEF = new ConfigDef()
            .define(
                    TRANSACTION_MAX_TIMEOUT_MS,
                    Type.INT,
                    900_000,
                    Range.atLeast(1),
                    Importance.HIGH,
                    "The longest transaction timeout a producer may ask for; InitProducerId with a longer one"
                            + " fails with INVALID_TRANSACTION_TIMEOUT.")
            .define(
                    TRANSACTIONAL_ID_EXPIRATION_MS,
                    Type.INT,
                    604_800_000,
                    Range.atLeast(1),
                    Importance.HIGH,
                    "How long the coordinator keeps a transactional id that has no transaction in progress and"
                            + " has not been updated.")
            .define(
                    TRANSACTION_ABORT_TIMED_OUT_TRANSACTION_CLEANUP_INTERVAL_MS,
                    Type.INT,
                    10_000,
                    Range.atLeast(1),
                    Importance.LOW,
                    "How often the coordinator aborts transactions that exceeded their timeout.")
            .define(
                    TRANSACTION_REMOVE_EXPIRED_TRANSACTION_CLEANUP_INTERVAL_MS,
                    Type.INT,
                    3_600_000,
                    Range.atLeast(1),
                    Importance.LOW,
                    "How often the coordinator removes expired transactional ids.");

    public TxnCoordinatorConfig {
        requireAtLeastOne(TRANSACTION_MAX_TIMEOUT_MS, transactionMaxTimeoutMs);
        requireAtLeastOne(TRANSACTIONAL_ID_EXPIRATION_MS, transactionalIdExpirationMs);
        requireAtLeastOne(
                TRANSACTION_ABORT_TIMED_OUT_TRANSACTION_CLEANUP_INTERVAL_MS, abortTimedOutTransactionCleanupIntervalMs);
        requireAtLeastOne(
                TRANSACTION_REMOVE_EXPIRED_TRANSACTION_CLEANUP_INTERVAL_MS,
                removeExpiredTransactionalIdCleanupIntervalMs);
    }

    private static void requireAtLeastOne(String key, int value) {
        if (value < 1) {
            throw new ConfigException(key, value, "must be at least 1");
        }
    }

    /** The defaults of every key. */
    public static TxnCoordinatorConfig defaults() {
        return parse(Map.of());
    }

    /**
     * Parses string settings; absent keys take their defaults.
     *
     * @throws ConfigException naming the key, for an unknown key or an invalid value
     */
    public static TxnCoordinatorConfig parse(Map<String, ?> settings) {
        Set<String> unknown = new TreeSet<>(settings.keySet());
        unknown.removeAll(CONFIG_DEF.names());
        if (!unknown.isEmpty()) {
            throw new ConfigException("Unknown transaction coordinator configuration key '"
                    + unknown.iterator().next() + "'; the known keys are " + new TreeSet<>(CONFIG_DEF.names()));
        }
        Map<String, Object> parsed = CONFIG_DEF.parse(settings);
        return new TxnCoordinatorConfig(
                (Integer) parsed.get(TRANSACTION_MAX_TIMEOUT_MS),
                (Integer) parsed.get(TRANSACTIONAL_ID_EXPIRATION_MS),
                (Integer) parsed.get(TRANSACTION_ABORT_TIMED_OUT_TRANSACTION_CLEANUP_INTERVAL_MS),
                (Integer) parsed.get(TRANSACTION_REMOVE_EXPIRED_TRANSACTION_CLEANUP_INTERVAL_MS));
    }

    /** These settings as the strings {@link #parse} accepts. */
    public Map<String, String> toMap() {
        Map<String, String> map = new HashMap<>();
        map.put(TRANSACTION_MAX_TIMEOUT_MS, Integer.toString(transactionMaxTimeoutMs));
        map.put(TRANSACTIONAL_ID_EXPIRATION_MS, Integer.toString(transactionalIdExpirationMs));
        map.put(
                TRANSACTION_ABORT_TIMED_OUT_TRANSACTION_CLEANUP_INTERVAL_MS,
                Integer.toString(abortTimedOutTransactionCleanupIntervalMs));
        map.put(
                TRANSACTION_REMOVE_EXPIRED_TRANSACTION_CLEANUP_INTERVAL_MS,
                Integer.toString(removeExpiredTransactionalIdCleanupIntervalMs));
        return map;
    }
}
