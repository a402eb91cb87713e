package dev.sluice.chaos.cluster;

import java.io.IOException;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * A cluster of real {@code sluice node} processes on 127.0.0.1 for chaos runs: each node its own JVM, data
 * directory, Kafka listener (behind a {@link TcpProxy} that the node advertises to clients), Raft server on the
 * fault-injecting transport ({@link NetworkFaults}) and HTTP endpoint. The harness kills, stops, pauses,
 * restarts, adds and removes nodes by their process, never anything it did not start.
 *
 * <p>Layout: {@code dir/node-N/node.properties}, {@code node.log}, {@code data/}. The first three nodes (one
 * on a one-node cluster) are the coordinator voters, as {@code sluice local} does.
 *
 * <p>Not thread-safe for changes (one nemesis thread changes it); the read-only accessors may be called from
 * any thread.
 */
public final class ChaosCluster implements AutoCloseable {
    /** How long a node may take to become ready after a start. */
    public static final Duration READY_TIMEOUT = Duration.ofMinutes(2);

    private static final long TERMINATE_TIMEOUT_MS = 60_000;

    private final ClusterSpec spec;
    private final Map<Integer, NodeProcess> nodes = new TreeMap<>();
    private final List<Integer> voters = new ArrayList<>();
    private final NetworkFaults network = new NetworkFaults();
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    private volatile Consumer<String> log = line -> {};
    /** Kills the nodes if the harness's JVM exits first (Ctrl-C on {@code sluice chaos}): no orphans. */
    private final Thread orphanGuard = new Thread(this::killAll, "chaos-cluster-exit");

    private ChaosCluster(ClusterSpec spec) {
        this.spec = spec;
    }

    private void killAll() {
        List<NodeProcess> all;
        synchronized (this) {
            all = new ArrayList<>(nodes.values());
        }
        for (NodeProcess node : all) {
            node.killQuietly();
        }
    }

    /** Starts {@code spec.nodes()} nodes and waits until every one is ready and sees all of them live. */
    public static ChaosCluster start(ClusterSpec spec, Consumer<String> log) throws IOException, InterruptedException {
        ChaosCluster cluster = new ChaosCluster(spec);
        cluster.log = log;
        Runtime.getRuntime().addShutdownHook(cluster.orphanGuard);
        try {
            Files.createDirectories(spec.dir());
            for (int n = 1; n <= spec.nodes(); n++) {
                cluster.define(n);
            }
            for (int v = 1; v <= Math.min(3, spec.nodes()); v++) {
                cluster.voters.add(v);
            }
            for (int n = 1; n <= spec.nodes(); n++) {
                cluster.launch(n);
            }
            for (int n = 1; n <= spec.nodes(); n++) {
                cluster.awaitReady(n);
            }
            cluster.awaitLiveCount(spec.nodes());
            return cluster;
        } catch (IOException | InterruptedException | RuntimeException | Error e) {
            cluster.close();
            throw e;
        }
    }

    private NodeProcess define(int n) throws IOException {
        Path dir = spec.dir().resolve("node-" + n).toAbsolutePath();
        Files.createDirectories(dir);
        int kafkaPort = Ports.free();
        TcpProxy proxy = TcpProxy.start("node-" + n, Ports.free(), kafkaPort);
        NodeProcess node = new NodeProcess(n, dir, proxy, kafkaPort, Ports.free(), Ports.free());
        nodes.put(n, node);
        return node;
    }

    // ------------------------------------------------------------------ facts

    /** @return the network between the nodes' Raft servers */
    public NetworkFaults network() {
        return network;
    }

    /** @return every node ever started, removed ones included, by id */
    public synchronized List<Integer> nodeIds() {
        return List.copyOf(nodes.keySet());
    }

    /** @return the nodes not removed */
    public synchronized List<Integer> memberNodes() {
        return nodes.values().stream()
                .filter(n -> n.state() != NodeState.REMOVED)
                .map(n -> n.id)
                .toList();
    }

