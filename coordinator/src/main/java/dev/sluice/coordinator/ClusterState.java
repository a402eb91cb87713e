package dev.sluice.coordinator;

import dev.sluice.coordinator.ClusterImage.NodeRegistration;
import dev.sluice.coordinator.ClusterImage.TopicInfo;
import dev.sluice.coordinator.CoordinatorCommand.AllocateProducerIds;
import dev.sluice.coordinator.CoordinatorCommand.AlterConfigs;
import dev.sluice.coordinator.CoordinatorCommand.CreatePartitions;
import dev.sluice.coordinator.CoordinatorCommand.CreateTopic;
import dev.sluice.coordinator.CoordinatorCommand.DeleteTopic;
import dev.sluice.coordinator.CoordinatorCommand.FenceNode;
import dev.sluice.coordinator.CoordinatorCommand.RegisterNode;
import dev.sluice.coordinator.CoordinatorCommand.SetReplicas;
import dev.sluice.coordinator.CoordinatorCommand.ShutdownNode;
import dev.sluice.coordinator.placement.Assignment;
import dev.sluice.coordinator.placement.ClusterLoad;
import dev.sluice.coordinator.placement.PlacementException;
import dev.sluice.coordinator.placement.ReplicaPlacement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.common.internals.Topic;
import org.apache.kafka.common.protocol.Errors;

/**
 * The coordinator's pure core: applies a command to the current {@link ClusterImage} and answers it.
 * Deterministic (no clock, no randomness: ids come inside commands), so every member of the group that
 * applies the same log holds the same image. Not thread-safe: called from the group's apply thread.
 */
public final class ClusterState {
    /** Kafka's limit on the length of a topic name. */
    private static final int MAX_PARTITIONS = 100_000;

    private ClusterImage image;

    public ClusterState(ClusterImage image) {
        this.image = image;
    }

    public ClusterImage image() {
        return image;
    }

    public void reset(ClusterImage image) {
        this.image = image;
    }

    /** Applies {@code command}; the image changes only when the result has no error. */
    public CoordinatorResult apply(CoordinatorCommand command) {
        CoordinatorResult result;
        if (command instanceof RegisterNode register) {
            result = register(register);
        } else if (command instanceof FenceNode fence) {
            result = fence(fence);
        } else if (command instanceof ShutdownNode shutdown) {
            result = shutdown(shutdown);
        } else if (command instanceof CreateTopic create) {
            result = createTopic(create);
        } else if (command instanceof DeleteTopic delete) {
            result = deleteTopic(delete);
        } else if (command instanceof CreatePartitions grow) {
            result = createPartitions(grow);
        } else if (command instanceof AlterConfigs alter) {
            result = alterConfigs(alter);
        } else if (command instanceof SetReplicas set) {
            result = setReplicas(set);
        } else if (command instanceof AllocateProducerIds allocate) {
            result = allocateProducerIds(allocate);
        } else {
            result = CoordinatorResult.error(Errors.INVALID_REQUEST, "unknown command " + command);
        }
        if (result.errorCode() == 0) {
            image = new ClusterImage(
                    image.clusterId(), image.version() + 1, image.nodes(), image.topics(), image.nextProducerId());
        }
        return result;
    }

    private CoordinatorResult register(RegisterNode r) {
        if (r.nodeId() < 0) {
            return CoordinatorResult.error(Errors.INVALID_REQUEST, "node ids are non-negative: " + r.nodeId());
        }
        Map<Integer, NodeRegistration> nodes = new TreeMap<>(image.nodes());
        nodes.put(
                r.nodeId(),
                new NodeRegistration(
                        r.nodeId(), r.host(), r.port(), r.raftHost(), r.raftPort(), r.rack(), false, false));
        String clusterId = image.clusterId() != null ? image.clusterId() : r.clusterIdCandidate();
        image = new ClusterImage(clusterId, image.version(), nodes, image.topics(), image.nextProducerId());
        return CoordinatorResult.ok();
    }

