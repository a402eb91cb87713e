package dev.sluice.benchmarks;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Secondary results, printed by JMH as rates in the primary result's unit (per second) next to it:
 * {@code records} (records/s) and {@code bytes} (bytes/s of record batches; divide by 10^6 for MB/s,
 * which benchmarks/run.sh does in its summary).
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class Counters {
    public long records;
    public long bytes;

    @Setup(Level.Iteration)
    public void reset() {
        records = 0;
        bytes = 0;
    }
}
