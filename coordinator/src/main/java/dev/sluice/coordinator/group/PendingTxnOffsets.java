package dev.sluice.coordinator.group;

import dev.sluice.coordinator.group.GroupRecord.OffsetCommit;
import dev.sluice.coordinator.group.GroupRecord.TxnOffsetCommit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The transactional offsets of one {@code __consumer_offsets} partition whose transactions are still open:
 * producer id → (group, topic, partition) → the producer's latest {@link TxnOffsetCommit} for it. Used by the
 * group coordinator's state and by every replica's materialized view, so both apply the same rules.
 *
 * <h2>Which offset wins</h2>
 *
 * When a transaction commits, each of its pending offsets becomes the committed offset unless the committed
 * offset of that partition comes from a <em>later</em> record of the log (Kafka's rule: the record with the
 * higher log offset wins). Instead of remembering the log offset of every committed offset, an entry is
 * marked {@code superseded} at the moment such a later record takes effect: a non-transactional commit of the
 * partition after the entry, or another producer's entry after this one whose transaction committed first.
 * A tombstone of the partition drops the entries before it. Both formulations give the same committed
 * offsets because the log offset of a partition's committed offset only grows until a tombstone deletes it.
 *
 * <h2>Record offsets</h2>
 *
 * Every operation names the position of its record in the log ({@code recordOffset}, or for the leader's live
 * state any number that grows in log order). An operation never undoes the effect of a record that is later
 * than its own, so applying a suffix of the log again after a crash (the view keeps a prefix of its writes)
 * ends in the same state; a marker ends only the entries before it.
 *
 * <p>Not thread-safe.
 */
public final class PendingTxnOffsets {
    /**
     * One pending offset.
     *
     * @param recordOffset the log offset of the record (or its position in log order)
     * @param superseded a later record already replaced the partition's committed offset: committing the
     *     transaction leaves the committed offset as it is
     */
    public record Entry(TxnOffsetCommit record, long recordOffset, boolean superseded) {
        public Entry {
            Objects.requireNonNull(record, "record");
        }

        Key key() {
            return Key.of(record.offset());
        }
    }

    /** What a marker did: the offsets it committed, in order, and the producers whose entries changed. */
    public record Completion(List<OffsetCommit> committed, List<Long> changedProducers) {
        public Completion {
            committed = List.copyOf(committed);
            changedProducers = List.copyOf(changedProducers);
        }
    }

    private record Key(String groupId, String topic, int partition) {
        static final Comparator<Key> ORDER =
                Comparator.comparing(Key::groupId).thenComparing(Key::topic).thenComparingInt(Key::partition);

        static Key of(OffsetCommit commit) {
            return new Key(commit.groupId(), commit.topic(), commit.partition());
        }

        static Key first(String groupId) {
            return new Key(groupId, "", Integer.MIN_VALUE);
        }
    }

    private final TreeMap<Long, TreeMap<Key, Entry>> byProducer = new TreeMap<>();
    private final TreeMap<Key, TreeSet<Long>> producersByPartition = new TreeMap<>(Key.ORDER);

    /**
     * A transactional offset record at {@code recordOffset}; returns whether anything changed (not when the
     * producer already has a later entry for the partition: the record is applied again after a crash).
     */
    public boolean add(TxnOffsetCommit record, long recordOffset) {
        Key key = Key.of(record.offset());
        TreeMap<Key, Entry> entries = byProducer.get(record.producerId());
        Entry existing = entries == null ? null : entries.get(key);
        if (existing != null && existing.recordOffset() > recordOffset) {
            return false;
        }
        put(record.producerId(), new Entry(record, recordOffset, false));
        return true;
    }

    /** Restores an entry as a view persisted it. */
    public void restore(Entry entry) {
        put(entry.record().producerId(), entry);
    }

    /**
     * A non-transactional offset of the partition committed at {@code recordOffset}: the entries before it
     * are superseded. Returns the producers whose entries changed, in order.
     */
    public List<Long> supersede(String groupId, String topic, int partition, long recordOffset) {
        return supersede(new Key(groupId, topic, partition), recordOffset, Long.MIN_VALUE);
    }

    /** The partition's offset was deleted at {@code recordOffset}: the entries before it go. */
    public List<Long> remove(String groupId, String topic, int partition, long recordOffset) {
        Key key = new Key(groupId, topic, partition);
        TreeSet<Long> producers = producersByPartition.get(key);
        List<Long> changed = new ArrayList<>();
        if (producers == null) {
            return changed;
        }
        for (Long producerId : new ArrayList<>(producers)) {
            Entry entry = byProducer.get(producerId).get(key);
            if (entry.recordOffset() < recordOffset) {
                removeEntry(producerId, key);
                changed.add(producerId);
            }
        }
        return changed;
    }

