package dev.sluice.chaos.check;

import dev.sluice.chaos.history.Isolation;
import dev.sluice.chaos.history.Poll;
import dev.sluice.chaos.history.Read;
import dev.sluice.chaos.history.Send;
import dev.sluice.chaos.history.Txn;
import java.util.Arrays;
import java.util.List;

/**
 * The read-isolation checks: {@link Anomaly#G1A} over every read, {@link Anomaly#PRECOMMITTED_READ} and
 * {@link Anomaly#READ_PAST_OPEN_TXN} over every {@code READ_COMMITTED} poll. Not thread-safe; used once.
 */
final class TxnCheck {
    private static final long NONE = -1;

    private final HistoryIndex index;
    private final LongLongHashMap positionByValue;
    private final Findings findings;

    TxnCheck(HistoryIndex index, LongLongHashMap positionByValue, Findings findings) {
        this.index = index;
        this.positionByValue = positionByValue;
        this.findings = findings;
    }

    void run() {
        checkAbortedReads();
        checkCommittedPolls();
    }

    private void checkAbortedReads() {
        // value → 1 when reading it is an aborted read at any isolation level, 2 when only at read_committed.
        LongLongHashMap abortedValues = new LongLongHashMap();
        for (Send send : index.history.sends()) {
            if (HistoryIndex.certainlyFailed(send)) {
                abortedValues.put(send.value(), 1, NONE);
            } else if (index.certainlyAborted(send)) {
                abortedValues.putIfAbsent(send.value(), 2, NONE);
            }
        }
        if (abortedValues.size() == 0) {
            return;
        }
        LongLongHashMap seen = new LongLongHashMap();
        Observations.forEachRead(index, (source, i, id, offset, value, isolation) -> {
            long kind = abortedValues.get(value, NONE);
            if (kind == NONE || (kind == 2 && isolation != Isolation.READ_COMMITTED)) {
                return;
            }
            if (seen.putIfAbsent(value, 1, NONE) == NONE) {
                Send writer = index.writer(value);
                Txn txn = index.txnOf(writer);
                findings.report(
                        Anomaly.G1A,
                        () -> "value " + value + " at " + index.name(id) + "@" + offset + " "
                                + Describe.send(writer) + (txn == null ? "" : " in " + Describe.txn(txn))
                                + " was returned by " + Observations.describe(index, source, i));
            }
        });
    }

    private void checkCommittedPolls() {
        OpenTxns[] open = openTxnsByPartition();
        int[] lastFlaggedPoll = new int[index.partitionCount()];
        Arrays.fill(lastFlaggedPoll, -1);
        LongLongHashMap precommittedSeen = new LongLongHashMap();
        List<Poll> polls = index.history.polls();
        for (int i = 0; i < polls.size(); i++) {
            Poll poll = polls.get(i);
            if (poll.isolation() != Isolation.READ_COMMITTED) {
                continue;
            }
            for (Read r : poll.records()) {
                int id = index.id(r);
                Send writer = index.writer(r.value());
                Txn txn = writer == null ? null : index.txnOf(writer);
                if (txn != null && !txn.aborted() && (txn.endInvokeNs() < 0 || poll.completeNs() < txn.endInvokeNs())) {
                    if (precommittedSeen.putIfAbsent(r.value(), 1, NONE) == NONE) {
                        findings.report(
                                Anomaly.PRECOMMITTED_READ,
                                () -> "value " + r.value() + " at "
                                        + index.name(id) + "@" + r.offset() + " of " + Describe.txn(txn)
                                        + " was returned by "
                                        + Describe.poll(poll) + " before its commit was invoked");
                    }
                    continue;
                }
                OpenTxns candidates = open[id];
                int below = candidates == null ? 0 : candidates.countBelow(r.offset());
                if (below > 0 && candidates.latestEndNs[below - 1] > poll.completeNs() && lastFlaggedPoll[id] != i) {
                    lastFlaggedPoll[id] = i;
                    Txn blocker = index.txn(candidates.latestTxn[below - 1]);
                    long blockerOffset = candidates.latestFirstOffset[below - 1];
                    findings.report(
                            Anomaly.READ_PAST_OPEN_TXN,
                            () -> Describe.poll(poll) + " returned "
                                    + index.name(id) + "@" + r.offset() + " value " + r.value() + " while "
                                    + Describe.txn(blocker) + ", which wrote " + index.name(id) + "@" + blockerOffset
                                    + ", was still open");
                }
            }
        }
    }

