package dev.sluice.tools;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sluice local}: a local cluster on loopback with embedded defaults, in the foreground. Each
 * node is its own JVM ({@code sluice node}), with its data, configuration and log under
 * {@code DATA_DIR/node-N/}. Once every node serves Kafka requests it prints exactly one line on stdout,
 * {@code bootstrap.servers=127.0.0.1:PORT,...}; everything else goes to stderr. SIGINT/SIGTERM stops
 * every node cleanly; a second start reuses the data.
 *
 * <p>Ports of node N (from 1): Kafka {@code base+N-1}, Raft {@code base+100+N-1}, HTTP
 * {@code base+200+N-1}. The first three nodes (or all, when fewer) are the coordinator's voters.
 */
@Command(
        name = "local",
        mixinStandardHelpOptions = true,
        description = "Run a local cluster on 127.0.0.1 in the foreground and print its bootstrap.servers line.")
final class LocalCommand implements Callable<Integer> {
    private static final Duration STARTUP_TIMEOUT = Duration.ofMinutes(3);
    private static final long STOP_TIMEOUT_MS = 30_000;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--nodes", defaultValue = "3", description = "How many nodes (default ${DEFAULT-VALUE}).")
    int nodes;

    @Option(
            names = "--data-dir",
            defaultValue = "./data/local",
            paramLabel = "DIR",
            description = "Where the nodes keep their data (default ${DEFAULT-VALUE}).")
    Path dataDir;

    @Option(
            names = "--base-port",
            defaultValue = "9092",
            paramLabel = "P",
            description = "The first Kafka port; node N listens on P+N-1 (default ${DEFAULT-VALUE}).")
    int basePort;

