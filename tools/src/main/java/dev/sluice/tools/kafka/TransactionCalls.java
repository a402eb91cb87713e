package dev.sluice.tools.kafka;

import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.AbortTransactionSpec;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeProducersResult.PartitionProducerState;
import org.apache.kafka.clients.admin.ListTransactionsOptions;
import org.apache.kafka.clients.admin.ProducerState;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.CoordinatorNotAvailableException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.NotLeaderOrFollowerException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TransactionCoordinatorFencedException;
import org.apache.kafka.common.errors.TransactionalIdNotFoundException;

/**
 * The {@code Admin} calls of {@code sluice transactions}, bounded like {@link AdminCalls}, with failures
 * translated into one line that names the transactional id or the partition and says what happened.
 */
public final class TransactionCalls {
    private TransactionCalls() {}

    /** The future's value, or a {@link ToolFailure} naming {@code subject} (a transactional id or partition). */
    public static <T> T await(KafkaFuture<T> future, ClusterTarget target, String subject) {
        try {
            return future.get(target.timeoutMs() + AdminCalls.GUARD_MS, TimeUnit.MILLISECONDS);
        } catch (ExecutionException | java.util.concurrent.TimeoutException | KafkaException e) {
            throw translate(e, target, subject);
        } catch (InterruptedException e) {
            throw translate(e, target, subject);
        }
    }

    /** Translates a failure of a call about {@code subject}; see {@link ClusterErrors#translate}. */
    public static ToolFailure translate(Throwable failure, ClusterTarget target, String subject) {
        Throwable cause = ClusterErrors.unwrap(failure);
        if (cause instanceof TransactionalIdNotFoundException) {
            return new ToolFailure(ExitCodes.FAILED, subject + " does not exist");
        }
        if (cause instanceof TransactionCoordinatorFencedException) {
            return new ToolFailure(
                    ExitCodes.FAILED,
                    subject + ": a newer transaction coordinator has written a marker there (coordinator epoch too"
                            + " old); the transaction was not aborted");
        }
        if (cause instanceof InvalidProducerEpochException || cause instanceof ProducerFencedException) {
            return new ToolFailure(
                    ExitCodes.FAILED,
                    subject + ": the producer already writes with a newer epoch; the transaction was not aborted");
        }
        if (cause instanceof CoordinatorNotAvailableException) {
            return new ToolFailure(
                    ExitCodes.FAILED, subject + ": the transaction coordinator is not available yet; retry shortly");
        }
        if (cause instanceof NotLeaderOrFollowerException) {
            return new ToolFailure(ExitCodes.FAILED, subject + ": the partition's leader is moving; retry shortly");
        }
        ToolFailure translated = ClusterErrors.translate(cause, target, null);
        if (translated.exitCode() == ExitCodes.FAILED
                && !translated.getMessage().startsWith("not authorized")) {
            return new ToolFailure(ExitCodes.FAILED, subject + ": " + translated.getMessage());
        }
        return translated;
    }

    /** Every transaction the coordinators know, by the id of the node coordinating it. */
    public static Map<Integer, Collection<TransactionListing>> listTransactions(Admin admin, ClusterTarget target) {
        return AdminCalls.await(admin.listTransactions().allByBrokerId(), target, null);
    }

    /** The transactional id of each of these producers the coordinators know. */
    public static Map<Long, String> transactionalIds(Admin admin, ClusterTarget target, Set<Long> producerIds) {
        Map<Long, String> ids = new HashMap<>();
        if (producerIds.isEmpty()) {
            return ids;
        }
        Collection<TransactionListing> listings = AdminCalls.await(
                admin.listTransactions(new ListTransactionsOptions().filterProducerIds(producerIds))
                        .all(),
                target,
                null);
        for (TransactionListing listing : listings) {
            if (producerIds.contains(listing.producerId())) {
                ids.put(listing.producerId(), listing.transactionalId());
            }
        }
        return ids;
    }

    /** Describes the current transaction of one transactional id; fails naming it when it is unknown. */
    public static TransactionDescription describe(Admin admin, ClusterTarget target, String transactionalId) {
        return await(
                admin.describeTransactions(List.of(transactionalId)).description(transactionalId),
                target,
                "transactional id '" + transactionalId + "'");
    }

    /**
     * The partitions of each of these transactional ids' current transaction; an id the coordinator does not
     * know is left out.
     */
    public static Map<String, Set<TopicPartition>> partitionsOf(
            Admin admin, ClusterTarget target, Collection<String> transactionalIds) {
        Map<String, Set<TopicPartition>> partitions = new HashMap<>();
        if (transactionalIds.isEmpty()) {
            return partitions;
        }
        var result = admin.describeTransactions(Set.copyOf(transactionalIds));
        for (String id : Set.copyOf(transactionalIds)) {
            KafkaFuture<TransactionDescription> future = result.description(id);
            try {
                partitions.put(
                        id,
                        await(future, target, "transactional id '" + id + "'").topicPartitions());
            } catch (ToolFailure failure) {
                if (!(causeOf(future) instanceof TransactionalIdNotFoundException)) {
                    throw failure;
                }
            }
        }
        return partitions;
    }

    /**
     * The active producers of one partition, from its leader. Checks first that the partition exists, so an
     * unknown topic or partition fails at once, naming it.
     */
    public static List<ProducerState> describeProducers(Admin admin, ClusterTarget target, TopicPartition tp) {
        checkPartition(admin, target, tp);
        PartitionProducerState state =
                await(admin.describeProducers(List.of(tp)).partitionResult(tp), target, "" + tp);
        return state.activeProducers();
    }

    /** The active producers of these partitions, from their leaders. */
    public static Map<TopicPartition, List<ProducerState>> describeProducers(
            Admin admin, ClusterTarget target, Collection<TopicPartition> partitions) {
        Map<TopicPartition, List<ProducerState>> producers = new HashMap<>();
        if (partitions.isEmpty()) {
            return producers;
        }
        Map<TopicPartition, PartitionProducerState> states =
                AdminCalls.await(admin.describeProducers(partitions).all(), target, null);
        states.forEach((tp, state) -> producers.put(tp, state.activeProducers()));
        return producers;
    }

    /** Writes the ABORT marker of {@code spec} into its partition. */
    public static void abort(Admin admin, ClusterTarget target, AbortTransactionSpec spec) {
        await(admin.abortTransaction(spec).all(), target, "" + spec.topicPartition());
    }

    /** Fails with "topic 'T' does not exist" or "topic 'T' has no partition P" unless the partition exists. */
    public static void checkPartition(Admin admin, ClusterTarget target, TopicPartition tp) {
        TopicDescription description = AdminCalls.describeTopic(admin, target, tp.topic());
        int count = description.partitions().size();
        if (tp.partition() < 0 || tp.partition() >= count) {
            throw new ToolFailure(
                    ExitCodes.FAILED,
                    "topic '" + tp.topic() + "' has no partition " + tp.partition() + " (it has " + count
                            + " partitions, 0 to " + (count - 1) + ")");
        }
    }

    private static Throwable causeOf(KafkaFuture<?> future) {
        try {
            future.getNow(null);
            return null;
        } catch (ExecutionException e) {
            return ClusterErrors.unwrap(e);
        } catch (InterruptedException | RuntimeException e) {
            return e;
        }
    }
}
