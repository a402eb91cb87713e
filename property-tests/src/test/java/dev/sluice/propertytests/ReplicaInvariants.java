package dev.sluice.propertytests;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.partitionstore.LogReadResult;
import dev.sluice.partitionstore.PartitionLog;
import dev.sluice.raft.PartitionStateMachine;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.RecordBatch;

/**
 * What must hold between any two steps of the Raft simulation, checked against snapshots of the running
 * replicas' logs ({@link ReplicaView}). Only facts that Raft guarantees at every instant are checked, so
 * that a failure is a bug and not a race of the check:
 *
 * <ol>
 *   <li><b>High watermarks never regress</b> on a replica while it runs. A restarted replica starts again
 *       from its last snapshot and re-applies its Raft log (Raft does not persist the commit index), so its
 *       count starts afresh; committed data itself must survive the restart (rules 2 and 4).
 *   <li><b>Committed batches never change.</b> The first time any replica shows a batch below its high
 *       watermark, the batch's bytes go into a ledger; every replica, at every later check, must show the
 *       same bytes for every offset below its own high watermark, with no gaps. So every two replicas agree
 *       byte-for-byte below the smaller of their high watermarks, and no replica ever rewrites committed
 *       data. The largest high watermark ever seen is the committed end; at the end every replica must
 *       reach it.
 *   <li><b>An acknowledged batch is where its acknowledgement said</b> on every replica whose high watermark
 *       has passed it: same offsets, producer and sequence.
 *   <li><b>An acknowledged batch stays on a majority.</b> It was written to a majority before the leader
 *       answered, and a replica never drops a committed entry (no legitimate leader holds a conflicting
 *       one), so: every replica once seen holding it (bytes equal to the ledger's, at its offset, committed
 *       there or not) still holds it while running and after a restart; and the running replicas holding
 *       it, plus the stopped or still starting ones (they may hold it on disk), are at least a majority.
 *       Holding is not required of a replica that has not shown it yet: a lagging replica may still hold a
 *       stale, uncommitted entry at that offset.
 * </ol>
 *
 * <p>Not thread-safe: used by the simulation's thread only.
 */
final class ReplicaInvariants {
    private final int majority;
    private final Map<String, Long> highWatermarkSeen = new HashMap<>();
    private final TreeMap<Long, Committed> ledger = new TreeMap<>();
    private final Map<Ack, Set<String>> holdersEver = new LinkedHashMap<>();
    private long committedEnd;

    ReplicaInvariants(int replicas) {
        this.majority = replicas / 2 + 1;
    }

    /** A batch as stored on a replica. */
    record StoredBatch(
            long baseOffset,
            long lastOffset,
            long producerId,
            short producerEpoch,
            int baseSequence,
            int partitionLeaderEpoch,
            byte[] bytes) {

        boolean sameBytes(StoredBatch other) {
            return Arrays.equals(bytes, other.bytes);
        }

        @Override
        public String toString() {
            return "[" + baseOffset + ".." + lastOffset + " producer " + producerId + " epoch " + producerEpoch
                    + " seq " + baseSequence + " leaderEpoch " + partitionLeaderEpoch + ", " + bytes.length
                    + " bytes]";
        }
    }

    /** A batch below some replica's high watermark, as first seen, and where. */
    private record Committed(StoredBatch batch, String seenOn) {}

    /**
     * An acknowledgement: the partition answered the write of {@code count} records from {@code
     * baseSequence} with these offsets.
     */
    record Ack(long producerId, int baseSequence, int count, long firstOffset, long lastOffset) {}

    /**
     * A snapshot of one running replica: its high watermark (read first, so everything below it is
     * committed and stable), its log end, and every batch readable from the log start up to the log end.
     */
    record ReplicaView(String id, long highWatermark, long logEndOffset, NavigableMap<Long, StoredBatch> batches) {

