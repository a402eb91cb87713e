package dev.sluice.tools;

import dev.sluice.tools.kafka.AdminCommand;
import dev.sluice.tools.kafka.ClusterTarget;
import dev.sluice.tools.kafka.ExitCodes;
import dev.sluice.tools.kafka.TextTable;
import dev.sluice.tools.kafka.ToolFailure;
import dev.sluice.tools.kafka.TopicDescriber;
import dev.sluice.tools.kafka.TransactionCalls;
import dev.sluice.tools.txn.AbortPlanner;
import dev.sluice.tools.txn.HangingTransactions;
import dev.sluice.tools.txn.OpenTransaction;
import dev.sluice.tools.txn.TransactionReports;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.AbortTransactionSpec;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ProducerState;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * {@code sluice transactions}: list and describe transactions, show the producers of a partition, abort a
 * hanging transaction and find hanging ones, through Kafka's {@code Admin} API, like {@code
 * kafka-transactions.sh}. Works against any Kafka-compatible cluster. The decisions (which producer to abort,
 * which transactions hang) are pure, in {@code dev.sluice.tools.txn}.
 */
@Command(
        name = "transactions",
        mixinStandardHelpOptions = true,
        description = "List, describe and abort transactions and find hanging ones (like kafka-transactions.sh).",
        subcommands = {
            TransactionsCommand.ListTransactions.class,
            TransactionsCommand.Describe.class,
            TransactionsCommand.DescribeProducers.class,
            TransactionsCommand.Abort.class,
            TransactionsCommand.FindHanging.class
        })
final class TransactionsCommand {
    private TransactionsCommand() {}

    @Command(
            name = "list",
            mixinStandardHelpOptions = true,
            description = "List the transactional ids the coordinators know: coordinator, producer id, state.",
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {ExitCodes.OK_LINE, ExitCodes.FAILED_LINE, ExitCodes.USAGE_LINE, ExitCodes.UNREACHABLE_LINE})
    static final class ListTransactions extends AdminCommand {
        @Override
        protected int execute(Admin admin, ClusterTarget target) {
            Map<Integer, Collection<TransactionListing>> listings = TransactionCalls.listTransactions(admin, target);
            TransactionReports.listing(listings).lines().forEach(out::println);
            return ExitCodes.OK;
        }
    }

    @Command(
            name = "describe",
            mixinStandardHelpOptions = true,
            description = {
                "Describe the current transaction of a transactional id.",
                "Shows its coordinator, producer id and epoch, state, timeout, start time,",
                "duration so far and partitions."
            },
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {ExitCodes.OK_LINE, ExitCodes.FAILED_LINE, ExitCodes.USAGE_LINE, ExitCodes.UNREACHABLE_LINE})
    static final class Describe extends AdminCommand {
        @Option(names = "--transactional-id", required = true, paramLabel = "ID", description = "The transactional id.")
        String transactionalId;

        @Override
        protected int execute(Admin admin, ClusterTarget target) {
            var description = TransactionCalls.describe(admin, target, transactionalId);
            TransactionReports.description(transactionalId, description, System.currentTimeMillis())
                    .lines()
                    .forEach(out::println);
            return ExitCodes.OK;
        }
    }

    @Command(
            name = "describe-producers",
            mixinStandardHelpOptions = true,
            description = {
                "Show the active producers of a partition.",
                "As the partition's leader knows them: producer id and epoch, coordinator epoch",
                "of its last marker, last sequence and timestamp, and the start offset of its",
                "open transaction ('-' when none)."
            },
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {ExitCodes.OK_LINE, ExitCodes.FAILED_LINE, ExitCodes.USAGE_LINE, ExitCodes.UNREACHABLE_LINE})
    static final class DescribeProducers extends AdminCommand {
        @Option(names = "--topic", required = true, paramLabel = "TOPIC", description = "The topic.")
        String topic;

        @Option(names = "--partition", required = true, paramLabel = "P", description = "The partition.")
        int partition;

        @Override
        protected void validate() {
            checkPartitionNumber(spec, partition);
        }

