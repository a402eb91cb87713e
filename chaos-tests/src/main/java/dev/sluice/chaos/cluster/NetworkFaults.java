package dev.sluice.chaos.cluster;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The network between the nodes' Raft servers, as the nemesis sets it: every switch is sent to the
 * fault-injecting transport of every running node ({@code POST /faults/...} on its HTTP endpoint), so each
 * node's injector holds the same global picture. Switches a node missed (it was down or paused) are replayed
 * to it when it comes back, from the list of operations since the last reset.
 *
 * <p>Covers node-to-node traffic only (Raft replication, elections, the nodes' Ratis clients: heartbeats,
 * transaction markers, snapshot installs); clients reach nodes through each node's {@link TcpProxy}.
 * Thread-safe.
 */
public final class NetworkFaults {
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final List<String> operations = new ArrayList<>();

    /** Cuts every link into and out of {@code node}. */
    public synchronized void isolate(ChaosCluster cluster, int node) {
        apply(cluster, "isolate?peer=" + node);
    }

    /** Cuts {@code from -> to} only. */
    public synchronized void cut(ChaosCluster cluster, int from, int to) {
        apply(cluster, "cut?from=" + from + "&to=" + to);
    }

    /** Cuts both directions between every node of {@code side} and every node of {@code other}. */
    public synchronized void split(ChaosCluster cluster, List<Integer> side, List<Integer> other) {
        for (int a : side) {
            for (int b : other) {
                apply(cluster, "partition?a=" + a + "&b=" + b);
            }
        }
    }

    /**
     * Every link loses each message with {@code dropProbability} and delays it by {@code delayMinMs..delayMaxMs}.
     */
    public synchronized void degrade(ChaosCluster cluster, double dropProbability, long delayMinMs, long delayMaxMs) {
        apply(cluster, "default?drop=" + dropProbability + "&delayMinMs=" + delayMinMs + "&delayMaxMs=" + delayMaxMs);
    }

    /** Every link healthy again on every running node. */
    public synchronized void reset(ChaosCluster cluster) {
        operations.clear();
        for (int node : cluster.runningNodes()) {
            post(cluster, node, "reset");
        }
    }

    /** Brings a node that was down or paused up to date: reset, then every operation since the last reset. */
    synchronized void replayTo(ChaosCluster cluster, int node) {
        post(cluster, node, "reset");
        for (String op : operations) {
            post(cluster, node, op);
        }
    }

    /** @return whether any switch is set */
    public synchronized boolean faulty() {
        return !operations.isEmpty();
    }

    private void apply(ChaosCluster cluster, String op) {
        operations.add(op);
        for (int node : cluster.runningNodes()) {
            post(cluster, node, op);
        }
    }

    private void post(ChaosCluster cluster, int node, String op) {
        URI uri = URI.create("http://127.0.0.1:" + cluster.httpPort(node) + "/faults/" + op);
        HttpRequest request = HttpRequest.newBuilder(uri)
                .timeout(Duration.ofSeconds(5))
                .POST(HttpRequest.BodyPublishers.noBody())
                .build();
        IOException last = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            try {
                HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() != 200) {
                    throw new IllegalStateException(
                            "node " + node + " refused " + uri + ": " + response.statusCode() + " " + response.body());
                }
                return;
            } catch (IOException e) {
                last = e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while setting faults on node " + node, e);
            }
        }
        // A node that does not answer is dying or starting; it gets the switches replayed when it is back.
        cluster.noteUnreachable(node, "POST " + uri + ": " + last);
    }
}