        /** Reads the replica; null when its partition is not open yet (a node still starting). */
        static ReplicaView read(String id, PartitionStateMachine stateMachine) {
            if (stateMachine == null || stateMachine.log() == null) {
                return null;
            }
            long highWatermark = stateMachine.highWatermark();
            PartitionLog log = stateMachine.log();
            long end = log.logEndOffset();
            NavigableMap<Long, StoredBatch> batches = new TreeMap<>();
            long next = log.logStartOffset();
            String stoppedBecause = null;
            while (next < end) {
                LogReadResult read = log.read(next, 1 << 20, end);
                if (read.error() != Errors.NONE || read.sizeInBytes() == 0) {
                    stoppedBecause = read.error() + " " + read.errorMessage();
                    break;
                }
                long before = next;
                ByteBuffer bytes = read.records().duplicate();
                for (RecordBatch served : read.memoryRecords().batches()) {
                    byte[] copy = new byte[served.sizeInBytes()];
                    bytes.get(copy);
                    // Check the copy: past the high watermark a truncation may rewrite the bytes as we read.
                    RecordBatch batch =
                            MemoryRecords.readableRecords(ByteBuffer.wrap(copy)).firstBatch();
                    if (batch.lastOffset() >= highWatermark && !batch.isValid()) {
                        stoppedBecause = "the uncommitted batch at " + batch.baseOffset() + " changed as it was read";
                        break;
                    }
                    assertThat(batch.isValid())
                            .as("%s: committed batch at %d passes its CRC", id, batch.baseOffset())
                            .isTrue();
                    batches.put(
                            batch.baseOffset(),
                            new StoredBatch(
                                    batch.baseOffset(),
                                    batch.lastOffset(),
                                    batch.producerId(),
                                    batch.producerEpoch(),
                                    batch.baseSequence(),
                                    batch.partitionLeaderEpoch(),
                                    copy));
                    next = batch.nextOffset();
                }
                if (stoppedBecause != null || next == before) {
                    break;
                }
            }
            assertThat(next)
                    .as(
                            "%s: committed offsets up to the high watermark %d are readable (stopped: %s)",
                            id, highWatermark, stoppedBecause)
                    .isGreaterThanOrEqualTo(highWatermark);
            return new ReplicaView(id, highWatermark, end, batches);
        }
    }

    /** The replica stopped or restarted: its high watermark may start lower (rule 1). */
    void newIncarnation(String id) {
        highWatermarkSeen.remove(id);
    }

    /** Records an acknowledgement; the same batch is never acknowledged at two places. */
    void acknowledged(Ack ack) {
        assertThat(ack.lastOffset() - ack.firstOffset() + 1)
                .as("offsets acknowledged for %s", ack)
                .isEqualTo(ack.count());
        for (Ack other : holdersEver.keySet()) {
            boolean overlaps = ack.firstOffset() <= other.lastOffset() && other.firstOffset() <= ack.lastOffset();
            assertThat(overlaps)
                    .as("%s overlaps the earlier acknowledgement %s", ack, other)
                    .isFalse();
        }
        holdersEver.put(ack, new TreeSet<>());
    }

    /** The largest high watermark seen on any replica. */
    long committedEnd() {
        return committedEnd;
    }

    List<Ack> acks() {
        return new ArrayList<>(holdersEver.keySet());
    }

    /** Checks every rule against the readable replicas' views; {@code unreadable} replicas are stopped or starting. */
    void check(List<ReplicaView> views, int unreadable) {
        for (ReplicaView view : views) {
            checkHighWatermark(view);
            checkCommitted(view);
        }
        for (int i = 0; i < views.size(); i++) {
            for (int j = i + 1; j < views.size(); j++) {
                checkAgree(views.get(i), views.get(j));
            }
        }
        for (Map.Entry<Ack, Set<String>> entry : holdersEver.entrySet()) {
            checkAcknowledged(entry.getKey(), entry.getValue(), views, unreadable);
        }
    }

    private void checkHighWatermark(ReplicaView view) {
        assertThat(view.highWatermark())
                .as("%s: highWatermark <= logEndOffset", view.id())
                .isLessThanOrEqualTo(view.logEndOffset());
        Long seen = highWatermarkSeen.get(view.id());
        if (seen != null) {
            assertThat(view.highWatermark())
                    .as("%s: the high watermark never decreases (was %d)", view.id(), seen)
                    .isGreaterThanOrEqualTo(seen);
        }
        highWatermarkSeen.put(view.id(), view.highWatermark());
        committedEnd = Math.max(committedEnd, view.highWatermark());
    }

