package dev.sluice.raft;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What Sluice knows of Ratis's log segment files (3.x), for repairs before Ratis opens a group's log and for
 * {@link DiskFaults}.
 *
 * <pre>
 * log_inprogress_START          the open segment, entries from START on
 * log_START-END                 a closed segment, entries START to END
 * file   "RaftLog1" | entry* | 0-bytes of padding
 * entry  varint32 n | n bytes of LogEntryProto | u32 CRC-32C of the varint and the bytes
 * </pre>
 *
 * <p>Stateless; thread-safe.
 */
public final class RaftLogFiles {
    private static final Logger LOG = LoggerFactory.getLogger(RaftLogFiles.class);

    static final String HEADER = "RaftLog1";
    static final Pattern OPEN_SEGMENT = Pattern.compile("log_inprogress_(\\d+)");
    static final Pattern CLOSED_SEGMENT = Pattern.compile("log_(\\d+)-(\\d+)");

    private RaftLogFiles() {}

    /**
     * The end position of every whole entry of a log segment file, in order; empty when the file does not
     * start with the segment header.
     */
    static List<Integer> entryEnds(Path file) throws IOException {
        byte[] data = Files.readAllBytes(file);
        List<Integer> ends = new ArrayList<>();
        byte[] header = HEADER.getBytes(StandardCharsets.UTF_8);
        if (data.length < header.length) {
            return ends;
        }
        for (int i = 0; i < header.length; i++) {
            if (data[i] != header[i]) {
                return ends;
            }
        }
        int position = header.length;
        while (position < data.length && data[position] != 0) {
            long length = 0;
            int shift = 0;
            int at = position;
            while (at < data.length && shift < 35) {
                byte b = data[at++];
                length |= (long) (b & 0x7f) << shift;
                shift += 7;
                if ((b & 0x80) == 0) {
                    break;
                }
            }
            long end = at + length + 4;
            if (end > data.length) {
                break;
            }
            position = (int) end;
            ends.add(position);
        }
        return ends;
    }

    /**
     * Removes the open log segment of a group whose entries all lie at or below {@code snapshotIndex}, before
     * Ratis opens the log: a group whose log lost its tail (a torn or cut file, a crash before the log was
     * synced) can end before its snapshot. Ratis then purges the closed segments below the snapshot but keeps
     * appending to the open one, and the next entry (after the snapshot) leaves a gap that Ratis refuses —
     * the replica would take no entry again. Everything the segment holds is in the snapshot. Returns what
     * was removed, or null.
     *
     * @param currentDir the group's Ratis storage directory ({@code .../current})
     */
    public static String dropOpenSegmentBelowSnapshot(File currentDir, long snapshotIndex) throws IOException {
        if (snapshotIndex < 0 || !currentDir.isDirectory()) {
            return null;
        }
        List<Path> open = new ArrayList<>();
        try (Stream<Path> listing = Files.list(currentDir.toPath())) {
            listing.filter(p -> OPEN_SEGMENT.matcher(p.getFileName().toString()).matches())
                    .forEach(open::add);
        }
        String removed = null;
        for (Path segment : open) {
            Matcher name = OPEN_SEGMENT.matcher(segment.getFileName().toString());
            if (!name.matches()) {
                continue;
            }
            long start = Long.parseLong(name.group(1));
            long last = start + entryEnds(segment).size() - 1;
            if (last < snapshotIndex) {
                Files.delete(segment);
                removed = segment + " (entries " + start + ".." + last + ", all in the snapshot at " + snapshotIndex
                        + ")";
                LOG.warn(
                        "{}: the Raft log ends at entry {}, before the snapshot at {}: removed its open segment {},"
                                + " whose entries the snapshot holds, so that the log continues after the snapshot",
                        currentDir,
                        last,
                        snapshotIndex,
                        segment.getFileName());
            }
        }
        return removed;
    }
}
