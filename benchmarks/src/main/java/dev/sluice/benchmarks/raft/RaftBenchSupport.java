package dev.sluice.benchmarks.raft;

import ch.qos.logback.classic.Level;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.internal.Record;
import org.apache.ratis.protocol.RaftPeer;
import org.slf4j.LoggerFactory;

/** What the Raft benchmarks share: directories, ports, replica lists, batches and process readings. */
final class RaftBenchSupport {
    static final String HOST = "127.0.0.1";

    private RaftBenchSupport() {}

    /** A fresh directory under {@code -Dsluice.bench.dir} (default /tmp); the caller deletes it. */
    static Path tempDir(String name) {
        try {
            Path base = Path.of(System.getProperty("sluice.bench.dir", "/tmp"));
            Files.createDirectories(base);
            return Files.createTempDirectory(base, "sluice-" + name + "-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Deletes a directory tree; retries, since a process that is still stopping may add or remove files. */
    static synchronized void deleteRecursively(Path dir) {
        for (int attempt = 1; dir != null && Files.exists(dir); attempt++) {
            try (Stream<Path> walk = Files.walk(dir)) {
                for (Path path : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                    Files.deleteIfExists(path);
                }
            } catch (IOException | UncheckedIOException e) {
                if (attempt == 5) {
                    System.err.println("could not delete " + dir + ": " + e);
                    return;
                }
                try {
                    Thread.sleep(500);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 50, InetAddress.getByName(HOST))) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The replicas of partition {@code partition}: every node, in the same order everywhere. With {@code
     * spread}, the node {@code partition % nodes} gets priority 1 and the others 0, so Ratis hands the
     * leadership to it (a leader yields to a caught-up replica of higher priority) and leaders spread
     * evenly.
     */
    static List<RaftPeer> replicas(int partition, List<String> ids, List<Integer> ports, boolean spread) {
        List<RaftPeer> peers = new ArrayList<>();
        for (int i = 0; i < ids.size(); i++) {
            int priority = spread && i == partition % ids.size() ? 1 : 0;
            peers.add(RaftPeer.newBuilder()
                    .setId(ids.get(i))
                    .setAddress(HOST + ":" + ports.get(i))
                    .setPriority(priority)
                    .build());
        }
        return peers;
    }

    /** Sets the level of the Ratis (and its shaded gRPC/Netty) loggers. */
    static void ratisLogLevel(String level) {
        Level parsed = Level.toLevel(level, null);
        if (parsed == null) {
            throw new IllegalArgumentException("unknown log level " + level);
        }
        for (String name : List.of("org.apache.ratis", "dev.sluice")) {
            ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(name)).setLevel(parsed);
        }
    }

    /**
     * One uncompressed Kafka v2 batch of as many {@code recordBytes}-byte records (no key) as fit in
     * {@code batchBytes}: 15 records, 15,556 bytes for 1 KiB in 16 KiB, as the partition-store benchmarks.
     */
    static ByteBuffer batch(int recordBytes, int batchBytes, long timestampMs) {
        MemoryRecordsBuilder builder =
                MemoryRecords.builder(ByteBuffer.allocate(batchBytes), Compression.NONE, TimestampType.CREATE_TIME, 0);
        byte[] value = new byte[recordBytes];
        Arrays.fill(value, (byte) 'x');
        int count = 0;
        while (builder.hasRoomFor(timestampMs, null, value, Record.EMPTY_HEADERS)) {
            value[0] = (byte) ('a' + count % 26);
            builder.append(timestampMs + count, null, value);
            count++;
        }
        ByteBuffer built = builder.build().buffer();
        ByteBuffer copy = ByteBuffer.allocate(built.remaining());
        copy.put(built).flip();
        return copy;
    }

    /** Chronicle needs the root pom's {@code sluice.jvm.flags}; fail with a clear message without them. */
    static void requireProjectJvmFlags() {
        if (!ManagementFactory.getRuntimeMXBean()
                .getInputArguments()
                .contains("--add-opens=java.base/java.nio=ALL-UNNAMED")) {
            throw new IllegalStateException("the JVM lacks the project's JVM flags (root pom property"
                    + " sluice.jvm.flags, in benchmarks/target/jvm.flags): run benchmarks/raft.sh");
        }
    }

    /** CPU time this process has used, in ns. */
    static long processCpuNs() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    /** Bytes in the JDK's direct buffer pool (ByteBuffer.allocateDirect), and how many buffers. */
    static long[] directBuffers() {
        for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if (pool.getName().equals("direct")) {
                return new long[] {pool.getMemoryUsed(), pool.getCount()};
            }
        }
        return new long[] {-1, -1};
    }

    /** A field of /proc/self/status in kB (VmRSS, VmSize, Threads...), or -1. */
    static long procStatus(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field + ":")) {
                    return Long.parseLong(
                            line.substring(field.length() + 1).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /**
     * Bytes written to the machine's whole disks ({@code /proc/diskstats}, sectors of 512 bytes, partitions
     * and device-mapper volumes left out), or -1. Machine-wide: run under the build lock.
     */
    static long diskWrittenBytes() {
        try {
            long sectors = 0;
            for (String line : Files.readAllLines(Path.of("/proc/diskstats"))) {
                String[] f = line.trim().split("\\s+");
                if (f[2].matches("(vd|sd|xvd)[a-z]+|nvme\\d+n\\d+")) {
                    sectors += Long.parseLong(f[9]);
                }
            }
            return sectors * 512;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** This process's user and system CPU time in clock ticks (usually 10 ms), from /proc/self/stat. */
    static long[] userAndSystemTicks() {
        try {
            String stat = Files.readAllLines(Path.of("/proc/self/stat")).get(0);
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split("\\s+");
            return new long[] {Long.parseLong(f[11]), Long.parseLong(f[12])};
        } catch (IOException | RuntimeException e) {
            return new long[] {-1, -1};
        }
    }

    /** Open file descriptors of this process. */
    static long openFds() {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        } catch (IOException e) {
            return -1;
        }
    }

    /** Bytes and packets received on the loopback interface so far ({@code /proc/net/dev}). */
    static long[] loopbackCounters() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/net/dev"))) {
                String trimmed = line.trim();
                if (trimmed.startsWith("lo:")) {
                    String[] f = trimmed.substring(3).trim().split("\\s+");
                    return new long[] {Long.parseLong(f[0]), Long.parseLong(f[1])};
                }
            }
        } catch (IOException | RuntimeException e) {
            return new long[] {-1, -1};
        }
        return new long[] {-1, -1};
    }

    /** Threads (scheduling entities) on the whole machine, from {@code /proc/loadavg}. */
    static long systemThreads() {
        try {
            String[] f =
                    Files.readAllLines(Path.of("/proc/loadavg")).get(0).trim().split("\\s+");
            return Long.parseLong(f[3].substring(f[3].indexOf('/') + 1));
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** kernel.pid_max (read by lines: Files.readString gets "3" from this sysctl file). */
    static long pidMax() {
        try {
            return Long.parseLong(Files.readAllLines(Path.of("/proc/sys/kernel/pid_max"))
                    .get(0)
                    .trim());
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    static double percentileMs(long[] sortedNs, double q) {
        if (sortedNs.length == 0) {
            return Double.NaN;
        }
        int index = (int) Math.ceil(q * sortedNs.length) - 1;
        return sortedNs[Math.max(0, Math.min(sortedNs.length - 1, index))] / 1e6;
    }
}
