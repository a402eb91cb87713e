package dev.sluice.tools;

import dev.sluice.tools.kafka.AdminCalls;
import dev.sluice.tools.kafka.ClientCommand;
import dev.sluice.tools.kafka.ClientSettings;
import dev.sluice.tools.kafka.ClusterErrors;
import dev.sluice.tools.kafka.ClusterTarget;
import dev.sluice.tools.kafka.ConsumeLoop;
import dev.sluice.tools.kafka.ExitCodes;
import dev.sluice.tools.kafka.RecordFormat;
import dev.sluice.tools.kafka.ToolFailure;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * {@code sluice consume}: prints a topic's records, one per line, like {@code kafka-console-consumer.sh}.
 * Without {@code --group} it assigns itself every partition (or the one of {@code --partition}) and
 * starts at the end, at the beginning, or at {@code --offset}; with {@code --group} it subscribes as a
 * member of that group and commits the offsets of the records it printed. Stops after
 * {@code --max-messages}, after {@code --timeout-ms} without a record, or on Ctrl-C.
 */
@Command(
        name = "consume",
        mixinStandardHelpOptions = true,
        description = {
            "Print the records of a topic, one per line (like kafka-console-consumer.sh).",
            "Without --group: all partitions (or --partition), from the end unless --from-beginning or --offset.",
            "With --group: subscribe as a group member; --from-beginning applies when the group has no offsets."
        },
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {ExitCodes.OK_LINE, ExitCodes.FAILED_LINE, ExitCodes.USAGE_LINE, ExitCodes.UNREACHABLE_LINE})
final class ConsumeCommand extends ClientCommand {
    @Option(names = "--topic", required = true, paramLabel = "TOPIC", description = "The topic to read.")
    String topic;

    @Option(names = "--from-beginning", description = "Start at the earliest record instead of the end.")
    boolean fromBeginning;

    @Option(names = "--partition", paramLabel = "P", description = "Read only this partition (not with --group).")
    Integer partition;

    @Option(
            names = "--offset",
            paramLabel = "O",
            description = "With --partition: start at this offset, or at earliest or latest (default: latest).")
    String offset;

    @Option(names = "--max-messages", paramLabel = "N", description = "Stop after N records.")
    Long maxMessages;

    @Option(
            names = "--timeout-ms",
            paramLabel = "MS",
            description = "Stop after MS milliseconds without a record (default: wait for records until Ctrl-C).")
    Long idleTimeoutMs;

    @Option(
            names = "--request-timeout-ms",
            paramLabel = "MS",
            defaultValue = "" + DEFAULT_TIMEOUT_MS,
            description = "How long to wait for the cluster on each request (default: ${DEFAULT-VALUE}).")
    int requestTimeoutMs;

    @Option(names = "--group", paramLabel = "G", description = "Consume as a member of this consumer group.")
    String group;

    @Option(names = "--print-key", description = "Print the key, then the key separator, then the value.")
    boolean printKey;

    @Option(names = "--print-partition", description = "Print Partition:P before the record.")
    boolean printPartition;

    @Option(names = "--print-offset", description = "Print Offset:O before the record.")
    boolean printOffset;

    @Option(
            names = "--key-separator",
            paramLabel = "SEP",
            defaultValue = "\t",
            description = "What separates the printed fields (default: a tab).")
    String keySeparator;

    @Override
    protected int timeoutMs() {
        return requestTimeoutMs;
    }

