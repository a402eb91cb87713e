package dev.sluice.partitionstore;

import dev.sluice.partitionstore.mapped.MappedSegmentFile;
import dev.sluice.partitionstore.rocksdb.RocksDbNodeMetadata;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.kafka.common.TopicPartition;

/**
 * The checks of {@code sluice dump --verify}, for the command and for tests and chaos runs that check a
 * stopped node's files the same way: every batch of every segment (framing, magic, CRC-32C, offset
 * continuity within a segment and across the segments of a partition), and the node's offset index
 * entries and log start offset against the segments. Reads segments through a read-only mapping and the
 * node's RocksDB opened read-only, so it works on a stopped or a running node.
 *
 * <p>Stateless; thread-safe.
 */
public final class PartitionVerifier {
    private PartitionVerifier() {}

    /** Receives what a walk finds; the command prints it, {@link #verifyDataDir} collects the problems. */
    public interface Listener {
        /**
         * A batch whose framing could be read: a valid one, or one with a CRC mismatch or an offset
         * discontinuity (also reported as a problem).
         */
        default void batch(Path file, ByteBuffer data, SegmentScanner.Step step) {}

        /** Something wrong at {@code position} of {@code file}. */
        void problem(Path file, int position, String description);
    }

    /**
     * Walks the batches of one segment file: reports every framed batch to {@code listener} and every
     * problem; stops at the first batch whose framing cannot be read (nothing after it is read). Adds the
     * position of every framed batch to {@code batchStarts}. Returns the offset after its last framed
     * batch.
     */
    public static long checkSegment(
            Path path, long baseOffset, ByteBuffer data, List<Integer> batchStarts, Listener listener) {
        int limit = data.capacity();
        int position = 0;
        long expected = baseOffset;
        while (position < limit) {
            SegmentScanner.Step step = SegmentScanner.check(data, position, limit, expected);
            if (step.problem() == SegmentScanner.Problem.END) {
                break;
            }
            boolean framed = step.problem() == SegmentScanner.Problem.NONE
                    || step.problem() == SegmentScanner.Problem.CRC_MISMATCH
                    || step.problem() == SegmentScanner.Problem.OFFSET_DISCONTINUITY;
            if (!framed) {
                listener.problem(
                        path, position, step.describe() + "; " + (limit - position) + " bytes after it not read");
                break;
            }
            if (!step.ok()) {
                listener.problem(path, position, step.describe());
            }
            batchStarts.add(position);
            listener.batch(path, data, step);
            expected = step.lastOffset() + 1;
            position = step.end();
        }
        return expected;
    }

    /** Reports a segment that does not start where the previous one of its partition ended. */
    public static void checkContinuity(Path path, long baseOffset, long previousEnd, Listener listener) {
        if (previousEnd >= 0 && baseOffset != previousEnd) {
            listener.problem(
                    path,
                    0,
                    "segment starts at offset " + baseOffset + " but the previous segment ends at " + previousEnd);
        }
    }

    /**
     * Checks the partition's offset index entries (each must name a segment of the partition and point
     * at the start of one of its batches, within its size) and that the log start offset does not lie
     * before the first segment. Returns the number of index entries checked.
     *
     * @param batchStarts the batch positions {@link #checkSegment} found, by segment base offset
     * @param sizes the segment files' sizes, by base offset
     */
    public static int checkIndex(
            Path partitionDir,
            PartitionMetadataStore store,
            Map<Long, List<Integer>> batchStarts,
            Map<Long, Integer> sizes,
            Listener listener) {
        int[] checked = {0};
        store.forEachOffsetIndex(entry -> {
            checked[0]++;
            String wrong = checkIndexEntry(entry, batchStarts, sizes, partitionDir);
            if (wrong != null) {
                listener.problem(partitionDir, entry.position(), wrong);
            }
        });
        PartitionState state = store.loadState();
        long firstBase = batchStarts.keySet().stream().min(Long::compare).orElse(0L);
        if (state.logStartOffset() < firstBase) {
            listener.problem(
                    partitionDir,
                    0,
                    "log start offset " + state.logStartOffset() + " lies before the first segment (" + firstBase
                            + ")");
        }
        return checked[0];
    }