    @Option(
            names = "--set",
            paramLabel = "KEY=VALUE",
            description = "A node setting for every node (repeatable), e.g. --set raft.rpc.type=netty;"
                    + " see docs/configuration.md.")
    List<String> settings = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        if (nodes < 1 || nodes > 99) {
            err.println("sluice local: --nodes must be between 1 and 99");
            return 2;
        }
        if (basePort < 1 || basePort + 299 > 65535) {
            err.println("sluice local: --base-port must leave room for 300 ports below 65536");
            return 2;
        }
        for (String setting : settings) {
            int eq = setting.indexOf('=');
            if (eq <= 0) {
                err.println("sluice local: --set takes KEY=VALUE, not '" + setting + "'");
                return 2;
            }
        }
        List<Process> processes = new ArrayList<>();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            stopAll(processes, err);
                            stopped.countDown();
                        },
                        "sluice-local-shutdown"));
        StringBuilder bootstrap = new StringBuilder();
        for (int n = 1; n <= nodes; n++) {
            Path nodeDir = dataDir.resolve("node-" + n).toAbsolutePath();
            Files.createDirectories(nodeDir);
            Path config = nodeDir.resolve("node.properties");
            writeConfig(config, n, nodeDir);
            ProcessBuilder builder = new ProcessBuilder(javaCommand(config))
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(
                            nodeDir.resolve("node.log").toFile()));
            builder.environment().putIfAbsent("SLUICE_LOG_LEVEL", "INFO");
            synchronized (processes) {
                processes.add(builder.start());
            }
            bootstrap.append(n > 1 ? "," : "").append("127.0.0.1:").append(basePort + n - 1);
        }
        err.println("sluice local: starting " + nodes + " node(s) under " + dataDir.toAbsolutePath()
                + " (logs in node-N/node.log)");
        if (!awaitReady(processes, err)) {
            stopAll(processes, err);
            return 1;
        }
        PrintWriter out = spec.commandLine().getOut();
        out.println("bootstrap.servers=" + bootstrap);
        out.flush();
        err.println("sluice local: ready; Ctrl-C stops the cluster");
        boolean[] reported = new boolean[nodes];
        while (!stopped.await(1, TimeUnit.SECONDS)) {
            for (int i = 0; i < nodes; i++) {
                Process p = processes.get(i);
                if (!p.isAlive() && !reported[i] && stopped.getCount() > 0 && !stopping) {
                    reported[i] = true;
                    err.println("sluice local: node " + (i + 1) + " exited with " + p.exitValue() + "; see "
                            + dataDir.resolve("node-" + (i + 1)).resolve("node.log"));
                    err.flush();
                }
            }
            if (processes.stream().noneMatch(Process::isAlive)) {
                err.println("sluice local: every node has exited");
                return 1;
            }
        }
        return 0;
    }

    private void writeConfig(Path config, int n, Path nodeDir) throws IOException {
        try (Writer w = Files.newBufferedWriter(config)) {
            w.write("# Written by `sluice local` at every start; edit the command's flags instead.\n");
            w.write(nodeProperties(n, nodes, basePort, nodeDir));
            for (String setting : settings) { // later lines win: a setting here overrides the defaults above
                w.write(setting.strip() + "\n");
            }
        }
    }

    /**
     * The properties of node {@code n} (from 1) of a local cluster of {@code nodes} nodes whose first Kafka
     * port is {@code basePort}: the port layout of the class comment, the first three nodes as voters,
     * replication factor {@code min(3, nodes)} and {@code min.insync.replicas} {@code min(2, RF)}.
     */
    static String nodeProperties(int n, int nodes, int basePort, Path nodeDir) {
        StringBuilder voters = new StringBuilder();
        for (int v = 1; v <= Math.min(3, nodes); v++) {
            voters.append(v > 1 ? "," : "").append(v).append("@127.0.0.1:").append(basePort + 100 + v - 1);
        }
        int replication = Math.min(3, nodes);
        return "node.id=" + n + "\n"
                + "listeners=127.0.0.1:" + (basePort + n - 1) + "\n"
                + "raft.listener=127.0.0.1:" + (basePort + 100 + n - 1) + "\n"
                + "http.listener=127.0.0.1:" + (basePort + 200 + n - 1) + "\n"
                + "data.dir=" + nodeDir.resolve("data") + "\n"
                + "coordinator.voters=" + voters + "\n"
                + "default.replication.factor=" + replication + "\n"
                + "min.insync.replicas=" + Math.min(2, replication) + "\n"
                + "num.partitions=1\n";
    }

    private static List<String> javaCommand(Path config) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        command.addAll(nodeArguments(config));
        return command;
    }

    /** The arguments after the JVM's own that run {@code sluice node --config config} from this classpath. */
    static List<String> nodeArguments(Path config) {
        return List.of(
                "-cp",
                System.getProperty("java.class.path"),
                SluiceTool.class.getName(),
                "node",
                "--config",
                config.toString());
    }

    private boolean awaitReady(List<Process> processes, PrintWriter err) throws InterruptedException {
        HttpClient http =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        long deadline = System.nanoTime() + STARTUP_TIMEOUT.toNanos();
        boolean[] ready = new boolean[nodes];
        long lastReportNs = System.nanoTime();
        while (System.nanoTime() < deadline) {
            int count = 0;
            for (int i = 0; i < nodes; i++) {
                Process p = processes.get(i);
                if (!p.isAlive()) {
                    err.println(
                            "sluice local: node " + (i + 1) + " exited with " + p.exitValue() + " while starting; see "
                                    + dataDir.resolve("node-" + (i + 1)).resolve("node.log"));
                    return false;
                }
                if (!ready[i]) {
                    ready[i] = httpReady(http, basePort + 200 + i) && kafkaListening(basePort + i);
                }
                count += ready[i] ? 1 : 0;
            }
            if (count == nodes) {
                return true;
            }
            if (System.nanoTime() - lastReportNs > TimeUnit.SECONDS.toNanos(10)) {
                err.println("sluice local: " + count + " of " + nodes + " nodes ready...");
                lastReportNs = System.nanoTime();
            }
            Thread.sleep(200);
        }
        err.println("sluice local: the nodes were not ready within " + STARTUP_TIMEOUT.toSeconds()
                + " s; see the node.log files under " + dataDir.toAbsolutePath());
        return false;
    }

    /** Whether the node's HTTP endpoint on 127.0.0.1:{@code port} answers {@code /ready} with 200. */
    static boolean httpReady(HttpClient http, int port) {
        try {
            HttpResponse<Void> response = http.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/ready"))
                            .timeout(Duration.ofSeconds(1))
                            .build(),
                    HttpResponse.BodyHandlers.discarding());
            return response.statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Whether something accepts connections on 127.0.0.1:{@code port}. */
    static boolean kafkaListening(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static volatile boolean stopping;

    private static void stopAll(List<Process> processes, PrintWriter err) {
        stopping = true;
        List<Process> running;
        synchronized (processes) {
            running = new ArrayList<>(processes);
        }
        if (running.stream().noneMatch(Process::isAlive)) {
            return;
        }
        err.println("sluice local: stopping the nodes...");
        err.flush();
        running.forEach(Process::destroy); // SIGTERM: each node shuts down gracefully
        long deadline = System.currentTimeMillis() + STOP_TIMEOUT_MS;
        for (Process p : running) {
            try {
                if (!p.waitFor(Math.max(1, deadline - System.currentTimeMillis()), TimeUnit.MILLISECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
            }
        }
        err.println("sluice local: stopped");
        err.flush();
    }
}
