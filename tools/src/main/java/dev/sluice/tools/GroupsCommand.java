package dev.sluice.tools;

import dev.sluice.tools.groups.GroupOffsetsReport;
import dev.sluice.tools.groups.ResetPlanner;
import dev.sluice.tools.groups.ResetScenario;
import dev.sluice.tools.groups.TopicSelection;
import dev.sluice.tools.kafka.AdminCommand;
import dev.sluice.tools.kafka.ClusterTarget;
import dev.sluice.tools.kafka.ExitCodes;
import dev.sluice.tools.kafka.GroupCalls;
import dev.sluice.tools.kafka.TextTable;
import dev.sluice.tools.kafka.ToolFailure;
import dev.sluice.tools.kafka.TopicDescriber;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * {@code sluice groups}: list, describe and delete consumer groups and reset their committed offsets
 * through Kafka's {@code Admin} API, like {@code kafka-consumer-groups.sh}. Works against any
 * Kafka-compatible cluster. The planning (lag, reset offsets) is pure, in {@code dev.sluice.tools.groups}.
 */
@Command(
        name = "groups",
        mixinStandardHelpOptions = true,
        description =
                "List, describe and delete consumer groups and reset their offsets (like kafka-consumer-groups.sh).",
        subcommands = {
            GroupsCommand.ListGroups.class,
            GroupsCommand.Describe.class,
            GroupsCommand.Delete.class,
            GroupsCommand.ResetOffsets.class
        })
final class GroupsCommand {
    private GroupsCommand() {}

    @Command(
            name = "list",
            mixinStandardHelpOptions = true,
            description = "List the consumer groups with their state and protocol type.",
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {ExitCodes.OK_LINE, ExitCodes.FAILED_LINE, ExitCodes.USAGE_LINE, ExitCodes.UNREACHABLE_LINE})
    static final class ListGroups extends AdminCommand {
        @Option(names = "--names-only", description = "Print only the group ids, one per line.")
        boolean namesOnly;

        @Override
        protected int execute(Admin admin, ClusterTarget target) {
            List<GroupListing> listings = GroupCalls.listConsumerGroups(admin, target);
            if (namesOnly) {
                listings.forEach(listing -> out.println(listing.groupId()));
                return ExitCodes.OK;
            }
            TextTable table = new TextTable("", "GROUP", "STATE", "PROTOCOL-TYPE");
            for (GroupListing listing : listings) {
                String protocolType =
                        listing.protocol() == null || listing.protocol().isEmpty() ? null : listing.protocol();
                table.add(listing.groupId(), listing.groupState().orElse(null), protocolType);
            }
            table.lines().forEach(out::println);
            return ExitCodes.OK;
        }
    }

    @Command(
            name = "describe",
            mixinStandardHelpOptions = true,
            description = {
                "Describe consumer groups: per partition the committed offset, log end offset,",
                "lag and the member it is assigned to, and the group's total lag; or its members",
                "(--members) or its state (--state). Lag is never negative; '-' means no",
                "committed offset."
            },
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {ExitCodes.OK_LINE, ExitCodes.FAILED_LINE, ExitCodes.USAGE_LINE, ExitCodes.UNREACHABLE_LINE})
    static final class Describe extends AdminCommand {
        @Option(names = "--group", paramLabel = "GROUP", description = "The group to describe; repeatable.")
        List<String> groups;

        @Option(names = "--all-groups", description = "Describe every consumer group.")
        boolean allGroups;

        @Option(names = "--members", description = "Show the members: consumer id, host, client id, partitions.")
        boolean members;

        @Option(names = "--state", description = "Show the state: coordinator, assignment strategy, state, members.")
        boolean state;

        @Option(names = "--verbose", description = "With --members, also show each member's assigned partitions.")
        boolean verbose;

        @Override
        protected void validate() {
            checkGroupChoice(spec, groups, allGroups);
            if (members && state) {
                throw new ParameterException(spec.commandLine(), "--members and --state cannot be used together");
            }
            if (verbose && !members) {
                throw new ParameterException(spec.commandLine(), "--verbose only applies to --members");
            }
        }

        @Override
        protected int execute(Admin admin, ClusterTarget target) {
            List<String> ids = allGroups ? groupIds(admin, target) : distinct(groups);
            if (ids.isEmpty()) {
                out.println("No consumer groups.");
                return ExitCodes.OK;
            }
            int exitCode = ExitCodes.OK;
            boolean first = true;
            for (String group : ids) {
                try {
                    ConsumerGroupDescription description = GroupCalls.describe(admin, target, group, allGroups);
                    if (description == null) {
                        continue; // deleted since it was listed
                    }
                    if (!first) {
                        out.println();
                    }
                    first = false;
                    if (state) {
                        printState(description);
                    } else if (members) {
                        printMembers(description);
                    } else {
                        printOffsets(admin, target, description);
                    }
                } catch (ToolFailure failure) {
                    if (failure.exitCode() != ExitCodes.FAILED) {
                        throw failure;
                    }
                    err.println(toolName() + ": " + failure.getMessage());
                    exitCode = ExitCodes.FAILED;
                }
            }
            return exitCode;
        }

