package dev.sluice.tools.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.InvalidPartitionsException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.junit.jupiter.api.Test;

class ClusterErrorsTest {
    private static final ClusterTarget TARGET = new ClusterTarget("127.0.0.1:9092", Map.of(), 15_000);

    @Test
    void shouldReportATimeoutAsAnUnreachableCluster() {
        ToolFailure failure = ClusterErrors.translate(
                new ExecutionException(new TimeoutException("Timed out waiting for a node assignment.")), TARGET, "t");

        assertThat(failure.exitCode()).isEqualTo(ExitCodes.UNREACHABLE);
        assertThat(failure.getMessage())
                .isEqualTo("cannot reach the cluster at 127.0.0.1:9092 (no answer within 15000 ms:"
                        + " Timed out waiting for a node assignment.)");
    }

    @Test
    void shouldNameTheTopicThatDoesNotExistOrAlreadyExists() {
        assertThat(ClusterErrors.translate(
                                new ExecutionException(new UnknownTopicOrPartitionException("server text")),
                                TARGET,
                                "orders")
                        .getMessage())
                .isEqualTo("topic 'orders' does not exist");
        assertThat(ClusterErrors.translate(new TopicExistsException("x"), TARGET, "orders"))
                .hasMessage("topic 'orders' already exists")
                .extracting(ToolFailure::exitCode)
                .isEqualTo(ExitCodes.FAILED);
    }

    @Test
    void shouldPassOnTheClustersReasonForOtherRefusals() {
        assertThat(ClusterErrors.translate(new InvalidPartitionsException("Topic has 3 partitions."), TARGET, "t"))
                .hasMessage("topic 't': Topic has 3 partitions.");
        assertThat(ClusterErrors.translate(new TopicAuthorizationException("denied"), TARGET, "t"))
                .hasMessage("not authorized: denied");
        assertThat(ClusterErrors.translate(new SaslAuthenticationException("bad password"), TARGET, null))
                .hasMessage("authentication with the cluster at 127.0.0.1:9092 failed: bad password");
    }

    @Test
    void shouldTellAnUnresolvableHostFromABadSetting() {
        KafkaException unresolvable = new KafkaException(
                "Failed to create new KafkaAdminClient",
                new ConfigException("No resolvable bootstrap urls given in bootstrap.servers"));
        KafkaException badSetting = new KafkaException(
                "Failed to construct kafka producer", new ConfigException("Invalid value x for configuration acks"));

        assertThat(ClusterErrors.translate(unresolvable, TARGET, null).exitCode())
                .isEqualTo(ExitCodes.UNREACHABLE);
        assertThat(ClusterErrors.translate(badSetting, TARGET, null))
                .hasMessage("invalid client configuration: Invalid value x for configuration acks")
                .extracting(ToolFailure::exitCode)
                .isEqualTo(ExitCodes.USAGE);
    }
}
