package dev.sluice.partitionstore;

import java.util.List;

/**
 * What opening a partition log found and repaired.
 *
 * @param scannedBatches batches checked (CRC and offset continuity) after the recovery point
 * @param scannedBytes bytes those batches hold
 * @param rebuiltIndexEntries sparse index entries written again for the scanned region
 * @param truncatedBytes bytes of torn or corrupt data dropped from the end of the log
 * @param problems one line per repair: the file, the position and what was wrong
 */
public record RecoveryReport(
        long scannedBatches, long scannedBytes, long rebuiltIndexEntries, long truncatedBytes, List<String> problems) {

    public RecoveryReport {
        problems = List.copyOf(problems);
    }

    /** True when nothing had to be repaired. */
    public boolean clean() {
        return problems.isEmpty();
    }

    @Override
    public String toString() {
        return "scanned " + scannedBatches + " batches (" + scannedBytes + " bytes), rebuilt " + rebuiltIndexEntries
                + " index entries, truncated " + truncatedBytes + " bytes"
                + (problems.isEmpty() ? "" : ": " + problems);
    }
}
