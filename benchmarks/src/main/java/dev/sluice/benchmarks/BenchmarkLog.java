package dev.sluice.benchmarks;

import dev.sluice.partitionstore.Clock;
import dev.sluice.partitionstore.LogConfig;
import dev.sluice.partitionstore.PartitionLog;
import dev.sluice.partitionstore.mapped.MappedSegmentFile;
import dev.sluice.partitionstore.rocksdb.RocksDbNodeMetadata;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.apache.kafka.common.TopicPartition;

/**
 * A real partition log for a benchmark: memory-mapped segment files and the node's RocksDB, in a fresh
 * temporary directory under {@code -Dsluice.bench.dir} (default {@code /tmp}) that {@link #close()}
 * deletes.
 */
final class BenchmarkLog implements AutoCloseable {
    static final TopicPartition TP = new TopicPartition("bench", 0);

    private final Path root;
    private final RocksDbNodeMetadata metadata;
    private final PartitionLog log;

    private BenchmarkLog(Path root, LogConfig config) {
        this.root = root;
        this.metadata = RocksDbNodeMetadata.open(root.resolve("rocksdb"));
        this.log = PartitionLog.open(
                TP,
                root.resolve("partitions").resolve(TP.topic() + "-" + TP.partition()),
                config,
                new MappedSegmentFile.Factory(),
                metadata.partition(TP),
                Clock.SYSTEM);
    }

    static BenchmarkLog create(String name, LogConfig config) {
        requireProjectJvmFlags();
        try {
            Path base = Path.of(System.getProperty("sluice.bench.dir", "/tmp"));
            Files.createDirectories(base);
            return new BenchmarkLog(Files.createTempDirectory(base, "sluice-jmh-" + name + "-"), config);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    PartitionLog log() {
        return log;
    }

    @Override
    public void close() {
        try {
            log.close();
        } finally {
            metadata.close();
            deleteRecursively(root);
        }
    }

    private static void deleteRecursively(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path path : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Chronicle needs the root pom's {@code sluice.jvm.flags}; fail with a clear message without them. */
    private static void requireProjectJvmFlags() {
        if (!ManagementFactory.getRuntimeMXBean()
                .getInputArguments()
                .contains("--add-opens=java.base/java.nio=ALL-UNNAMED")) {
            throw new IllegalStateException("the benchmark JVM lacks the project's JVM flags (root pom property"
                    + " sluice.jvm.flags): run benchmarks/run.sh, or pass -jvmArgsAppend \"$(cat"
                    + " benchmarks/target/jvm.flags)\" to the JMH jar");
        }
    }
}
