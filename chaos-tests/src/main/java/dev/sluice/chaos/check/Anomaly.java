package dev.sluice.chaos.check;

import java.util.Arrays;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The kinds of anomaly the {@link Checker} looks for in a run's history, each with a stable kebab-case name
 * used in {@code verdict.json} and the run report.
 *
 * <h2>Terms</h2>
 *
 * <ul>
 *   <li>An <em>observation</em> places a value at a (partition, offset): an acknowledged send (its ack), a
 *       record a poll returned, or a record a final read returned. A <em>read</em> is a poll or a final read.
 *   <li>The <em>writer</em> of a value is the send that carried it (values are unique in a run). A writer
 *       <em>certainly failed</em> when its send's outcome is {@code FAIL}. It is <em>certainly aborted</em> when
 *       its send belongs to a transaction with {@link dev.sluice.chaos.history.Txn#aborted()}, and
 *       <em>committed</em> when that transaction {@link dev.sluice.chaos.history.Txn#committed()}.
 *   <li>The <em>version order</em> of a partition at an isolation level is the set of offsets at which that
 *       partition's final read of that isolation level returned a record. When several final reads exist for
 *       one partition and level, the last one recorded is used. A partition without that final read has no
 *       version order at that level, and the checks that need one are not made for it.
 *   <li>A read <em>reaches</em> offset {@code r} of a partition when it returned a record at offset
 *       {@code r - 1} of it, or it is a final read whose {@code endOffset} is {@code r}. The reach of a
 *       partition is the largest reach of the reads considered.
 *   <li>A poll's <em>session</em> is its consumer's ({@code process}, {@code session}) pair; order checks
 *       compare only the records of one partition returned within one session, in the order the polls
 *       completed and the records were returned.
 * </ul>
 *
 * <p>Counts are of distinct things, named per kind below, so one lost record read by many consumers counts
 * once.
 */
public enum Anomaly {
    /**
     * An acknowledged send (outcome {@code OK}, offset {@code o} on partition {@code p}) whose value no read
     * returned, although the reads of {@code p} reached past {@code o}. For a transactional send whose
     * transaction did not certainly commit, only {@code READ_UNCOMMITTED} reads count towards the reach (a
     * {@code READ_COMMITTED} read rightly skips an aborted record). An offset below a final read's
     * {@code logStartOffset} does not excuse it (chaos topics keep every record). Counted per send.
     */
    LOST_WRITE("lost-write"),
    /**
     * An acknowledged send whose value no read returned, and no read reached past its offset (the reach being
     * computed as for {@link #LOST_WRITE}). Before the final read this may be a record nobody read yet; after it,
     * the record is lost. Counted per send.
     */
    UNSEEN("unseen"),
    /** One value observed at more than one (partition, offset), across acks and reads. Counted per value. */
    DUPLICATE("duplicate"),
    /**
     * One (partition, offset) observed with more than one value, across acks and reads. Counted per
     * (partition, offset).
     */
    INCONSISTENT_OFFSETS("inconsistent-offsets"),
    /**
     * Two acknowledged sends of one producer process to one partition, consecutive in the order they were
     * invoked ({@code invokeNs}, ties in completion order), whose offsets do not strictly increase. Counted per
     * such pair.
     */
    NONMONOTONIC_SEND("nonmonotonic-send"),
    /**
     * Two records of one partition returned consecutively within one {@code ASSIGN}-mode session (across polls
     * or within one), at offsets {@code a < b}, with an offset strictly between them in the partition's
     * version order at the poll's isolation level: the consumer skipped a record it should have returned.
     * Counted per such pair. {@code SUBSCRIBE}-mode sessions are checked the same way but only counted in
     * {@link Statistics#subscribePollSkips()}, since a rebalance may move a consumer to another member's
     * committed offset.
     */
    POLL_SKIP("poll-skip"),
    /**
     * Two records of one partition returned consecutively within one {@code ASSIGN}-mode session whose offsets
     * do not strictly increase (the consumer went back or returned a record twice); also a final read whose
     * offsets do not strictly increase. Counted per such pair. {@code SUBSCRIBE}-mode sessions only count in
     * {@link Statistics#subscribeNonmonotonicPolls()}: a rebalance legitimately rewinds to a committed offset.
     */
    NONMONOTONIC_POLL("nonmonotonic-poll"),
    /**
     * Aborted read: a read returned a value whose send certainly failed (at any isolation level: a refused send
     * must not be in the log), or a {@code READ_COMMITTED} read (poll or final read) returned a value written by
     * a certainly aborted transaction. An indeterminate ({@code INFO}) non-transactional send may have been
     * written, so reading it is legal. Counted per value.
     */
    G1A("g1a"),
    /**
     * A {@code READ_COMMITTED} poll returned a value written by a transaction that did not certainly abort,
     * and completed before that transaction's commit was invoked ({@code completeNs < endInvokeNs}, or no
     * commit or abort was ever invoked). Counted per value.
     */
    PRECOMMITTED_READ("precommitted-read"),
    /**
     * A {@code READ_COMMITTED} poll returned a record at offset {@code o} of a partition while a transaction
     * with a record at a lower offset of that partition was certainly still open: that transaction committed,
     * and the poll completed before its commit was invoked. The last stable offset can never pass an open
     * transaction's first record, so no record after it may be returned. Records that are themselves
     * {@link #PRECOMMITTED_READ}s do not count here. Counted per (poll, partition).
     */
    READ_PAST_OPEN_TXN("read-past-open-txn"),
    /**
     * A cycle of committed transactions in the read-committed order graph (G1c-style). An edge
     * {@code Ti -> Tj} exists when an input poll of {@code Tj} (a {@code READ_COMMITTED} poll whose
     * {@code txn} is {@code Tj} and that completed no later than {@code Tj}'s commit was invoked) returned a
     * record at offset {@code o} of partition {@code p}, and {@code Ti != Tj} wrote a record at an offset
     * {@code <= o} of {@code p}: at {@code o} itself Ti's value was read (a wr edge); below it, Ti's write
     * precedes a record Tj read in {@code p}'s version order (a ww edge followed by a wr edge). Either way
     * {@code Ti} had ended before {@code Tj} read its input, hence before {@code Tj} committed, so a cycle is
     * impossible. A ww edge on its own is not used: concurrent transactions interleave their writes and
     * commit in any order, legally. Counted per strongly connected component of more than one transaction.
     */
    WR_CYCLE("wr-cycle"),
    /** A read returned a value that no send carried. Counted per value. */
    UNKNOWN_VALUE("unknown-value"),
    /**
     * A record that was visible at an isolation level is absent from the final read at that level: either a
     * poll at that level returned it, or (for a value some read returned) it was acknowledged, is visible at
     * that level (any record under {@code READ_UNCOMMITTED}; a non-transactional or committed one under
     * {@code READ_COMMITTED}) and its offset is below the final read's {@code endOffset}. An offset below the
     * final read's {@code logStartOffset} does not excuse it: chaos topics keep every record, so a record gone
     * from the log start was deleted. Not counted when the final read holds another value at that offset (that
     * is {@link #INCONSISTENT_OFFSETS}), for values that are {@link #G1A} at that level, or for unknown values.
     * Counted per value.
     */
    VANISHED("vanished");

    private static final Map<String, Anomaly> BY_NAME =
            Arrays.stream(values()).collect(Collectors.toUnmodifiableMap(Anomaly::jsonName, Function.identity()));

    private final String jsonName;

    Anomaly(String jsonName) {
        this.jsonName = jsonName;
    }

    /** @return the stable kebab-case name of this kind */
    public String jsonName() {
        return jsonName;
    }

    /**
     * @return the kind named {@code jsonName}
     * @throws IllegalArgumentException if no kind has that name
     */
    public static Anomaly fromJsonName(String jsonName) {
        Anomaly anomaly = BY_NAME.get(jsonName);
        if (anomaly == null) {
            throw new IllegalArgumentException(
                    "unknown anomaly '" + jsonName + "'; known: " + new TreeSet<>(BY_NAME.keySet()));
        }
        return anomaly;
    }

    @Override
    public String toString() {
        return jsonName;
    }
}
