package dev.sluice.benchmarks.raft;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * What a node pays per partition group when nothing happens: three {@link RaftGroupCountNode} JVMs on
 * 127.0.0.1 (started by this one), {@code --groups} groups of three replicas (one per node, leaders spread
 * by priority), then an idle window of {@code --idle-s} seconds. It reports per node: heap after GC, the
 * JDK's direct buffers, RSS, threads and open files, before any group and with the groups (so the
 * difference per group), and for the window: process CPU time, leader-change notifications and loopback
 * traffic ({@code /proc/net/dev}, so everything on {@code lo} counts; a window before the groups exist
 * gives the background).
 *
 * <p>Groups are created in chunks of {@code --chunk}. It stops creating, and measures what it has, when a
 * node fails to create a group, when the machine's thread count would come within {@code
 * --thread-headroom} of {@code kernel.pid_max} (threads count against it machine-wide, so running out
 * would break other processes), when a node's open files come within 10 % of its limit, or when less than
 * {@code --min-available-mb} of memory is left. A watchdog kills the nodes after {@code --max-run-s}.
 */
public final class RaftGroupCountBench {
    private static final List<String> IDS = List.of("n1", "n2", "n3");
    private static final int THREADS_PER_GROUP_ESTIMATE = 18; // about 6 per replica, measured

