package dev.sluice.benchmarks;

import dev.sluice.partitionstore.AppendResult;
import dev.sluice.partitionstore.BatchHeader;
import dev.sluice.partitionstore.BatchValidator;
import dev.sluice.partitionstore.LogConfig;
import dev.sluice.partitionstore.LogReadResult;
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
 * Sequential read throughput of one partition's {@link PartitionLog}: a consumer fetching
 * {@code maxBytes} at a time from the start of a log prefilled with {@code prefillMiB} of batches
 * (as in {@link AppendBenchmark}), each fetch starting after the last batch the previous one returned,
 * wrapping to the log start at the end. One operation is one fetch; the {@link Counters} give
 * records/s and bytes/s.
 *
 * <p>{@code read} checks the CRC-32C of every batch it returns, so the result includes that; the data
 * is in the page cache (it was just written), so this is a hot-read measurement, not a disk read. The
 * benchmark walks the returned batch headers (to find the next fetch offset, as a consumer does) and
 * reads one long per 4 KiB.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 5)
@State(Scope.Benchmark)
public class ReadBenchmark {

    @Param("1024")
    public int recordBytes;

    @Param("16384")
    public int batchBytes;

    @Param("256")
    public int segmentMiB;

    @Param("512")
    public int prefillMiB;

    @Param("1048576")
    public int maxBytes;

    private BenchmarkLog benchmarkLog;
    private PartitionLog log;
    private long fetchOffset;

    @Setup(Level.Trial)
    public void setUp() {
        LogConfig config = LogConfig.defaults().with(LogConfig.SEGMENT_BYTES, segmentMiB * 1024 * 1024);
        benchmarkLog = BenchmarkLog.create("read", config);
        log = benchmarkLog.log();
        ByteBuffer template = SampleBatches.batch("none", recordBytes, batchBytes, System.currentTimeMillis());
        ByteBuffer scratch = ByteBuffer.allocate(template.remaining());
        long target = prefillMiB * 1024L * 1024L;
        while (log.sizeInBytes() < target) {
            scratch.clear();
            scratch.put(template.duplicate()).flip();
            AppendResult result = log.append(scratch, 1, BatchValidator.Origin.CLIENT);
            if (result.error() != Errors.NONE) {
                throw new IllegalStateException("append rejected: " + result.error() + " " + result.errorMessage());
            }
        }
        log.flush();
        fetchOffset = log.logStartOffset();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        benchmarkLog.close();
    }

    @Benchmark
    public long read(Counters counters) {
        LogReadResult result = log.read(fetchOffset, maxBytes, Long.MAX_VALUE);
        if (result.error() == Errors.NONE && !result.records().hasRemaining()) {
            fetchOffset = log.logStartOffset(); // the end of the log: start over
            result = log.read(fetchOffset, maxBytes, Long.MAX_VALUE);
        }
        if (result.error() != Errors.NONE) {
            throw new IllegalStateException("read failed: " + result.error() + " " + result.errorMessage());
        }
        ByteBuffer data = result.records();
        int start = data.position();
        int end = data.limit();
        long touched = 0;
        for (int at = start; at + Long.BYTES <= end; at += 4096) {
            touched += data.getLong(at);
        }
        long next = fetchOffset;
        for (int at = start; at < end; at += BatchHeader.sizeInBytes(data, at)) {
            next = BatchHeader.lastOffset(data, at) + 1;
        }
        counters.records += next - fetchOffset;
        counters.bytes += end - start;
        fetchOffset = next;
        return touched;
    }
}
