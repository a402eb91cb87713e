package dev.sluice.chaos.check;

import java.util.Arrays;

/** A growable list of {@code long}s without boxing. Not thread-safe. */
final class LongList {
    private long[] items = new long[8];
    private int size;

    void add(long item) {
        if (size == items.length) {
            items = Arrays.copyOf(items, size * 2);
        }
        items[size++] = item;
    }

    long get(int i) {
        if (i < 0 || i >= size) {
            throw new IndexOutOfBoundsException("index " + i + " of a list of " + size);
        }
        return items[i];
    }

    int size() {
        return size;
    }

    long[] toArray() {
        return Arrays.copyOf(items, size);
    }
}
