package dev.sluice.partitionstore;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Named fault points in the storage code (STYLE.md, "Named fault points"): places where a test can make
 * the process fail in a precise way. Every point is a no-op unless armed. <b>Test-only</b>: never arm
 * one in production.
 *
 * <p>Arming: the system property {@value #PROPERTY} lists points as {@code name=N} separated by commas
 * (say {@code -Dsluice.fault.points=unsynced-segment-write=25}, or through {@code SLUICE_JAVA_OPTS} for
 * {@code bin/sluice}); each then fires at its N-th hit. Tests in one JVM may {@link #arm} a point with
 * their own action instead.
 *
 * <p>Points:
 *
 * <ul>
 *   <li>{@code unsynced-segment-write} ({@link Point#UNSYNCED_SEGMENT_WRITE}): hit right after record
 *       batches are written to a partition's segment and before they are fsynced. When it fires, every
 *       open partition log records, in {@value #SYNCED_LENGTHS_FILE} in its node's data directory, the
 *       synced length of each of its segment files that holds bytes not yet fsynced (the active one
 *       always), and the JVM halts ({@link Runtime#halt}, exit status {@value #HALT_STATUS}) — a process
 *       killed right after an unsynced write. Cutting each listed file to its synced length then leaves
 *       what a power loss at that moment would (see {@code dev.sluice.raft.DiskFaults#truncateToSynced}).
 * </ul>
 *
 * <p>The synced-lengths file, one line per segment file:
 *
 * <pre>
 * path relative to the data directory TAB synced length in bytes TAB length when the point fired
 * </pre>
 *
 * <p>Thread-safe.
 */
public final class FaultPoints {
    /** The system property that arms points in a process. */
    public static final String PROPERTY = "sluice.fault.points";

    /** Written in the data directory by {@link Point#UNSYNCED_SEGMENT_WRITE}. */
    public static final String SYNCED_LENGTHS_FILE = "synced-lengths.fault";

    /** The exit status of a JVM halted by a fault point. */
    public static final int HALT_STATUS = 86;

    /** The named points. */
    public enum Point {
        /** After a segment write that is not fsynced yet. */
        UNSYNCED_SEGMENT_WRITE("unsynced-segment-write");

        private final String pointName;

        Point(String pointName) {
            this.pointName = pointName;
        }

        public String pointName() {
            return pointName;
        }

        static Point named(String name) {
            for (Point point : values()) {
                if (point.pointName.equals(name.trim().toLowerCase(Locale.ROOT))) {
                    return point;
                }
            }
            throw new IllegalArgumentException(
                    "unknown fault point '" + name + "' in " + PROPERTY + "; known: " + List.of(names()));
        }

        private static String[] names() {
            Point[] all = values();
            String[] names = new String[all.length];
            for (int i = 0; i < all.length; i++) {
                names[i] = all[i].pointName;
            }
            return names;
        }
    }

    /** An armed point: fires {@code action} at hit number {@code fireAt}. */
    private record Armed(long fireAt, AtomicLong hits, Runnable action) {}

    private static final Map<Point, Armed> ARMED = new EnumMap<>(Point.class);
    private static final Set<PartitionLog> TRACKED = ConcurrentHashMap.newKeySet();
    private static volatile boolean anyArmed;

    static {
        String spec = System.getProperty(PROPERTY, "");
        for (String item : spec.split(",")) {
            if (item.isBlank()) {
                continue;
            }
            int eq = item.indexOf('=');
            if (eq < 0) {
                throw new IllegalArgumentException(
                        PROPERTY + ": expected name=N (fire at the N-th hit), got '" + item + "'");
            }
            Point point = Point.named(item.substring(0, eq));
            long nth = Long.parseLong(item.substring(eq + 1).trim());
            if (nth < 1) {
                throw new IllegalArgumentException(PROPERTY + ": " + point.pointName() + " must fire at a hit >= 1");
            }
            arm(point, nth, () -> halt(point));
        }
    }

    private FaultPoints() {}

    /** Arms {@code point} to run {@code action} at its {@code nth} hit from now (tests in one JVM). */
    public static synchronized void arm(Point point, long nth, Runnable action) {
        ARMED.put(point, new Armed(nth, new AtomicLong(), action));
        anyArmed = true;
    }

    /** Disarms every point (tests in one JVM). */
    public static synchronized void disarmAll() {
        ARMED.clear();
        anyArmed = false;
        TRACKED.clear();
    }

    /** Whether any point is armed; the storage code only does fault-point bookkeeping then. */
    public static boolean anyArmed() {
        return anyArmed;
    }

    /** Counts a hit of {@code point}; runs its action when this is the hit it is armed for. */
    static void hit(Point point) {
        if (!anyArmed) {
            return;
        }
        Armed armed;
        synchronized (FaultPoints.class) {
            armed = ARMED.get(point);
        }
        if (armed != null && armed.hits().incrementAndGet() == armed.fireAt()) {
            armed.action().run();
        }
    }

    static void track(PartitionLog log) {
        if (anyArmed) {
            TRACKED.add(log);
        }
    }

    static void untrack(PartitionLog log) {
        TRACKED.remove(log);
    }

    /**
     * Writes {@value #SYNCED_LENGTHS_FILE} into the data directory of every open partition log (its segment
     * files with bytes not yet fsynced, and their synced lengths); returns the files written.
     */
    public static List<Path> recordSyncedLengths() {
        Map<Path, Map<String, long[]>> byDataDir = new TreeMap<>();
        for (PartitionLog log : TRACKED) {
            Path dataDir = NodeStore.dataDirOf(log.directory());
            if (dataDir == null) {
                continue;
            }
            Map<String, long[]> lines = byDataDir.computeIfAbsent(dataDir, k -> new TreeMap<>());
            log.collectSyncedLengths((path, lengths) -> lines.put(
                    dataDir.relativize(path.toAbsolutePath().normalize()).toString(), lengths));
        }
        List<Path> written = new ArrayList<>();
        byDataDir.forEach((dataDir, lines) -> {
            StringBuilder text = new StringBuilder();
            lines.forEach((path, lengths) -> text.append(path)
                    .append('\t')
                    .append(lengths[0])
                    .append('\t')
                    .append(lengths[1])
                    .append('\n'));
            Path file = dataDir.resolve(SYNCED_LENGTHS_FILE);
            try {
                Files.writeString(file, text, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + file, e);
            }
            written.add(file);
        });
        return written;
    }

    /**
     * Reads a {@value #SYNCED_LENGTHS_FILE}: segment file (resolved against {@code dataDir}) → its synced
     * length.
     */
    public static Map<Path, Long> readSyncedLengths(Path dataDir) throws IOException {
        Map<Path, Long> result = new TreeMap<>();
        Path file = dataDir.resolve(SYNCED_LENGTHS_FILE);
        int lineNumber = 0;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            lineNumber++;
            if (line.isBlank()) {
                continue;
            }
            String[] parts = line.split("\t");
            if (parts.length < 2) {
                throw new IOException(file + ":" + lineNumber + ": expected 'path<TAB>synced length<TAB>length'");
            }
            result.put(dataDir.resolve(parts[0]), Long.parseLong(parts[1]));
        }
        return result;
    }

    private static void halt(Point point) {
        if (point == Point.UNSYNCED_SEGMENT_WRITE) {
            List<Path> files = recordSyncedLengths();
            System.err.println("fault point " + point.pointName() + " fired: recorded " + files + "; halting");
            System.err.flush();
        }
        Runtime.getRuntime().halt(HALT_STATUS);
    }
}
