package dev.sluice.raft;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Which followers of a partition its Raft leader counts in sync (Kafka's ISR), from what the leader knows of each
 * follower's progress. Kafka's rule: a follower is in sync while, within {@code replica.lag.time.max.ms}, it has
 * held everything the leader's log held at some moment, and it keeps answering the leader.
 *
 * <h2>A follower's progress</h2>
 *
 * The highest Raft index the leader knows the follower holds, as the leader's log has it: the follower's match index
 * or the commit index the follower last reported, whichever is higher. Ratis's match index alone can lag for good:
 * it moves only when an append carrying entries succeeds. A follower that appended a batch but whose reply was lost
 * (a timeout, a reset connection) answers the leader's retry with "inconsistent: I already have these" once the
 * batch is committed, which moves the leader's next index but not its match index; heartbeats do not move it either.
 * On a partition nobody writes to, no later entry ever comes to fix it. The follower's commit index does: the
 * follower reports it in every answer, heartbeats included, and it never passes an entry the follower verified
 * against the leader's log (a follower commits at most up to the entries of an append it accepted).
 *
 * <h2>Caught up as of when</h2>
 *
 * The leader's log keeps growing under steady writes, so "progress at the leader's last index right now" rarely
 * holds even for a follower a few milliseconds behind; a check that only asked that would drop it from the ISR. So
 * each check also records the leader's last index and the time (at most one record per {@code lagMax / 64}, none
 * older than {@code lagMax}), and a follower whose progress reaches a recorded index was caught up as of that
 * record's time — like Kafka's follower, which is caught up as of the previous fetch when it reaches the log end the
 * leader had then.
 *
 * <p>A new leadership term starts over and gives every follower the full lag time. Not thread-safe: callers
 * synchronize on the instance.
 */
final class InSyncFollowers {
    /**
     * A follower as the leader sees it.
     *
     * @param id the follower's peer id
     * @param progress the highest Raft index the follower is known to hold as the leader does
     * @param lastResponseElapsedMs how long ago the follower last answered the leader
     */
    record Follower(String id, long progress, long lastResponseElapsedMs) {}

    /** The leader's last index at a time. */
    private record Mark(long timeMs, long lastIndex) {}

    private static final int MARKS_PER_LAG = 64;

    private final long lagMaxMs;
    private final long markEveryMs;
    private final ArrayDeque<Mark> marks = new ArrayDeque<>();
    private final Map<String, Long> caughtUpAtMs = new HashMap<>();
    private long term = Long.MIN_VALUE;

    /** @param lagMaxMs {@code replica.lag.time.max.ms} */
    InSyncFollowers(long lagMaxMs) {
        if (lagMaxMs <= 0) {
            throw new IllegalArgumentException("lagMaxMs must be > 0, got " + lagMaxMs);
        }
        this.lagMaxMs = lagMaxMs;
        this.markEveryMs = Math.max(1, lagMaxMs / MARKS_PER_LAG);
    }

    /**
     * The followers in sync now, in the order given.
     *
     * @param nowMs the current time
     * @param term the leader's term: a new one starts over
     * @param lastIndex the index of the last entry in the leader's log
     * @param followers every follower of the group, as the leader sees them
     */
    List<String> check(long nowMs, long term, long lastIndex, List<Follower> followers) {
        if (term != this.term) {
            this.term = term;
            marks.clear();
            caughtUpAtMs.clear();
        }
        mark(nowMs, lastIndex);
        List<String> inSync = new ArrayList<>();
        Map<String, Long> seen = new HashMap<>();
        for (Follower follower : followers) {
            long caughtUp = caughtUpAtMs.getOrDefault(follower.id(), nowMs); // new: the full lag time
            caughtUp = Math.max(caughtUp, caughtUpAt(follower.progress(), nowMs, lastIndex));
            seen.put(follower.id(), caughtUp);
            if (nowMs - caughtUp <= lagMaxMs && follower.lastResponseElapsedMs() <= lagMaxMs) {
                inSync.add(follower.id());
            }
        }
        caughtUpAtMs.clear();
        caughtUpAtMs.putAll(seen); // followers no longer in the group are forgotten
        return inSync;
    }

    /** The latest time at which the leader's log held nothing past {@code progress}, or {@code Long.MIN_VALUE}. */
    private long caughtUpAt(long progress, long nowMs, long lastIndex) {
        if (progress >= lastIndex) {
            return nowMs;
        }
        for (Iterator<Mark> newestFirst = marks.descendingIterator(); newestFirst.hasNext(); ) {
            Mark mark = newestFirst.next();
            if (mark.lastIndex() <= progress) {
                return mark.timeMs();
            }
        }
        return Long.MIN_VALUE;
    }

    private void mark(long nowMs, long lastIndex) {
        while (!marks.isEmpty() && nowMs - marks.peekFirst().timeMs() > lagMaxMs) {
            marks.pollFirst();
        }
        Mark newest = marks.peekLast();
        if (newest == null || (lastIndex > newest.lastIndex() && nowMs - newest.timeMs() >= markEveryMs)) {
            marks.addLast(new Mark(nowMs, lastIndex));
        }
    }
}
