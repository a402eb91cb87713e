package dev.sluice.chaos.check;

import java.util.Arrays;

/**
 * A hash map from {@code long} to {@code long} without boxing, for the checker's per-value and per-offset
 * indexes over histories of millions of records. Open addressing with linear probing, kept at most half full,
 * keys and values interleaved in one array so that a lookup touches one cache line. {@link Long#MIN_VALUE}
 * marks a free slot; that key itself is kept aside, so every {@code long} is a valid key. No removal. Not
 * thread-safe.
 */
final class LongLongHashMap {
    private static final long FREE = Long.MIN_VALUE;

    /** {@code [key0, value0, key1, value1, ...]}. */
    private long[] slots;

    private int mask;
    private int size;
    private boolean hasFreeKey;
    private long freeKeyValue;

    LongLongHashMap() {
        this(16);
    }

    LongLongHashMap(int expectedSize) {
        allocate(Integer.highestOneBit(Math.max(8, expectedSize) * 2 - 1) << 1);
    }

    int size() {
        return size;
    }

    boolean containsKey(long key) {
        return key == FREE ? hasFreeKey : slots[find(key)] != FREE;
    }

    /** @return the value of {@code key}, or {@code missing} if it has none */
    long get(long key, long missing) {
        if (key == FREE) {
            return hasFreeKey ? freeKeyValue : missing;
        }
        int i = find(key);
        return slots[i] == FREE ? missing : slots[i + 1];
    }

    /** Maps {@code key} to {@code value} and returns the value it replaced, or {@code missing}. */
    long put(long key, long value, long missing) {
        if (key == FREE) {
            long previous = hasFreeKey ? freeKeyValue : missing;
            if (!hasFreeKey) {
                hasFreeKey = true;
                size++;
            }
            freeKeyValue = value;
            return previous;
        }
        int i = find(key);
        if (slots[i] != FREE) {
            long previous = slots[i + 1];
            slots[i + 1] = value;
            return previous;
        }
        insert(i, key, value);
        return missing;
    }

    /** Maps {@code key} to {@code value} unless it has a value; returns that value, or {@code missing}. */
    long putIfAbsent(long key, long value, long missing) {
        if (key == FREE) {
            if (hasFreeKey) {
                return freeKeyValue;
            }
            put(key, value, missing);
            return missing;
        }
        int i = find(key);
        if (slots[i] != FREE) {
            return slots[i + 1];
        }
        insert(i, key, value);
        return missing;
    }

    /**
     * Maps {@code key} to {@code value} unless it has a value.
     *
     * @return whether {@code key} now maps to {@code value} (it was absent, or had that value already)
     */
    boolean putIfAbsentOrEqual(long key, long value) {
        if (key == FREE) {
            return putIfAbsent(key, value, value) == value;
        }
        int i = find(key);
        if (slots[i] != FREE) {
            return slots[i + 1] == value;
        }
        insert(i, key, value);
        return true;
    }

    /** ORs {@code bits} into the value of {@code key} (0 when it had none) and returns the new value. */
    long orBits(long key, long bits) {
        if (key == FREE) {
            long value = (hasFreeKey ? freeKeyValue : 0) | bits;
            put(key, value, 0);
            return value;
        }
        int i = find(key);
        if (slots[i] != FREE) {
            slots[i + 1] |= bits;
            return slots[i + 1];
        }
        insert(i, key, bits);
        return bits;
    }

    /** @return every key, sorted ascending (a deterministic order for reports) */
    long[] sortedKeys() {
        long[] result = new long[size];
        int n = 0;
        if (hasFreeKey) {
            result[n++] = FREE;
        }
        for (int i = 0; i < slots.length; i += 2) {
            if (slots[i] != FREE) {
                result[n++] = slots[i];
            }
        }
        Arrays.sort(result);
        return result;
    }

    private void insert(int i, long key, long value) {
        slots[i] = key;
        slots[i + 1] = value;
        size++;
        if (size * 4 > slots.length) { // more than half of the slots used
            grow();
        }
    }

    /** @return the index of {@code key}'s slot, or of the free slot where it belongs */
    private int find(long key) {
        int slot = hash(key) & mask;
        while (slots[2 * slot] != FREE && slots[2 * slot] != key) {
            slot = (slot + 1) & mask;
        }
        return 2 * slot;
    }

    private static int hash(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32));
    }

    private void grow() {
        long[] old = slots;
        allocate(old.length); // twice the slots: old.length / 2 slots before
        for (int i = 0; i < old.length; i += 2) {
            if (old[i] != FREE) {
                int j = find(old[i]);
                slots[j] = old[i];
                slots[j + 1] = old[i + 1];
            }
        }
    }

    private void allocate(int capacity) {
        slots = new long[2 * capacity];
        Arrays.fill(slots, FREE);
        mask = capacity - 1;
    }
}