    /** Rule 2: below its high watermark the replica shows exactly the ledger's batches, without gaps. */
    private void checkCommitted(ReplicaView view) {
        long expectedBase = 0;
        for (StoredBatch batch : view.batches().values()) {
            if (batch.lastOffset() >= view.highWatermark()) {
                break;
            }
            assertThat(batch.baseOffset())
                    .as("%s: committed batches are contiguous", view.id())
                    .isEqualTo(expectedBase);
            expectedBase = batch.lastOffset() + 1;
            Committed known = ledger.get(batch.baseOffset());
            if (known == null) {
                Map.Entry<Long, Committed> floor = ledger.floorEntry(batch.baseOffset());
                Map.Entry<Long, Committed> ceiling = ledger.ceilingEntry(batch.baseOffset());
                boolean overlapsBelow =
                        floor != null && floor.getValue().batch().lastOffset() >= batch.baseOffset();
                boolean overlapsAbove = ceiling != null && ceiling.getKey() <= batch.lastOffset();
                if (overlapsBelow || overlapsAbove) {
                    Committed other = overlapsBelow ? floor.getValue() : ceiling.getValue();
                    throw new AssertionError(view.id() + ": committed batch " + batch + " overlaps committed "
                            + other.batch() + " first seen on " + other.seenOn());
                }
                ledger.put(batch.baseOffset(), new Committed(batch, view.id()));
            } else {
                assertThat(batch.sameBytes(known.batch()))
                        .as(
                                "%s: committed batch %s is byte-identical to %s first seen committed on %s",
                                view.id(), batch, known.batch(), known.seenOn())
                        .isTrue();
            }
        }
        assertThat(expectedBase)
                .as("%s: committed batches reach the high watermark", view.id())
                .isEqualTo(view.highWatermark());
    }

    /** Every two replicas agree on every batch below the smaller of their high watermarks. */
    private static void checkAgree(ReplicaView a, ReplicaView b) {
        long limit = Math.min(a.highWatermark(), b.highWatermark());
        for (StoredBatch batch : a.batches().headMap(limit, false).values()) {
            if (batch.lastOffset() >= limit) {
                break;
            }
            StoredBatch other = b.batches().get(batch.baseOffset());
            assertThat(other != null && batch.sameBytes(other))
                    .as("%s and %s agree below %d: %s vs %s", a.id(), b.id(), limit, batch, other)
                    .isTrue();
        }
    }

    private void checkAcknowledged(Ack ack, Set<String> everHeld, List<ReplicaView> views, int unreadable) {
        Committed committed = ledger.get(ack.firstOffset());
        assertThat(committed)
                .as("%s: an acknowledged batch is below some replica's high watermark", ack)
                .isNotNull();
        StoredBatch batch = committed.batch();
        assertThat(List.of(batch.lastOffset(), batch.producerId(), batch.baseSequence()))
                .as("%s: the committed batch at its offset is %s", ack, batch)
                .isEqualTo(List.of(ack.lastOffset(), ack.producerId(), ack.baseSequence()));
        Set<String> holders = new TreeSet<>();
        for (ReplicaView view : views) {
            StoredBatch stored = view.batches().get(ack.firstOffset());
            if (stored != null && stored.sameBytes(batch)) {
                holders.add(view.id());
            } else {
                assertThat(everHeld.contains(view.id()))
                        .as(
                                "%s: %s held acknowledged %s and lost it (now: %s, log end %d)",
                                ack, view.id(), batch, stored, view.logEndOffset())
                        .isFalse();
            }
        }
        everHeld.addAll(holders);
        assertThat(holders.size() + unreadable)
                .as(
                        "%s: running replicas holding it %s plus %d stopped or starting make a majority of %d",
                        ack, holders, unreadable, majority)
                .isGreaterThanOrEqualTo(majority);
    }
}