        @Override
        protected int execute(Admin admin, ClusterTarget target) {
            TopicPartition tp = new TopicPartition(topic, partition);
            List<ProducerState> producers = TransactionCalls.describeProducers(admin, target, tp);
            if (producers.isEmpty()) {
                out.println("No active producers on " + tp + ".");
                return ExitCodes.OK;
            }
            TransactionReports.producers(producers).lines().forEach(out::println);
            return ExitCodes.OK;
        }
    }

    @Command(
            name = "abort",
            mixinStandardHelpOptions = true,
            description = {
                "Abort a hanging transaction on one partition.",
                "Writes an ABORT marker there, so read_committed consumers move past it. Name",
                "the transaction by its start offset (see describe-producers or find-hanging),",
                "or by --producer-id, --producer-epoch and --coordinator-epoch. Abort only",
                "transactions no coordinator will ever end: the records of an aborted",
                "transaction are lost to read_committed readers."
            },
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {ExitCodes.OK_LINE, ExitCodes.FAILED_LINE, ExitCodes.USAGE_LINE, ExitCodes.UNREACHABLE_LINE})
    static final class Abort extends AdminCommand {
        @Option(names = "--topic", required = true, paramLabel = "TOPIC", description = "The topic.")
        String topic;

        @Option(names = "--partition", required = true, paramLabel = "P", description = "The partition.")
        int partition;

        @Option(
                names = "--start-offset",
                paramLabel = "OFFSET",
                description = "The offset of the transaction's first record on the partition.")
        Long startOffset;

        @Option(names = "--producer-id", paramLabel = "ID", description = "The producer whose transaction to abort.")
        Long producerId;

        @Option(names = "--producer-epoch", paramLabel = "EPOCH", description = "With --producer-id: its epoch.")
        Short producerEpoch;

        @Option(
                names = "--coordinator-epoch",
                paramLabel = "EPOCH",
                description = "With --producer-id: the coordinator epoch of its last marker (-1 when none).")
        Integer coordinatorEpoch;

        @Override
        protected void validate() {
            checkPartitionNumber(spec, partition);
            boolean byProducer = producerId != null || producerEpoch != null || coordinatorEpoch != null;
            if (startOffset != null && byProducer) {
                throw new ParameterException(
                        spec.commandLine(),
                        "--start-offset cannot be used with --producer-id, --producer-epoch or --coordinator-epoch");
            }
            if (startOffset == null && !byProducer) {
                throw new ParameterException(
                        spec.commandLine(),
                        "name the transaction: --start-offset OFFSET, or --producer-id ID --producer-epoch EPOCH"
                                + " --coordinator-epoch EPOCH");
            }
            if (byProducer && (producerId == null || producerEpoch == null || coordinatorEpoch == null)) {
                throw new ParameterException(
                        spec.commandLine(),
                        "--producer-id, --producer-epoch and --coordinator-epoch must be given together");
            }
            if (startOffset != null && startOffset < 0) {
                throw new ParameterException(spec.commandLine(), "--start-offset must not be negative");
            }
        }

        @Override
        protected int execute(Admin admin, ClusterTarget target) {
            TopicPartition tp = new TopicPartition(topic, partition);
            AbortTransactionSpec abort;
            if (startOffset != null) {
                List<ProducerState> producers = TransactionCalls.describeProducers(admin, target, tp);
                try {
                    abort = AbortPlanner.byStartOffset(tp, producers, startOffset);
                } catch (IllegalArgumentException e) {
                    throw new ToolFailure(ExitCodes.FAILED, e.getMessage());
                }
            } else {
                TransactionCalls.checkPartition(admin, target, tp);
                abort = AbortPlanner.byProducer(tp, producerId, producerEpoch, coordinatorEpoch);
            }
            TransactionCalls.abort(admin, target, abort);
            out.println("Aborted the transaction of producer " + abort.producerId() + " (epoch "
                    + abort.producerEpoch() + ", coordinator epoch " + abort.coordinatorEpoch() + ") on " + tp
                    + (startOffset == null ? "." : " that started at offset " + startOffset + "."));
            return ExitCodes.OK;
        }
    }

