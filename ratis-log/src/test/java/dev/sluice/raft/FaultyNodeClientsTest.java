package dev.sluice.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.partitionstore.LogConfig;
import dev.sluice.partitionstore.testing.Batches;
import dev.sluice.raft.testing.RaftTestCluster;
import dev.sluice.raft.transport.FaultInjectingRpcFactory;
import dev.sluice.raft.transport.FaultInjector;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.CompressionType;
import org.apache.kafka.common.requests.TransactionResult;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three real Raft nodes on the faulty transport: a partition group on {@code n2} and {@code n3}, and
 * {@code n1}, which holds no replica, reaching it through its own Ratis clients ({@link RaftNode#clientOf}:
 * transaction markers asynchronously, group administration synchronously). Isolating {@code n1} cuts its
 * clients off; healing gives them back; a client built without the node's id is never faulted.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class FaultyNodeClientsTest {
    private static final TopicPartition TP = new TopicPartition("faulty-clients", 0);
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final long SHORT_MARKER_TIMEOUT_MS = 2_000;

    @TempDir
    Path dir;

    private FaultInjector injector;
    private RaftTestCluster cluster;
    private List<RaftPeer> replicas;

    @BeforeEach
    void start() throws IOException {
        injector = FaultInjector.register("faulty-clients-" + UUID.randomUUID(), 42);
        injector.setLostCallTimeoutMs(100);
        Map<String, Object> settings = new HashMap<>(RaftTestCluster.fastElections("faulty"));
        settings.put(RaftSettings.FAULT_INJECTOR, injector.name());
        cluster = new RaftTestCluster(dir, settings, LogConfig.parse(Map.of()));
        cluster.startAll("n1", "n2", "n3");
        cluster.createPartition(TP, "n2", "n3");
        cluster.awaitLeader(TP, TIMEOUT);
        replicas = cluster.peers("n2", "n3");
    }

    @AfterEach
    void stop() throws IOException {
        if (cluster != null) {
            injector.healAll();
            cluster.close();
        }
        injector.close();
    }

    @Test
    void shouldFailANodesClientCallsToOthersWhileItIsIsolatedAndRestoreThemWhenHealed() throws Exception {
        RaftNode n1 = cluster.node("n1");
        assertThat(marker(n1, 700, TIMEOUT.toMillis())).isEqualTo(Errors.NONE);
        assertThat(groupInfo(n1.clientOf(group()), "n2")).isTrue();

        injector.isolate("n1");

        assertThat(marker(n1, 701, SHORT_MARKER_TIMEOUT_MS))
                .as("an asynchronous write from an isolated node")
                .isIn(Errors.REQUEST_TIMED_OUT, Errors.NOT_LEADER_OR_FOLLOWER);
        assertThatThrownBy(() -> groupInfo(n1.clientOf(group()), "n2"))
                .as("a blocking admin call from an isolated node")
                .isInstanceOf(IOException.class);
        assertThat(injector.stats("n1", "n2").lost()
                        + injector.stats("n1", "n3").lost())
                .as("the isolated node's requests met the injector")
                .isPositive();
        assertThat(cluster.append(TP, Batches.batch(CompressionType.NONE, 3, System.currentTimeMillis()), TIMEOUT)
                        .error())
                .as("the group itself, without n1, still takes writes")
                .isEqualTo(Errors.NONE);

        injector.healAll();

        assertThat(marker(n1, 702, TIMEOUT.toMillis())).isEqualTo(Errors.NONE);
        assertThat(groupInfo(n1.clientOf(group()), "n2")).isTrue();
    }

    @Test
    void shouldNotFaultAClientWhosePropertiesNameNoPeer() throws Exception {
        RaftNode n1 = cluster.node("n1");
        RaftProperties withoutSelf = new RaftProperties(n1.properties());
        assertThat(withoutSelf.get(FaultInjectingRpcFactory.SELF_KEY)).isEqualTo("n1");
        withoutSelf.unset(FaultInjectingRpcFactory.SELF_KEY);

        for (String peer : List.of("n1", "n2", "n3")) {
            injector.isolate(peer);
        }

        assertThat(groupInfo(plainClient(withoutSelf), "n2"))
                .as("a test's own client reaches every server")
                .isTrue();
        assertThat(groupInfo(plainClient(withoutSelf), "n3")).isTrue();
        assertThatThrownBy(() -> groupInfo(n1.clientOf(group()), "n3")).isInstanceOf(IOException.class);
    }

    private RaftClient plainClient(RaftProperties properties) {
        return RaftClient.newBuilder()
                .setProperties(properties)
                .setRaftGroup(group())
                .build();
    }

    private RaftGroup group() {
        return RaftNode.groupOf(TP, replicas);
    }

    private Errors marker(RaftNode via, long producerId, long timeoutMs) throws Exception {
        AppendOutcome outcome = via.writeTxnMarker(
                        TP, replicas, producerId, (short) 0, 1, TransactionResult.ABORT, timeoutMs)
                .get(timeoutMs + 10_000, TimeUnit.MILLISECONDS);
        return outcome.error();
    }

    /** Asks {@code server} about the group through {@code client}, then closes the client. */
    private static boolean groupInfo(RaftClient client, String server) throws IOException {
        try (client) {
            return client.getGroupManagementApi(RaftPeerId.valueOf(server))
                    .info(RaftNode.groupIdOf(TP))
                    .isSuccess();
        }
    }
}
