package dev.sluice.chaos.check;

import dev.sluice.chaos.history.FinalRead;
import dev.sluice.chaos.history.Isolation;
import dev.sluice.chaos.history.Outcome;
import dev.sluice.chaos.history.Poll;
import dev.sluice.chaos.history.Read;
import dev.sluice.chaos.history.Send;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The checks about where values sit in the logs: {@link Anomaly#DUPLICATE}, {@link Anomaly#INCONSISTENT_OFFSETS},
 * {@link Anomaly#UNKNOWN_VALUE}, {@link Anomaly#LOST_WRITE}, {@link Anomaly#UNSEEN} and {@link Anomaly#VANISHED}.
 * Also builds the value → position and value → "read by" indexes the transaction checks reuse. One pass over
 * every observation with hash maps of primitives; a second pass only for the few examples. Not thread-safe;
 * used once.
 */
final class LogCheck {
    private static final long NONE = -1;

    private final HistoryIndex index;
    private final Findings findings;
    private final int examplesPerKind;
    /** value → position of its first observation (acks first, then reads). */
    private final LongLongHashMap positionByValue;
    /** value → bit set of the {@link #readBit} of every read that returned it. */
    private final LongLongHashMap readMask;
    /** per partition: offset → value of its first observation. */
    private final LongLongHashMap[] valueByOffset;
    /** per partition: the reach of all reads, and of READ_UNCOMMITTED reads only (0 when nothing). */
    private final long[] reachAll;

    private final long[] reachUncommitted;
    /** per partition: the source ({@code kind << 32 | index}) of that reach. */
    private final long[] reachAllSource;

    private final long[] reachUncommittedSource;
    private final LongList duplicateValues = new LongList();
    private final LongLongHashMap duplicateSeen = new LongLongHashMap();
    private final LongList inconsistentPositions = new LongList();
    private final LongLongHashMap inconsistentSeen = new LongLongHashMap();
    private final LongLongHashMap vanishedSeen = new LongLongHashMap();

    LogCheck(HistoryIndex index, Findings findings, int examplesPerKind) {
        this.index = index;
        this.findings = findings;
        this.examplesPerKind = examplesPerKind;
        int partitions = index.partitionCount();
        positionByValue = new LongLongHashMap(index.history.sends().size());
        readMask = new LongLongHashMap(index.history.sends().size());
        valueByOffset = new LongLongHashMap[partitions];
        for (int p = 0; p < partitions; p++) {
            valueByOffset[p] = new LongLongHashMap();
        }
        reachAll = new long[partitions];
        reachUncommitted = new long[partitions];
        reachAllSource = new long[partitions];
        reachUncommittedSource = new long[partitions];
    }

    /** @return value → position ({@link HistoryIndex#position}) of its first observation */
    LongLongHashMap positionByValue() {
        return positionByValue;
    }

    /** @return how many distinct values some read returned */
    long distinctValuesRead() {
        return readMask.size();
    }

    void run() {
        Observations.forEach(index, this::observe);
        List<FinalRead> finals = index.history.finalReads();
        for (int i = 0; i < finals.size(); i++) {
            FinalRead read = finals.get(i);
            reach(index.id(read.topic(), read.partition()), read.endOffset(), Observations.FINAL, i, read.isolation());
        }
        reportDuplicatesAndInconsistencies();
        reportLostAndUnseen();
        reportVanishedPolls();
        reportVanishedAcks();
    }

    private void observe(int source, int i, int id, long offset, long value, Isolation isolation) {
        long position = HistoryIndex.position(id, offset);
        long first = positionByValue.putIfAbsent(value, position, NONE);
        if (first != NONE && first != position && duplicateSeen.putIfAbsent(value, 1, NONE) == NONE) {
            duplicateValues.add(value);
        }
        if (!valueByOffset[id].putIfAbsentOrEqual(offset, value)
                && inconsistentSeen.putIfAbsent(position, 1, NONE) == NONE) {
            inconsistentPositions.add(position);
        }
        if (source == Observations.ACK) {
            return;
        }
        int distinctBefore = readMask.size();
        readMask.orBits(value, readBit(source, isolation));
        if (readMask.size() > distinctBefore && index.writer(value) == null) {
            findings.report(
                    Anomaly.UNKNOWN_VALUE,
                    () -> "value " + value + " at " + index.describePosition(position) + " returned by "
                            + Observations.describe(index, source, i) + " was never sent");
        }
        reach(id, offset + 1, source, i, isolation);
    }

    private static long readBit(int source, Isolation isolation) {
        return 1L << (source * 2 + isolation.ordinal());
    }

    private void reach(int id, long reach, int source, int i, Isolation isolation) {
        long sourceCode = ((long) source << 32) | i;
        if (reach > reachAll[id]) {
            reachAll[id] = reach;
            reachAllSource[id] = sourceCode;
        }
        if (isolation == Isolation.READ_UNCOMMITTED && reach > reachUncommitted[id]) {
            reachUncommitted[id] = reach;
            reachUncommittedSource[id] = sourceCode;
        }
    }

    private void reportDuplicatesAndInconsistencies() {
        if (duplicateValues.size() == 0 && inconsistentPositions.size() == 0) {
            return;
        }
        // The few examples name every place and source involved, found in a second pass.
        Map<Long, Map<Long, String>> placesOfValue = new LinkedHashMap<>();
        for (int k = 0; k < Math.min(examplesPerKind, duplicateValues.size()); k++) {
            placesOfValue.put(duplicateValues.get(k), new LinkedHashMap<>());
        }
        Map<Long, Map<Long, String>> valuesAtPosition = new LinkedHashMap<>();
        for (int k = 0; k < Math.min(examplesPerKind, inconsistentPositions.size()); k++) {
            valuesAtPosition.put(inconsistentPositions.get(k), new LinkedHashMap<>());
        }
        Observations.forEach(index, (source, i, id, offset, value, isolation) -> {
            Map<Long, String> places = placesOfValue.get(value);
            long position = HistoryIndex.position(id, offset);
            if (places != null) {
                places.putIfAbsent(position, Observations.describe(index, source, i));
            }
            Map<Long, String> values = valuesAtPosition.get(position);
            if (values != null) {
                values.putIfAbsent(value, Observations.describe(index, source, i));
            }
        });
        for (int k = 0; k < duplicateValues.size(); k++) {
            long value = duplicateValues.get(k);
            findings.report(
                    Anomaly.DUPLICATE,
                    () -> "value " + value + " at "
                            + placesOfValue.get(value).entrySet().stream()
                                    .map(e -> index.describePosition(e.getKey()) + " (" + e.getValue() + ")")
                                    .collect(Collectors.joining(", ")));
        }
        for (int k = 0; k < inconsistentPositions.size(); k++) {
            long position = inconsistentPositions.get(k);
            findings.report(
                    Anomaly.INCONSISTENT_OFFSETS,
                    () -> index.describePosition(position) + " holds values "
                            + valuesAtPosition.get(position).entrySet().stream()
                                    .map(e -> e.getKey() + " (" + e.getValue() + ")")
                                    .collect(Collectors.joining(", ")));
        }
    }

    private void reportLostAndUnseen() {
        List<Send> sends = index.history.sends();
        for (Send send : sends) {
            if (send.outcome() != Outcome.OK || readMask.containsKey(send.value())) {
                continue;
            }
            int id = index.id(send.topic(), send.partition());
            boolean uncommittedOnly = send.txn() >= 0 && !index.committed(send);
            long reach = uncommittedOnly ? reachUncommitted[id] : reachAll[id];
            long reachSource = uncommittedOnly ? reachUncommittedSource[id] : reachAllSource[id];
            String where = index.name(id) + "@" + send.offset() + " value " + send.value() + " " + Describe.send(send)
                    + " was never read";
            String reads = uncommittedOnly ? "READ_UNCOMMITTED reads" : "reads";
            if (send.offset() >= 0 && send.offset() < reach) {
                findings.report(
                        Anomaly.LOST_WRITE,
                        () -> where + ", though " + reads + " of " + index.name(id)
                                + " went up to offset " + (reach - 1) + " ("
                                + Observations.describe(index, (int) (reachSource >>> 32), (int) reachSource) + ")");
            } else {
                findings.report(
                        Anomaly.UNSEEN,
                        () -> where + "; " + reads + " of " + index.name(id)
                                + (reach == 0 ? " returned nothing" : " went up to offset " + (reach - 1) + " only"));
            }
        }
    }

    private void reportVanishedPolls() {
        List<Poll> polls = index.history.polls();
        for (Poll poll : polls) {
            for (Read r : poll.records()) {
                int id = index.id(r);
                HistoryIndex.FinalView view = index.finalView(id, poll.isolation());
                if (view == null || view.has(r.offset())) {
                    continue;
                }
                Send writer = index.writer(r.value());
                if (writer == null || index.abortedRead(writer, poll.isolation())) {
                    continue;
                }
                if (vanishedSeen.putIfAbsent(r.value(), 1, NONE) == NONE) {
                    findings.report(
                            Anomaly.VANISHED,
                            () -> index.name(id) + "@" + r.offset() + " value " + r.value()
                                    + " returned by " + Describe.poll(poll) + " is absent from the "
                                    + view.describe());
                }
            }
        }
    }

    private void reportVanishedAcks() {
        for (Send send : index.history.sends()) {
            if (send.outcome() != Outcome.OK || send.offset() < 0 || !readMask.containsKey(send.value())) {
                continue;
            }
            int id = index.id(send.topic(), send.partition());
            for (Isolation isolation : Isolation.values()) {
                HistoryIndex.FinalView view = index.finalView(id, isolation);
                long o = send.offset();
                if (view == null || !index.visibleAt(send, isolation) || o >= view.read.endOffset() || view.has(o)) {
                    continue;
                }
                if (vanishedSeen.putIfAbsent(send.value(), 1, NONE) == NONE) {
                    findings.report(
                            Anomaly.VANISHED,
                            () -> index.name(id) + "@" + o + " value " + send.value()
                                    + " acknowledged (" + Describe.send(send) + ") and read is absent from the "
                                    + view.describe());
                }
            }
        }
    }
}
