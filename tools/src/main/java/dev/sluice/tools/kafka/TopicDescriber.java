package dev.sluice.tools.kafka;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * Gathers what {@code sluice topics describe} shows, with as few requests as possible: one
 * DescribeTopics, one DescribeConfigs for all topics, and one ListOffsets ({@code latest}) whose answer
 * carries each partition's leader epoch. Configs and leader epochs are extras: when the cluster cannot
 * give them the report says so instead of failing.
 */
public final class TopicDescriber {
    /** The bound on the ListOffsets request for leader epochs; a partition without one shows {@code -}. */
    static final int LEADER_EPOCH_TIMEOUT_MS_MAX = 5_000;

    private TopicDescriber() {}

    /** All topic names, sorted; internal topics unless {@code excludeInternal}. */
    public static List<String> topicNames(Admin admin, ClusterTarget target, boolean excludeInternal) {
        Set<String> names = AdminCalls.await(
                admin.listTopics(new ListTopicsOptions().listInternal(!excludeInternal))
                        .names(),
                target,
                null);
        return new ArrayList<>(new TreeSet<>(names));
    }

    /**
     * Descriptions of these topics, sorted by name. A topic the cluster does not know fails naming it,
     * unless {@code skipMissing} (for topics just listed, which may have been deleted since).
     */
    public static List<TopicDescription> describeTopics(
            Admin admin, ClusterTarget target, Collection<String> names, boolean skipMissing) {
        if (names.isEmpty()) {
            return List.of();
        }
        Map<String, KafkaFuture<TopicDescription>> futures =
                admin.describeTopics(names).topicNameValues();
        List<TopicDescription> sorted = new ArrayList<>();
        for (String name : new TreeSet<>(names)) {
            Class<UnknownTopicOrPartitionException> tolerated =
                    skipMissing ? UnknownTopicOrPartitionException.class : null;
            KafkaFuture<TopicDescription> future = futures.get(name);
            if (future == null || !AdminCalls.awaitUnless(future, target, name, tolerated)) {
                if (skipMissing) {
                    continue;
                }
                throw new ToolFailure(ExitCodes.FAILED, "topic '" + name + "' does not exist");
            }
            sorted.add(AdminCalls.await(future, target, name));
        }
        return sorted;
    }

    /** The full reports for these topics, sorted by name. */
    public static List<TopicReport> describe(
            Admin admin, ClusterTarget target, Collection<String> names, boolean skipMissing) {
        List<TopicDescription> descriptions = describeTopics(admin, target, names, skipMissing);
        Map<String, KafkaFuture<Config>> configs = describeConfigs(admin, descriptions);
        Map<TopicPartition, Integer> epochs = leaderEpochs(admin, target, descriptions);
        List<TopicReport> reports = new ArrayList<>();
        for (TopicDescription description : descriptions) {
            Map<Integer, Integer> topicEpochs = new HashMap<>();
            epochs.forEach((tp, epoch) -> {
                if (tp.topic().equals(description.name())) {
                    topicEpochs.put(tp.partition(), epoch);
                }
            });
            Map<String, String> overrides = null;
            String problem = null;
            try {
                Config config = configs.get(description.name())
                        .get(target.timeoutMs() + AdminCalls.GUARD_MS, TimeUnit.MILLISECONDS);
                overrides = overrides(config);
            } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
                problem = ClusterErrors.unwrap(e).getMessage();
            } catch (InterruptedException e) {
                throw ClusterErrors.translate(e, target, description.name());
            }
            reports.add(TopicReport.of(description, topicEpochs, overrides, problem));
        }
        return reports;
    }

    /** The entries set on the topic itself (not cluster or broker defaults); sensitive values as null. */
    static Map<String, String> overrides(Config config) {
        Map<String, String> overrides = new TreeMap<>();
        for (ConfigEntry entry : config.entries()) {
            if (entry.source() == ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG) {
                overrides.put(entry.name(), entry.isSensitive() ? null : entry.value());
            }
        }
        return overrides;
    }

    private static Map<String, KafkaFuture<Config>> describeConfigs(Admin admin, List<TopicDescription> topics) {
        List<ConfigResource> resources = new ArrayList<>();
        for (TopicDescription topic : topics) {
            resources.add(new ConfigResource(ConfigResource.Type.TOPIC, topic.name()));
        }
        Map<String, KafkaFuture<Config>> byTopic = new HashMap<>();
        admin.describeConfigs(resources).values().forEach((resource, future) -> byTopic.put(resource.name(), future));
        return byTopic;
    }

    /** Leader epochs of the partitions that have a leader, where the cluster reports one. */
    private static Map<TopicPartition, Integer> leaderEpochs(
            Admin admin, ClusterTarget target, List<TopicDescription> topics) {
        Map<TopicPartition, OffsetSpec> request = new HashMap<>();
        for (TopicDescription topic : topics) {
            for (TopicPartitionInfo info : topic.partitions()) {
                if (TopicReport.leaderId(info.leader()) != null) {
                    request.put(new TopicPartition(topic.name(), info.partition()), OffsetSpec.latest());
                }
            }
        }
        Map<TopicPartition, Integer> epochs = new HashMap<>();
        if (request.isEmpty()) {
            return epochs;
        }
        int timeoutMs = Math.min(target.timeoutMs(), LEADER_EPOCH_TIMEOUT_MS_MAX);
        ListOffsetsResult result = admin.listOffsets(request, new ListOffsetsOptions().timeoutMs(timeoutMs));
        for (TopicPartition tp : request.keySet()) {
            try {
                result.partitionResult(tp)
                        .get(timeoutMs + AdminCalls.GUARD_MS, TimeUnit.MILLISECONDS)
                        .leaderEpoch()
                        .ifPresent(epoch -> epochs.put(tp, epoch));
            } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
                // no epoch for this partition: shown as "-"
            } catch (InterruptedException e) {
                throw ClusterErrors.translate(e, target, tp.topic());
            }
        }
        return epochs;
    }
}
