package dev.sluice.chaos.cluster;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;

/**
 * Whether a chaos cluster has settled: every member runs, and every partition of every topic (internal ones
 * included) has a leader, all its replicas in sync, and replicas on members only.
 */
public final class ClusterHealth {
    private ClusterHealth() {}

    /** @return why the cluster has not settled, or {@code null} if it has */
    public static String unsettled(ChaosCluster cluster, Admin admin) {
        for (int node : cluster.memberNodes()) {
            if (cluster.state(node) != NodeState.RUNNING) {
                return "node " + node + " is " + cluster.state(node);
            }
        }
        return unsettledPartitions(admin, cluster.memberNodes());
    }

    /**
     * @return why some partition has not settled (no leader, a replica out of sync, a replica on a node not in
     *     {@code members}), or {@code null} if every partition has
     */
    public static String unsettledPartitions(Admin admin, List<Integer> members) {
        try {
            for (TopicDescription d : describeAll(admin).values()) {
                for (TopicPartitionInfo p : d.partitions()) {
                    String tp = d.name() + "-" + p.partition();
                    if (p.leader() == null || p.leader().id() < 0) {
                        return tp + " has no leader";
                    }
                    if (p.isr().size() != p.replicas().size()) {
                        return tp + " has ISR " + ids(p.isr()) + " of replicas " + ids(p.replicas());
                    }
                    for (Node r : p.replicas()) {
                        if (!members.contains(r.id())) {
                            return tp + " still has a replica on removed node " + r.id();
                        }
                    }
                }
            }
            return null;
        } catch (Exception e) {
            return "the cluster did not answer: " + e;
        }
    }

    /**
     * Where every partition's replicas converged, or why they did not.
     *
     * @param ends the log end offset all replicas of each partition reached
     * @param problem why they did not converge, or {@code null}
     */
    public record Converged(Map<TopicPartition, Long> ends, String problem) {}

    /**
     * Waits until every partition's replicas on {@code nodes} report the same log end offset with everything
     * committed and applied (high watermark = log end offset): their segment files must then be byte-identical up
     * to that offset, whatever a shutdown appends later (a new leader's group coordinator load marker, say).
     */
    public static Converged awaitConverged(
            IntFunction<Optional<NodeStatus>> statusOf, List<Integer> nodes, long timeoutMs)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        String why = "not asked yet";
        while (System.nanoTime() < deadline) {
            Map<TopicPartition, Long> ends = new HashMap<>();
            why = unconverged(statusOf, nodes, ends);
            if (why == null) {
                return new Converged(ends, null);
            }
            Thread.sleep(200);
        }
        return new Converged(Map.of(), why);
    }

    private static String unconverged(
            IntFunction<Optional<NodeStatus>> statusOf, List<Integer> nodes, Map<TopicPartition, Long> reached) {
        Map<String, List<String>> ends = new TreeMap<>();
        for (int node : nodes) {
            Optional<NodeStatus> status = statusOf.apply(node);
            if (status.isEmpty()) {
                return "node " + node + " does not answer /status";
            }
            for (NodeStatus.Replica r : status.get().partitions()) {
                if (r.highWatermark() != r.logEndOffset()) {
                    return r.topic() + "-" + r.partition() + " on node " + node + ": high watermark "
                            + r.highWatermark() + " below log end " + r.logEndOffset();
                }
                ends.computeIfAbsent(r.topic() + "-" + r.partition(), k -> new ArrayList<>())
                        .add(node + "@" + r.logEndOffset());
                reached.put(new TopicPartition(r.topic(), r.partition()), r.logEndOffset());
            }
        }
        for (Map.Entry<String, List<String>> e : ends.entrySet()) {
            long distinct = e.getValue().stream()
                    .map(v -> v.substring(v.indexOf('@')))
                    .distinct()
                    .count();
            if (distinct > 1) {
                return e.getKey() + " replicas end at different offsets: " + e.getValue();
            }
        }
        return null;
    }

    /** @return every partition's replica nodes, internal topics included */
    public static Map<TopicPartition, List<Integer>> replicas(Admin admin) throws Exception {
        Map<TopicPartition, List<Integer>> result =
                new TreeMap<>((a, b) -> a.toString().compareTo(b.toString()));
        describeAll(admin).forEach((name, d) -> {
            for (TopicPartitionInfo p : d.partitions()) {
                result.put(new TopicPartition(name, p.partition()), ids(p.replicas()));
            }
        });
        return result;
    }

    /** Waits up to {@code timeoutMs} for the cluster to settle; returns why it did not, or {@code null}. */
    public static String awaitSettled(ChaosCluster cluster, long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        String why = "not asked yet";
        try (Admin admin = cluster.admin()) {
            while (System.nanoTime() < deadline) {
                why = unsettled(cluster, admin);
                if (why == null) {
                    return null;
                }
                Thread.sleep(500);
            }
        }
        return why;
    }

    private static Map<String, TopicDescription> describeAll(Admin admin) throws Exception {
        Collection<String> names = admin.listTopics(new ListTopicsOptions().listInternal(true))
                .names()
                .get(10, TimeUnit.SECONDS);
        return admin.describeTopics(names).allTopicNames().get(10, TimeUnit.SECONDS);
    }

    private static List<Integer> ids(Collection<Node> nodes) {
        return nodes.stream().map(Node::id).sorted().toList();
    }
}
