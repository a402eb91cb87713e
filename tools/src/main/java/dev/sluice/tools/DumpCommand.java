package dev.sluice.tools;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.partitionstore.BatchHeader;
import dev.sluice.partitionstore.NodeStore;
import dev.sluice.partitionstore.PartitionVerifier;
import dev.sluice.partitionstore.SegmentFile;
import dev.sluice.partitionstore.SegmentScanner;
import dev.sluice.partitionstore.SegmentScanner.Problem;
import dev.sluice.partitionstore.mapped.MappedSegmentFile;
import dev.sluice.partitionstore.rocksdb.RocksDbNodeMetadata;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.KafkaStorageException;
import org.apache.kafka.common.record.internal.CompressionType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code sluice dump}: prints the batches (and with {@code --print-data} the records) of segment files,
 * and with {@code --verify} checks CRCs, offset continuity and the node's index entries, exiting 1 on
 * any problem. Works on a stopped or a running node: segments are mapped read-only and RocksDB is
 * opened read-only.
 */
@Command(
        name = "dump",
        mixinStandardHelpOptions = true,
        description = {
            "Print the record batches of segment files or partition directories, like kafka-dump-log.",
            "With --verify, check every batch's CRC-32C, offset continuity within and across segments, and the"
                    + " node's offset index entries against the segments; exit 1 with a report on any problem."
        },
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:all files read (and, with --verify, no problem found)",
            "1:--verify found a problem",
            "2:a file or directory could not be read"
        })
final class DumpCommand implements Callable<Integer> {
    private static final long PROGRESS_BYTES = 64L * 1024 * 1024;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(
            arity = "1..*",
            paramLabel = "FILE_OR_DIR",
            description = "Segment files (*.log), partition directories, or a node's data directory (every"
                    + " partition under its partitions/).")
    List<Path> paths;

    @Option(
            names = "--quiet",
            description = "Print no batch or record lines: only problems and the summary (for --verify of large"
                    + " data directories).")
    boolean quiet;

    @Option(names = "--print-data", description = "Also print every record: offset, timestamp, key, value, headers.")
    boolean printData;

    @Option(names = "--verify", description = "Check CRCs, offset continuity and index entries; exit 1 on a problem.")
    boolean verify;

    @Option(names = "--json", description = "Print JSON Lines (one object per batch, record, problem and summary).")
    boolean json;

    @Option(
            names = "--rocksdb",
            paramLabel = "DIR",
            description = "The node's RocksDB directory, for --verify of index entries"
                    + " (default: DATA_DIR/rocksdb when the partition directory sits in DATA_DIR/partitions).")
    Path rocksDb;

    private final ObjectMapper mapper = new ObjectMapper();
    private final SegmentFile.Factory files = new MappedSegmentFile.Factory();
    private PrintWriter out;
    private PrintWriter err;
    private int problems;
    private long batches;
    private long records;
    private long bytes;

    @Override
    public Integer call() {
        out = spec.commandLine().getOut();
        err = spec.commandLine().getErr();
        int status = 0;
        for (Path path : paths) {
            try {
                if (Files.isDirectory(path.resolve("partitions"))) {
                    dumpDataDir(path.resolve("partitions"));
                } else if (Files.isDirectory(path)) {
                    dumpPartitionDir(path);
                } else if (Files.isRegularFile(path)) {
                    dumpFiles(List.of(path), null);
                } else {
                    err.println("sluice dump: " + path + ": no such file or directory");
                    status = 2;
                }
            } catch (KafkaStorageException | IOException e) {
                err.println("sluice dump: " + path + ": " + e.getMessage());
                status = 2;
            }
        }
        summary();
        if (status != 0) {
            return status;
        }
        return verify && problems > 0 ? 1 : 0;
    }

    /** Every partition directory of a node's data directory; one without segments has nothing to check. */
    private void dumpDataDir(Path partitions) throws IOException {
        List<Path> dirs;
        try (Stream<Path> listing = Files.list(partitions)) {
            dirs = listing.filter(Files::isDirectory).sorted().toList();
        }
        for (Path dir : dirs) {
            boolean hasSegments;
            try (Stream<Path> listing = Files.list(dir)) {
                hasSegments = listing.anyMatch(p -> baseOffsetOf(p) >= 0);
            }
            if (hasSegments) {
                dumpPartitionDir(dir);
            }
        }
    }

