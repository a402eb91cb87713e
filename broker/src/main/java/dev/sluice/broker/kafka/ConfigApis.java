package dev.sluice.broker.kafka;

import dev.sluice.broker.BrokerConfig;
import dev.sluice.coordinator.ClusterImage.TopicInfo;
import dev.sluice.coordinator.CoordinatorCommand;
import dev.sluice.coordinator.CoordinatorService;
import dev.sluice.partitionstore.LogConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.internals.Topic;
import org.apache.kafka.common.message.CreatePartitionsRequestData.CreatePartitionsTopic;
import org.apache.kafka.common.message.CreatePartitionsResponseData;
import org.apache.kafka.common.message.CreatePartitionsResponseData.CreatePartitionsTopicResult;
import org.apache.kafka.common.message.DescribeConfigsRequestData.DescribeConfigsResource;
import org.apache.kafka.common.message.DescribeConfigsResponseData;
import org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsResourceResult;
import org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsResult;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData.AlterConfigsResource;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData.AlterableConfig;
import org.apache.kafka.common.message.IncrementalAlterConfigsResponseData;
import org.apache.kafka.common.message.IncrementalAlterConfigsResponseData.AlterConfigsResourceResponse;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.CreatePartitionsRequest;
import org.apache.kafka.common.requests.CreatePartitionsResponse;
import org.apache.kafka.common.requests.DescribeConfigsRequest;
import org.apache.kafka.common.requests.DescribeConfigsResponse;
import org.apache.kafka.common.requests.IncrementalAlterConfigsRequest;
import org.apache.kafka.common.requests.IncrementalAlterConfigsResponse;

/**
 * Topic configuration and partition-count changes. A topic's configs are the log settings ({@link
 * LogConfig}, Kafka's topic-config names) plus {@code min.insync.replicas}; the node's {@code log.*}
 * settings are their defaults. Changes are coordinator commands; every replica applies the new settings
 * when its image changes.
 */
final class ConfigApis {
    private static final byte TOPIC = ConfigResource.Type.TOPIC.id();
    private static final byte BROKER = ConfigResource.Type.BROKER.id();

    private final BrokerConfig config;
    private final ClusterView cluster;
    private final CoordinatorService coordinator;

    ConfigApis(BrokerConfig config, ClusterView cluster, CoordinatorService coordinator) {
        this.config = config;
        this.cluster = cluster;
        this.coordinator = coordinator;
    }

    /** Why these topic configs are invalid, or null. */
    String invalidTopicConfigs(Map<String, String> configs) {
        for (Map.Entry<String, String> e : configs.entrySet()) {
            if (e.getKey().equals(BrokerConfig.MIN_INSYNC_REPLICAS)) {
                try {
                    if (Integer.parseInt(e.getValue()) < 1) {
                        return "min.insync.replicas must be at least 1";
                    }
                } catch (NumberFormatException ex) {
                    return "Invalid value " + e.getValue() + " for configuration min.insync.replicas";
                }
            } else if (!LogConfig.CONFIG_DEF.configKeys().containsKey(e.getKey())) {
                return "Unknown topic config name: " + e.getKey();
            }
        }
        try {
            config.topicConfig(configs);
            return null;
        } catch (ConfigException e) {
            return e.getMessage();
        }
    }

    CompletableFuture<AbstractResponse> createPartitions(CreatePartitionsRequest request) {
        CreatePartitionsResponseData data = new CreatePartitionsResponseData();
        List<CompletableFuture<Void>> pending = new ArrayList<>();
        for (CreatePartitionsTopic topic : request.data().topics()) {
            CreatePartitionsTopicResult result = new CreatePartitionsTopicResult().setName(topic.name());
            data.results().add(result);
            if (topic.assignments() != null && !topic.assignments().isEmpty()) {
                result.setErrorCode(Errors.INVALID_REPLICA_ASSIGNMENT.code())
                        .setErrorMessage(
                                "explicit replica assignments are not supported; replicas are placed by the coordinator");
                continue;
            }
            if (Topic.isInternal(topic.name())) {
                result.setErrorCode(Errors.INVALID_TOPIC_EXCEPTION.code())
                        .setErrorMessage("the partition count of internal topic " + topic.name() + " is fixed: every"
                                + " group's coordinator is chosen by it");
                continue;
            }
            if (request.data().validateOnly()) {
                TopicInfo info = cluster.topic(topic.name());
                if (info == null) {
                    result.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
                } else if (topic.count() <= info.partitionCount()) {
                    result.setErrorCode(Errors.INVALID_PARTITIONS.code())
                            .setErrorMessage("Topic currently has " + info.partitionCount() + " partitions");
                }
                continue;
            }
            pending.add(coordinator
                    .submit(new CoordinatorCommand.CreatePartitions(topic.name(), topic.count()))
                    .thenAccept(r -> result.setErrorCode(r.errorCode()).setErrorMessage(r.message())));
        }
        return CompletableFuture.allOf(pending.toArray(CompletableFuture<?>[]::new))
                .thenApply(ignored -> new CreatePartitionsResponse(data));
    }

