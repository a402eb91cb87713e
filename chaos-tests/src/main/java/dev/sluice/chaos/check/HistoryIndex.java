package dev.sluice.chaos.check;

import dev.sluice.chaos.history.FinalRead;
import dev.sluice.chaos.history.History;
import dev.sluice.chaos.history.Isolation;
import dev.sluice.chaos.history.Outcome;
import dev.sluice.chaos.history.Read;
import dev.sluice.chaos.history.Send;
import dev.sluice.chaos.history.Txn;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The lookups every check shares, built once from a history: partitions as dense ids (in order of first
 * appearance: sends, polls, final reads), the writer of each value, transactions by id, and each partition's
 * final reads as sorted offset arrays (the version orders). Positions pack a partition id and an offset into
 * one {@code long}: {@code id << 40 | offset}. Not thread-safe; built and used within one
 * {@link Checker#check} call.
 */
final class HistoryIndex {
    private static final int OFFSET_BITS = 40;
    private static final long MAX_OFFSET = (1L << OFFSET_BITS) - 1;
    private static final int MAX_PARTITIONS = 1 << 23;

    final History history;
    private final Map<String, int[]> idsByTopic = new HashMap<>();
    private final List<String> topics = new ArrayList<>();
    private final List<Integer> partitionNumbers = new ArrayList<>();
    private final LongLongHashMap sendByValue;
    private final Map<Long, Txn> txnById = new HashMap<>();
    private final FinalView[][] finals;

    HistoryIndex(History history) {
        this.history = history;
        history.sends().forEach(s -> register(s.topic(), s.partition()));
        history.polls().forEach(p -> p.records().forEach(r -> register(r.topic(), r.partition())));
        history.finalReads().forEach(f -> {
            register(f.topic(), f.partition());
            f.records().forEach(r -> register(r.topic(), r.partition()));
        });
        sendByValue = new LongLongHashMap(history.sends().size());
        List<Send> sends = history.sends();
        for (int i = 0; i < sends.size(); i++) {
            sendByValue.putIfAbsent(sends.get(i).value(), i, -1);
        }
        history.txns().forEach(t -> txnById.put(t.id(), t));
        finals = new FinalView[partitionCount()][Isolation.values().length];
        List<FinalRead> reads = history.finalReads();
        for (int i = 0; i < reads.size(); i++) {
            FinalRead read = reads.get(i);
            finals[id(read.topic(), read.partition())][read.isolation().ordinal()] = new FinalView(read, i);
        }
    }

    int partitionCount() {
        return topics.size();
    }

    /** @return the dense id of a partition seen anywhere in the history */
    int id(String topic, int partition) {
        int[] ids = idsByTopic.get(topic);
        if (ids == null || partition < 0 || partition >= ids.length || ids[partition] < 0) {
            throw new IllegalArgumentException("partition " + topic + "-" + partition + " is not in the history");
        }
        return ids[partition];
    }

    int id(Read read) {
        return id(read.topic(), read.partition());
    }

    String name(int id) {
        return topics.get(id) + "-" + partitionNumbers.get(id);
    }

    /** @return the partition ids sorted by topic, then partition number */
    int[] idsInNameOrder() {
        Integer[] ids = new Integer[partitionCount()];
        Arrays.setAll(ids, i -> i);
        Arrays.sort(ids, Comparator.<Integer, String>comparing(topics::get).thenComparing(partitionNumbers::get));
        return Arrays.stream(ids).mapToInt(Integer::intValue).toArray();
    }

    /** @return the send that carried {@code value}, or {@code null} if none did */
    Send writer(long value) {
        long i = sendByValue.get(value, -1);
        return i < 0 ? null : history.sends().get((int) i);
    }

    /** @return the transaction of a send, or {@code null} if it is not transactional or its txn is unknown */
    Txn txnOf(Send send) {
        return send.txn() < 0 ? null : txnById.get(send.txn());
    }

    Txn txn(long id) {
        return txnById.get(id);
    }

    static boolean certainlyFailed(Send send) {
        return send.outcome() == Outcome.FAIL;
    }

    boolean certainlyAborted(Send send) {
        Txn txn = txnOf(send);
        return txn != null && txn.aborted();
    }

    boolean committed(Send send) {
        Txn txn = txnOf(send);
        return txn != null && txn.committed();
    }

    /** @return whether a read at {@code isolation} must return {@code send}'s record once it is stable */
    boolean visibleAt(Send send, Isolation isolation) {
        return isolation == Isolation.READ_UNCOMMITTED || send.txn() < 0 || committed(send);
    }

    /** @return whether returning {@code send}'s value at {@code isolation} is an aborted read (G1a) */
    boolean abortedRead(Send send, Isolation isolation) {
        return certainlyFailed(send) || (isolation == Isolation.READ_COMMITTED && certainlyAborted(send));
    }

    /** @return the final read of a partition at an isolation level (the last recorded), or {@code null} */
    FinalView finalView(int id, Isolation isolation) {
        return finals[id][isolation.ordinal()];
    }

    static long position(int id, long offset) {
        if (offset < 0 || offset > MAX_OFFSET) {
            throw new IllegalArgumentException("offset " + offset + " is outside [0, " + MAX_OFFSET + "]");
        }
        return ((long) id << OFFSET_BITS) | offset;
    }

    static int positionId(long position) {
        return (int) (position >>> OFFSET_BITS);
    }

    static long positionOffset(long position) {
        return position & MAX_OFFSET;
    }

    String describePosition(long position) {
        return name(positionId(position)) + "@" + positionOffset(position);
    }

    private void register(String topic, int partition) {
        if (partition < 0) {
            throw new IllegalArgumentException("negative partition " + partition + " of topic " + topic);
        }
        int[] ids = idsByTopic.get(topic);
        if (ids == null || partition >= ids.length) {
            int[] grown = new int[Math.max(partition + 1, ids == null ? 0 : ids.length * 2)];
            Arrays.fill(grown, -1);
            if (ids != null) {
                System.arraycopy(ids, 0, grown, 0, ids.length);
            }
            ids = grown;
            idsByTopic.put(topic, ids);
        }
        if (ids[partition] < 0) {
            if (topics.size() >= MAX_PARTITIONS) {
                throw new IllegalArgumentException("more than " + MAX_PARTITIONS + " partitions");
            }
            ids[partition] = topics.size();
            topics.add(topic);
            partitionNumbers.add(partition);
        }
    }

    /**
     * One final read as arrays sorted by offset, for binary search. A repeated offset keeps its first record.
     * Immutable.
     */
    static final class FinalView {
        final FinalRead read;
        final int index;
        final long[] offsets;
        final long[] values;

        FinalView(FinalRead read, int index) {
            this.read = read;
            this.index = index;
            List<Read> records = new ArrayList<>(read.records());
            records.sort(Comparator.comparingLong(Read::offset)); // stable: a repeated offset keeps its first
            long[] o = new long[records.size()];
            long[] v = new long[records.size()];
            int n = 0;
            for (Read r : records) {
                if (n == 0 || o[n - 1] != r.offset()) {
                    o[n] = r.offset();
                    v[n] = r.value();
                    n++;
                }
            }
            this.offsets = Arrays.copyOf(o, n);
            this.values = Arrays.copyOf(v, n);
        }

        boolean has(long offset) {
            return Arrays.binarySearch(offsets, offset) >= 0;
        }

        /** @return the value at {@code offset}; call only when {@link #has} */
        long valueAt(long offset) {
            return values[Arrays.binarySearch(offsets, offset)];
        }

        /** @return how many of this read's offsets are strictly between {@code from} and {@code to} */
        int countBetween(long from, long to) {
            return Math.max(0, indexAtOrAbove(to) - indexAtOrAbove(from + 1));
        }

        /** @return up to {@code max} of this read's offsets strictly between {@code from} and {@code to} */
        long[] between(long from, long to, int max) {
            int start = indexAtOrAbove(from + 1);
            int end = Math.min(indexAtOrAbove(to), start + max);
            return start >= end ? new long[0] : Arrays.copyOfRange(offsets, start, end);
        }

        /** @return the index of the first offset {@code >= offset} (the length if none) */
        int indexAtOrAbove(long offset) {
            int i = Arrays.binarySearch(offsets, offset);
            return i >= 0 ? i : -i - 1;
        }

        String describe() {
            return "final " + read.isolation() + " read (log start " + read.logStartOffset() + ", end "
                    + read.endOffset() + ")";
        }
    }
}
