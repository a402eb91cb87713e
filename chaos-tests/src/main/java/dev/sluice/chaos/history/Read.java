package dev.sluice.chaos.history;

/**
 * One record a consumer returned: where it sat and the workload value it carried.
 *
 * @param topic the record's topic
 * @param partition the record's partition
 * @param offset the record's offset
 * @param key the record's key (the workload's key; may be {@code null})
 * @param value the unique workload value the record carried
 */
public record Read(String topic, int partition, long offset, String key, long value) {}
