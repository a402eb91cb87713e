package dev.sluice.chaos.nemesis;

import dev.sluice.chaos.cluster.ChaosCluster;
import dev.sluice.chaos.cluster.NodeStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.DescribeConsumerGroupsOptions;

/**
 * Chooses which node a process fault hits: any running node, the leader of a workload partition, the
 * coordinator group's leader, or the node coordinating a workload's consumer group (the leader of its
 * {@code __consumer_offsets} partition). Leaders are read from the nodes' {@code /status}; a choice that
 * cannot be resolved (no leader known right now) falls back to a random running node, and says so.
 */
final class Targets {
    private final ChaosCluster cluster;
    private final List<String> topics;
    private final List<String> groups;

    Targets(ChaosCluster cluster, List<String> topics, List<String> groups) {
        this.cluster = cluster;
        this.topics = List.copyOf(topics);
        this.groups = List.copyOf(groups);
    }

    /** A node and why it was chosen. */
    record Target(int node, String why) {}

    /** @return a running node, aimed by a random rule among those above; empty if no node runs */
    Optional<Target> pick(SplittableRandom random) {
        List<Integer> running = cluster.runningNodes();
        if (running.isEmpty()) {
            return Optional.empty();
        }
        int rule = random.nextInt(4);
        Optional<Target> aimed =
                switch (rule) {
                    case 1 -> partitionLeader(random);
                    case 2 -> coordinatorLeader();
                    case 3 -> groupCoordinator(random);
                    default -> Optional.empty();
                };
        if (aimed.isPresent() && running.contains(aimed.get().node())) {
            return aimed;
        }
        int node = running.get(random.nextInt(running.size()));
        return Optional.of(new Target(node, rule == 0 ? "a random node" : "a random node (no leader known)"));
    }

    private Optional<Target> partitionLeader(SplittableRandom random) {
        List<NodeStatus.Led> led = new ArrayList<>();
        List<Integer> leaders = new ArrayList<>();
        for (int node : cluster.runningNodes()) {
            cluster.status(node).ifPresent(status -> status.leaders().stream()
                    .filter(l -> topics.contains(l.topic()))
                    .forEach(l -> {
                        led.add(l);
                        leaders.add(node);
                    }));
        }
        if (led.isEmpty()) {
            return Optional.empty();
        }
        int i = random.nextInt(led.size());
        NodeStatus.Led l = led.get(i);
        return Optional.of(new Target(leaders.get(i), "leader of " + l.topic() + "-" + l.partition()));
    }

    private Optional<Target> coordinatorLeader() {
        for (int node : cluster.runningNodes()) {
            Optional<NodeStatus> status = cluster.status(node);
            if (status.isPresent() && status.get().coordinatorLeader() > 0) {
                return Optional.of(new Target(status.get().coordinatorLeader(), "the coordinator group's leader"));
            }
        }
        return Optional.empty();
    }

    private Optional<Target> groupCoordinator(SplittableRandom random) {
        if (groups.isEmpty()) {
            return Optional.empty();
        }
        String group = groups.get(random.nextInt(groups.size()));
        try (Admin admin = cluster.admin()) {
            ConsumerGroupDescription description = admin.describeConsumerGroups(
                            List.of(group), new DescribeConsumerGroupsOptions().timeoutMs(5_000))
                    .all()
                    .get(6, TimeUnit.SECONDS)
                    .get(group);
            if (description == null
                    || description.coordinator() == null
                    || description.coordinator().id() < 0) {
                return Optional.empty();
            }
            return Optional.of(new Target(description.coordinator().id(), "coordinator of group " + group));
        } catch (Exception e) {
            return Optional.empty();
        }
    }
}
