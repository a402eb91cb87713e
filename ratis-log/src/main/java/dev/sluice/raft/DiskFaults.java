package dev.sluice.raft;

import dev.sluice.partitionstore.BatchHeader;
import dev.sluice.partitionstore.FaultPoints;
import dev.sluice.partitionstore.NodeStore;
import dev.sluice.partitionstore.PartitionVerifier;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.stream.Stream;
import org.apache.kafka.common.TopicPartition;
import org.apache.ratis.protocol.RaftGroupId;

/**
 * Disk faults for chaos runs and tests, inflicted on the data directory of a <b>stopped</b> node: what a
 * bad disk or a power loss does to the files a node keeps. Each method chooses what to damage from its
 * {@link Random} (so a seed replays it) and returns a {@link Damage} naming exactly what it did — the file,
 * the position and the bytes — or saying that it found nothing to damage.
 *
 * <ul>
 *   <li>{@link #flipBitInClosedSegment}: one flipped bit in a closed segment of a partition (a bad sector
 *       that still reads). The node finds it (scrub or read), serves nothing from it, and replaces the
 *       segment with another replica's copy.
 *   <li>{@link #truncateNewestSegment}: the tail of a partition's newest segment cut off, from a few bytes
 *       (a torn last batch) to several whole batches, fsynced and acknowledged ones included. The node
 *       copies the lost data back from another replica before it takes more entries.
 *   <li>{@link #truncateRaftLog}: the tail of a Raft group's newest Ratis log segment cut off (a partition
 *       group or the coordinator group): a torn last entry or whole entries. Ratis drops what is torn; the
 *       leader sends the lost entries again.
 *   <li>{@link #truncateToSynced}: after the {@link FaultPoints} {@code unsynced-segment-write} halted a
 *       node, every segment file cut to what was fsynced (a power loss right after an unsynced write).
 * </ul>
 *
 * <p>Never run against a running node: the node maps its files and would not see the change the way a
 * restart does. Stateless; thread-safe.
 */
public final class DiskFaults {
    /** At most this many whole batches or entries are cut by the seeded faults. */
    private static final int MAX_WHOLE_UNITS = 5;

    private DiskFaults() {}

    /**
     * What a fault did.
     *
     * @param fault the fault's name
     * @param file the damaged file, or null when nothing was damaged
     * @param position where the damage starts (the flipped byte, or the new length of a cut file)
     * @param bytes how many bytes were changed or cut off
     * @param description one line for the nemesis log
     */
    public record Damage(String fault, Path file, long position, long bytes, String description) {
        /** Whether anything was damaged. */
        public boolean damaged() {
            return file != null;
        }

        static Damage none(String fault, String why) {
            return new Damage(fault, null, -1, 0, fault + ": nothing to damage: " + why);
        }

        @Override
        public String toString() {
            return description;
        }
    }

    // ---- partition segments ----------------------------------------------------------------------------------

    /**
     * Flips one bit of a closed (rolled) segment of a partition: the partition, segment, byte and bit
     * chosen by {@code random}.
     */
    public static Damage flipBitInClosedSegment(Path dataDir, Random random) throws IOException {
        List<Path> closed = new ArrayList<>();
        for (Path partitionDir : partitionDirs(dataDir)) {
            TreeMap<Long, Path> segments = PartitionVerifier.segmentFiles(partitionDir);
            if (segments.size() < 2) {
                continue;
            }
            for (Path segment : segments.headMap(segments.lastKey()).values()) {
                if (Files.size(segment) > 0) {
                    closed.add(segment);
                }
            }
        }
        if (closed.isEmpty()) {
            return Damage.none("flip-bit", "no closed segment in " + dataDir);
        }
        Path file = closed.get(random.nextInt(closed.size()));
        long position = (long) (random.nextDouble() * Files.size(file));
        return flipBit(file, position, random.nextInt(8));
    }