    private void dumpPartitionDir(Path dir) throws IOException {
        TreeMap<Long, Path> segments = new TreeMap<>();
        try (Stream<Path> listing = Files.list(dir)) {
            listing.filter(p -> p.getFileName().toString().endsWith(".log"))
                    .forEach(p -> segments.put(baseOffsetOf(p), p));
        }
        segments.remove(-1L);
        if (segments.isEmpty()) {
            throw new IOException("not a partition directory: it holds no segment files (NNNNNNNNNNNNNNNNNNNN.log)");
        }
        dumpFiles(new ArrayList<>(segments.values()), dir);
    }

    /** Dumps the files in order; {@code partitionDir} is set when they are a whole partition. */
    private void dumpFiles(List<Path> segmentPaths, Path partitionDir) throws IOException {
        long total = 0;
        for (Path path : segmentPaths) {
            total += Files.size(path);
        }
        boolean showProgress = total >= PROGRESS_BYTES || segmentPaths.size() > 16;
        Map<Long, List<Integer>> batchStarts = new HashMap<>();
        Map<Long, Integer> sizes = new HashMap<>();
        long expectedNext = -1;
        long done = 0;
        for (int i = 0; i < segmentPaths.size(); i++) {
            Path path = segmentPaths.get(i);
            long base = baseOffsetOf(path);
            if (base < 0) {
                throw new IOException("not a segment file: expected a name of 20 digits and .log, like"
                        + " 00000000000000000000.log");
            }
            PartitionVerifier.checkContinuity(path, base, expectedNext, this::problem);
            List<Integer> starts = new ArrayList<>();
            long end = dumpSegment(path, base, starts);
            batchStarts.put(base, starts);
            sizes.put(base, (int) Files.size(path));
            expectedNext = partitionDir == null ? -1 : end;
            done += Files.size(path);
            if (showProgress) {
                err.printf(
                        "sluice dump: %d/%d files, %d/%d MiB%n", i + 1, segmentPaths.size(), done >> 20, total >> 20);
                err.flush();
            }
        }
        if (verify && partitionDir != null) {
            verifyIndex(partitionDir, batchStarts, sizes);
        }
    }

    /** Walks one segment (the checks of {@link PartitionVerifier}); returns the offset after its last batch. */
    private long dumpSegment(Path path, long base, List<Integer> starts) throws IOException {
        if (!json && !quiet) {
            out.println("Dumping " + path);
        }
        ByteBuffer data = files.mapReadOnly(path);
        return PartitionVerifier.checkSegment(path, base, data, starts, new PartitionVerifier.Listener() {
            @Override
            public void batch(Path file, ByteBuffer bytes, SegmentScanner.Step step) {
                printBatch(file, bytes, step);
            }

            @Override
            public void problem(Path file, int position, String description) {
                DumpCommand.this.problem(file, position, description);
            }
        });
    }