    /**
     * A COMMIT ({@code commit}) or ABORT marker of the producer at {@code markerOffset} ends its entries before
     * the marker. On COMMIT each entry that is not superseded becomes the committed offset, and supersedes
     * the other producers' entries of its partition that are older than it.
     */
    public Completion complete(long producerId, boolean commit, long markerOffset) {
        TreeMap<Key, Entry> entries = byProducer.get(producerId);
        List<OffsetCommit> committed = new ArrayList<>();
        TreeSet<Long> changed = new TreeSet<>();
        if (entries == null) {
            return new Completion(committed, List.of());
        }
        for (Entry entry : new ArrayList<>(entries.values())) {
            if (entry.recordOffset() >= markerOffset) {
                continue; // a record of the producer's next transaction, applied again after a crash
            }
            Key key = entry.key();
            removeEntry(producerId, key);
            changed.add(producerId);
            if (commit && !entry.superseded()) {
                committed.add(entry.record().offset());
                changed.addAll(supersede(key, entry.recordOffset(), producerId));
            }
        }
        return new Completion(committed, new ArrayList<>(changed));
    }

    private List<Long> supersede(Key key, long recordOffset, long exceptProducerId) {
        TreeSet<Long> producers = producersByPartition.get(key);
        List<Long> changed = new ArrayList<>();
        if (producers == null) {
            return changed;
        }
        for (Long producerId : producers) {
            if (producerId == exceptProducerId) {
                continue;
            }
            TreeMap<Key, Entry> entries = byProducer.get(producerId);
            Entry entry = entries.get(key);
            if (!entry.superseded() && entry.recordOffset() < recordOffset) {
                entries.put(key, new Entry(entry.record(), entry.recordOffset(), true));
                changed.add(producerId);
            }
        }
        return changed;
    }

    private void put(long producerId, Entry entry) {
        Key key = entry.key();
        byProducer.computeIfAbsent(producerId, p -> new TreeMap<>(Key.ORDER)).put(key, entry);
        producersByPartition.computeIfAbsent(key, k -> new TreeSet<>()).add(producerId);
    }

    private void removeEntry(long producerId, Key key) {
        TreeMap<Key, Entry> entries = byProducer.get(producerId);
        entries.remove(key);
        if (entries.isEmpty()) {
            byProducer.remove(producerId);
        }
        TreeSet<Long> producers = producersByPartition.get(key);
        producers.remove(producerId);
        if (producers.isEmpty()) {
            producersByPartition.remove(key);
        }
    }

    // ---- queries ----

    /** Whether an open transaction holds an offset of the partition (OffsetFetch's UNSTABLE_OFFSET_COMMIT). */
    public boolean hasPending(String groupId, String topic, int partition) {
        return producersByPartition.containsKey(new Key(groupId, topic, partition));
    }

    /** Whether an open transaction holds an offset of the group. */
    public boolean hasPending(String groupId) {
        Map.Entry<Key, TreeSet<Long>> first = producersByPartition.ceilingEntry(Key.first(groupId));
        return first != null && first.getKey().groupId().equals(groupId);
    }

    /** The partitions of the group with pending offsets, as {@code topic → partitions}, in order. */
    public TreeMap<String, TreeSet<Integer>> pendingPartitions(String groupId) {
        TreeMap<String, TreeSet<Integer>> result = new TreeMap<>();
        for (Key key : producersByPartition.tailMap(Key.first(groupId), true).keySet()) {
            if (!key.groupId().equals(groupId)) {
                break;
            }
            result.computeIfAbsent(key.topic(), t -> new TreeSet<>()).add(key.partition());
        }
        return result;
    }

    /** The producer's pending entries in group, topic and partition order; empty if none. */
    public List<Entry> entries(long producerId) {
        TreeMap<Key, Entry> entries = byProducer.get(producerId);
        return entries == null ? List.of() : List.copyOf(entries.values());
    }

    /** The producers with pending entries, in order. */
    public List<Long> producerIds() {
        return new ArrayList<>(byProducer.keySet());
    }

    /** The largest record offset of any entry, or -1. */
    public long maxRecordOffset() {
        long max = -1;
        for (TreeMap<Key, Entry> entries : byProducer.values()) {
            for (Entry entry : entries.values()) {
                max = Math.max(max, entry.recordOffset());
            }
        }
        return max;
    }

    public boolean isEmpty() {
        return byProducer.isEmpty();
    }
}