    /** Flips bit {@code bit} (0-7) of the byte at {@code position} of {@code file}. */
    public static Damage flipBit(Path file, long position, int bit) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(position);
            int before = raf.read();
            if (before < 0) {
                throw new IOException(file + " has no byte at position " + position);
            }
            int after = before ^ (1 << bit);
            raf.seek(position);
            raf.write(after);
            raf.getFD().sync();
            return new Damage(
                    "flip-bit",
                    file,
                    position,
                    1,
                    String.format(
                            "flip-bit: %s: flipped bit %d of the byte at position %d (0x%02x -> 0x%02x)",
                            file, bit, position, before, after));
        }
    }

    /**
     * Cuts the tail of a partition's newest non-empty segment (the partition chosen by {@code random}): a
     * few bytes of its last batch, several whole batches, or whole batches and a few bytes more.
     */
    public static Damage truncateNewestSegment(Path dataDir, Random random) throws IOException {
        List<Path> candidates = new ArrayList<>();
        for (Path partitionDir : partitionDirs(dataDir)) {
            if (newestNonEmptySegment(partitionDir) != null) {
                candidates.add(partitionDir);
            }
        }
        if (candidates.isEmpty()) {
            return Damage.none("truncate-segment", "no partition with data in " + dataDir);
        }
        Path partitionDir = candidates.get(random.nextInt(candidates.size()));
        Path file = newestNonEmptySegment(partitionDir);
        List<Integer> ends = batchEnds(file);
        int batches = ends.size();
        int lastSize = ends.get(batches - 1) - (batches > 1 ? ends.get(batches - 2) : 0);
        long cut;
        switch (random.nextInt(3)) {
            case 0 -> cut = 1 + random.nextInt(Math.max(1, lastSize - 1)); // a torn last batch
            case 1 -> cut = bytesOfLastBatches(ends, 1 + random.nextInt(Math.min(MAX_WHOLE_UNITS, batches)));
            default -> {
                int whole = random.nextInt(Math.min(MAX_WHOLE_UNITS, batches));
                long wholeBytes = bytesOfLastBatches(ends, whole);
                int nextSize = batches > whole
                        ? ends.get(batches - 1 - whole) - (batches - whole > 1 ? ends.get(batches - 2 - whole) : 0)
                        : 1;
                cut = wholeBytes + 1 + random.nextInt(Math.max(1, nextSize - 1));
            }
        }
        return cutSegment(file, ends, Math.min(cut, ends.get(batches - 1)));
    }

    /** Cuts {@code bytes} off the data of the newest non-empty segment of one partition directory. */
    public static Damage truncateNewestSegment(Path partitionDir, long bytes) throws IOException {
        Path file = newestNonEmptySegment(partitionDir);
        if (file == null) {
            return Damage.none("truncate-segment", "no segment with data in " + partitionDir);
        }
        List<Integer> ends = batchEnds(file);
        return cutSegment(file, ends, Math.min(bytes, ends.get(ends.size() - 1)));
    }

    /**
     * Cuts whole batches off the newest non-empty segment of one partition directory: {@code batches} of
     * them, and {@code extraBytes} more from the batch before (0: a cut at a batch boundary).
     */
    public static Damage truncateNewestSegmentBatches(Path partitionDir, int batches, int extraBytes)
            throws IOException {
        Path file = newestNonEmptySegment(partitionDir);
        if (file == null) {
            return Damage.none("truncate-segment", "no segment with data in " + partitionDir);
        }
        List<Integer> ends = batchEnds(file);
        long cut = bytesOfLastBatches(ends, Math.min(batches, ends.size())) + extraBytes;
        return cutSegment(file, ends, Math.min(cut, ends.get(ends.size() - 1)));
    }

    private static Damage cutSegment(Path file, List<Integer> ends, long cut) throws IOException {
        long dataEnd = ends.get(ends.size() - 1);
        long newLength = dataEnd - cut;
        int lostBatches = 0;
        boolean torn = false;
        for (int i = 0; i < ends.size(); i++) {
            int start = i == 0 ? 0 : ends.get(i - 1);
            if (ends.get(i) > newLength) {
                lostBatches++;
                torn |= start < newLength;
            }
        }
        truncate(file, newLength);
        return new Damage(
                "truncate-segment",
                file,
                newLength,
                cut,
                "truncate-segment: " + file + ": cut " + cut + " bytes of data at position " + newLength + " (was "
                        + dataEnd + "): " + lostBatches + " batch(es) lost" + (torn ? ", the first of them torn" : ""));
    }

    private static long bytesOfLastBatches(List<Integer> ends, int count) {
        int last = ends.get(ends.size() - 1);
        int keep = ends.size() - count;
        return last - (keep > 0 ? ends.get(keep - 1) : 0);
    }

    /** The end position of every whole batch of a segment file, in order (the data ends at the last). */
    private static List<Integer> batchEnds(Path file) throws IOException {
        ByteBuffer data;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            data = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size());
        }
        List<Integer> ends = new ArrayList<>();
        int position = 0;
        while (position + BatchHeader.HEADER_BYTES <= data.capacity()) {
            int size = BatchHeader.sizeInBytes(data, position);
            if (size < BatchHeader.HEADER_BYTES || position + size > data.capacity()) {
                break;
            }
            position += size;
            ends.add(position);
        }
        return ends;
    }

    private static Path newestNonEmptySegment(Path partitionDir) throws IOException {
        TreeMap<Long, Path> segments = PartitionVerifier.segmentFiles(partitionDir);
        for (Path segment : segments.descendingMap().values()) {
            if (!batchEnds(segment).isEmpty()) {
                return segment;
            }
        }
        return null;
    }

    private static List<Path> partitionDirs(Path dataDir) throws IOException {
        Path partitions = dataDir.resolve("partitions");
        if (!Files.isDirectory(partitions)) {
            return List.of();
        }
        try (Stream<Path> listing = Files.list(partitions)) {
            return listing.filter(Files::isDirectory).sorted().toList();
        }
    }

    // ---- Raft logs ---------------------------------------------------------------------------------------------

    /** The directory of a Raft group's Ratis storage (log and metadata) in a node's data directory. */
    public static Path raftGroupDir(Path dataDir, RaftGroupId groupId) {
        return dataDir.resolve("raft").resolve(groupId.getUuid().toString());
    }

    /** The directory of a partition group's Ratis storage in a node's data directory. */
    public static Path raftGroupDir(Path dataDir, TopicPartition tp) {
        return raftGroupDir(dataDir, RaftNode.groupIdOf(tp));
    }

    /**
     * Cuts the tail of the newest Ratis log segment of a Raft group (the group chosen by {@code random},
     * the coordinator group among them): a few bytes of its last entry (torn), or whole entries.
     */
    public static Damage truncateRaftLog(Path dataDir, Random random) throws IOException {
        List<Path> groups = new ArrayList<>();
        Path raft = dataDir.resolve("raft");
        if (Files.isDirectory(raft)) {
            try (Stream<Path> listing = Files.list(raft)) {
                for (Path dir : (Iterable<Path>) listing.sorted()::iterator) {
                    Path segment = Files.isDirectory(dir) ? newestRaftSegment(dir) : null;
                    if (segment != null && !entryEnds(segment).isEmpty()) {
                        groups.add(dir);
                    }
                }
            }
        }
        if (groups.isEmpty()) {
            return Damage.none("truncate-raft-log", "no Raft log with entries in " + dataDir);
        }
        Path groupDir = groups.get(random.nextInt(groups.size()));
        List<Integer> ends = entryEnds(newestRaftSegment(groupDir));
        if (random.nextBoolean()) {
            int last = ends.get(ends.size() - 1) - (ends.size() > 1 ? ends.get(ends.size() - 2) : headerLength());
            return tearRaftLog(groupDir, 1 + random.nextInt(Math.max(1, last - 1)));
        }
        return truncateRaftLogEntries(groupDir, 1 + random.nextInt(Math.min(MAX_WHOLE_UNITS, ends.size())));
    }

    /** Cuts {@code bytes} (fewer than the last entry holds) off the newest Ratis log segment of a group. */
    public static Damage tearRaftLog(Path groupDir, int bytes) throws IOException {
        Path file = newestRaftSegment(groupDir);
        if (file == null || entryEnds(file).isEmpty()) {
            return Damage.none("truncate-raft-log", "no Raft log entries in " + groupDir);
        }
        List<Integer> ends = entryEnds(file);
        int dataEnd = ends.get(ends.size() - 1);
        int previous = ends.size() > 1 ? ends.get(ends.size() - 2) : headerLength();
        int cut = Math.max(1, Math.min(bytes, dataEnd - previous - 1));
        truncate(file, dataEnd - cut);
        return new Damage(
                "truncate-raft-log",
                file,
                dataEnd - cut,
                cut,
                "truncate-raft-log: " + file + ": cut " + cut + " bytes at position " + (dataEnd - cut) + " (was "
                        + dataEnd + "): the last of its " + ends.size() + " entries torn");
    }

    /** Cuts the last {@code entries} whole entries off the newest Ratis log segment of a group. */
    public static Damage truncateRaftLogEntries(Path groupDir, int entries) throws IOException {
        Path file = newestRaftSegment(groupDir);
        if (file == null || entryEnds(file).isEmpty()) {
            return Damage.none("truncate-raft-log", "no Raft log entries in " + groupDir);
        }
        List<Integer> ends = entryEnds(file);
        int count = Math.min(entries, ends.size());
        int dataEnd = ends.get(ends.size() - 1);
        int keep = ends.size() - count;
        int newLength = keep > 0 ? ends.get(keep - 1) : headerLength();
        truncate(file, newLength);
        return new Damage(
                "truncate-raft-log",
                file,
                newLength,
                dataEnd - newLength,
                "truncate-raft-log: " + file + ": cut the last " + count + " of its " + ends.size() + " entries ("
                        + (dataEnd - newLength) + " bytes at position " + newLength + ")");
    }

    /** The newest log segment file (open before closed, by start index) of a group directory, or null. */
    private static Path newestRaftSegment(Path groupDir) throws IOException {
        Path current = groupDir.resolve("current");
        if (!Files.isDirectory(current)) {
            return null;
        }
        TreeMap<Long, Path> byStart = new TreeMap<>();
        Path open = null;
        long openStart = -1;
        try (Stream<Path> listing = Files.list(current)) {
            for (Path path : (Iterable<Path>) listing::iterator) {
                String name = path.getFileName().toString();
                Matcher openMatch = RaftLogFiles.OPEN_SEGMENT.matcher(name);
                Matcher closedMatch = RaftLogFiles.CLOSED_SEGMENT.matcher(name);
                if (openMatch.matches() && Files.size(path) > 0) {
                    long start = Long.parseLong(openMatch.group(1));
                    if (start > openStart) {
                        open = path;
                        openStart = start;
                    }
                } else if (closedMatch.matches()) {
                    byStart.put(Long.parseLong(closedMatch.group(1)), path);
                }
            }
        }
        if (open != null && !entryEnds(open).isEmpty()) {
            return open;
        }
        return byStart.isEmpty() ? null : byStart.lastEntry().getValue();
    }

    private static int headerLength() {
        return RaftLogFiles.HEADER.length();
    }

    private static List<Integer> entryEnds(Path file) throws IOException {
        return RaftLogFiles.entryEnds(file);
    }

    // ---- lost unsynced writes ----------------------------------------------------------------------------------

    /**
     * After the fault point {@code unsynced-segment-write} halted the node (see {@link FaultPoints}), cuts
     * every segment file it listed to its synced length — what a power loss at that moment leaves — and
     * removes the list.
     */
    public static Damage truncateToSynced(Path dataDir) throws IOException {
        Path list = dataDir.resolve(FaultPoints.SYNCED_LENGTHS_FILE);
        if (!Files.exists(list)) {
            return Damage.none(
                    "truncate-to-synced",
                    "no " + FaultPoints.SYNCED_LENGTHS_FILE + " in " + dataDir + " (the fault point did not fire)");
        }
        Map<Path, Long> synced = FaultPoints.readSyncedLengths(dataDir);
        StringBuilder what = new StringBuilder("truncate-to-synced:");
        long total = 0;
        Path first = null;
        long firstPosition = -1;
        for (Map.Entry<Path, Long> entry : synced.entrySet()) {
            Path file = entry.getKey();
            if (!Files.exists(file)) {
                continue;
            }
            long length = Files.size(file);
            long keep = entry.getValue();
            if (length > keep) {
                truncate(file, keep);
                total += length - keep;
                what.append(' ')
                        .append(file)
                        .append(": cut at ")
                        .append(keep)
                        .append(" (")
                        .append(length - keep)
                        .append(" bytes);");
                if (first == null) {
                    first = file;
                    firstPosition = keep;
                }
            }
        }
        Files.delete(list);
        if (first == null) {
            return Damage.none("truncate-to-synced", "every listed file was synced");
        }
        return new Damage("truncate-to-synced", first, firstPosition, total, what.toString());
    }

    /** The partition directory of {@code tp} in a node's data directory (for the explicit variants). */
    public static Path partitionDir(Path dataDir, TopicPartition tp) {
        return NodeStore.partitionDir(dataDir, tp);
    }

    private static void truncate(Path file, long length) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(length);
            raf.getFD().sync();
        }
    }
}