    /** @return the nodes whose process runs and is not paused */
    public synchronized List<Integer> runningNodes() {
        return nodes.values().stream()
                .filter(n -> n.state() == NodeState.RUNNING)
                .map(n -> n.id)
                .toList();
    }

    /** @return the coordinator group's voters */
    public List<Integer> voters() {
        return List.copyOf(voters);
    }

    public synchronized NodeState state(int node) {
        return node(node).state();
    }

    public int httpPort(int node) {
        return node(node).httpPort;
    }

    public int kafkaPort(int node) {
        return node(node).kafkaPort;
    }

    public TcpProxy proxy(int node) {
        return node(node).proxy;
    }

    /** @return the node's {@code data.dir} */
    public Path dataDir(int node) {
        return node(node).dataDir();
    }

    /** @return the node's log file */
    public Path logFile(int node) {
        return node(node).logFile();
    }

    /** @return the last lines of the node's log */
    public String logTail(int node, int lines) {
        return node(node).logTail(lines);
    }

    /** @return the bootstrap servers of every member node, through their proxies */
    public synchronized String bootstrapServers() {
        return nodes.values().stream()
                .filter(n -> n.state() != NodeState.REMOVED)
                .map(n -> "127.0.0.1:" + n.proxy.port())
                .collect(Collectors.joining(","));
    }

    private synchronized NodeProcess node(int id) {
        NodeProcess node = nodes.get(id);
        if (node == null) {
            throw new IllegalArgumentException("no node " + id + " in this cluster; nodes: " + nodes.keySet());
        }
        return node;
    }

    // ------------------------------------------------------------------ processes

    /** Starts a stopped node again on its data, waits until it is ready and gives it the network's switches. */
    public void restart(int n) throws IOException, InterruptedException {
        launch(n);
        awaitReady(n);
        network.replayTo(this, n);
    }

    /**
     * Starts a stopped node with extra JVM options (a test-only fault point armed, say) and does not wait for it
     * to be ready; see {@link #awaitExit}.
     */
    public void startWith(int n, List<String> jvmOptions) throws IOException {
        launch(n, jvmOptions);
    }

    /**
     * Waits up to {@code timeoutMs} for node {@code n}'s process to end by itself (a fault point halting it);
     * returns its exit status, or -1 if it still ran, in which case it is killed.
     */
    public int awaitExit(int n, long timeoutMs) throws InterruptedException {
        int status = node(n).awaitExit(timeoutMs);
        if (status < 0) {
            node(n).kill();
        }
        return status;
    }

    /** SIGKILL. */
    public void kill(int n) throws InterruptedException {
        node(n).kill();
    }

    /** SIGTERM, a graceful shutdown; {@code false} if it took so long that it was killed. */
    public boolean terminate(int n) throws InterruptedException {
        return node(n).terminate(TERMINATE_TIMEOUT_MS);
    }

    /** SIGSTOP. */
    public void pause(int n) throws InterruptedException {
        node(n).pause();
    }

    /** SIGCONT, then the network's switches the node missed while it was frozen. */
    public void resume(int n) throws InterruptedException {
        node(n).resume();
        network.replayTo(this, n);
    }

    /**
     * Adds a node: starts a new process with the next id (not a voter), waits until it is ready and every
     * member sees it.
     *
     * @return its id
     */
    public int addNode() throws IOException, InterruptedException {
        int id;
        synchronized (this) {
            id = nodes.keySet().stream().mapToInt(Integer::intValue).max().orElse(0) + 1;
            define(id);
        }
        restart(id);
        awaitLiveCount(memberNodes().size());
        return id;
    }

    /**
     * Removes a node for good: stops it gracefully and marks it removed; the coordinator fences it after
     * {@code node.failure.timeout.ms} and moves its replicas to live nodes.
     */
    public void remove(int n) throws InterruptedException {
        node(n).terminate(TERMINATE_TIMEOUT_MS);
        synchronized (this) {
            node(n).markRemoved();
        }
    }

    private void launch(int n) throws IOException {
        launch(n, List.of());
    }