        private void printOffsets(Admin admin, ClusterTarget target, ConsumerGroupDescription description) {
            String group = description.groupId();
            Map<GroupOffsetsReport.Member, Set<TopicPartition>> assignments = new LinkedHashMap<>();
            Set<TopicPartition> partitions = new LinkedHashSet<>();
            for (MemberDescription member : description.members()) {
                Set<TopicPartition> assigned = member.assignment().topicPartitions();
                assignments.put(
                        new GroupOffsetsReport.Member(member.consumerId(), member.host(), member.clientId()), assigned);
                partitions.addAll(assigned);
            }
            Map<TopicPartition, Long> committed = GroupCalls.committedOffsets(admin, target, group);
            partitions.addAll(committed.keySet());
            Map<TopicPartition, Long> logEndOffsets =
                    GroupCalls.listOffsets(admin, target, partitions, OffsetSpec.latest(), true);
            GroupOffsetsReport report = GroupOffsetsReport.of(group, assignments, committed, logEndOffsets);
            if (description.members().isEmpty()) {
                out.println("Consumer group '" + group + "' has no active members"
                        + (report.rows().isEmpty() ? " and no committed offsets." : "."));
                if (report.rows().isEmpty()) {
                    return;
                }
            }
            report.table().lines().forEach(out::println);
            out.println("Total lag of group " + group + ": " + report.totalLag());
        }

        private void printMembers(ConsumerGroupDescription description) {
            if (description.members().isEmpty()) {
                out.println("Consumer group '" + description.groupId() + "' has no active members.");
                return;
            }
            TextTable table = verbose
                    ? new TextTable("", "GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS", "ASSIGNMENT")
                    : new TextTable("", "GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS");
            List<MemberDescription> sorted = new ArrayList<>(description.members());
            sorted.sort((a, b) -> a.consumerId().compareTo(b.consumerId()));
            for (MemberDescription member : sorted) {
                Set<TopicPartition> assigned = member.assignment().topicPartitions();
                List<Object> cells = new ArrayList<>(List.of(
                        description.groupId(), member.consumerId(), member.host(), member.clientId(), assigned.size()));
                if (verbose) {
                    cells.add(assignment(assigned));
                }
                table.add(cells.toArray());
            }
            table.lines().forEach(out::println);
        }

        private void printState(ConsumerGroupDescription description) {
            Node coordinator = description.coordinator();
            String strategy = description.partitionAssignor() == null
                            || description.partitionAssignor().isEmpty()
                    ? null
                    : description.partitionAssignor();
            new TextTable("", "GROUP", "COORDINATOR (ID)", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS")
                    .add(
                            description.groupId(),
                            coordinator == null
                                    ? null
                                    : coordinator.host() + ":" + coordinator.port() + " (" + coordinator.id() + ")",
                            strategy,
                            description.groupState(),
                            description.members().size())
                    .lines()
                    .forEach(out::println);
        }

        /** {@code orders(0,2),payments(1)}: the partitions by topic. */
        static String assignment(Set<TopicPartition> partitions) {
            if (partitions.isEmpty()) {
                return "-";
            }
            Map<String, Set<Integer>> byTopic = new TreeMap<>();
            partitions.forEach(tp ->
                    byTopic.computeIfAbsent(tp.topic(), t -> new TreeSet<>()).add(tp.partition()));
            return byTopic.entrySet().stream()
                    .map(e -> e.getKey() + "("
                            + e.getValue().stream().map(String::valueOf).collect(Collectors.joining(",")) + ")")
                    .collect(Collectors.joining(","));
        }
    }

    @Command(
            name = "delete",
            mixinStandardHelpOptions = true,
            description = {
                "Delete consumer groups and their committed offsets. A group with active",
                "members cannot be deleted: stop its consumers first."
            },
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {ExitCodes.OK_LINE, ExitCodes.FAILED_LINE, ExitCodes.USAGE_LINE, ExitCodes.UNREACHABLE_LINE})
    static final class Delete extends AdminCommand {
        @Option(names = "--group", paramLabel = "GROUP", description = "The group to delete; repeatable.")
        List<String> groups;

        @Option(names = "--all-groups", description = "Delete every consumer group.")
        boolean allGroups;