    /**
     * The committed transactions of one partition ordered by their first offset there, with running maxima of
     * the time their commit was invoked: entry {@code k} names, among the first {@code k + 1}, the one that
     * stayed open longest. Immutable.
     */
    private static final class OpenTxns {
        final long[] firstOffsets;
        final long[] latestEndNs;
        final long[] latestTxn;
        final long[] latestFirstOffset;

        OpenTxns(long[] txnIds, long[] firstOffsets, long[] endNs) {
            int n = txnIds.length;
            Integer[] order = new Integer[n];
            Arrays.setAll(order, k -> k);
            Arrays.sort(
                    order,
                    (a, b) -> firstOffsets[a] != firstOffsets[b]
                            ? Long.compare(firstOffsets[a], firstOffsets[b])
                            : Long.compare(txnIds[a], txnIds[b]));
            this.firstOffsets = new long[n];
            this.latestEndNs = new long[n];
            this.latestTxn = new long[n];
            this.latestFirstOffset = new long[n];
            for (int k = 0; k < n; k++) {
                int j = order[k];
                this.firstOffsets[k] = firstOffsets[j];
                if (k == 0 || endNs[j] > latestEndNs[k - 1]) {
                    latestEndNs[k] = endNs[j];
                    latestTxn[k] = txnIds[j];
                    latestFirstOffset[k] = firstOffsets[j];
                } else {
                    latestEndNs[k] = latestEndNs[k - 1];
                    latestTxn[k] = latestTxn[k - 1];
                    latestFirstOffset[k] = latestFirstOffset[k - 1];
                }
            }
        }

        /** @return how many transactions have their first record below {@code offset} */
        int countBelow(long offset) {
            int lo = 0;
            int hi = firstOffsets.length;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (firstOffsets[mid] < offset) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            return lo;
        }
    }

    private OpenTxns[] openTxnsByPartition() {
        LongLongHashMap[] firstOffsetByTxn = new LongLongHashMap[index.partitionCount()];
        for (Send send : index.history.sends()) {
            Txn txn = index.txnOf(send);
            long position = positionByValue.get(send.value(), NONE);
            if (txn == null || !txn.committed() || position == NONE) {
                continue;
            }
            int id = HistoryIndex.positionId(position);
            long offset = HistoryIndex.positionOffset(position);
            if (firstOffsetByTxn[id] == null) {
                firstOffsetByTxn[id] = new LongLongHashMap();
            }
            if (offset < firstOffsetByTxn[id].get(txn.id(), Long.MAX_VALUE)) {
                firstOffsetByTxn[id].put(txn.id(), offset, NONE);
            }
        }
        OpenTxns[] result = new OpenTxns[index.partitionCount()];
        for (int id = 0; id < result.length; id++) {
            LongLongHashMap firsts = firstOffsetByTxn[id];
            if (firsts == null) {
                continue;
            }
            long[] txnIds = firsts.sortedKeys();
            long[] offsets = new long[txnIds.length];
            long[] endNs = new long[txnIds.length];
            for (int k = 0; k < txnIds.length; k++) {
                offsets[k] = firsts.get(txnIds[k], NONE);
                endNs[k] = index.txn(txnIds[k]).endInvokeNs();
            }
            result[id] = new OpenTxns(txnIds, offsets, endNs);
        }
        return result;
    }
}