    private static String checkIndexEntry(
            OffsetPosition entry, Map<Long, List<Integer>> batchStarts, Map<Long, Integer> sizes, Path dir) {
        List<Integer> starts = batchStarts.get(entry.segmentBaseOffset());
        if (starts == null) {
            return "index entry for offset " + entry.offset() + " names segment " + entry.segmentBaseOffset()
                    + ", which is not in " + dir;
        }
        if (entry.position() >= sizes.get(entry.segmentBaseOffset())) {
            return "index entry for offset " + entry.offset() + " points at position " + entry.position()
                    + ", past the end of segment " + entry.segmentBaseOffset();
        }
        if (!starts.contains(entry.position())) {
            return "index entry for offset " + entry.offset() + " points at position " + entry.position()
                    + " of segment " + entry.segmentBaseOffset() + ", where no batch starts";
        }
        return null;
    }

    /** The segment files of a partition directory by base offset (files of other names are ignored). */
    public static TreeMap<Long, Path> segmentFiles(Path partitionDir) throws IOException {
        TreeMap<Long, Path> segments = new TreeMap<>();
        try (Stream<Path> listing = Files.list(partitionDir)) {
            listing.forEach(path -> {
                long base = LogSegment.parseBaseOffset(path);
                if (base >= 0) {
                    segments.put(base, path);
                }
            });
        }
        return segments;
    }

    /**
     * Runs every check of {@code sluice dump --verify} on each partition directory of a node's data
     * directory, with the node's RocksDB (opened read-only) for the index checks; returns one line per
     * problem, naming the file and position — empty when the node's files pass.
     */
    public static List<String> verifyDataDir(Path dataDir) throws IOException {
        List<String> problems = new ArrayList<>();
        Listener collect = (file, position, description) ->
                problems.add("PROBLEM " + file + " at position " + position + ": " + description);
        Path partitions = dataDir.resolve("partitions");
        if (!Files.isDirectory(partitions)) {
            return problems;
        }
        List<Path> dirs;
        try (Stream<Path> listing = Files.list(partitions)) {
            dirs = listing.filter(Files::isDirectory).sorted().toList();
        }
        SegmentFile.Factory files = new MappedSegmentFile.Factory();
        Path rocksDb = NodeStore.rocksDbDir(dataDir);
        try (RocksDbNodeMetadata metadata =
                Files.isDirectory(rocksDb) ? RocksDbNodeMetadata.openReadOnly(rocksDb) : null) {
            for (Path dir : dirs) {
                TreeMap<Long, Path> segments = segmentFiles(dir);
                if (segments.isEmpty()) {
                    collect.problem(dir, 0, "not a partition directory: it holds no segment files");
                    continue;
                }
                Map<Long, List<Integer>> batchStarts = new HashMap<>();
                Map<Long, Integer> sizes = new HashMap<>();
                long previousEnd = -1;
                for (Map.Entry<Long, Path> segment : segments.entrySet()) {
                    checkContinuity(segment.getValue(), segment.getKey(), previousEnd, collect);
                    List<Integer> starts = new ArrayList<>();
                    ByteBuffer data = files.mapReadOnly(segment.getValue());
                    previousEnd = checkSegment(segment.getValue(), segment.getKey(), data, starts, collect);
                    batchStarts.put(segment.getKey(), starts);
                    sizes.put(segment.getKey(), data.capacity());
                }
                TopicPartition tp = NodeStore.parsePartitionDir(dir);
                if (tp != null && metadata != null) {
                    checkIndex(dir, metadata.partition(tp), batchStarts, sizes, collect);
                }
            }
        }
        return problems;
    }
}