    private void launch(int n, List<String> jvmOptions) throws IOException {
        NodeProcess node = node(n);
        Path config = node.dir.resolve("node.properties");
        Files.writeString(config, properties(node));
        List<String> command = new ArrayList<>(spec.javaCommand());
        command.addAll(jvmOptions);
        command.addAll(
                List.of("-cp", spec.classpath(), "dev.sluice.tools.SluiceTool", "node", "--config", config.toString()));
        node.start(command);
        log.accept("node " + n + " started (pid " + node.pid() + ")");
    }

    private String properties(NodeProcess node) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("node.id", Integer.toString(node.id));
        p.put("listeners", "127.0.0.1:" + node.kafkaPort);
        p.put("advertised.listeners", "127.0.0.1:" + node.proxy.port());
        p.put("raft.listener", "127.0.0.1:" + node.raftPort);
        p.put("http.listener", "127.0.0.1:" + node.httpPort);
        p.put("data.dir", node.dataDir().toString());
        p.put(
                "coordinator.voters",
                voters.stream()
                        .map(v -> v + "@127.0.0.1:" + nodes.get(v).raftPort)
                        .collect(Collectors.joining(",")));
        int replication = Math.min(3, spec.nodes());
        p.put("default.replication.factor", Integer.toString(replication));
        p.put("min.insync.replicas", Integer.toString(Math.min(2, replication)));
        p.put("raft.rpc.type", "faulty");
        p.put("raft.fault.injector", "chaos-node-" + node.id);
        p.put("raft.fault.seed", Long.toString(spec.seed() * 31 + node.id));
        p.putAll(spec.settings());
        StringBuilder text = new StringBuilder();
        p.forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
        return text.toString();
    }

    /** Waits until node {@code n} answers {@code /ready} and accepts Kafka connections. */
    public void awaitReady(int n) throws InterruptedException {
        NodeProcess node = node(n);
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!node.alive()) {
                throw new IllegalStateException("node " + n + " exited while starting:\n" + node.logTail(40));
            }
            if (httpOk(node.httpPort, "/ready") && listening(node.kafkaPort)) {
                log.accept("node " + n + " ready");
                return;
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("node " + n + " not ready within " + READY_TIMEOUT + ":\n" + node.logTail(40));
    }

    /** Waits until some member lists {@code count} live nodes. */
    public void awaitLiveCount(int count) throws InterruptedException {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        try (Admin admin = admin()) {
            while (System.nanoTime() < deadline) {
                try {
                    if (admin.describeCluster()
                                    .nodes()
                                    .get(10, TimeUnit.SECONDS)
                                    .size()
                            == count) {
                        return;
                    }
                } catch (ExecutionException | TimeoutException e) {
                    // not answering yet
                }
                Thread.sleep(200);
            }
        }
        throw new IllegalStateException("the cluster did not list " + count + " live nodes within " + READY_TIMEOUT);
    }

    /** An Admin client bootstrapped on every member's proxy; the caller closes it. */
    public Admin admin() {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000);
        return Admin.create(props);
    }

    /** @return node {@code n}'s {@code /status}, if it answers */
    public Optional<NodeStatus> status(int n) {
        return NodeStatus.fetch(httpPort(n));
    }

    void noteUnreachable(int node, String what) {
        log.accept("node " + node + " did not answer (" + what + ")");
    }

    private boolean httpOk(int port, String path) {
        try {
            HttpResponse<Void> response = http.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
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

    private static boolean listening(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Stops every node gracefully (SIGTERM; SIGKILL after a minute) and closes the proxies. */
    @Override
    public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(orphanGuard);
        } catch (IllegalStateException e) {
            // the JVM is exiting: the guard is running or has run
        }
        List<NodeProcess> all;
        synchronized (this) {
            all = new ArrayList<>(nodes.values());
        }
        List<Thread> stoppers = new ArrayList<>();
        for (NodeProcess node : all) {
            Thread t = new Thread(() -> {
                try {
                    node.terminate(TERMINATE_TIMEOUT_MS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            t.start();
            stoppers.add(t);
        }
        for (Thread t : stoppers) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        all.forEach(n -> n.proxy.close());
    }
}
