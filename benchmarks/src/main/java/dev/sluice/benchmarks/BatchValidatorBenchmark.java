package dev.sluice.benchmarks;

import dev.sluice.partitionstore.BatchValidator;
import dev.sluice.partitionstore.LogConfig;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.record.internal.MemoryRecords;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@link BatchValidator#validate} of one producer batch holding as many {@code recordBytes}-byte records
 * as fit uncompressed in {@code batchBytes}, sent uncompressed or compressed: CRC-32C, framing, and the
 * records walked (decompressed when compressed). One operation is one batch; the {@link Counters} give
 * records/s and bytes/s of the batch as sent (compressed size for lz4/zstd).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 5)
@State(Scope.Benchmark)
public class BatchValidatorBenchmark {
    @Param("1024")
    public int recordBytes;

    @Param("16384")
    public int batchBytes;

    @Param({"none", "lz4", "zstd"})
    public String compression;

    private ByteBuffer batch;
    private int records;
    private int maxMessageBytes;
    private int segmentBytes;

    @Setup(Level.Trial)
    public void setUp() {
        // A writable heap buffer, as a request's bytes are: Kafka's Checksums.update falls back to a
        // byte-at-a-time CRC for a read-only heap buffer (no array(), not direct), about 20x slower.
        batch = SampleBatches.batch(compression, recordBytes, batchBytes, System.currentTimeMillis());
        records = SampleBatches.recordsPerBatch(recordBytes, batchBytes);
        LogConfig config = LogConfig.defaults();
        maxMessageBytes = config.maxMessageBytes();
        segmentBytes = config.segmentBytes();
        BatchValidator.Result check = check();
        if (!check.valid()) {
            throw new IllegalStateException("sample batch rejected: " + check.message());
        }
        if (MemoryRecords.readableRecords(batch.duplicate())
                        .batches()
                        .iterator()
                        .next()
                        .countOrNull()
                != records) {
            throw new IllegalStateException("sample batch does not hold " + records + " records");
        }
    }

    @Benchmark
    public BatchValidator.Result validate(Counters counters) {
        counters.records += records;
        counters.bytes += batch.remaining();
        return check();
    }

    private BatchValidator.Result check() {
        return BatchValidator.validate(batch.duplicate(), BatchValidator.Origin.CLIENT, maxMessageBytes, segmentBytes);
    }
}
