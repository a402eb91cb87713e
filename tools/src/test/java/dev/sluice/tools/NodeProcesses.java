package dev.sluice.tools;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * A local cluster of real node processes for integration tests: one JVM per node running {@code sluice
 * node} with the configuration {@code sluice local} writes, on loopback ports picked free at random.
 * Unlike {@code sluice local} it lets a test kill a node with SIGKILL and start it again on the same data.
 * Every process it starts is stopped by {@link #close()}.
 */
final class NodeProcesses implements AutoCloseable {
    private static final Duration READY_TIMEOUT = Duration.ofMinutes(3);

    private final Path dir;
    private final int nodes;
    private final int basePort;
    private final Process[] processes;
    private final Map<String, String> settings;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    private NodeProcesses(Path dir, int nodes, int basePort, Map<String, String> settings) {
        this.dir = dir;
        this.nodes = nodes;
        this.basePort = basePort;
        this.processes = new Process[nodes];
        this.settings = Map.copyOf(settings);
    }

    /** Starts {@code nodes} node processes under {@code dir} and waits until every one is ready. */
    static NodeProcesses start(Path dir, int nodes) throws IOException, InterruptedException {
        return start(dir, nodes, Map.of());
    }

    /**
     * Starts {@code nodes} node processes under {@code dir}, each with {@code settings} added to the
     * configuration {@code sluice local} writes (node settings such as short transaction timeouts), and waits
     * until every one is ready.
     */
    static NodeProcesses start(Path dir, int nodes, Map<String, String> settings)
            throws IOException, InterruptedException {
        NodeProcesses cluster = new NodeProcesses(dir, nodes, freeBasePort(nodes), settings);
        try {
            for (int n = 1; n <= nodes; n++) {
                cluster.startNode(n);
            }
            for (int n = 1; n <= nodes; n++) {
                cluster.awaitReady(n);
            }
            for (int n = 1; n <= nodes; n++) {
                cluster.awaitSeesAllNodes(n);
            }
            return cluster;
        } catch (IOException | InterruptedException | RuntimeException | Error e) {
            cluster.close();
            throw e;
        }
    }

    /** Waits until node {@code n} lists every node as live, so a topic created next can use them all. */
    private void awaitSeesAllNodes(int n) throws InterruptedException {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + kafkaPort(n));
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        try (Admin admin = Admin.create(props)) {
            while (true) {
                try {
                    if (admin.describeCluster()
                                    .nodes()
                                    .get(10, TimeUnit.SECONDS)
                                    .size()
                            == nodes) {
                        return;
                    }
                } catch (ExecutionException | TimeoutException e) {
                    // not answering yet: ask again
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("node " + n + " did not see all " + nodes + " nodes live in time");
                }
                Thread.sleep(100);
            }
        }
    }

    String bootstrapServers() {
        return IntStream.rangeClosed(1, nodes)
                .mapToObj(n -> "127.0.0.1:" + kafkaPort(n))
                .collect(Collectors.joining(","));
    }

    int kafkaPort(int node) {
        return basePort + node - 1;
    }

    int httpPort(int node) {
        return basePort + 200 + node - 1;
    }

    /** The node's data directory (its {@code data.dir}). */
    Path dataDir(int node) {
        return nodeDir(node).resolve("data");
    }

    private Path nodeDir(int node) {
        return dir.resolve("node-" + node).toAbsolutePath();
    }

    /** Starts node {@code n} (again), on the data it has. */
    void startNode(int n) throws IOException {
        Path nodeDir = nodeDir(n);
        Files.createDirectories(nodeDir);
        Path config = nodeDir.resolve("node.properties");
        StringBuilder properties = new StringBuilder(LocalCommand.nodeProperties(n, nodes, basePort, nodeDir));
        settings.forEach(
                (key, value) -> properties.append(key).append('=').append(value).append('\n'));
        Files.writeString(config, properties);
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // The test JVM's flags (module opens and the like), without its agents and heap size.
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!arg.startsWith("-javaagent") && !arg.startsWith("-Xmx") && !arg.startsWith("-Xms")) {
                command.add(arg);
            }
        }
        command.add("-Xmx512m");
        command.addAll(LocalCommand.nodeArguments(config));
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(
                        nodeDir.resolve("node.log").toFile()));
        builder.environment().put("SLUICE_LOG_LEVEL", "INFO");
        processes[n - 1] = builder.start();
    }

    /** Kills node {@code n}'s process with SIGKILL and waits for it to be gone. */
    void kill(int n) throws InterruptedException {
        Process p = processes[n - 1];
        p.destroyForcibly();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("node " + n + " (pid " + p.pid() + ") survived SIGKILL for 30 s");
        }
    }

    /** Stops node {@code n} with SIGTERM (a graceful shutdown) and waits for it to exit. */
    void stop(int n) throws InterruptedException {
        Process p = processes[n - 1];
        if (p == null || !p.isAlive()) {
            return;
        }
        p.destroy();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
            throw new IllegalStateException("node " + n + " did not stop within 60 s of SIGTERM; killed it");
        }
    }

    /** Waits until node {@code n} reports ready on HTTP and accepts Kafka connections. */
    void awaitReady(int n) throws InterruptedException {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            Process p = processes[n - 1];
            if (!p.isAlive()) {
                throw new IllegalStateException(
                        "node " + n + " exited with " + p.exitValue() + " while starting:\n" + logTail(n));
            }
            if (LocalCommand.httpReady(http, httpPort(n)) && LocalCommand.kafkaListening(kafkaPort(n))) {
                return;
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("node " + n + " not ready within " + READY_TIMEOUT + ":\n" + logTail(n));
    }

    /** The last lines of node {@code n}'s log, for failure messages. */
    String logTail(int n) {
        try {
            List<String> lines = Files.readAllLines(nodeDir(n).resolve("node.log"), StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() {
        for (int n = 1; n <= nodes; n++) {
            Process p = processes[n - 1];
            if (p != null && p.isAlive()) {
                p.destroy();
            }
        }
        for (int n = 1; n <= nodes; n++) {
            Process p = processes[n - 1];
            if (p == null) {
                continue;
            }
            try {
                if (!p.waitFor(60, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    p.waitFor(30, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    /** A base port whose Kafka, Raft and HTTP ports (the {@code sluice local} layout) are all free now. */
    private static int freeBasePort(int nodes) {
        Random random = new Random();
        for (int attempt = 0; attempt < 100; attempt++) {
            int base = 20_000 + random.nextInt(20_000);
            boolean free = true;
            for (int n = 0; n < nodes && free; n++) {
                for (int offset : new int[] {0, 100, 200}) {
                    free &= isFree(base + offset + n);
                }
            }
            if (free) {
                return base;
            }
        }
        throw new IllegalStateException("found no free block of ports between 20000 and 40300");
    }

    private static boolean isFree(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(false);
            socket.bind(new InetSocketAddress("127.0.0.1", port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
