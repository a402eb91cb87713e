package dev.sluice.partitionstore;

import dev.sluice.partitionstore.mapped.MappedSegmentFile;
import dev.sluice.partitionstore.rocksdb.RocksDbNodeMetadata;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.KafkaStorageException;

/**
 * A node's storage: its data directory, its one metadata store, and the partition logs it holds.
 *
 * <pre>
 * data.dir/
 *   rocksdb/                          the node's metadata store (indexes, state, producers, offsets)
 *   partitions/TOPIC-PARTITION/       one directory per partition
 *     00000000000000000000.log        segment files, named by base offset
 * </pre>
 *
 * <p>Thread-safe.
 */
public final class NodeStore implements AutoCloseable {
    private final Path dataDir;
    private final RocksDbNodeMetadata metadata;
    private final SegmentFile.Factory files;
    private final Clock clock;
    private final Map<TopicPartition, PartitionLog> logs = new ConcurrentHashMap<>();

    private NodeStore(Path dataDir, SegmentFile.Factory files, Clock clock) {
        this.dataDir = dataDir;
        this.files = files;
        this.clock = clock;
        this.metadata = RocksDbNodeMetadata.open(rocksDbDir(dataDir));
    }

    /** Opens (creating when new) the storage in {@code dataDir}. */
    public static NodeStore open(Path dataDir, Clock clock) {
        return new NodeStore(dataDir, new MappedSegmentFile.Factory(), clock);
    }

    /** Where the metadata store of the node with this data directory lives. */
    public static Path rocksDbDir(Path dataDir) {
        return dataDir.resolve("rocksdb");
    }

    /** Where the segments of a partition live. */
    public static Path partitionDir(Path dataDir, TopicPartition tp) {
        return dataDir.resolve("partitions").resolve(tp.topic() + "-" + tp.partition());
    }

    /**
     * The partition a partition directory holds, from its name ({@code TOPIC-PARTITION}), or null when
     * the name does not have that form.
     */
    public static TopicPartition parsePartitionDir(Path dir) {
        String name = dir.getFileName().toString();
        int dash = name.lastIndexOf('-');
        if (dash <= 0 || dash == name.length() - 1) {
            return null;
        }
        try {
            return new TopicPartition(name.substring(0, dash), Integer.parseInt(name.substring(dash + 1)));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /**
     * The data directory a partition directory belongs to, when it sits in the standard layout, else
     * null.
     */
    public static Path dataDirOf(Path partitionDir) {
        Path parent = partitionDir.toAbsolutePath().normalize().getParent();
        if (parent == null || !parent.getFileName().toString().equals("partitions")) {
            return null;
        }
        return parent.getParent();
    }

    /** Opens the partition's log (recovering it), or returns it when already open. */
    public PartitionLog openPartition(TopicPartition tp, LogConfig config) {
        return logs.computeIfAbsent(
                tp,
                key -> PartitionLog.open(
                        key, partitionDir(dataDir, key), config, files, metadata.partition(key), clock));
    }

    /** The open log of a partition, or null. */
    public PartitionLog partition(TopicPartition tp) {
        return logs.get(tp);
    }

    /** Closes a partition's log (flushed) and forgets it; its files and metadata stay. */
    public void closePartition(TopicPartition tp) {
        PartitionLog log = logs.remove(tp);
        if (log != null) {
            log.close();
        }
    }

    /** Closes a partition's log and removes its data. */
    public void deletePartition(TopicPartition tp) {
        PartitionLog log = logs.remove(tp);
        if (log != null) {
            log.delete();
            return;
        }
        // Already closed (say, by the Raft layer when it removed the partition's group): delete what it left.
        PartitionMetadataStore partitionMetadata = metadata.partition(tp);
        partitionMetadata.deleteAll();
        partitionMetadata.sync();
        deleteTree(partitionDir(dataDir, tp));
    }

    /** Deletes a directory and everything below it; nothing when it does not exist. */
    static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path path : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            throw new KafkaStorageException("cannot delete " + root + ": " + e.getMessage(), e);
        }
    }

    public NodeMetadata metadata() {
        return metadata;
    }

    public Path dataDir() {
        return dataDir;
    }

    /** Flushes and closes every partition, then the metadata store. */
    @Override
    public void close() {
        RuntimeException failure = null;
        for (PartitionLog log : logs.values()) {
            try {
                log.close();
            } catch (RuntimeException e) {
                failure = failure == null ? e : failure;
            }
        }
        logs.clear();
        metadata.close();
        if (failure != null) {
            throw failure;
        }
    }
}
