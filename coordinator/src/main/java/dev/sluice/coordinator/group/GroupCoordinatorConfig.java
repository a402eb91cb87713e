package dev.sluice.coordinator.group;

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
 * Settings of the group coordinator, with Kafka's broker-config names.
 *
 * <p>Every key has one typed definition in {@link #CONFIG_DEF} (name, type, default, validator,
 * documentation). A map of strings is parsed once into this immutable record; an unknown or invalid key
 * fails with a message naming the key.
 *
 * @param minSessionTimeoutMs {@code group.min.session.timeout.ms}: the shortest session a member may ask for
 * @param maxSessionTimeoutMs {@code group.max.session.timeout.ms}: the longest session a member may ask for
 * @param initialRebalanceDelayMs {@code group.initial.rebalance.delay.ms}: how long the first rebalance of an
 *     empty group waits for more members, extended by each new member up to the rebalance timeout
 * @param maxSize {@code group.max.size}: the most members a group accepts
 * @param offsetsRetentionMinutes {@code offsets.retention.minutes}: how long the offsets of an empty group
 *     (or of a group without a protocol) are kept
 * @param offsetsRetentionCheckIntervalMs {@code offsets.retention.check.interval.ms}: how often expired offsets
 *     are looked for
 * @param offsetMetadataMaxBytes {@code offset.metadata.max.bytes}: the longest metadata string of a commit
 * @param newMemberJoinTimeoutMs how long a new member's JoinGroup may wait for the rebalance before the member
 *     is dropped (Kafka fixes it at five minutes; not a public key there either)
 */