    CompletableFuture<AbstractResponse> describeConfigs(DescribeConfigsRequest request) {
        DescribeConfigsResponseData data = new DescribeConfigsResponseData();
        for (DescribeConfigsResource resource : request.data().resources()) {
            DescribeConfigsResult result = new DescribeConfigsResult()
                    .setResourceType(resource.resourceType())
                    .setResourceName(resource.resourceName());
            data.results().add(result);
            Map<String, String[]> values = new TreeMap<>(); // name -> value, source
            if (resource.resourceType() == TOPIC) {
                TopicInfo topic = cluster.topic(resource.resourceName());
                if (topic == null) {
                    result.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code())
                            .setErrorMessage("Topic '" + resource.resourceName() + "' does not exist.");
                    continue;
                }
                config.topicDefaults().toMap().forEach((k, v) -> values.put(k, new String[] {v, "default"}));
                values.put(
                        BrokerConfig.MIN_INSYNC_REPLICAS,
                        new String[] {Integer.toString(config.getInt(BrokerConfig.MIN_INSYNC_REPLICAS)), "default"});
                topic.configs().forEach((k, v) -> values.put(k, new String[] {v, "topic"}));
            } else if (resource.resourceType() == BROKER) {
                config.values()
                        .forEach(
                                (k, v) -> values.put(k, new String[] {v == null ? null : String.valueOf(v), "static"}));
            } else {
                result.setErrorCode(Errors.INVALID_REQUEST.code())
                        .setErrorMessage("unsupported resource type " + resource.resourceType());
                continue;
            }
            values.forEach((name, value) -> {
                if (resource.configurationKeys() != null
                        && !resource.configurationKeys().contains(name)) {
                    return;
                }
                byte source =
                        switch (value[1]) {
                            case "topic" -> DescribeConfigsResponse.ConfigSource.TOPIC_CONFIG.id();
                            case "static" -> DescribeConfigsResponse.ConfigSource.STATIC_BROKER_CONFIG.id();
                            default -> DescribeConfigsResponse.ConfigSource.DEFAULT_CONFIG.id();
                        };
                result.configs()
                        .add(new DescribeConfigsResourceResult()
                                .setName(name)
                                .setValue(value[0])
                                .setReadOnly(resource.resourceType() == BROKER)
                                .setConfigSource(source)
                                .setIsSensitive(false));
            });
        }
        return CompletableFuture.completedFuture(new DescribeConfigsResponse(data));
    }

    CompletableFuture<AbstractResponse> incrementalAlterConfigs(IncrementalAlterConfigsRequest request) {
        IncrementalAlterConfigsResponseData data = new IncrementalAlterConfigsResponseData();
        List<CompletableFuture<Void>> pending = new ArrayList<>();
        for (AlterConfigsResource resource : request.data().resources()) {
            AlterConfigsResourceResponse result = new AlterConfigsResourceResponse()
                    .setResourceType(resource.resourceType())
                    .setResourceName(resource.resourceName());
            data.responses().add(result);
            if (resource.resourceType() != TOPIC) {
                result.setErrorCode(Errors.INVALID_REQUEST.code())
                        .setErrorMessage("only topic configs can be changed; node settings are static");
                continue;
            }
            TopicInfo topic = cluster.topic(resource.resourceName());
            if (topic == null) {
                result.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
                continue;
            }
            Map<String, String> set = new HashMap<>();
            List<String> delete = new ArrayList<>();
            String invalid = null;
            for (AlterableConfig c : resource.configs()) {
                switch (c.configOperation()) {
                    case 0 -> set.put(c.name(), c.value()); // SET
                    case 1 -> delete.add(c.name()); // DELETE
                    default ->
                        invalid = "only SET and DELETE apply to topic configs, not operation " + c.configOperation();
                }
            }
            Map<String, String> after = new HashMap<>(topic.configs());
            after.putAll(set);
            delete.forEach(after::remove);
            if (invalid == null) {
                invalid = invalidTopicConfigs(after);
            }
            if (invalid != null) {
                result.setErrorCode(Errors.INVALID_CONFIG.code()).setErrorMessage(invalid);
                continue;
            }
            if (request.data().validateOnly()) {
                continue;
            }
            pending.add(coordinator
                    .submit(new CoordinatorCommand.AlterConfigs(resource.resourceName(), set, delete))
                    .thenAccept(r -> result.setErrorCode(r.errorCode()).setErrorMessage(r.message())));
        }
        return CompletableFuture.allOf(pending.toArray(CompletableFuture<?>[]::new))
                .thenApply(ignored -> new IncrementalAlterConfigsResponse(data));
    }
}