    @Command(
            name = "find-hanging",
            mixinStandardHelpOptions = true,
            description = {
                "Find hanging transactions.",
                "A transaction hangs when it is open on a partition, older than the longest",
                "transaction timeout, and not part of its coordinator's current transaction, so",
                "no coordinator will ever end it there. Searches the partitions with a replica",
                "on --broker-id and/or those of --topic (and --partition). Abort each one with",
                "abort --start-offset."
            },
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {ExitCodes.OK_LINE, ExitCodes.FAILED_LINE, ExitCodes.USAGE_LINE, ExitCodes.UNREACHABLE_LINE})
    static final class FindHanging extends AdminCommand {
        @Option(
                names = "--broker-id",
                paramLabel = "N",
                description = "Search the partitions with a replica on node N.")
        Integer brokerId;

        @Option(names = "--topic", paramLabel = "TOPIC", description = "Search only this topic's partitions.")
        String topic;

        @Option(names = "--partition", paramLabel = "P", description = "With --topic: search only this partition.")
        Integer partition;

        @Option(
                names = "--max-transaction-timeout",
                paramLabel = "MINUTES",
                defaultValue = "15",
                description = "The longest transaction timeout of the producers, in minutes; younger transactions"
                        + " are left out (default: ${DEFAULT-VALUE}).")
        int maxTransactionTimeoutMinutes;

        @Override
        protected void validate() {
            if (brokerId == null && topic == null) {
                throw new ParameterException(
                        spec.commandLine(), "limit the search: give --broker-id N or --topic TOPIC (or both)");
            }
            if (partition != null && topic == null) {
                throw new ParameterException(spec.commandLine(), "--partition needs --topic");
            }
            if (partition != null) {
                checkPartitionNumber(spec, partition);
            }
            if (maxTransactionTimeoutMinutes < 0) {
                throw new ParameterException(spec.commandLine(), "--max-transaction-timeout must not be negative");
            }
        }

        @Override
        protected int execute(Admin admin, ClusterTarget target) {
            List<TopicPartition> partitions = partitionsToSearch(admin, target);
            long maxTimeoutMs = TimeUnit.MINUTES.toMillis(maxTransactionTimeoutMinutes);
            Map<TopicPartition, List<ProducerState>> producers =
                    TransactionCalls.describeProducers(admin, target, partitions);
            List<OpenTransaction> candidates =
                    HangingTransactions.candidates(producers, System.currentTimeMillis(), maxTimeoutMs);
            Map<Long, String> transactionalIds =
                    TransactionCalls.transactionalIds(admin, target, HangingTransactions.producerIds(candidates));
            Map<String, Set<TopicPartition>> current =
                    TransactionCalls.partitionsOf(admin, target, Set.copyOf(transactionalIds.values()));
            List<OpenTransaction> hanging = HangingTransactions.hanging(candidates, transactionalIds, current);
            TextTable table = TransactionReports.hanging(hanging, System.currentTimeMillis());
            table.lines().forEach(out::println);
            return ExitCodes.OK;
        }

        private List<TopicPartition> partitionsToSearch(Admin admin, ClusterTarget target) {
            if (topic != null && partition != null) {
                TopicPartition tp = new TopicPartition(topic, partition);
                TransactionCalls.checkPartition(admin, target, tp);
                return List.of(tp);
            }
            List<String> topics = topic != null ? List.of(topic) : TopicDescriber.topicNames(admin, target, true);
            List<TopicPartition> partitions = new ArrayList<>();
            for (TopicDescription description : TopicDescriber.describeTopics(admin, target, topics, topic == null)) {
                for (TopicPartitionInfo info : description.partitions()) {
                    if (brokerId == null || info.replicas().stream().anyMatch(node -> node.id() == brokerId)) {
                        partitions.add(new TopicPartition(description.name(), info.partition()));
                    }
                }
            }
            return partitions;
        }
    }

    private static void checkPartitionNumber(CommandSpec spec, int partition) {
        if (partition < 0) {
            throw new ParameterException(spec.commandLine(), "--partition must not be negative, was " + partition);
        }
    }
}
