package dev.sluice.raft;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.partitionstore.LogReadResult;
import dev.sluice.partitionstore.PartitionLog;
import dev.sluice.partitionstore.PartitionVerifier;
import dev.sluice.raft.testing.RaftTestCluster;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.record.internal.SimpleRecord;

/**
 * Batches of one idempotent producer written to one partition of a test cluster, each with record values no
 * other batch has, and the
 * checks that every acknowledged one survived whatever happened to the replicas' disks: read back exactly
 * once, at the offsets its acknowledgement named, from every replica; replicas' segment files
 * byte-identical; {@code sluice dump --verify}'s checks pass on every node's data directory.
 */
final class AcknowledgedWrites {
    private static final long PRODUCER_ID = 7_000;

    private final RaftTestCluster cluster;
    private final TopicPartition tp;
    private final Duration timeout;
    /** Every acknowledged batch: its first offset → the values of its records. */
    private final Map<Long, List<String>> acknowledged = new TreeMap<>();

    private int batchNumber;

    AcknowledgedWrites(RaftTestCluster cluster, TopicPartition tp, Duration timeout) {
        this.cluster = cluster;
        this.tp = tp;
        this.timeout = timeout;
    }

    /** Writes {@code count} batches of 3 records, each acknowledged. */
    void write(int count) {
        for (int i = 0; i < count; i++) {
            AppendOutcome outcome = writeOne();
            assertThat(outcome.error()).as(outcome.errorMessage()).isEqualTo(Errors.NONE);
        }
    }

    /** Writes one batch of 3 records; remembers it when acknowledged. */
    AppendOutcome writeOne() {
        int number = batchNumber++;
        List<SimpleRecord> records = new ArrayList<>();
        List<String> values = new ArrayList<>();
        for (int r = 0; r < 3; r++) {
            String value = "batch-" + number + "-record-" + r + "-" + "x".repeat(number % 50);
            values.add(value);
            records.add(new SimpleRecord(1_700_000_000_000L + number, null, value.getBytes(StandardCharsets.UTF_8)));
        }
        // Idempotent, so that a retry after a lost answer is answered as a duplicate, never written twice.
        Compression codec =
                number % 2 == 0 ? Compression.NONE : Compression.lz4().build();
        MemoryRecords batch = MemoryRecords.withIdempotentRecords(
                codec, PRODUCER_ID, (short) 0, number * 3, records.toArray(new SimpleRecord[0]));
        AppendOutcome outcome = cluster.append(tp, batch.buffer(), timeout);
        if (outcome.error() == Errors.NONE) {
            acknowledged.put(outcome.firstOffset(), values);
        }
        return outcome;
    }

    /**
     * A batch with the producer and sequence number of the next {@link #writeOne}, and values no batch of
     * {@link #writeOne} ever has: what a replica may hold of an attempt that was never acknowledged.
     */
    MemoryRecords nextSequenceWithOtherValues() {
        SimpleRecord[] records = new SimpleRecord[3];
        for (int r = 0; r < 3; r++) {
            records[r] = new SimpleRecord(
                    1_700_000_000_000L,
                    null,
                    ("unacknowledged-" + batchNumber + "-" + r).getBytes(StandardCharsets.UTF_8));
        }
        return MemoryRecords.withIdempotentRecords(Compression.NONE, PRODUCER_ID, (short) 0, batchNumber * 3, records);
    }

    int acknowledgedCount() {
        return acknowledged.size();
    }

    /**
     * Waits until the replicas converged and finished their repairs, checks every acknowledged batch on each,
     * stops them all and checks their files.
     */
    void checkConvergedAndStop(String... ids) throws IOException {
        long end = cluster.awaitConverged(tp, timeout, ids);
        for (String id : ids) {
            RaftTestCluster.await(timeout, id + " to finish its repairs", () -> cluster.node(id)
                    .storageHealth()
                    .healthy());
            assertEveryBatchOnce(cluster.node(id), end);
        }
        assertThat(cluster.segmentDifferences(tp, ids)).isEmpty();
        for (String id : ids) {
            cluster.stop(id);
        }
        assertThat(cluster.segmentDifferences(tp, ids)).isEmpty();
        for (String id : ids) {
            assertThat(PartitionVerifier.verifyDataDir(cluster.dataDir(id)))
                    .as("sluice dump --verify of %s", id)
                    .isEmpty();
        }
    }

    /** Reads the replica's log up to {@code end}: every acknowledged batch is there once, at its offset. */
    void assertEveryBatchOnce(RaftNode node, long end) {
        PartitionLog log = node.stateMachine(tp).log();
        Map<Long, String> byOffset = new TreeMap<>();
        Map<String, Long> seen = new HashMap<>();
        long next = log.logStartOffset();
        while (next < end) {
            LogReadResult read = log.read(next, 1 << 20, end);
            assertThat(read.error())
                    .as("%s at offset %d: %s", node.id(), next, read.errorMessage())
                    .isEqualTo(Errors.NONE);
            assertThat(read.sizeInBytes())
                    .as("%s at offset %d", node.id(), next)
                    .isPositive();
            for (RecordBatch batch : read.memoryRecords().batches()) {
                assertThat(batch.isValid()).isTrue();
                for (Record record : batch) {
                    byte[] value = new byte[record.valueSize()];
                    record.value().get(value);
                    String text = new String(value, StandardCharsets.UTF_8);
                    byOffset.put(record.offset(), text);
                    assertThat(seen.put(text, record.offset()))
                            .as("%s: %s twice", node.id(), text)
                            .isNull();
                }
                next = batch.nextOffset();
            }
        }
        acknowledged.forEach((first, values) -> {
            for (int i = 0; i < values.size(); i++) {
                assertThat(byOffset.get(first + i))
                        .as("%s: offset %d", node.id(), first + i)
                        .isEqualTo(values.get(i));
            }
        });
    }
}
