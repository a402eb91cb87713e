package dev.sluice.raft;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.partitionstore.LogConfig;
import dev.sluice.partitionstore.testing.Batches;
import dev.sluice.raft.testing.RaftTestCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.CompressionType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node that stops gracefully (SIGTERM) hands the leadership of every group it leads to another replica at once
 * — the chaos run with seed 3014, where node 1 was stopped that way. Each handover ends with an election start the
 * leader sends to the new leader, and the election starts of all groups travel on the one Netty connection between
 * the two nodes. Ratis sends every election start as call 0, and its Netty client allows one pending call per id
 * on a connection: all handovers but one failed ("previous is expected to be null"), and the stopping node's
 * groups were left to election timeouts. Every handover must succeed.
 */
@Timeout(value = 150, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class LeadershipHandoverTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final String[] ALL = {"n1", "n2", "n3"};

    @TempDir
    Path dir;

    private RaftTestCluster cluster;

    @AfterEach
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void aNodeHandsOverTheLeadershipOfAllItsGroupsAtOnce() throws Exception {
        cluster = new RaftTestCluster(
                dir,
                new HashMap<>(RaftTestCluster.fastElections("netty")),
                LogConfig.parse(Map.of(LogConfig.SEGMENT_BYTES, "65536")));
        cluster.startAll(ALL);
        List<TopicPartition> tps = new ArrayList<>();
        for (int p = 0; p < 8; p++) {
            TopicPartition tp = new TopicPartition("handover", p);
            tps.add(tp);
            cluster.createPartition(tp, ALL);
        }
        for (TopicPartition tp : tps) {
            assertThat(cluster.append(tp, Batches.batch(CompressionType.NONE, 3, 0), TIMEOUT)
                            .error())
                    .isEqualTo(Errors.NONE);
            cluster.moveLeader(tp, "n1", TIMEOUT);
            cluster.awaitConverged(tp, TIMEOUT, ALL);
        }

        RaftNode stopping = cluster.node("n1");
        List<CompletableFuture<Boolean>> handovers = new ArrayList<>();
        for (TopicPartition tp : tps) {
            handovers.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return stopping.transferLeadership(tp, "n2", 10_000);
                } catch (Exception e) {
                    throw new IllegalStateException(tp + ": " + e, e);
                }
            }));
        }
        for (int i = 0; i < tps.size(); i++) {
            assertThat(handovers.get(i).get(60, TimeUnit.SECONDS))
                    .as("handover of %s", tps.get(i))
                    .isTrue();
            assertThat(cluster.awaitLeader(tps.get(i), TIMEOUT).id()).isEqualTo("n2");
        }
    }
}