        @Override
        protected void validate() {
            checkGroupChoice(spec, groups, allGroups);
        }

        @Override
        protected int execute(Admin admin, ClusterTarget target) {
            List<String> ids = allGroups ? groupIds(admin, target) : distinct(groups);
            if (ids.isEmpty()) {
                out.println("No consumer groups to delete.");
                return ExitCodes.OK;
            }
            Map<String, KafkaFuture<Void>> results =
                    admin.deleteConsumerGroups(ids).deletedGroups();
            int exitCode = ExitCodes.OK;
            for (String group : ids) {
                try {
                    GroupCalls.await(results.get(group), target, group);
                    out.println("Deleted consumer group " + group + ".");
                } catch (ToolFailure failure) {
                    if (failure.exitCode() != ExitCodes.FAILED) {
                        throw failure;
                    }
                    err.println(toolName() + ": " + failure.getMessage());
                    exitCode = ExitCodes.FAILED;
                }
            }
            return exitCode;
        }
    }

    @Command(
            name = "reset-offsets",
            mixinStandardHelpOptions = true,
            description = {
                "Reset a consumer group's committed offsets, like kafka-consumer-groups.sh",
                "--reset-offsets: give the partitions (--topic or --all-topics) and exactly one",
                "of --to-earliest, --to-latest, --to-offset, --to-datetime, --by-duration,",
                "--shift-by. New offsets are kept within each partition's [log start, log end].",
                "The group must be inactive (no running consumers). With --dry-run, prints the",
                "plan and changes nothing."
            },
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {ExitCodes.OK_LINE, ExitCodes.FAILED_LINE, ExitCodes.USAGE_LINE, ExitCodes.UNREACHABLE_LINE})
    static final class ResetOffsets extends AdminCommand {
        @Option(names = "--group", required = true, paramLabel = "GROUP", description = "The group to reset.")
        String group;

        @Option(
                names = "--topic",
                paramLabel = "TOPIC[:P,P...]",
                description = "A topic, or some of its partitions (orders:0,2); repeatable.")
        List<String> topics;

        @Option(names = "--all-topics", description = "Every partition the group has a committed offset for.")
        boolean allTopics;

        @Option(names = "--to-earliest", description = "To each partition's log start offset.")
        boolean toEarliest;

        @Option(names = "--to-latest", description = "To each partition's log end offset.")
        boolean toLatest;

        @Option(names = "--to-offset", paramLabel = "OFFSET", description = "To this offset.")
        Long toOffset;

        @Option(
                names = "--to-datetime",
                paramLabel = "DATETIME",
                description = "To the first record at or after this ISO-8601 time, like 2024-05-01T12:00:00Z"
                        + " (without a zone: local time); the log end if there is none.")
        String toDatetime;

        @Option(
                names = "--by-duration",
                paramLabel = "PnDTnHnMnS",
                description = "Like --to-datetime, for the time this ISO-8601 duration ago (PT15M, P1DT12H).")
        String byDuration;

        @Option(
                names = "--shift-by",
                paramLabel = "N",
                description = "Move each committed offset by N (negative: back).")
        Long shiftBy;

        @Option(names = "--dry-run", description = "Print the new offsets without changing them.")
        boolean dryRun;

        private ResetScenario scenario;
        private List<TopicSelection> selections;

        @Override
        protected void validate() {
            try {
                scenario = ResetScenario.parse(
                        toEarliest, toLatest, toOffset, toDatetime, byDuration, shiftBy, ZoneId.systemDefault());
                selections = new ArrayList<>();
                if (topics != null) {
                    for (String topic : topics) {
                        selections.add(TopicSelection.parse(topic));
                    }
                }
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), e.getMessage());
            }
            if (allTopics == !selections.isEmpty()) {
                throw new ParameterException(
                        spec.commandLine(),
                        allTopics
                                ? "--topic and --all-topics cannot be used together"
                                : "give the partitions to reset: --topic TOPIC[:P,P...] or --all-topics");
            }
        }

