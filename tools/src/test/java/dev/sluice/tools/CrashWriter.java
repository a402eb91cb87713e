package dev.sluice.tools;

import dev.sluice.partitionstore.AppendResult;
import dev.sluice.partitionstore.BatchValidator;
import dev.sluice.partitionstore.Clock;
import dev.sluice.partitionstore.LogConfig;
import dev.sluice.partitionstore.NodeStore;
import dev.sluice.partitionstore.PartitionLog;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Random;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.CompressionType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;

/**
 * A writer process for the crash test: appends batches whose values are a function of their offset,
 * flushing now and then, and prints {@code acked LAST_OFFSET} after every append returns. The test kills
 * it with SIGKILL at a random moment. Bounded: stops by itself after {@code maxBatches}.
 */
public final class CrashWriter {
    static final TopicPartition TP = new TopicPartition("crash", 0);
    static final LogConfig CONFIG = LogConfig.defaults().with(LogConfig.SEGMENT_BYTES, 64 * 1024);

    private CrashWriter() {}

    public static void main(String[] args) {
        Path dataDir = Path.of(args[0]);
        Random random = new Random(Long.parseLong(args[1]));
        int maxBatches = Integer.parseInt(args[2]);
        CompressionType[] codecs = CompressionType.values();
        try (NodeStore store = NodeStore.open(dataDir, Clock.SYSTEM)) {
            PartitionLog log = store.openPartition(TP, CONFIG);
            for (int i = 0; i < maxBatches; i++) {
                long next = log.logEndOffset();
                int count = 1 + random.nextInt(40);
                ByteBuffer batch = batch(next, count, codecs[random.nextInt(codecs.length)]);
                AppendResult result = log.append(batch, 1, BatchValidator.Origin.CLIENT);
                if (!result.succeeded()) {
                    System.out.println("failed " + result.error() + " " + result.errorMessage());
                    System.exit(3);
                }
                if (random.nextInt(10) == 0) {
                    log.flush();
                }
                System.out.println("acked " + result.lastOffset());
                System.out.flush();
            }
        }
        System.out.println("done");
    }

    static ByteBuffer batch(long firstOffset, int count, CompressionType codec) {
        SimpleRecord[] records = new SimpleRecord[count];
        for (int i = 0; i < count; i++) {
            records[i] = new SimpleRecord(1_700_000_000_000L + firstOffset + i, null, valueFor(firstOffset + i));
        }
        return MemoryRecords.withRecords(Compression.of(codec).build(), records).buffer();
    }

    /** The value written at an offset: long enough to span pages now and then. */
    static byte[] valueFor(long offset) {
        return ("record-" + offset + "-" + "x".repeat((int) (offset % 300))).getBytes(StandardCharsets.UTF_8);
    }
}
