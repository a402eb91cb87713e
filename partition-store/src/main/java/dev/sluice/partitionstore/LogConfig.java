package dev.sluice.partitionstore;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.ValidString;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.record.TimestampType;

/**
 * Per-partition log settings, with Kafka's topic-config names.
 *
 * <p>Every key has exactly one typed definition in {@link #CONFIG_DEF} (name, type, default, validator,
 * documentation); the documentation of the keys is generated from it. A map of strings is parsed once
 * into this immutable record, and an unknown or invalid key fails with a message naming the key.
 *
 * @param segmentBytes {@code segment.bytes}: a segment is rolled before it would grow past this size
 * @param segmentMs {@code segment.ms}: a non-empty segment older than this is rolled on the next append
 * @param retentionMs {@code retention.ms}: closed segments whose newest record is older are deleted; -1
 *     keeps them forever
 * @param retentionBytes {@code retention.bytes}: closed segments are deleted from the front while the
 *     partition is larger; -1 means no size limit
 * @param indexIntervalBytes {@code index.interval.bytes}: bytes between two sparse index entries
 * @param maxMessageBytes {@code max.message.bytes}: the largest record batch accepted
 * @param timestampType {@code message.timestamp.type}: CreateTime keeps the producer's timestamps,
 *     LogAppendTime overwrites them with the append time
 */
