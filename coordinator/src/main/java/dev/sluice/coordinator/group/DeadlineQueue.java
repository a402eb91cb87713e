package dev.sluice.coordinator.group;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The timers of the group coordinator: at most one deadline per {@link Key}, fired in deadline order (ties in
 * the order they were set). Scheduling a key again moves its deadline. Not thread-safe.
 */
final class DeadlineQueue {
    enum Kind {
        /** A member's session (or a new member's join wait, or a pending member's wait for its rejoin). */
        HEARTBEAT,
        /** The end of a group's join phase: initial delay or rebalance timeout. */
        JOIN,
        /** The wait for every member's SyncGroup after a join phase. */
        SYNC,
        /** The periodic offsets retention check. */
        RETENTION
    }

    /** What a deadline is for; {@code memberId} only for {@link Kind#HEARTBEAT}. */
    record Key(Kind kind, String groupId, String memberId) {
        static Key heartbeat(String groupId, String memberId) {
            return new Key(Kind.HEARTBEAT, groupId, memberId);
        }

        static Key join(String groupId) {
            return new Key(Kind.JOIN, groupId, "");
        }

        static Key sync(String groupId) {
            return new Key(Kind.SYNC, groupId, "");
        }

        static Key retention() {
            return new Key(Kind.RETENTION, "", "");
        }
    }

    private record Slot(long deadlineMs, long sequence) implements Comparable<Slot> {
        @Override
        public int compareTo(Slot o) {
            int c = Long.compare(deadlineMs, o.deadlineMs);
            return c != 0 ? c : Long.compare(sequence, o.sequence);
        }
    }

    private final TreeMap<Slot, Key> byDeadline = new TreeMap<>();
    private final Map<Key, Slot> byKey = new HashMap<>();
    private long nextSequence;

    void schedule(Key key, long deadlineMs) {
        cancel(key);
        Slot slot = new Slot(deadlineMs, nextSequence++);
        byDeadline.put(slot, key);
        byKey.put(key, slot);
    }

    void cancel(Key key) {
        Slot slot = byKey.remove(key);
        if (slot != null) {
            byDeadline.remove(slot);
        }
    }

    boolean isScheduled(Key key) {
        return byKey.containsKey(key);
    }

    /** The earliest deadline, or {@link Long#MAX_VALUE} if nothing is scheduled. */
    long nextDeadlineMs() {
        return byDeadline.isEmpty() ? Long.MAX_VALUE : byDeadline.firstKey().deadlineMs();
    }

    /** The sequence number the next scheduled deadline will get. */
    long nextSequence() {
        return nextSequence;
    }

    /**
     * Removes and returns the earliest key due at {@code nowMs} that was scheduled before {@code sequenceLimit},
     * or null. The limit keeps one tick finite when a firing timer schedules another one that is already due.
     */
    Key pollDue(long nowMs, long sequenceLimit) {
        for (Map.Entry<Slot, Key> entry : byDeadline.entrySet()) {
            Slot slot = entry.getKey();
            if (slot.deadlineMs() > nowMs) {
                return null;
            }
            if (slot.sequence() < sequenceLimit) {
                byDeadline.remove(slot);
                byKey.remove(entry.getValue());
                return entry.getValue();
            }
        }
        return null;
    }

    void clear() {
        byDeadline.clear();
        byKey.clear();
    }
}
