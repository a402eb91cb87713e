package dev.sluice.tools.kafka;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.ListGroupsOptions;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.GroupNotEmptyException;
import org.apache.kafka.common.errors.IllegalGenerationException;
import org.apache.kafka.common.errors.InvalidGroupIdException;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.errors.UnknownMemberIdException;

/**
 * The {@code Admin} calls of {@code sluice groups}, bounded like {@link AdminCalls}, with failures
 * translated into one line that names the consumer group and says what to do.
 */
public final class GroupCalls {
    private GroupCalls() {}

    /** The future's value, or a {@link ToolFailure} naming the group. */
    public static <T> T await(KafkaFuture<T> future, ClusterTarget target, String group) {
        try {
            return future.get(target.timeoutMs() + AdminCalls.GUARD_MS, TimeUnit.MILLISECONDS);
        } catch (ExecutionException | java.util.concurrent.TimeoutException | KafkaException e) {
            throw translate(e, target, group);
        } catch (InterruptedException e) {
            throw translate(e, target, group);
        }
    }

    /** Translates a failure of a call about {@code group}; see {@link ClusterErrors#translate}. */
    public static ToolFailure translate(Throwable failure, ClusterTarget target, String group) {
        Throwable cause = ClusterErrors.unwrap(failure);
        String name = "consumer group '" + group + "'";
        if (cause instanceof GroupIdNotFoundException) {
            return new ToolFailure(ExitCodes.FAILED, name + " does not exist");
        }
        if (cause instanceof GroupNotEmptyException) {
            return new ToolFailure(
                    ExitCodes.FAILED,
                    name + " is not empty (it has active members): stop its consumers first, then retry");
        }
        if (cause instanceof UnknownMemberIdException
                || cause instanceof RebalanceInProgressException
                || cause instanceof IllegalGenerationException) {
            return activeGroup(group, "has active members");
        }
        if (cause instanceof InvalidGroupIdException) {
            return new ToolFailure(ExitCodes.FAILED, "invalid group id '" + group + "': " + cause.getMessage());
        }
        ToolFailure failureForUser = ClusterErrors.translate(cause, target, null);
        if (failureForUser.exitCode() == ExitCodes.FAILED
                && !failureForUser.getMessage().startsWith("not authorized")) {
            return new ToolFailure(ExitCodes.FAILED, name + ": " + failureForUser.getMessage());
        }
        return failureForUser;
    }

    /** The failure for a group whose offsets cannot change while its consumers run. */
    public static ToolFailure activeGroup(String group, String why) {
        return new ToolFailure(
                ExitCodes.FAILED,
                "consumer group '" + group + "' " + why
                        + ": offsets can only be reset while the group is inactive; stop its consumers first");
    }

    /** The consumer groups (classic and consumer protocol, and groups with only offsets), by group id. */
    public static List<GroupListing> listConsumerGroups(Admin admin, ClusterTarget target) {
        Collection<GroupListing> listings = AdminCalls.await(
                admin.listGroups(ListGroupsOptions.forConsumerGroups()).all(), target, null);
        List<GroupListing> sorted = new ArrayList<>(listings);
        sorted.sort(Comparator.comparing(GroupListing::groupId));
        return sorted;
    }

    /**
     * Describes one group. A group the cluster does not know (state {@code Dead}, or
     * GROUP_ID_NOT_FOUND) fails naming it, unless {@code allowMissing}: then the answer is null.
     */
    public static ConsumerGroupDescription describe(
            Admin admin, ClusterTarget target, String group, boolean allowMissing) {
        KafkaFuture<ConsumerGroupDescription> future =
                admin.describeConsumerGroups(List.of(group)).describedGroups().get(group);
        ConsumerGroupDescription description;
        try {
            description = await(future, target, group);
        } catch (ToolFailure failure) {
            if (allowMissing && future.isCompletedExceptionally() && groupNotFound(future)) {
                return null;
            }
            throw failure;
        }
        if (description.groupState() == GroupState.DEAD) {
            if (allowMissing) {
                return null;
            }
            throw new ToolFailure(ExitCodes.FAILED, "consumer group '" + group + "' does not exist");
        }
        return description;
    }

    private static boolean groupNotFound(KafkaFuture<?> future) {
        try {
            future.getNow(null);
            return false;
        } catch (ExecutionException e) {
            return ClusterErrors.unwrap(e) instanceof GroupIdNotFoundException;
        } catch (InterruptedException | RuntimeException e) {
            return false;
        }
    }

    /** The group's committed offsets (partitions without one are left out). */
    public static Map<TopicPartition, Long> committedOffsets(Admin admin, ClusterTarget target, String group) {
        Map<TopicPartition, OffsetAndMetadata> offsets =
                await(admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata(), target, group);
        Map<TopicPartition, Long> committed = new HashMap<>();
        offsets.forEach((tp, offset) -> {
            if (offset != null) {
                committed.put(tp, offset.offset());
            }
        });
        return committed;
    }

    /**
     * ListOffsets of {@code spec} for these partitions. A partition the cluster cannot answer for is left
     * out when {@code tolerant} (describe shows it as {@code -}); otherwise it fails naming its topic. A
     * timestamp lookup that finds no record (offset -1) is left out either way.
     */
    public static Map<TopicPartition, Long> listOffsets(
            Admin admin,
            ClusterTarget target,
            Collection<TopicPartition> partitions,
            OffsetSpec spec,
            boolean tolerant) {
        Map<TopicPartition, Long> offsets = new HashMap<>();
        if (partitions.isEmpty()) {
            return offsets;
        }
        Map<TopicPartition, OffsetSpec> request = new HashMap<>();
        partitions.forEach(tp -> request.put(tp, spec));
        ListOffsetsResult result = admin.listOffsets(request, new ListOffsetsOptions().timeoutMs(target.timeoutMs()));
        for (TopicPartition tp : partitions) {
            try {
                long offset = AdminCalls.await(result.partitionResult(tp), target, tp.topic())
                        .offset();
                if (offset >= 0) {
                    offsets.put(tp, offset);
                }
            } catch (ToolFailure failure) {
                if (!tolerant) {
                    throw new ToolFailure(failure.exitCode(), failure.getMessage() + " (partition " + tp + ")");
                }
            }
        }
        return offsets;
    }
}