    private CoordinatorResult fence(FenceNode f) {
        NodeRegistration node = image.node(f.nodeId());
        if (node == null) {
            return CoordinatorResult.error(Errors.BROKER_NOT_AVAILABLE, "node " + f.nodeId() + " is not registered");
        }
        Map<Integer, NodeRegistration> nodes = new TreeMap<>(image.nodes());
        nodes.put(f.nodeId(), node.withFenced(true));
        image = new ClusterImage(image.clusterId(), image.version(), nodes, image.topics(), image.nextProducerId());
        return CoordinatorResult.ok();
    }

    private CoordinatorResult shutdown(ShutdownNode s) {
        NodeRegistration node = image.node(s.nodeId());
        if (node == null) {
            return CoordinatorResult.error(Errors.BROKER_NOT_AVAILABLE, "node " + s.nodeId() + " is not registered");
        }
        Map<Integer, NodeRegistration> nodes = new TreeMap<>(image.nodes());
        nodes.put(s.nodeId(), node.shutDown());
        image = new ClusterImage(image.clusterId(), image.version(), nodes, image.topics(), image.nextProducerId());
        return CoordinatorResult.ok();
    }

    private CoordinatorResult createTopic(CreateTopic c) {
        String invalid = invalidTopicName(c.name());
        if (invalid != null) {
            return CoordinatorResult.error(Errors.INVALID_TOPIC_EXCEPTION, invalid);
        }
        if (image.topic(c.name()) != null) {
            return CoordinatorResult.error(Errors.TOPIC_ALREADY_EXISTS, "Topic '" + c.name() + "' already exists.");
        }
        for (TopicInfo other : image.topics().values()) {
            if (Topic.hasCollision(other.name(), c.name())) {
                return CoordinatorResult.error(
                        Errors.INVALID_TOPIC_EXCEPTION,
                        "Topic '" + c.name() + "' collides with existing topic: " + other.name());
            }
        }
        Map<Integer, List<Integer>> replicas = new TreeMap<>();
        if (c.assignment() != null && !c.assignment().isEmpty()) {
            for (int p = 0; p < c.assignment().size(); p++) {
                List<Integer> list = c.assignment().get(p);
                String bad = invalidReplicas(list);
                if (bad != null) {
                    return CoordinatorResult.error(Errors.INVALID_REPLICA_ASSIGNMENT, "partition " + p + ": " + bad);
                }
                replicas.put(p, List.copyOf(list));
            }
        } else {
            if (c.partitions() < 1 || c.partitions() > MAX_PARTITIONS) {
                return CoordinatorResult.error(
                        Errors.INVALID_PARTITIONS,
                        "Number of partitions must be between 1 and " + MAX_PARTITIONS + ".");
            }
            try {
                for (Assignment a :
                        ReplicaPlacement.place(load(), c.name(), 0, c.partitions(), c.replicationFactor())) {
                    replicas.put(a.partition(), List.copyOf(a.replicas()));
                }
            } catch (PlacementException e) {
                return CoordinatorResult.error(Errors.INVALID_REPLICATION_FACTOR, e.getMessage());
            }
        }
        Map<String, TopicInfo> topics = new TreeMap<>(image.topics());
        topics.put(
                c.name(), new TopicInfo(c.name(), c.topicId(), replicas, c.configs() == null ? Map.of() : c.configs()));
        image = new ClusterImage(image.clusterId(), image.version(), image.nodes(), topics, image.nextProducerId());
        return CoordinatorResult.ok();
    }

    private CoordinatorResult deleteTopic(DeleteTopic d) {
        if (image.topic(d.name()) == null) {
            return CoordinatorResult.error(
                    Errors.UNKNOWN_TOPIC_OR_PARTITION, "Topic '" + d.name() + "' does not exist.");
        }
        Map<String, TopicInfo> topics = new TreeMap<>(image.topics());
        topics.remove(d.name());
        image = new ClusterImage(image.clusterId(), image.version(), image.nodes(), topics, image.nextProducerId());
        return CoordinatorResult.ok();
    }

