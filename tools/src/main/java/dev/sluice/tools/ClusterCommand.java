package dev.sluice.tools;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.tools.kafka.AdminCalls;
import dev.sluice.tools.kafka.AdminCommand;
import dev.sluice.tools.kafka.ClusterReport;
import dev.sluice.tools.kafka.ClusterTarget;
import dev.sluice.tools.kafka.ExitCodes;
import dev.sluice.tools.kafka.TopicDescriber;
import java.util.Collection;
import java.util.List;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sluice cluster}: the state of a Kafka-compatible cluster, through Kafka's {@code Admin} API. */
@Command(
        name = "cluster",
        mixinStandardHelpOptions = true,
        description = "Show the state of the cluster.",
        subcommands = {ClusterCommand.Status.class})
final class ClusterCommand {
    @Command(
            name = "status",
            mixinStandardHelpOptions = true,
            description = {
                "Show the cluster id, the controller, every node (id, host:port, rack) with the partition leaders and",
                "replicas it holds, and over all topics the under-replicated partitions (fewer in-sync replicas",
                "than replicas) and the offline partitions (no leader). Nodes that hold replicas but are not live",
                "are listed as (not live)."
            },
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {ExitCodes.OK_LINE, ExitCodes.FAILED_LINE, ExitCodes.USAGE_LINE, ExitCodes.UNREACHABLE_LINE})
    static final class Status extends AdminCommand {
        @Option(
                names = "--json",
                description = "Print JSON Lines: a cluster object, one node object per node, one partition object per"
                        + " partition with a problem, and a summary object.")
        boolean json;

        @Override
        protected int execute(Admin admin, ClusterTarget target) {
            DescribeClusterResult cluster = admin.describeCluster();
            Collection<Node> nodes = AdminCalls.await(cluster.nodes(), target, null);
            Node controller = AdminCalls.await(cluster.controller(), target, null);
            String clusterId = AdminCalls.await(cluster.clusterId(), target, null);
            List<String> names = TopicDescriber.topicNames(admin, target, false);
            List<TopicDescription> topics = TopicDescriber.describeTopics(admin, target, names, true);
            ClusterReport report = ClusterReport.of(clusterId, controller, nodes, topics);
            if (json) {
                ObjectMapper mapper = new ObjectMapper();
                report.jsonLines(mapper).forEach(out::println);
            } else {
                report.textLines().forEach(out::println);
            }
            return ExitCodes.OK;
        }
    }
}
