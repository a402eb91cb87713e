package dev.sluice.tools;

import dev.sluice.tools.kafka.AdminCalls;
import dev.sluice.tools.kafka.ClientCommand;
import dev.sluice.tools.kafka.ClientSettings;
import dev.sluice.tools.kafka.ClusterErrors;
import dev.sluice.tools.kafka.ClusterTarget;
import dev.sluice.tools.kafka.ExitCodes;
import dev.sluice.tools.kafka.LineFormat;
import dev.sluice.tools.kafka.ProduceLoop;
import dev.sluice.tools.kafka.ToolFailure;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.KafkaException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * {@code sluice produce}: reads lines from stdin and sends each as one record, like
 * {@code kafka-console-producer.sh}. Silent on success; every failed line is reported on stderr and
 * makes the exit code 1. The topic is checked first, so an unknown topic or an unreachable cluster
 * fails before any input is read.
 */
@Command(
        name = "produce",
        mixinStandardHelpOptions = true,
        description = {
            "Send one record per line of stdin to a topic (like kafka-console-producer.sh).",
            "With --property parse.key=true the key is the text before the key separator."
        },
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {ExitCodes.OK_LINE, ExitCodes.FAILED_LINE, ExitCodes.USAGE_LINE, ExitCodes.UNREACHABLE_LINE})
final class ProduceCommand extends ClientCommand {
    static final List<String> ACKS = List.of("all", "-1", "1", "0");
    static final List<String> COMPRESSIONS = List.of("none", "gzip", "snappy", "lz4", "zstd");

    @Option(names = "--topic", required = true, paramLabel = "TOPIC", description = "The topic to send to.")
    String topic;

    @Option(
            names = "--property",
            paramLabel = "KEY=VALUE",
            description = "Line parsing: parse.key=true|false (default false), key.separator=SEP (default a tab),"
                    + " null.marker=TEXT (a key or value equal to it is sent as null). Repeatable.")
    Map<String, String> properties = new TreeMap<>();

    @Option(
            names = "--key-separator",
            paramLabel = "SEP",
            description = "What separates key and value with parse.key=true (default: a tab).")
    String keySeparator;

    @Option(
            names = "--acks",
            paramLabel = "ACKS",
            defaultValue = "all",
            description = "Acknowledgements to wait for: all (= -1), 1 or 0 (default: ${DEFAULT-VALUE}).")
    String acks;

    @Option(
            names = "--compression",
            paramLabel = "CODEC",
            defaultValue = "none",
            description = "none, gzip, snappy, lz4 or zstd (default: ${DEFAULT-VALUE}).")
    String compression;

    @Option(
            names = "--timeout-ms",
            paramLabel = "MS",
            defaultValue = "" + DEFAULT_TIMEOUT_MS,
            description = "How long to wait for the cluster: to connect, and for each record to be acknowledged"
                    + " (default: ${DEFAULT-VALUE}).")
    int timeoutMs;

    /** Where lines come from; stdin unless a test sets it. */
    InputStream in = System.in;

    @Override
    protected int timeoutMs() {
        return timeoutMs;
    }

    @Override
    protected int execute() {
        LineFormat format = validate();
        ClusterTarget target = target();
        Admin admin = AdminCalls.open(target, "sluice-produce");
        try {
            AdminCalls.describeTopic(admin, target, topic);
        } finally {
            AdminCalls.close(admin, target);
        }
        ProduceLoop.Outcome outcome;
        Producer<byte[], byte[]> producer = openProducer(target);
        // On Ctrl-C, deliver what was already read before the JVM exits, as kafka-console-producer does.
        Thread hook = new Thread(() -> producer.close(Duration.ofMillis(timeoutMs)), "sluice-produce-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            outcome = new ProduceLoop(producer, topic, format, err, toolName()).run(reader);
        } catch (IOException e) {
            throw new ToolFailure(ExitCodes.FAILED, "cannot read stdin: " + e.getMessage());
        } finally {
            producer.close(Duration.ofMillis(timeoutMs));
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the JVM is shutting down: the hook is closing the producer
            }
        }
        if (outcome.failed() > 0) {
            err.println(toolName() + ": " + outcome.failed() + " of " + outcome.lines() + " line(s) not sent");
            return ExitCodes.FAILED;
        }
        return ExitCodes.OK;
    }

    private LineFormat validate() {
        String normalizedAcks = acks.trim().toLowerCase(java.util.Locale.ROOT);
        if (!ACKS.contains(normalizedAcks)) {
            throw new ParameterException(
                    spec.commandLine(), "--acks " + acks + ": expected one of " + String.join(", ", ACKS));
        }
        acks = normalizedAcks;
        String normalizedCompression = compression.trim().toLowerCase(java.util.Locale.ROOT);
        if (!COMPRESSIONS.contains(normalizedCompression)) {
            throw new ParameterException(
                    spec.commandLine(),
                    "--compression " + compression + ": expected one of " + String.join(", ", COMPRESSIONS));
        }
        compression = normalizedCompression;
        try {
            return LineFormat.of(properties, keySeparator);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    private Producer<byte[], byte[]> openProducer(ClusterTarget target) {
        try {
            return new KafkaProducer<>(ClientSettings.producer(target, "sluice-produce", acks, compression));
        } catch (KafkaException e) {
            throw ClusterErrors.translate(e, target, topic);
        }
    }
}
