package dev.sluice.tools;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.tools.kafka.AdminCalls;
import dev.sluice.tools.kafka.AdminCommand;
import dev.sluice.tools.kafka.ClusterTarget;
import dev.sluice.tools.kafka.ConfigAssignments;
import dev.sluice.tools.kafka.ExitCodes;
import dev.sluice.tools.kafka.TextTable;
import dev.sluice.tools.kafka.ToolFailure;
import dev.sluice.tools.kafka.TopicDescriber;
import dev.sluice.tools.kafka.TopicReport;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.AlterConfigsOptions;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * {@code sluice topics}: create, list, describe, alter and delete topics through Kafka's {@code Admin}
 * API, like {@code kafka-topics.sh}. Works against any Kafka-compatible cluster.
 */
@Command(
        name = "topics",
        mixinStandardHelpOptions = true,
        description = "Create, list, describe, alter and delete topics (like kafka-topics.sh).",
        subcommands = {
            TopicsCommand.Create.class,
            TopicsCommand.ListTopics.class,
            TopicsCommand.Describe.class,
            TopicsCommand.Alter.class,
            TopicsCommand.Delete.class
        })
final class TopicsCommand {
    @Command(
            name = "create",
            mixinStandardHelpOptions = true,
            description = "Create a topic.",
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {ExitCodes.OK_LINE, ExitCodes.FAILED_LINE, ExitCodes.USAGE_LINE, ExitCodes.UNREACHABLE_LINE})
    static final class Create extends AdminCommand {
        @Option(names = "--topic", required = true, paramLabel = "TOPIC", description = "The topic to create.")
        String topic;

        @Option(
                names = "--partitions",
                paramLabel = "N",
                description = "Number of partitions (default: the cluster's num.partitions).")
        Integer partitions;

        @Option(
                names = "--replication-factor",
                paramLabel = "R",
                description = "Replicas per partition (default: the cluster's default.replication.factor).")
        Integer replicationFactor;

        @Option(
                names = "--config",
                paramLabel = "KEY=VALUE",
                description = "A topic config, like retention.ms=86400000; repeat for more.")
        List<String> configs;

        @Option(names = "--if-not-exists", description = "Succeed without a change when the topic exists.")
        boolean ifNotExists;

        private Map<String, String> topicConfigs;

        @Override
        protected void validate() {
            checkPositive(spec, "--partitions", partitions);
            checkPositive(spec, "--replication-factor", replicationFactor);
            if (replicationFactor != null && replicationFactor > Short.MAX_VALUE) {
                throw new ParameterException(
                        spec.commandLine(), "--replication-factor must be at most " + Short.MAX_VALUE);
            }
            topicConfigs = parseConfigs(spec, configs);
        }

        @Override
        protected int execute(Admin admin, ClusterTarget target) {
            NewTopic newTopic = new NewTopic(
                            topic,
                            Optional.ofNullable(partitions),
                            Optional.ofNullable(replicationFactor).map(Integer::shortValue))
                    .configs(topicConfigs);
            Class<TopicExistsException> tolerated = ifNotExists ? TopicExistsException.class : null;
            if (AdminCalls.awaitUnless(admin.createTopics(List.of(newTopic)).all(), target, topic, tolerated)) {
                out.println("Created topic " + topic + ".");
            }
            return ExitCodes.OK;
        }
    }

    @Command(
            name = "list",
            mixinStandardHelpOptions = true,
            description = "List the topics with their partition count and replication factor.",
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {ExitCodes.OK_LINE, ExitCodes.FAILED_LINE, ExitCodes.USAGE_LINE, ExitCodes.UNREACHABLE_LINE})
    static final class ListTopics extends AdminCommand {
        @Option(names = "--exclude-internal", description = "Leave out internal topics (like __consumer_offsets).")
        boolean excludeInternal;

        @Option(names = "--names-only", description = "Print only the topic names, one per line.")
        boolean namesOnly;

