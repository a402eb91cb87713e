package dev.sluice.partitionstore.testing;

import dev.sluice.partitionstore.LogConfig;
import dev.sluice.partitionstore.PartitionLog;
import dev.sluice.partitionstore.mapped.MappedSegmentFile;
import dev.sluice.partitionstore.rocksdb.RocksDbNodeMetadata;
import java.nio.file.Path;
import org.apache.kafka.common.TopicPartition;

/** A real partition log (mapped segments, RocksDB) in a temporary directory, reopenable like a restart. */
public final class LogFixture implements AutoCloseable {
    public static final TopicPartition TP = new TopicPartition("events", 0);

    private final Path dataDir;
    private final ManualClock clock;
    private LogConfig config;
    private RocksDbNodeMetadata metadata;
    private PartitionLog log;

    public LogFixture(Path dataDir, LogConfig config, ManualClock clock) {
        this.dataDir = dataDir;
        this.config = config;
        this.clock = clock;
        open();
    }

    public LogFixture(Path dataDir, LogConfig config) {
        this(dataDir, config, new ManualClock(1_700_000_000_000L));
    }

    private void open() {
        metadata = RocksDbNodeMetadata.open(dataDir.resolve("rocksdb"));
        log = PartitionLog.open(
                TP, partitionDir(), config, new MappedSegmentFile.Factory(64 * 1024), metadata.partition(TP), clock);
    }

    public Path partitionDir() {
        return dataDir.resolve("partitions").resolve(TP.topic() + "-" + TP.partition());
    }

    public Path rocksDbDir() {
        return dataDir.resolve("rocksdb");
    }

    public PartitionLog log() {
        return log;
    }

    public ManualClock clock() {
        return clock;
    }

    /** Closes cleanly and opens again. */
    public PartitionLog reopen() {
        close();
        open();
        return log;
    }

    /** Opens again with new settings. */
    public PartitionLog reopen(LogConfig newConfig) {
        close();
        this.config = newConfig;
        open();
        return log;
    }

    /** Drops the handles without flushing, then runs {@code damage} on the files, then opens again. */
    public PartitionLog crashAndReopen(Runnable damage) {
        // The segment files' bytes stay as the page cache holds them, like after kill -9.
        metadata.close();
        damage.run();
        open();
        return log;
    }

    @Override
    public void close() {
        try {
            log.close();
        } catch (IllegalStateException ignored) {
            // already closed by a test
        }
        metadata.close();
    }
}