    @Override
    protected int execute() {
        Long startOffset = validate();
        ClusterTarget target = target();
        TopicDescription description;
        Admin admin = AdminCalls.open(target, "sluice-consume");
        try {
            description = AdminCalls.describeTopic(admin, target, topic);
        } finally {
            AdminCalls.close(admin, target);
        }
        List<TopicPartition> partitions = partitionsToRead(description);
        String offsetReset = fromBeginning || "earliest".equals(offset) ? "earliest" : "latest";
        Consumer<byte[], byte[]> consumer = openConsumer(target, offsetReset);
        RecordFormat format = new RecordFormat(printKey, printPartition, printOffset, keySeparator);
        ConsumeLoop loop = new ConsumeLoop(consumer, format, out, err, toolName(), System::nanoTime);
        CountDownLatch closed = new CountDownLatch(1);
        Thread hook = stopOnShutdown(loop, closed);
        try {
            if (group != null) {
                consumer.subscribe(List.of(topic));
            } else {
                consumer.assign(partitions);
                if (startOffset != null) {
                    partitions.forEach(tp -> consumer.seek(tp, startOffset));
                } else if (offsetReset.equals("earliest")) {
                    consumer.seekToBeginning(partitions);
                } else {
                    consumer.seekToEnd(partitions);
                }
            }
            long printed = loop.run(new ConsumeLoop.Limits(
                    maxMessages == null ? -1 : maxMessages, idleTimeoutMs == null ? -1 : idleTimeoutMs, group != null));
            err.println("Processed a total of " + printed + " messages");
            return ExitCodes.OK;
        } catch (KafkaException e) {
            throw ClusterErrors.translate(e, target, topic);
        } finally {
            consumer.close(CloseOptions.timeout(Duration.ofMillis(requestTimeoutMs)));
            closed.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the JVM is shutting down: the hook is running and waits for `closed`
            }
        }
    }

    /**
     * On Ctrl-C, stops the loop and holds the JVM's shutdown until the consumer has committed what was
     * printed and left its group (at most the request timeout).
     */
    private Thread stopOnShutdown(ConsumeLoop loop, CountDownLatch closed) {
        Thread hook = new Thread(
                () -> {
                    loop.stop();
                    try {
                        closed.await(2L * requestTimeoutMs, TimeUnit.MILLISECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                },
                "sluice-consume-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        return hook;
    }

    /** Checks option combinations; returns the numeric start offset, if one was given. */
    private Long validate() {
        if (group != null && partition != null) {
            throw new ParameterException(spec.commandLine(), "--group and --partition cannot be used together");
        }
        if (offset != null && partition == null) {
            throw new ParameterException(spec.commandLine(), "--offset needs --partition");
        }
        if (offset != null && fromBeginning) {
            throw new ParameterException(spec.commandLine(), "--offset and --from-beginning cannot be used together");
        }
        if (partition != null && partition < 0) {
            throw new ParameterException(spec.commandLine(), "--partition must be at least 0, was " + partition);
        }
        if (maxMessages != null && maxMessages < 1) {
            throw new ParameterException(spec.commandLine(), "--max-messages must be at least 1, was " + maxMessages);
        }
        if (idleTimeoutMs != null && idleTimeoutMs < 0) {
            throw new ParameterException(spec.commandLine(), "--timeout-ms must not be negative, was " + idleTimeoutMs);
        }
        if (keySeparator.isEmpty()) {
            throw new ParameterException(spec.commandLine(), "--key-separator must not be empty");
        }
        return parseOffset(offset);
    }

    private Long parseOffset(String text) {
        if (text == null || text.equals("earliest") || text.equals("latest")) {
            return null;
        }
        try {
            long value = Long.parseLong(text);
            if (value >= 0) {
                return value;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new ParameterException(
                spec.commandLine(), "--offset " + text + ": expected a number at least 0, earliest or latest");
    }

    private List<TopicPartition> partitionsToRead(TopicDescription description) {
        List<TopicPartition> partitions = new ArrayList<>();
        for (TopicPartitionInfo info : description.partitions()) {
            if (partition == null || partition == info.partition()) {
                partitions.add(new TopicPartition(topic, info.partition()));
            }
        }
        if (partitions.isEmpty()) {
            throw new ToolFailure(
                    ExitCodes.FAILED,
                    "topic '" + topic + "' has no partition " + partition + " (it has "
                            + description.partitions().size() + ")");
        }
        return partitions;
    }

    private Consumer<byte[], byte[]> openConsumer(ClusterTarget target, String offsetReset) {
        try {
            return new KafkaConsumer<>(ClientSettings.consumer(target, "sluice-consume", group, offsetReset));
        } catch (KafkaException e) {
            throw ClusterErrors.translate(e, target, topic);
        }
    }
}