        @Override
        protected int execute(Admin admin, ClusterTarget target) {
            List<String> names = TopicDescriber.topicNames(admin, target, excludeInternal);
            if (namesOnly) {
                names.forEach(out::println);
                return ExitCodes.OK;
            }
            TextTable table = new TextTable("", "TOPIC", "PARTITIONS", "REPLICATION_FACTOR");
            for (TopicDescription description : TopicDescriber.describeTopics(admin, target, names, true)) {
                int replicas = description.partitions().isEmpty()
                        ? 0
                        : description.partitions().get(0).replicas().size();
                table.add(description.name(), description.partitions().size(), replicas);
            }
            table.lines().forEach(out::println);
            return ExitCodes.OK;
        }
    }

    @Command(
            name = "describe",
            mixinStandardHelpOptions = true,
            description = {
                "Describe topics: per partition the leader, leader epoch, replicas and in-sync replicas (ISR),",
                "and the configs set on the topic (not the cluster defaults)."
            },
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {ExitCodes.OK_LINE, ExitCodes.FAILED_LINE, ExitCodes.USAGE_LINE, ExitCodes.UNREACHABLE_LINE})
    static final class Describe extends AdminCommand {
        @Option(names = "--topic", paramLabel = "TOPIC", description = "The topic to describe (default: all).")
        List<String> topics;

        @Option(names = "--exclude-internal", description = "Without --topic, leave out internal topics.")
        boolean excludeInternal;

        @Option(names = "--json", description = "Print JSON Lines: a topic object, then one object per partition.")
        boolean json;

        @Override
        protected int execute(Admin admin, ClusterTarget target) {
            Collection<String> names =
                    topics == null ? TopicDescriber.topicNames(admin, target, excludeInternal) : topics;
            List<TopicReport> reports = TopicDescriber.describe(admin, target, names, topics == null);
            ObjectMapper mapper = new ObjectMapper();
            boolean first = true;
            for (TopicReport report : reports) {
                if (json) {
                    report.jsonLines(mapper).forEach(out::println);
                } else {
                    if (!first) {
                        out.println();
                    }
                    report.textLines().forEach(out::println);
                }
                first = false;
            }
            return ExitCodes.OK;
        }
    }

    @Command(
            name = "alter",
            mixinStandardHelpOptions = true,
            description = {
                "Add partitions to a topic (CreatePartitions) and set or remove topic configs",
                "(IncrementalAlterConfigs). Partitions can only be added, never removed."
            },
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {ExitCodes.OK_LINE, ExitCodes.FAILED_LINE, ExitCodes.USAGE_LINE, ExitCodes.UNREACHABLE_LINE})
    static final class Alter extends AdminCommand {
        @Option(names = "--topic", required = true, paramLabel = "TOPIC", description = "The topic to alter.")
        String topic;

        @Option(names = "--partitions", paramLabel = "N", description = "The new, larger, number of partitions.")
        Integer partitions;

        @Option(names = "--config", paramLabel = "KEY=VALUE", description = "A topic config to set; repeatable.")
        List<String> configs;

        @Option(
                names = "--delete-config",
                paramLabel = "KEY",
                description = "A topic config to remove (back to the default); repeatable.")
        List<String> deleteConfigs;

        private Map<String, String> set;
        private List<String> delete;

        @Override
        protected void validate() {
            checkPositive(spec, "--partitions", partitions);
            set = parseConfigs(spec, configs);
            delete = deleteConfigs == null ? List.of() : deleteConfigs;
            if (partitions == null && set.isEmpty() && delete.isEmpty()) {
                throw new ParameterException(
                        spec.commandLine(), "nothing to alter: give --partitions, --config or --delete-config");
            }
            Set<String> both = new TreeSet<>(set.keySet());
            both.retainAll(delete);
            if (!both.isEmpty()) {
                throw new ParameterException(
                        spec.commandLine(),
                        "config " + String.join(", ", both)
                                + " is both set with --config and removed with --delete-config");
            }
        }

