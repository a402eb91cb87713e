package dev.sluice.benchmarks;

import dev.sluice.partitionstore.AppendResult;
import dev.sluice.partitionstore.BatchValidator;
import dev.sluice.partitionstore.LogConfig;
import dev.sluice.partitionstore.PartitionLog;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.protocol.Errors;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Append throughput of one partition's {@link PartitionLog} (mapped segments, RocksDB metadata) for
 * producer batches of {@code recordBytes}-byte records filling {@code batchBytes} (uncompressed). One
 * operation is one batch appended; the {@link Counters} give records/s and bytes/s.
 *
 * <p>Each operation copies the prepared batch into a reusable heap buffer first, because {@code append}
 * assigns offsets and the leader epoch in place; a broker copies a request's bytes off the socket the
 * same way, so the copy is part of the measured cost. {@code append} then validates the batch (CRC-32C,
 * record framing), writes it into the mapped active segment, and updates the sparse index in RocksDB.
 *
 * <p>Segments are {@code segmentMiB} large, so the log rolls during the run; a roll seals the full
 * segment (trim only; the sealed segment is synced by the next flush, and by the OS otherwise). To keep
 * the disk from filling, retention runs after every {@code segmentMiB} appended, with {@code retention.bytes} = {@code retainedMiB} (deleting a segment, also on the appending
 * thread, is part of the cost).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 5)
@State(Scope.Benchmark)
public class AppendBenchmark {
    @Param("1024")
    public int recordBytes;

    @Param("16384")
    public int batchBytes;

    @Param("256")
    public int segmentMiB;

    @Param("1024")
    public int retainedMiB;

    private BenchmarkLog benchmarkLog;
    private PartitionLog log;
    private ByteBuffer template;
    private ByteBuffer scratch;
    private long bytesSinceRetention;

    @Setup(Level.Trial)
    public void setUp() {
        LogConfig config = LogConfig.defaults()
                .with(LogConfig.SEGMENT_BYTES, segmentMiB * 1024 * 1024)
                .with(LogConfig.RETENTION_BYTES, retainedMiB * 1024L * 1024L);
        benchmarkLog = BenchmarkLog.create("append", config);
        log = benchmarkLog.log();
        template = SampleBatches.batch("none", recordBytes, batchBytes, System.currentTimeMillis())
                .asReadOnlyBuffer();
        scratch = ByteBuffer.allocate(template.remaining());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        benchmarkLog.close();
    }

    /** Appends one batch; no flush (a Kafka broker's default: durability comes from replication). */
    // Longer warm-up: throughput climbs for the first ~20 s (segment rolls, file system, JIT).
    @Benchmark
    @Warmup(iterations = 5, time = 5)
    public long append(Counters counters) {
        return appendOne(counters);
    }

    /** Appends one batch and flushes: fsync of the segment, then the log state written and synced in RocksDB. */
    @Benchmark
    public long appendFlushEachBatch(Counters counters) {
        long lastOffset = appendOne(counters);
        log.flush();
        return lastOffset;
    }

    private long appendOne(Counters counters) {
        ByteBuffer batch = scratch;
        batch.clear();
        batch.put(template.duplicate()).flip();
        AppendResult result = log.append(batch, 1, BatchValidator.Origin.CLIENT);
        if (result.error() != Errors.NONE) {
            throw new IllegalStateException("append rejected: " + result.error() + " " + result.errorMessage());
        }
        int size = template.remaining();
        counters.records += result.recordCount();
        counters.bytes += size;
        bytesSinceRetention += size;
        if (bytesSinceRetention >= segmentMiB * 1024L * 1024L) {
            bytesSinceRetention = 0;
            log.deleteExpiredSegments();
        }
        return result.lastOffset();
    }
}