    private RaftGroupCountBench() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> defaults = new LinkedHashMap<>();
        defaults.put("groups", "100");
        defaults.put("rpc", "grpc");
        defaults.put("chunk", "100");
        defaults.put("idle-s", "45");
        defaults.put("settle-s", "15");
        defaults.put("baseline-s", "10");
        defaults.put("spread", "true");
        defaults.put("node-jvm-opts", "-Xmx2g -XX:MaxDirectMemorySize=4g");
        defaults.put("thread-headroom", "3000");
        defaults.put("min-available-mb", "3000");
        defaults.put("max-run-s", "480");
        defaults.put("leader-timeout-s", "120");
        defaults.put("ratis-log-level", "WARN");
        BenchOptions options;
        try {
            options = BenchOptions.parse(args, defaults);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        RaftBenchSupport.requireProjectJvmFlags();
        Path root = RaftBenchSupport.tempDir("raft-groups");
        List<NodeProcess> nodes = new ArrayList<>();
        Thread watchdog = new Thread(() -> {
            try {
                Thread.sleep(options.getLong("max-run-s") * 1000);
            } catch (InterruptedException e) {
                return;
            }
            System.err.println("watchdog: the run exceeded --max-run-s; killing the nodes");
            nodes.forEach(n -> n.process.destroyForcibly());
            nodes.forEach(n -> {
                try {
                    n.process.waitFor(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            RaftBenchSupport.deleteRecursively(root);
            Runtime.getRuntime().halt(3);
        });
        watchdog.setDaemon(true);
        watchdog.start();
        int exit = 0;
        try {
            run(options, root, nodes);
        } catch (Exception e) {
            e.printStackTrace();
            exit = 1;
        } finally {
            NodeProcess.quitAll(nodes);
            watchdog.interrupt();
            RaftBenchSupport.deleteRecursively(root);
        }
        System.exit(exit);
    }

    private static void run(BenchOptions options, Path root, List<NodeProcess> nodes) throws Exception {
        int target = options.getInt("groups");
        List<Integer> ports = new ArrayList<>();
        for (int i = 0; i < IDS.size(); i++) {
            ports.add(RaftBenchSupport.freePort());
        }
        for (String id : IDS) {
            nodes.add(NodeProcess.start(id, ports, root, options));
        }
        for (NodeProcess node : nodes) {
            node.expect("@ready");
        }
        long[] lo0 = RaftBenchSupport.loopbackCounters();
        sleepS(options.getLong("baseline-s"));
        long[] lo1 = RaftBenchSupport.loopbackCounters();
        double baselineLoBytesPerS = (lo1[0] - lo0[0]) / (double) options.getLong("baseline-s");
        Map<String, Map<String, Long>> memBefore = askAll(nodes, "mem");

        // Create the groups in chunks, all three nodes at once.
        int chunk = options.getInt("chunk");
        int created = 0;
        String stoppedBecause = "-";
        long pidMax = RaftBenchSupport.pidMax();
        long createStart = System.nanoTime();
        while (created < target) {
            int count = Math.min(chunk, target - created);
            String limit = limitReached(options, nodes, pidMax, count);
            if (limit != null) {
                stoppedBecause = limit;
                break;
            }
            for (NodeProcess node : nodes) {
                node.send("create " + created + " " + count);
            }
            String failure = null;
            int done = count;
            for (NodeProcess node : nodes) {
                String reply = node.reply();
                if (!reply.startsWith("@ok")) {
                    failure = node.id + ": " + reply;
                    done = Math.min(done, Integer.parseInt(reply.split("\\s+")[1]));
                }
            }
            created += done;
            System.err.printf(
                    "created %d groups (%.0f s); system threads %d of pid_max %d%n",
                    created, (System.nanoTime() - createStart) / 1e9, RaftBenchSupport.systemThreads(), pidMax);
            if (failure != null) {
                stoppedBecause = "create failed: " + failure;
                break;
            }
        }
        double createS = (System.nanoTime() - createStart) / 1e9;

        // Every group led, then a quiet moment, then memory.
        long electStart = System.nanoTime();
        long leaderDeadline = electStart + TimeUnit.SECONDS.toNanos(options.getLong("leader-timeout-s"));
        int led;
        while (true) {
            led = 0;
            for (Map<String, Long> reply : askAll(nodes, "leaders").values()) {
                led += reply.get("n").intValue();
            }
            if (led >= created || System.nanoTime() > leaderDeadline) {
                break;
            }
            sleepS(2);
        }
        double electS = (System.nanoTime() - electStart) / 1e9;
        sleepS(options.getLong("settle-s"));
        Map<String, Map<String, Long>> memAfter = askAll(nodes, "mem");

        // The idle window.
        long idleS = options.getLong("idle-s");
        Map<String, Map<String, Long>> cpu0 = askAll(nodes, "cpu");
        long[] loStart = RaftBenchSupport.loopbackCounters();
        long t0 = System.nanoTime();
        sleepS(idleS);
        Map<String, Map<String, Long>> cpu1 = askAll(nodes, "cpu");
        long[] loEnd = RaftBenchSupport.loopbackCounters();
        double windowS = (System.nanoTime() - t0) / 1e9;
        Map<String, Map<String, Long>> leaders = askAll(nodes, "leaders");

        report(
                options,
                created,
                stoppedBecause,
                createS,
                electS,
                led,
                windowS,
                baselineLoBytesPerS,
                loStart,
                loEnd,
                memBefore,
                memAfter,
                cpu0,
                cpu1,
                leaders);
    }

    private static String limitReached(BenchOptions options, List<NodeProcess> nodes, long pidMax, int count)
            throws IOException {
        long threads = RaftBenchSupport.systemThreads();
        long needed = (long) count * THREADS_PER_GROUP_ESTIMATE;
        if (pidMax > 0 && threads + needed > pidMax - options.getLong("thread-headroom")) {
            return "machine threads " + threads + " + ~" + needed + " for the next " + count
                    + " groups would pass pid_max " + pidMax + " - headroom " + options.get("thread-headroom");
        }
        long availableMb = memAvailableMb();
        if (availableMb >= 0 && availableMb < options.getLong("min-available-mb")) {
            return "MemAvailable " + availableMb + " MB < " + options.get("min-available-mb") + " MB";
        }
        long fdLimit = fdLimit();
        for (Map.Entry<String, Map<String, Long>> e : askAll(nodes, "cpu").entrySet()) {
            long fds = e.getValue().get("fds");
            if (fdLimit > 0 && fds > fdLimit * 0.9) {
                return e.getKey() + " has " + fds + " open files of its limit " + fdLimit;
            }
        }
        return null;
    }

    private static void report(
            BenchOptions options,
            int created,
            String stoppedBecause,
            double createS,
            double electS,
            int led,
            double windowS,
            double baselineLoBytesPerS,
            long[] loStart,
            long[] loEnd,
            Map<String, Map<String, Long>> memBefore,
            Map<String, Map<String, Long>> memAfter,
            Map<String, Map<String, Long>> cpu0,
            Map<String, Map<String, Long>> cpu1,
            Map<String, Map<String, Long>> leaders) {
        long cpuNs = 0;
        long events = 0;
        long changed = 0;
        StringBuilder distribution = new StringBuilder();
        for (String id : IDS) {
            Map<String, Long> before = memBefore.get(id);
            Map<String, Long> after = memAfter.get(id);
            cpuNs += cpu1.get(id).get("cpuNs") - cpu0.get(id).get("cpuNs");
            events += cpu1.get(id).get("leaderEvents") - cpu0.get(id).get("leaderEvents");
            changed += cpu1.get(id).get("partitionsChanged");
            distribution
                    .append(distribution.length() == 0 ? "" : ",")
                    .append(id)
                    .append(':')
                    .append(leaders.get(id).get("n"));
            double n = Math.max(1, created);
            System.out.printf(
                    "NODE %s groups=%d heapUsedMB=%.1f (%+.1f KiB/group) directMB=%.1f (%+.1f KiB/group, buffers %d)"
                            + " rssMB=%.1f (%+.1f KiB/group) nonHeapMB=%.1f threads=%d (%+.2f/group) fds=%d"
                            + " (%+.2f/group) cpu=%.1f%% of a core%n",
                    id,
                    created,
                    after.get("heapUsed") / 1048576.0,
                    (after.get("heapUsed") - before.get("heapUsed")) / 1024.0 / n,
                    after.get("direct") / 1048576.0,
                    (after.get("direct") - before.get("direct")) / 1024.0 / n,
                    after.get("directCount"),
                    after.get("rssKb") / 1024.0,
                    (after.get("rssKb") - before.get("rssKb")) / n,
                    after.get("nonHeapUsed") / 1048576.0,
                    after.get("threads"),
                    (after.get("threads") - before.get("threads")) / n,
                    after.get("fds"),
                    (after.get("fds") - before.get("fds")) / n,
                    100.0 * (cpu1.get(id).get("cpuNs") - cpu0.get(id).get("cpuNs")) / (windowS * 1e9));
        }
        double loBytesPerS = (loEnd[0] - loStart[0]) / windowS;
        double loPacketsPerS = (loEnd[1] - loStart[1]) / windowS;
        System.out.printf(
                "RESULT rpc=%s groups=%d/%d createS=%.1f electS=%.1f ledAfterElect=%d leaders=%s idleS=%.1f"
                        + " cpu3nodes=%.1f%% of a core (%.3f ms/s per group) lo=%.1f KB/s (%.0f packets/s;"
                        + " baseline before groups %.1f KB/s) per group %.1f B/s leaderEvents=%d"
                        + " partitionsWithLeaderChange=%d systemThreads=%d stoppedBecause=%s%n",
                options.get("rpc"),
                created,
                options.getInt("groups"),
                createS,
                electS,
                led,
                distribution,
                windowS,
                100.0 * cpuNs / (windowS * 1e9),
                cpuNs / 1e6 / windowS / Math.max(1, created),
                loBytesPerS / 1e3,
                loPacketsPerS,
                baselineLoBytesPerS / 1e3,
                (loBytesPerS - baselineLoBytesPerS) / Math.max(1, created),
                events,
                changed,
                RaftBenchSupport.systemThreads(),
                stoppedBecause);
    }

    private static Map<String, Map<String, Long>> askAll(List<NodeProcess> nodes, String command) throws IOException {
        for (NodeProcess node : nodes) {
            node.send(command);
        }
        Map<String, Map<String, Long>> replies = new LinkedHashMap<>();
        for (NodeProcess node : nodes) {
            replies.put(node.id, parse(node.reply()));
        }
        return replies;
    }

    /** "@cpu a=1 b=2" -> {a=1, b=2}; "@leaders 5" -> {n=5}. */
    private static Map<String, Long> parse(String reply) {
        Map<String, Long> values = new HashMap<>();
        String[] words = reply.split("\\s+");
        if (words[0].equals("@err")) {
            throw new IllegalStateException("node error: " + reply);
        }
        for (int i = 1; i < words.length; i++) {
            int eq = words[i].indexOf('=');
            if (eq < 0) {
                values.put("n", Long.parseLong(words[i]));
            } else {
                values.put(words[i].substring(0, eq), Long.parseLong(words[i].substring(eq + 1)));
            }
        }
        return values;
    }

    private static long memAvailableMb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemAvailable:")) {
                    return Long.parseLong(line.split("\\s+")[1]) / 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    private static long fdLimit() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max open files")) {
                    return Long.parseLong(
                            line.substring("Max open files".length()).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    private static void sleepS(long seconds) throws InterruptedException {
        Thread.sleep(seconds * 1000);
    }

    /** A node JVM and its command channel. */
    private static final class NodeProcess {
        final String id;
        final Process process;
        private final Writer in;
        private final BufferedReader out;

        private NodeProcess(String id, Process process) {
            this.id = id;
            this.process = process;
            this.in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
            this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        }

        /** Starts a node with this JVM's flags (the project's) followed by {@code --node-jvm-opts}. */
        static NodeProcess start(String id, List<Integer> ports, Path root, BenchOptions options) throws IOException {
            List<String> command = new ArrayList<>();
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
                if (!arg.startsWith("-Xmx") && !arg.startsWith("-Xms") && !arg.startsWith("-XX:MaxDirectMemorySize")) {
                    command.add(arg);
                }
            }
            for (String opt : options.get("node-jvm-opts").trim().split("\\s+")) {
                if (!opt.isEmpty()) {
                    command.add(opt);
                }
            }
            command.add("-cp");
            command.add(System.getProperty("java.class.path"));
            command.add(RaftGroupCountNode.class.getName());
            StringBuilder portList = new StringBuilder();
            ports.forEach(
                    p -> portList.append(portList.length() == 0 ? "" : ",").append(p));
            command.addAll(List.of(
                    "--id", id,
                    "--ids", String.join(",", IDS),
                    "--ports", portList.toString(),
                    "--dir", root.resolve(id).toString(),
                    "--rpc", options.get("rpc"),
                    "--spread", options.get("spread"),
                    "--ratis-log-level", options.get("ratis-log-level")));
            options.raftSettings().forEach((k, v) -> command.addAll(List.of("--" + k, v)));
            ProcessBuilder builder = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT);
            return new NodeProcess(id, builder.start());
        }

        void send(String line) throws IOException {
            in.write(line + "\n");
            in.flush();
        }

        /** The next line starting with '@' (other stdout lines go to stderr); the watchdog bounds the wait. */
        String reply() throws IOException {
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith("@")) {
                    return line;
                }
                System.err.println(id + "> " + line);
            }
            throw new IOException(id + " exited (code " + exitCode() + ")");
        }

        void expect(String prefix) throws IOException {
            String line = reply();
            if (!line.startsWith(prefix)) {
                throw new IOException(id + ": expected " + prefix + ", got " + line);
            }
        }

        private String exitCode() {
            try {
                return process.waitFor(5, TimeUnit.SECONDS) ? String.valueOf(process.exitValue()) : "still running";
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "?";
            }
        }

        /** Asks every node to stop, all at once; kills those still running after 30 s. */
        static void quitAll(List<NodeProcess> nodes) {
            for (NodeProcess node : nodes) {
                try {
                    if (node.process.isAlive()) {
                        node.send("quit");
                    }
                } catch (IOException e) {
                    node.process.destroyForcibly();
                }
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            for (NodeProcess node : nodes) {
                try {
                    long leftNs = Math.max(0, deadline - System.nanoTime());
                    if (!node.process.waitFor(leftNs, TimeUnit.NANOSECONDS)) {
                        node.process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    node.process.destroyForcibly();
                }
            }
        }
    }
}
