package dev.sluice.tools;

import dev.sluice.broker.BrokerConfig;
import dev.sluice.broker.SluiceNode;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.common.config.ConfigException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sluice node --config FILE}: runs one node of a cluster in the foreground until SIGINT/SIGTERM,
 * then shuts it down gracefully (leadership moved away, files flushed).
 */
@Command(
        name = "node",
        mixinStandardHelpOptions = true,
        description =
                "Run one Sluice node (Kafka listener, Raft server, HTTP endpoint) configured by a properties file.")
final class NodeCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--config", required = true, paramLabel = "FILE", description = "The node's properties file.")
    Path config;

    @Override
    public Integer call() throws Exception {
        BrokerConfig brokerConfig;
        try {
            brokerConfig = BrokerConfig.load(config);
        } catch (ConfigException e) {
            spec.commandLine().getErr().println("sluice node: bad configuration in " + config + ": " + e.getMessage());
            return 2;
        }
        SluiceNode node = SluiceNode.start(brokerConfig);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            node.close();
                            stopped.countDown();
                        },
                        "sluice-node-shutdown"));
        spec.commandLine()
                .getErr()
                .println("sluice node " + brokerConfig.nodeId() + ": Kafka on " + brokerConfig.kafkaAddress()
                        + ", HTTP on " + brokerConfig.httpAddress() + "; Ctrl-C stops it");
        stopped.await();
        return 0;
    }
}