    private void printBatch(Path path, ByteBuffer data, SegmentScanner.Step step) {
        int at = step.position();
        batches++;
        bytes += step.sizeInBytes();
        int count = BatchHeader.recordCount(data, at);
        records += count;
        int baseSequence = BatchHeader.baseSequence(data, at);
        int lastSequence = baseSequence < 0 ? -1 : baseSequence + BatchHeader.lastOffsetDelta(data, at);
        String codec = codecName(BatchHeader.compressionId(data, at));
        if (quiet) {
            return;
        }
        if (json) {
            ObjectNode node = mapper.createObjectNode()
                    .put("type", "batch")
                    .put("file", path.toString())
                    .put("baseOffset", step.baseOffset())
                    .put("lastOffset", step.lastOffset())
                    .put("count", count)
                    .put("baseSequence", baseSequence)
                    .put("lastSequence", lastSequence)
                    .put("producerId", BatchHeader.producerId(data, at))
                    .put("producerEpoch", BatchHeader.producerEpoch(data, at))
                    .put("partitionLeaderEpoch", BatchHeader.partitionLeaderEpoch(data, at))
                    .put("isTransactional", BatchHeader.isTransactional(data, at))
                    .put("isControl", BatchHeader.isControl(data, at))
                    .put("position", at)
                    .put("baseTimestamp", BatchHeader.baseTimestamp(data, at))
                    .put("maxTimestamp", BatchHeader.maxTimestamp(data, at))
                    .put("timestampType", BatchHeader.isLogAppendTime(data, at) ? "LogAppendTime" : "CreateTime")
                    .put("size", step.sizeInBytes())
                    .put("magic", BatchHeader.magic(data, at))
                    .put("compression", codec)
                    .put("crc", String.format("0x%08x", BatchHeader.storedCrc(data, at)))
                    .put("crcValid", step.problem() != Problem.CRC_MISMATCH);
            out.println(node);
        } else {
            out.printf(
                    "baseOffset: %d lastOffset: %d count: %d baseSequence: %d lastSequence: %d producerId: %d"
                            + " producerEpoch: %d partitionLeaderEpoch: %d isTransactional: %b isControl: %b"
                            + " position: %d %s: %d maxTimestamp: %d size: %d magic: %d compresscodec: %s"
                            + " crc: 0x%08x isvalid: %b%n",
                    step.baseOffset(),
                    step.lastOffset(),
                    count,
                    baseSequence,
                    lastSequence,
                    BatchHeader.producerId(data, at),
                    BatchHeader.producerEpoch(data, at),
                    BatchHeader.partitionLeaderEpoch(data, at),
                    BatchHeader.isTransactional(data, at),
                    BatchHeader.isControl(data, at),
                    at,
                    BatchHeader.isLogAppendTime(data, at) ? "logAppendTime" : "baseTimestamp",
                    BatchHeader.baseTimestamp(data, at),
                    BatchHeader.maxTimestamp(data, at),
                    step.sizeInBytes(),
                    BatchHeader.magic(data, at),
                    codec,
                    BatchHeader.storedCrc(data, at),
                    step.problem() != Problem.CRC_MISMATCH);
        }
        if (printData) {
            RecordPrinter.print(data, step, json, mapper, out, err);
        }
    }

    private static String codecName(int id) {
        try {
            return CompressionType.forId(id).name;
        } catch (IllegalArgumentException e) {
            return "unknown(" + id + ")";
        }
    }

    private void verifyIndex(Path partitionDir, Map<Long, List<Integer>> batchStarts, Map<Long, Integer> sizes) {
        TopicPartition tp = NodeStore.parsePartitionDir(partitionDir);
        Path dbDir = rocksDb;
        if (dbDir == null) {
            Path dataDir = NodeStore.dataDirOf(partitionDir);
            dbDir = dataDir == null ? null : NodeStore.rocksDbDir(dataDir);
        }
        if (tp == null || dbDir == null || !Files.isDirectory(dbDir)) {
            if (!json) {
                out.println("Index entries not checked: no node RocksDB found for " + partitionDir
                        + " (pass --rocksdb DIR)");
            }
            return;
        }
        try (RocksDbNodeMetadata metadata = RocksDbNodeMetadata.openReadOnly(dbDir)) {
            int checked = PartitionVerifier.checkIndex(
                    partitionDir, metadata.partition(tp), batchStarts, sizes, this::problem);
            if (!json) {
                out.println("Checked " + checked + " offset index entries of " + tp + " in " + dbDir);
            }
        }
    }

    private void problem(Path path, int position, String description) {
        problems++;
        if (json) {
            out.println(mapper.createObjectNode()
                    .put("type", "problem")
                    .put("file", path.toString())
                    .put("position", position)
                    .put("description", description));
        } else {
            out.println("PROBLEM " + path + " at position " + position + ": " + description);
        }
    }

    private void summary() {
        if (json) {
            out.println(mapper.createObjectNode()
                    .put("type", "summary")
                    .put("batches", batches)
                    .put("records", records)
                    .put("bytes", bytes)
                    .put("problems", problems)
                    .put("verified", verify));
        } else {
            out.printf(
                    "%d batches, %d records, %d bytes; %s%n",
                    batches,
                    records,
                    bytes,
                    verify
                            ? (problems == 0 ? "verify: OK" : "verify: " + problems + " problem(s)")
                            : problems + " problem(s)");
        }
        out.flush();
    }

    private static long baseOffsetOf(Path path) {
        String name = path.getFileName().toString();
        if (!name.matches("\\d{20}\\.log")) {
            return -1;
        }
        return Long.parseLong(name.substring(0, 20));
    }
}
