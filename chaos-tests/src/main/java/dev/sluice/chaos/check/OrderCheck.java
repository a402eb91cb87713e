package dev.sluice.chaos.check;

import dev.sluice.chaos.history.ConsumerMode;
import dev.sluice.chaos.history.FinalRead;
import dev.sluice.chaos.history.Outcome;
import dev.sluice.chaos.history.Poll;
import dev.sluice.chaos.history.Read;
import dev.sluice.chaos.history.Send;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The order checks: {@link Anomaly#NONMONOTONIC_SEND} over each producer's acknowledged sends to a partition,
 * {@link Anomaly#NONMONOTONIC_POLL} and {@link Anomaly#POLL_SKIP} over each consumer session's records of a
 * partition (informational counts for {@code SUBSCRIBE} sessions), and the offset order of every final read.
 * Not thread-safe; used once.
 */
final class OrderCheck {
    private static final int SKIPPED_SHOWN = 5;

    private final HistoryIndex index;
    private final Findings findings;
    private long subscribeNonmonotonic;
    private long subscribeSkips;

    OrderCheck(HistoryIndex index, Findings findings) {
        this.index = index;
        this.findings = findings;
    }

    long subscribeNonmonotonic() {
        return subscribeNonmonotonic;
    }

    long subscribeSkips() {
        return subscribeSkips;
    }

    void run() {
        checkSends();
        checkPolls();
        checkFinalReads();
    }

    private void checkSends() {
        // Keyed by (process, partition id), in key order so that examples do not depend on hashing.
        Map<Long, List<Send>> byProducerPartition = new TreeMap<>();
        for (Send send : index.history.sends()) {
            if (send.outcome() == Outcome.OK && send.offset() >= 0) {
                long key = ((long) send.process() << 32) | index.id(send.topic(), send.partition());
                byProducerPartition.computeIfAbsent(key, k -> new ArrayList<>()).add(send);
            }
        }
        for (List<Send> sends : byProducerPartition.values()) {
            sends.sort(Comparator.comparingLong(Send::invokeNs)); // stable: ties keep completion order
            for (int k = 1; k < sends.size(); k++) {
                Send before = sends.get(k - 1);
                Send after = sends.get(k);
                if (after.offset() <= before.offset()) {
                    findings.report(
                            Anomaly.NONMONOTONIC_SEND,
                            () -> "process " + before.process() + " sent value "
                                    + before.value() + " (invoked " + Describe.seconds(before.invokeNs()) + ", offset "
                                    + before.offset() + ") then value " + after.value() + " (invoked "
                                    + Describe.seconds(after.invokeNs()) + ", offset " + after.offset() + ") to "
                                    + before.topic() + "-" + before.partition());
                }
            }
        }
    }

    /** Where one consumer session last was in one partition. */
    private static final class Cursor {
        int session;
        long offset;
        int poll;
    }

    private void checkPolls() {
        // (process, partition id) → index into cursors: no boxing per record.
        LongLongHashMap cursorIndex = new LongLongHashMap();
        List<Cursor> cursors = new ArrayList<>();
        List<Poll> polls = index.history.polls();
        for (int i = 0; i < polls.size(); i++) {
            Poll poll = polls.get(i);
            for (Read r : poll.records()) {
                int id = index.id(r);
                long key = ((long) poll.process() << 32) | id;
                long at = cursorIndex.putIfAbsent(key, cursors.size(), -1);
                Cursor cursor;
                if (at < 0) {
                    cursor = new Cursor();
                    cursors.add(cursor);
                } else {
                    cursor = cursors.get((int) at);
                    if (cursor.session == poll.session()) {
                        compare(cursor, i, poll, id, r.offset());
                    }
                }
                cursor.session = poll.session();
                cursor.offset = r.offset();
                cursor.poll = i;
            }
        }
    }

    private void compare(Cursor cursor, int pollIndex, Poll poll, int id, long offset) {
        boolean assign = poll.mode() == ConsumerMode.ASSIGN;
        long previous = cursor.offset;
        int previousPoll = cursor.poll;
        if (offset <= previous) {
            if (assign) {
                findings.report(
                        Anomaly.NONMONOTONIC_POLL,
                        () -> describeStep(poll, pollIndex, previousPoll, id, previous, offset));
            } else {
                subscribeNonmonotonic++;
            }
            return;
        }
        HistoryIndex.FinalView view = index.finalView(id, poll.isolation());
        int skipped = view == null ? 0 : view.countBetween(previous, offset);
        if (skipped == 0) {
            return;
        }
        if (assign) {
            findings.report(
                    Anomaly.POLL_SKIP,
                    () -> describeStep(poll, pollIndex, previousPoll, id, previous, offset)
                            + " skipped " + skipped + " record(s) of the " + view.describe() + " at offsets "
                            + Arrays.toString(view.between(previous, offset, SKIPPED_SHOWN))
                            + (skipped > SKIPPED_SHOWN ? "..." : ""));
        } else {
            subscribeSkips++;
        }
    }

    private String describeStep(Poll poll, int pollIndex, int previousPoll, int id, long previous, long offset) {
        String before = previousPoll == pollIndex
                ? "earlier in the same poll"
                : "returned by the poll completed at "
                        + Describe.seconds(
                                index.history.polls().get(previousPoll).completeNs());
        return index.name(id) + " in " + Describe.poll(poll) + ": offset " + offset + " after offset " + previous + " "
                + before;
    }

    private void checkFinalReads() {
        for (FinalRead read : index.history.finalReads()) {
            List<Read> records = read.records();
            for (int k = 1; k < records.size(); k++) {
                Read before = records.get(k - 1);
                Read after = records.get(k);
                if (after.offset() <= before.offset()
                        && after.topic().equals(before.topic())
                        && after.partition() == before.partition()) {
                    findings.report(
                            Anomaly.NONMONOTONIC_POLL,
                            () -> "final " + read.isolation() + " read of "
                                    + after.topic() + "-" + after.partition() + " returned offset " + after.offset()
                                    + " after " + before.offset());
                }
            }
        }
    }
}