public record GroupCoordinatorConfig(
        int minSessionTimeoutMs,
        int maxSessionTimeoutMs,
        int initialRebalanceDelayMs,
        int maxSize,
        int offsetsRetentionMinutes,
        long offsetsRetentionCheckIntervalMs,
        int offsetMetadataMaxBytes,
        int newMemberJoinTimeoutMs) {

    public static final String GROUP_MIN_SESSION_TIMEOUT_MS = "group.min.session.timeout.ms";
    public static final String GROUP_MAX_SESSION_TIMEOUT_MS = "group.max.session.timeout.ms";
    public static final String GROUP_INITIAL_REBALANCE_DELAY_MS = "group.initial.rebalance.delay.ms";
    public static final String GROUP_MAX_SIZE = "group.max.size";
    public static final String OFFSETS_RETENTION_MINUTES = "offsets.retention.minutes";
    public static final String OFFSETS_RETENTION_CHECK_INTERVAL_MS = "offsets.retention.check.interval.ms";
    public static final String OFFSET_METADATA_MAX_BYTES = "offset.metadata.max.bytes";

    /** How long a new member's JoinGroup may wait, as in Kafka. */
    public static final int NEW_MEMBER_JOIN_TIMEOUT_MS = 5 * 60 * 1000;

    public static final ConfigDef CONFIG_DEF = new ConfigDef()
            .define(
                    GROUP_MIN_SESSION_TIMEOUT_MS,
                    Type.INT,
                    6000,
                    Range.atLeast(1),
                    Importance.MEDIUM,
                    "The shortest session timeout a consumer may ask for. Shorter sessions detect failures sooner"
                            + " at the cost of more heartbeats.")
            .define(
                    GROUP_MAX_SESSION_TIMEOUT_MS,
                    Type.INT,
                    1_800_000,
                    Range.atLeast(1),
                    Importance.MEDIUM,
                    "The longest session timeout a consumer may ask for. Longer sessions give consumers more"
                            + " time between heartbeats at the cost of slower failure detection.")
            .define(
                    GROUP_INITIAL_REBALANCE_DELAY_MS,
                    Type.INT,
                    3000,
                    Range.atLeast(0),
                    Importance.MEDIUM,
                    "How long the first rebalance of an empty group waits for more members to join; each new"
                            + " member extends the wait by this much, up to the rebalance timeout.")
            .define(
                    GROUP_MAX_SIZE,
                    Type.INT,
                    Integer.MAX_VALUE,
                    Range.atLeast(1),
                    Importance.MEDIUM,
                    "The most members a consumer group accepts.")
            .define(
                    OFFSETS_RETENTION_MINUTES,
                    Type.INT,
                    7 * 24 * 60,
                    Range.atLeast(1),
                    Importance.HIGH,
                    "How long committed offsets are kept after a group became empty (or, for a group without"
                            + " members ever, after the commit).")
            .define(
                    OFFSETS_RETENTION_CHECK_INTERVAL_MS,
                    Type.LONG,
                    600_000L,
                    Range.atLeast(1),
                    Importance.HIGH,
                    "How often the coordinator looks for expired offsets.")
            .define(
                    OFFSET_METADATA_MAX_BYTES,
                    Type.INT,
                    4096,
                    Range.atLeast(0),
                    Importance.LOW,
                    "The longest metadata string an offset commit may carry.");

    public GroupCoordinatorConfig {
        if (minSessionTimeoutMs < 1) {
            throw new ConfigException(GROUP_MIN_SESSION_TIMEOUT_MS, minSessionTimeoutMs, "must be at least 1");
        }
        if (maxSessionTimeoutMs < minSessionTimeoutMs) {
            throw new ConfigException(
                    GROUP_MAX_SESSION_TIMEOUT_MS,
                    maxSessionTimeoutMs,
                    "must be at least " + GROUP_MIN_SESSION_TIMEOUT_MS + " (" + minSessionTimeoutMs + ")");
        }
        if (initialRebalanceDelayMs < 0) {
            throw new ConfigException(GROUP_INITIAL_REBALANCE_DELAY_MS, initialRebalanceDelayMs, "must be 0 or more");
        }
        if (maxSize < 1) {
            throw new ConfigException(GROUP_MAX_SIZE, maxSize, "must be at least 1");
        }
        if (offsetsRetentionMinutes < 1) {
            throw new ConfigException(OFFSETS_RETENTION_MINUTES, offsetsRetentionMinutes, "must be at least 1");
        }
        if (offsetsRetentionCheckIntervalMs < 1) {
            throw new ConfigException(
                    OFFSETS_RETENTION_CHECK_INTERVAL_MS, offsetsRetentionCheckIntervalMs, "must be at least 1");
        }
        if (offsetMetadataMaxBytes < 0) {
            throw new ConfigException(OFFSET_METADATA_MAX_BYTES, offsetMetadataMaxBytes, "must be 0 or more");
        }
        if (newMemberJoinTimeoutMs < 1) {
            throw new IllegalArgumentException(
                    "newMemberJoinTimeoutMs must be at least 1, was " + newMemberJoinTimeoutMs);
        }
    }

    /** The defaults of every key. */
    public static GroupCoordinatorConfig defaults() {
        return parse(Map.of());
    }

    /**
     * Parses string settings; absent keys take their defaults.
     *
     * @throws ConfigException naming the key, for an unknown key or an invalid value
     */
    public static GroupCoordinatorConfig parse(Map<String, ?> settings) {
        Set<String> unknown = new TreeSet<>(settings.keySet());
        unknown.removeAll(CONFIG_DEF.names());
        if (!unknown.isEmpty()) {
            throw new ConfigException("Unknown group coordinator configuration key '"
                    + unknown.iterator().next() + "'; the known keys are " + new TreeSet<>(CONFIG_DEF.names()));
        }
        Map<String, Object> parsed = CONFIG_DEF.parse(settings);
        return new GroupCoordinatorConfig(
                (Integer) parsed.get(GROUP_MIN_SESSION_TIMEOUT_MS),
                (Integer) parsed.get(GROUP_MAX_SESSION_TIMEOUT_MS),
                (Integer) parsed.get(GROUP_INITIAL_REBALANCE_DELAY_MS),
                (Integer) parsed.get(GROUP_MAX_SIZE),
                (Integer) parsed.get(OFFSETS_RETENTION_MINUTES),
                (Long) parsed.get(OFFSETS_RETENTION_CHECK_INTERVAL_MS),
                (Integer) parsed.get(OFFSET_METADATA_MAX_BYTES),
                NEW_MEMBER_JOIN_TIMEOUT_MS);
    }

    /** These settings as the strings {@link #parse} accepts. */
    public Map<String, String> toMap() {
        Map<String, String> map = new HashMap<>();
        map.put(GROUP_MIN_SESSION_TIMEOUT_MS, Integer.toString(minSessionTimeoutMs));
        map.put(GROUP_MAX_SESSION_TIMEOUT_MS, Integer.toString(maxSessionTimeoutMs));
        map.put(GROUP_INITIAL_REBALANCE_DELAY_MS, Integer.toString(initialRebalanceDelayMs));
        map.put(GROUP_MAX_SIZE, Integer.toString(maxSize));
        map.put(OFFSETS_RETENTION_MINUTES, Integer.toString(offsetsRetentionMinutes));
        map.put(OFFSETS_RETENTION_CHECK_INTERVAL_MS, Long.toString(offsetsRetentionCheckIntervalMs));
        map.put(OFFSET_METADATA_MAX_BYTES, Integer.toString(offsetMetadataMaxBytes));
        return map;
    }

    /** {@code offsets.retention.minutes} in milliseconds. */
    public long offsetsRetentionMs() {
        return offsetsRetentionMinutes * 60_000L;
    }

    /** A copy with {@link #newMemberJoinTimeoutMs} changed (for tests of long rebalances). */
    public GroupCoordinatorConfig withNewMemberJoinTimeoutMs(int timeoutMs) {
        return new GroupCoordinatorConfig(
                minSessionTimeoutMs,
                maxSessionTimeoutMs,
                initialRebalanceDelayMs,
                maxSize,
                offsetsRetentionMinutes,
                offsetsRetentionCheckIntervalMs,
                offsetMetadataMaxBytes,
                timeoutMs);
    }
}
