package dev.sluice.chaos.check;

import java.util.Arrays;

/** A growable list of {@code int}s without boxing. Not thread-safe. */
final class IntList {
    private int[] items = new int[8];
    private int size;

    void add(int item) {
        if (size == items.length) {
            items = Arrays.copyOf(items, size * 2);
        }
        items[size++] = item;
    }

    int get(int i) {
        if (i < 0 || i >= size) {
            throw new IndexOutOfBoundsException("index " + i + " of a list of " + size);
        }
        return items[i];
    }

    int size() {
        return size;
    }

    void clear() {
        size = 0;
    }
}