public record LogConfig(
        int segmentBytes,
        long segmentMs,
        long retentionMs,
        long retentionBytes,
        int indexIntervalBytes,
        int maxMessageBytes,
        TimestampType timestampType) {

    public static final String SEGMENT_BYTES = "segment.bytes";
    public static final String SEGMENT_MS = "segment.ms";
    public static final String RETENTION_MS = "retention.ms";
    public static final String RETENTION_BYTES = "retention.bytes";
    public static final String INDEX_INTERVAL_BYTES = "index.interval.bytes";
    public static final String MAX_MESSAGE_BYTES = "max.message.bytes";
    public static final String MESSAGE_TIMESTAMP_TYPE = "message.timestamp.type";

    /** The smallest segment accepted: one maximal batch header and a little data. */
    public static final int MIN_SEGMENT_BYTES = 1024;

    public static final ConfigDef CONFIG_DEF = new ConfigDef()
            .define(
                    SEGMENT_BYTES,
                    Type.INT,
                    1024 * 1024 * 1024,
                    Range.atLeast(MIN_SEGMENT_BYTES),
                    Importance.MEDIUM,
                    "The size at which a partition's active segment file is closed and a new one started.")
            .define(
                    SEGMENT_MS,
                    Type.LONG,
                    7L * 24 * 60 * 60 * 1000,
                    Range.atLeast(1),
                    Importance.MEDIUM,
                    "The age after which a non-empty active segment is closed and a new one started,"
                            + " so retention can delete old data even on a quiet partition.")
            .define(
                    RETENTION_MS,
                    Type.LONG,
                    7L * 24 * 60 * 60 * 1000,
                    Range.atLeast(-1),
                    Importance.MEDIUM,
                    "How long closed segments are kept, judged by their newest record timestamp; -1 keeps"
                            + " them forever.")
            .define(
                    RETENTION_BYTES,
                    Type.LONG,
                    -1L,
                    Range.atLeast(-1),
                    Importance.MEDIUM,
                    "The size a partition may grow to before its oldest closed segments are deleted; -1"
                            + " means no limit.")
            .define(
                    INDEX_INTERVAL_BYTES,
                    Type.INT,
                    4096,
                    Range.atLeast(0),
                    Importance.LOW,
                    "The number of bytes between two entries of the sparse offset and time indexes.")
            .define(
                    MAX_MESSAGE_BYTES,
                    Type.INT,
                    1024 * 1024 + 12,
                    Range.atLeast(0),
                    Importance.MEDIUM,
                    "The largest record batch the partition accepts.")
            .define(
                    MESSAGE_TIMESTAMP_TYPE,
                    Type.STRING,
                    "CreateTime",
                    ValidString.in("CreateTime", "LogAppendTime"),
                    Importance.MEDIUM,
                    "CreateTime keeps the producer's timestamps; LogAppendTime replaces them with the time"
                            + " the partition leader appended the batch.");

    public LogConfig {
        if (segmentBytes < MIN_SEGMENT_BYTES) {
            throw new ConfigException(SEGMENT_BYTES, segmentBytes, "must be at least " + MIN_SEGMENT_BYTES);
        }
        if (segmentMs < 1) {
            throw new ConfigException(SEGMENT_MS, segmentMs, "must be at least 1");
        }
        if (retentionMs < -1) {
            throw new ConfigException(RETENTION_MS, retentionMs, "must be -1 or more");
        }
        if (retentionBytes < -1) {
            throw new ConfigException(RETENTION_BYTES, retentionBytes, "must be -1 or more");
        }
        if (indexIntervalBytes < 0) {
            throw new ConfigException(INDEX_INTERVAL_BYTES, indexIntervalBytes, "must be 0 or more");
        }
        if (maxMessageBytes < 0) {
            throw new ConfigException(MAX_MESSAGE_BYTES, maxMessageBytes, "must be 0 or more");
        }
        if (timestampType == null || timestampType == TimestampType.NO_TIMESTAMP_TYPE) {
            throw new ConfigException(MESSAGE_TIMESTAMP_TYPE, timestampType, "must be CreateTime or LogAppendTime");
        }
    }

    /** The defaults of every key. */
    public static LogConfig defaults() {
        return parse(Map.of());
    }

    /**
     * Parses string settings; absent keys take their defaults.
     *
     * @throws ConfigException naming the key, for an unknown key or an invalid value
     */
    public static LogConfig parse(Map<String, ?> settings) {
        Set<String> unknown = new TreeSet<>(settings.keySet());
        unknown.removeAll(CONFIG_DEF.names());
        if (!unknown.isEmpty()) {
            String key = unknown.iterator().next();
            throw new ConfigException("Unknown log configuration key '" + key + "'; the known keys are "
                    + new TreeSet<>(CONFIG_DEF.names()));
        }
        Map<String, Object> parsed = CONFIG_DEF.parse(settings);
        return new LogConfig(
                (Integer) parsed.get(SEGMENT_BYTES),
                (Long) parsed.get(SEGMENT_MS),
                (Long) parsed.get(RETENTION_MS),
                (Long) parsed.get(RETENTION_BYTES),
                (Integer) parsed.get(INDEX_INTERVAL_BYTES),
                (Integer) parsed.get(MAX_MESSAGE_BYTES),
                TimestampType.forName(((String) parsed.get(MESSAGE_TIMESTAMP_TYPE))));
    }

    /** These settings as the strings {@link #parse} accepts. */
    public Map<String, String> toMap() {
        Map<String, String> map = new HashMap<>();
        map.put(SEGMENT_BYTES, Integer.toString(segmentBytes));
        map.put(SEGMENT_MS, Long.toString(segmentMs));
        map.put(RETENTION_MS, Long.toString(retentionMs));
        map.put(RETENTION_BYTES, Long.toString(retentionBytes));
        map.put(INDEX_INTERVAL_BYTES, Integer.toString(indexIntervalBytes));
        map.put(MAX_MESSAGE_BYTES, Integer.toString(maxMessageBytes));
        map.put(MESSAGE_TIMESTAMP_TYPE, timestampType.name);
        return map;
    }

    /** A copy with one key changed, validated like {@link #parse}. */
    public LogConfig with(String key, Object value) {
        Map<String, Object> map = new HashMap<>(toMap());
        map.put(key.toLowerCase(Locale.ROOT), String.valueOf(value));
        return parse(map);
    }
}