        @Override
        protected int execute(Admin admin, ClusterTarget target) {
            ConsumerGroupDescription description = GroupCalls.describe(admin, target, group, true);
            if (description != null
                    && description.groupState() != GroupState.EMPTY
                    && description.groupState() != GroupState.DEAD) {
                throw GroupCalls.activeGroup(
                        group,
                        "is " + description.groupState() + " with "
                                + description.members().size() + " member(s)");
            }
            Map<TopicPartition, Long> committed = GroupCalls.committedOffsets(admin, target, group);
            Set<TopicPartition> partitions = allTopics ? committed.keySet() : selectedPartitions(admin, target);
            if (partitions.isEmpty()) {
                out.println("Consumer group '" + group
                        + "' has no committed offsets: nothing to reset. Name the partitions with --topic.");
                return ExitCodes.OK;
            }
            List<ResetPlanner.PlannedOffset> plan = plan(admin, target, committed, partitions);
            if (!dryRun) {
                Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
                plan.forEach(p -> offsets.put(p.partition(), new OffsetAndMetadata(p.newOffset())));
                GroupCalls.await(admin.alterConsumerGroupOffsets(group, offsets).all(), target, group);
            }
            TextTable table = new TextTable("", "GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "NEW-OFFSET");
            for (ResetPlanner.PlannedOffset planned : plan) {
                TopicPartition tp = planned.partition();
                table.add(group, tp.topic(), tp.partition(), planned.committedOffset(), planned.newOffset());
            }
            table.lines().forEach(out::println);
            out.println(
                    dryRun
                            ? "Dry run: no offsets changed. Run again without --dry-run to reset them."
                            : "Reset the offsets of consumer group " + group + " on " + plan.size() + " partition(s).");
            return ExitCodes.OK;
        }

        private List<ResetPlanner.PlannedOffset> plan(
                Admin admin,
                ClusterTarget target,
                Map<TopicPartition, Long> committed,
                Set<TopicPartition> partitions) {
            Map<TopicPartition, Long> starts =
                    GroupCalls.listOffsets(admin, target, partitions, OffsetSpec.earliest(), false);
            Map<TopicPartition, Long> ends =
                    GroupCalls.listOffsets(admin, target, partitions, OffsetSpec.latest(), false);
            Map<TopicPartition, ResetPlanner.LogRange> ranges = new HashMap<>();
            for (TopicPartition tp : partitions) {
                if (!starts.containsKey(tp) || !ends.containsKey(tp)) {
                    throw new ToolFailure(ExitCodes.FAILED, "the cluster reported no log offsets for " + tp);
                }
                ranges.put(tp, new ResetPlanner.LogRange(starts.get(tp), ends.get(tp)));
            }
            Long timestampMs = scenario.timestampMs(System.currentTimeMillis());
            Map<TopicPartition, Long> timestampOffsets = timestampMs == null
                    ? Map.of()
                    : GroupCalls.listOffsets(admin, target, partitions, OffsetSpec.forTimestamp(timestampMs), false);
            try {
                return ResetPlanner.plan(scenario, committed, ranges, timestampOffsets);
            } catch (IllegalArgumentException e) {
                throw new ToolFailure(ExitCodes.FAILED, e.getMessage());
            }
        }

        private Set<TopicPartition> selectedPartitions(Admin admin, ClusterTarget target) {
            Map<String, List<TopicSelection>> byTopic = new TreeMap<>();
            selections.forEach(s ->
                    byTopic.computeIfAbsent(s.topic(), t -> new ArrayList<>()).add(s));
            Set<TopicPartition> partitions = new LinkedHashSet<>();
            for (TopicDescription description : TopicDescriber.describeTopics(admin, target, byTopic.keySet(), false)) {
                Set<Integer> existing = new TreeSet<>();
                for (TopicPartitionInfo info : description.partitions()) {
                    existing.add(info.partition());
                }
                for (TopicSelection selection : byTopic.get(description.name())) {
                    List<Integer> chosen =
                            selection.allPartitions() ? new ArrayList<>(existing) : selection.partitions();
                    for (int partition : chosen) {
                        if (!existing.contains(partition)) {
                            throw new ToolFailure(
                                    ExitCodes.FAILED,
                                    "topic '" + description.name() + "' has no partition " + partition + " (it has "
                                            + existing.size() + " partitions, 0 to " + (existing.size() - 1) + ")");
                        }
                        partitions.add(new TopicPartition(description.name(), partition));
                    }
                }
            }
            return partitions;
        }
    }

    /** Exactly one of {@code --group} and {@code --all-groups}. */
    static void checkGroupChoice(CommandSpec spec, List<String> groups, boolean allGroups) {
        boolean named = groups != null && !groups.isEmpty();
        if (named && allGroups) {
            throw new ParameterException(spec.commandLine(), "--group and --all-groups cannot be used together");
        }
        if (!named && !allGroups) {
            throw new ParameterException(
                    spec.commandLine(), "give the groups: --group GROUP (repeatable) or --all-groups");
        }
    }

    private static List<String> groupIds(Admin admin, ClusterTarget target) {
        return GroupCalls.listConsumerGroups(admin, target).stream()
                .map(GroupListing::groupId)
                .toList();
    }

    private static List<String> distinct(List<String> groups) {
        return List.copyOf(new LinkedHashSet<>(groups));
    }
}