    private CoordinatorResult createPartitions(CreatePartitions g) {
        TopicInfo topic = image.topic(g.name());
        if (topic == null) {
            return CoordinatorResult.error(
                    Errors.UNKNOWN_TOPIC_OR_PARTITION, "Topic '" + g.name() + "' does not exist.");
        }
        int current = topic.partitionCount();
        if (g.totalCount() <= current) {
            return CoordinatorResult.error(
                    Errors.INVALID_PARTITIONS,
                    "Topic currently has " + current + " partitions, which is higher than or equal to the requested "
                            + g.totalCount() + ".");
        }
        if (g.totalCount() > MAX_PARTITIONS) {
            return CoordinatorResult.error(Errors.INVALID_PARTITIONS, "at most " + MAX_PARTITIONS + " partitions");
        }
        int replicationFactor = topic.replicas().get(0).size();
        Map<Integer, List<Integer>> replicas = new TreeMap<>(topic.replicas());
        try {
            for (Assignment a :
                    ReplicaPlacement.place(load(), g.name(), current, g.totalCount() - current, replicationFactor)) {
                replicas.put(a.partition(), List.copyOf(a.replicas()));
            }
        } catch (PlacementException e) {
            return CoordinatorResult.error(Errors.INVALID_REPLICATION_FACTOR, e.getMessage());
        }
        return putTopic(new TopicInfo(topic.name(), topic.topicId(), replicas, topic.configs()));
    }

    private CoordinatorResult alterConfigs(AlterConfigs a) {
        TopicInfo topic = image.topic(a.name());
        if (topic == null) {
            return CoordinatorResult.error(
                    Errors.UNKNOWN_TOPIC_OR_PARTITION, "Topic '" + a.name() + "' does not exist.");
        }
        Map<String, String> configs = new TreeMap<>(topic.configs());
        if (a.set() != null) {
            configs.putAll(a.set());
        }
        if (a.delete() != null) {
            a.delete().forEach(configs::remove);
        }
        return putTopic(new TopicInfo(topic.name(), topic.topicId(), topic.replicas(), configs));
    }

    private CoordinatorResult setReplicas(SetReplicas s) {
        TopicInfo topic = image.topic(s.topic());
        if (topic == null || !topic.replicas().containsKey(s.partition())) {
            return CoordinatorResult.error(
                    Errors.UNKNOWN_TOPIC_OR_PARTITION, s.topic() + "-" + s.partition() + " does not exist");
        }
        String bad = invalidReplicas(s.replicas());
        if (bad != null) {
            return CoordinatorResult.error(Errors.INVALID_REPLICA_ASSIGNMENT, bad);
        }
        Map<Integer, List<Integer>> replicas = new TreeMap<>(topic.replicas());
        replicas.put(s.partition(), List.copyOf(s.replicas()));
        return putTopic(new TopicInfo(topic.name(), topic.topicId(), replicas, topic.configs()));
    }

    private CoordinatorResult allocateProducerIds(AllocateProducerIds a) {
        if (a.count() < 1 || a.count() > 1_000_000) {
            return CoordinatorResult.error(Errors.INVALID_REQUEST, "a producer id block holds 1 to 1,000,000 ids");
        }
        long first = image.nextProducerId();
        image = new ClusterImage(image.clusterId(), image.version(), image.nodes(), image.topics(), first + a.count());
        return CoordinatorResult.ok(first);
    }

    private CoordinatorResult putTopic(TopicInfo topic) {
        Map<String, TopicInfo> topics = new TreeMap<>(image.topics());
        topics.put(topic.name(), topic);
        image = new ClusterImage(image.clusterId(), image.version(), image.nodes(), topics, image.nextProducerId());
        return CoordinatorResult.ok();
    }

    private String invalidReplicas(List<Integer> replicas) {
        if (replicas == null || replicas.isEmpty()) {
            return "no replicas";
        }
        if (new HashSet<>(replicas).size() != replicas.size()) {
            return "duplicate replicas " + replicas;
        }
        for (int node : replicas) {
            if (image.node(node) == null) {
                return "node " + node + " is not registered";
            }
        }
        return null;
    }

    /** Why a topic name is invalid (Kafka's rules), or null. */
    public static String invalidTopicName(String name) {
        try {
            Topic.validate(name);
            return null;
        } catch (RuntimeException e) {
            return e.getMessage();
        }
    }

    /** The load placement counts: live nodes and every partition's replicas. */
    public ClusterLoad load() {
        List<Assignment> assignments = new ArrayList<>();
        image.topics().values().forEach(t -> t.replicas()
                .forEach((p, r) -> assignments.add(new Assignment(t.name(), p, r))));
        return new ClusterLoad(image.liveNodes(), assignments);
    }
}
