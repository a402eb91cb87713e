package dev.sluice.coordinator;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.common.TopicPartition;
import org.apache.ratis.protocol.RaftPeer;

/**
 * The cluster metadata the coordinator group agrees on: registered nodes, topics with their partitions'
 * replicas and configs, and the next free producer id. Immutable; {@link ClusterState} makes a new one
 * per applied command. {@code version} counts applied commands, so two nodes holding the same version
 * hold the same image.
 */
public record ClusterImage(
        String clusterId,
        long version,
        Map<Integer, NodeRegistration> nodes,
        Map<String, TopicInfo> topics,
        long nextProducerId) {

    /** The image before the first command. */
    public static ClusterImage empty() {
        return new ClusterImage(null, 0, new TreeMap<>(), new TreeMap<>(), 1000);
    }

    public ClusterImage {
        nodes = Map.copyOf(nodes);
        topics = Map.copyOf(topics);
    }

    /** A registered node and how clients and peers reach it; a fenced node gets no new replicas. */
    public record NodeRegistration(
            int nodeId,
            String host,
            int port,
            String raftHost,
            int raftPort,
            String rack,
            boolean fenced,
            boolean shuttingDown) {
        /** The same node, fenced or not, and no longer shutting down. */
        NodeRegistration withFenced(boolean isFenced) {
            return new NodeRegistration(nodeId, host, port, raftHost, raftPort, rack, isFenced, false);
        }

        /** The same node, shutting down. */
        NodeRegistration shutDown() {
            return new NodeRegistration(nodeId, host, port, raftHost, raftPort, rack, fenced, true);
        }
    }

    /**
     * A topic: its id, each partition's replicas (the first is the preferred leader) and the configs set
     * on it (the rest are the cluster defaults).
     */
    public record TopicInfo(
            String name, String topicId, Map<Integer, List<Integer>> replicas, Map<String, String> configs) {
        public TopicInfo {
            replicas = Map.copyOf(replicas);
            configs = Map.copyOf(configs);
        }

        public int partitionCount() {
            return replicas.size();
        }
    }

    /** Nodes that take new replicas: registered and not fenced. */
    public SortedSet<Integer> liveNodes() {
        SortedSet<Integer> live = new TreeSet<>();
        nodes.values().stream().filter(n -> !n.fenced()).forEach(n -> live.add(n.nodeId()));
        return live;
    }

    public TopicInfo topic(String name) {
        return topics.get(name);
    }

    /** The name of the topic with this id (requests since KIP-516 may name topics by id), or null. */
    public String topicName(org.apache.kafka.common.Uuid topicId) {
        if (topicId == null) {
            return null;
        }
        String id = topicId.toString();
        for (TopicInfo topic : topics.values()) {
            if (topic.topicId().equals(id)) {
                return topic.name();
            }
        }
        return null;
    }

    public NodeRegistration node(int nodeId) {
        return nodes.get(nodeId);
    }

    /** The replicas of a partition, or null if the topic or partition does not exist. */
    public List<Integer> replicas(TopicPartition tp) {
        TopicInfo info = topics.get(tp.topic());
        return info == null ? null : info.replicas().get(tp.partition());
    }

    /**
     * The Raft peers of these nodes (id and Raft address), in order; null if one of them is not registered.
     */
    public List<RaftPeer> peers(List<Integer> nodeIds) {
        List<RaftPeer> peers = new ArrayList<>();
        for (int id : nodeIds) {
            NodeRegistration node = nodes.get(id);
            if (node == null) {
                return null;
            }
            peers.add(RaftPeer.newBuilder()
                    .setId(Integer.toString(id))
                    .setAddress(node.raftHost() + ":" + node.raftPort())
                    .build());
        }
        return peers;
    }
}
