package dev.sluice.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.ratis.util.ExitUtils;

/**
 * Starts real nodes in the test's JVM on free 127.0.0.1 ports (real Ratis servers, RocksDB, segment files,
 * Kafka and HTTP listeners): the first three nodes are the coordinator's voters (as {@code sluice local}
 * does), replication factor {@code min(3, count)}, short election timeouts. The caller closes the nodes.
 */
public final class InProcessCluster {
    static {
        // Ratis ends the JVM when a Raft server cannot bind its port; in a test JVM that kills every test of the
        // fork. Disabled, the failure is an exception, and start() retries on other ports.
        ExitUtils.disableSystemExit();
    }

    private InProcessCluster() {}

    /**
     * Starts {@code count} nodes with data under {@code dir}, adding them to {@code nodes} as they start
     * (so that the caller can close those even if a later one fails), and waits until all are ready and see each other live.
     * {@code extra} settings are added to every node's. Returns the {@code bootstrap.servers} list.
     */
    public static String start(Path dir, int count, Map<String, String> extra, List<SluiceNode> nodes)
            throws Exception {
        // A port found free can be taken (by a client's outgoing connection) before the node binds it: start
        // again on other ports, in fresh directories (the Raft groups remember their peers' addresses).
        for (int attempt = 1; ; attempt++) {
            int before = nodes.size();
            try {
                return startOnce(attempt == 1 ? dir : dir.resolve("retry-" + attempt), count, extra, nodes);
            } catch (Exception e) {
                if (attempt == 3 || !causedByBind(e)) {
                    throw e;
                }
                while (nodes.size() > before) {
                    nodes.remove(nodes.size() - 1).close();
                }
            }
        }
    }

    private static boolean causedByBind(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof java.net.BindException
                    || (t.getMessage() != null && t.getMessage().contains("Address already in use"))) {
                return true;
            }
        }
        return false;
    }

    private static String startOnce(Path dir, int count, Map<String, String> extra, List<SluiceNode> nodes)
            throws Exception {
        int[] kafka = new int[count];
        int[] raft = new int[count];
        int[] http = new int[count];
        Set<Integer> taken = new HashSet<>(); // the OS may hand out a port it just freed again
        StringBuilder voters = new StringBuilder();
        StringBuilder servers = new StringBuilder();
        for (int i = 0; i < count; i++) {
            kafka[i] = freePort(taken);
            raft[i] = freePort(taken);
            http[i] = freePort(taken);
            if (i < 3) {
                voters.append(i > 0 ? "," : "")
                        .append(i + 1)
                        .append("@127.0.0.1:")
                        .append(raft[i]);
            }
            servers.append(i > 0 ? "," : "").append("127.0.0.1:").append(kafka[i]);
        }
        for (int i = 0; i < count; i++) {
            Map<String, String> settings = new HashMap<>();
            settings.put(BrokerConfig.NODE_ID, Integer.toString(i + 1));
            settings.put(BrokerConfig.LISTENERS, "127.0.0.1:" + kafka[i]);
            settings.put(BrokerConfig.RAFT_LISTENER, "127.0.0.1:" + raft[i]);
            settings.put(BrokerConfig.HTTP_LISTENER, "127.0.0.1:" + http[i]);
            settings.put(BrokerConfig.DATA_DIR, dir.resolve("node-" + (i + 1)).toString());
            settings.put(BrokerConfig.COORDINATOR_VOTERS, voters.toString());
            settings.put(BrokerConfig.DEFAULT_REPLICATION_FACTOR, Integer.toString(Math.min(3, count)));
            settings.put("raft.election.timeout.min.ms", "500");
            settings.put("raft.election.timeout.max.ms", "1000");
            settings.putAll(extra);
            nodes.add(SluiceNode.start(BrokerConfig.parse(settings)));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!nodes.stream().allMatch(SluiceNode::ready)) {
            assertThat(System.nanoTime()).as("every node ready within 60 s").isLessThan(deadline);
            Thread.sleep(100);
        }
        // every node knows every other one as live, so a topic created next can have replicas on all of them
        while (!nodes.stream().allMatch(n -> n.coordinator().image().liveNodes().size() == count)) {
            assertThat(System.nanoTime())
                    .as("every node sees %d live nodes within 60 s", count)
                    .isLessThan(deadline);
            Thread.sleep(50);
        }
        return servers.toString();
    }

    private static int freePort(Set<Integer> taken) throws IOException {
        while (true) {
            try (ServerSocket socket = new ServerSocket(0)) {
                if (taken.add(socket.getLocalPort())) {
                    return socket.getLocalPort();
                }
            }
        }
    }

    /** Sends one request to 127.0.0.1:{@code port} over a plain socket and parses the answer. */
    public static AbstractResponse sendRaw(int port, AbstractRequest request) throws IOException {
        RequestHeader header = new RequestHeader(request.apiKey(), request.version(), "raw", 11);
        ByteBuffer bytes = request.serializeWithHeader(header);
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            socket.setSoTimeout(30_000);
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            out.writeInt(bytes.remaining());
            out.write(bytes.array(), bytes.arrayOffset() + bytes.position(), bytes.remaining());
            out.flush();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            byte[] frame = new byte[in.readInt()];
            in.readFully(frame);
            return AbstractResponse.parseResponse(ByteBuffer.wrap(frame), header);
        }
    }
}
