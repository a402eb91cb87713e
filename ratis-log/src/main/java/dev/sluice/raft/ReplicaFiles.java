package dev.sluice.raft;

import dev.sluice.partitionstore.BatchHeader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Compares the segment files of a partition's replicas, file by file: the check that replicas that
 * applied the same Raft log hold byte-identical data. A file's digest covers its batches only (the
 * bytes up to the end of its last complete batch), so a live active segment's preallocated tail does
 * not count. Works on the directories of running or stopped nodes; the chaos runs use it too.
 */
public final class ReplicaFiles {
    private ReplicaFiles() {}

    /** SHA-256 of every segment file in a partition directory, by file name. */
    public static Map<String, String> digests(Path partitionDir) throws IOException {
        return digests(partitionDir, Long.MAX_VALUE);
    }

    /**
     * SHA-256 of every segment file in a partition directory, by file name, covering only the batches that
     * start below {@code endOffset}: what replicas that all reached {@code endOffset} must hold identically,
     * whatever was appended after (a group coordinator's writes while the nodes shut down, say). Files that
     * start at or after {@code endOffset} are left out.
     */
    public static Map<String, String> digests(Path partitionDir, long endOffset) throws IOException {
        Map<String, String> result = new TreeMap<>();
        if (!Files.isDirectory(partitionDir)) {
            return result;
        }
        try (Stream<Path> files = Files.list(partitionDir)) {
            for (Path path : (Iterable<Path>) files.sorted()::iterator) {
                String name = path.getFileName().toString();
                if (name.endsWith(".log") && baseOffsetOf(name) < endOffset) {
                    result.put(name, digest(path, endOffset));
                }
            }
        }
        return result;
    }

    /** The base offset a segment file's name gives, or {@code Long.MIN_VALUE} for a name that gives none. */
    private static long baseOffsetOf(String name) {
        String digits = name.substring(0, name.length() - ".log".length());
        try {
            return Long.parseLong(digits);
        } catch (NumberFormatException e) {
            return Long.MIN_VALUE;
        }
    }

    private static String digest(Path path, long endOffset) throws IOException {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = channel.size();
            long position = 0;
            ByteBuffer header = ByteBuffer.allocate(BatchHeader.LOG_OVERHEAD);
            while (position + BatchHeader.LOG_OVERHEAD <= size) {
                header.clear();
                readFully(channel, header, position);
                int batchSize = BatchHeader.sizeInBytes(header, 0);
                if (batchSize < BatchHeader.HEADER_BYTES || position + batchSize > size) {
                    break; // zero preallocation or a torn tail: not part of the data
                }
                if (BatchHeader.baseOffset(header, 0) >= endOffset) {
                    break;
                }
                ByteBuffer batch = ByteBuffer.allocate(batchSize);
                readFully(channel, batch, position);
                batch.flip();
                sha.update(batch);
                position += batchSize;
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, position + buffer.position()) < 0) {
                throw new IOException("unexpected end of file");
            }
        }
    }

    /**
     * The differences between replicas' files: for every file name present on two or more replicas,
     * the names of replicas whose digest differs from the first one's. Files only some replicas have
     * (retention ran at different times) are listed when {@code requireSameFiles} is set.
     *
     * @param replicas partition directories by replica name
     * @return human-readable differences; empty when the replicas agree
     */
    public static List<String> differences(Map<String, Path> replicas, boolean requireSameFiles) throws IOException {
        return differences(replicas, requireSameFiles, Long.MAX_VALUE);
    }

    /**
     * As {@link #differences(Map, boolean)}, comparing only the batches that start below {@code endOffset} (see
     * {@link #digests(Path, long)}).
     */
    public static List<String> differences(Map<String, Path> replicas, boolean requireSameFiles, long endOffset)
            throws IOException {
        Map<String, Map<String, String>> digests = new TreeMap<>();
        for (Map.Entry<String, Path> replica : replicas.entrySet()) {
            digests.put(replica.getKey(), digests(replica.getValue(), endOffset));
        }
        List<String> problems = new ArrayList<>();
        Map<String, String> reference = new TreeMap<>();
        Map<String, String> referenceOwner = new TreeMap<>();
        for (Map.Entry<String, Map<String, String>> replica : digests.entrySet()) {
            for (Map.Entry<String, String> file : replica.getValue().entrySet()) {
                String seen = reference.putIfAbsent(file.getKey(), file.getValue());
                referenceOwner.putIfAbsent(file.getKey(), replica.getKey());
                if (seen != null && !Objects.equals(seen, file.getValue())) {
                    problems.add(file.getKey() + ": " + replica.getKey() + " differs from "
                            + referenceOwner.get(file.getKey()));
                }
            }
        }
        if (requireSameFiles) {
            for (Map.Entry<String, Map<String, String>> replica : digests.entrySet()) {
                for (String name : reference.keySet()) {
                    if (!replica.getValue().containsKey(name)) {
                        problems.add(name + ": missing on " + replica.getKey());
                    }
                }
            }
        }
        return problems;
    }
}