        @Override
        protected int execute(Admin admin, ClusterTarget target) {
            TopicDescription description = AdminCalls.describeTopic(admin, target, topic);
            boolean alterConfigs = !set.isEmpty() || !delete.isEmpty();
            if (alterConfigs && partitions != null) {
                // The two changes are separate requests: let the cluster check the configs first, so a
                // bad config does not leave the partitions changed and the configs not.
                alterConfigs(admin, target, true);
            }
            if (partitions != null) {
                alterPartitions(admin, target, description.partitions().size());
            }
            if (alterConfigs) {
                alterConfigs(admin, target, false);
            }
            return ExitCodes.OK;
        }

        private void alterPartitions(Admin admin, ClusterTarget target, int current) {
            if (partitions < current) {
                throw new ToolFailure(
                        ExitCodes.FAILED,
                        "topic '" + topic + "' has " + current
                                + " partitions; partitions can be added but not removed");
            }
            if (partitions == current) {
                out.println("Topic " + topic + " already has " + current + " partitions.");
                return;
            }
            AdminCalls.await(
                    admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(partitions)))
                            .all(),
                    target,
                    topic);
            out.println("Increased the partitions of topic " + topic + " from " + current + " to " + partitions + ".");
        }

        private void alterConfigs(Admin admin, ClusterTarget target, boolean validateOnly) {
            List<AlterConfigOp> ops = new ArrayList<>();
            set.forEach(
                    (key, value) -> ops.add(new AlterConfigOp(new ConfigEntry(key, value), AlterConfigOp.OpType.SET)));
            for (String key : delete) {
                ops.add(new AlterConfigOp(new ConfigEntry(key, null), AlterConfigOp.OpType.DELETE));
            }
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            AlterConfigsOptions options = new AlterConfigsOptions().validateOnly(validateOnly);
            AdminCalls.await(
                    admin.incrementalAlterConfigs(Map.of(resource, ops), options)
                            .all(),
                    target,
                    topic);
            if (validateOnly) {
                return;
            }
            List<String> changes = new ArrayList<>();
            set.forEach((key, value) -> changes.add("set " + key + "=" + value));
            delete.forEach(key -> changes.add("removed " + key));
            out.println("Updated the configs of topic " + topic + ": " + String.join(", ", changes) + ".");
        }
    }

    @Command(
            name = "delete",
            mixinStandardHelpOptions = true,
            description = "Delete a topic and all its records.",
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {ExitCodes.OK_LINE, ExitCodes.FAILED_LINE, ExitCodes.USAGE_LINE, ExitCodes.UNREACHABLE_LINE})
    static final class Delete extends AdminCommand {
        @Option(names = "--topic", required = true, paramLabel = "TOPIC", description = "The topic to delete.")
        String topic;

        @Option(names = "--if-exists", description = "Succeed without a change when the topic does not exist.")
        boolean ifExists;

        @Override
        protected int execute(Admin admin, ClusterTarget target) {
            Class<UnknownTopicOrPartitionException> tolerated =
                    ifExists ? UnknownTopicOrPartitionException.class : null;
            if (AdminCalls.awaitUnless(admin.deleteTopics(List.of(topic)).all(), target, topic, tolerated)) {
                out.println("Deleted topic " + topic + ".");
            }
            return ExitCodes.OK;
        }
    }

    private static void checkPositive(picocli.CommandLine.Model.CommandSpec spec, String option, Integer value) {
        if (value != null && value < 1) {
            throw new ParameterException(spec.commandLine(), option + " must be at least 1, was " + value);
        }
    }

    private static Map<String, String> parseConfigs(picocli.CommandLine.Model.CommandSpec spec, List<String> configs) {
        try {
            return ConfigAssignments.parse(configs);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
    }
}
