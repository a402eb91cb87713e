package dev.sluice.raft;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.partitionstore.FaultPoints;
import dev.sluice.partitionstore.LogConfig;
import dev.sluice.raft.testing.RaftTestCluster;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.Errors;
import org.apache.ratis.protocol.RaftPeer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A power loss right after an unsynced write, on one replica of three: its node runs in a process of its own
 * ({@link FaultPointNode}) with the fault point {@code unsynced-segment-write} armed, which records the
 * synced length of every segment file and halts the JVM right after the N-th segment write; {@link
 * DiskFaults#truncateToSynced} then cuts the files back to what was fsynced. The node restarts (in the test's
 * JVM) and must converge: every acknowledged batch once on every replica, byte-identical segment files,
 * {@code sluice dump --verify}'s checks pass.
 */
@Timeout(value = 150, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class LostUnsyncedWritesTest {
    static final Duration TIMEOUT = Duration.ofSeconds(30);
    static final TopicPartition TP = new TopicPartition("unsynced", 0);
    static final String SEGMENT_BYTES = "4096";

    @TempDir
    Path dir;

    RaftTestCluster cluster;
    Process child;

    @AfterEach
    void stop() throws Exception {
        if (child != null && child.isAlive()) {
            child.destroyForcibly();
            child.waitFor(30, TimeUnit.SECONDS);
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void shouldConvergeAfterLosingUnsyncedWritesOfAHaltedNode() throws Exception {
        Map<String, Object> settings = new HashMap<>(RaftTestCluster.fastElections("grpc"));
        settings.put(RaftSettings.INSTALL_CHUNK_BYTES, 4096);
        cluster = new RaftTestCluster(dir, settings, LogConfig.parse(Map.of(LogConfig.SEGMENT_BYTES, SEGMENT_BYTES)));
        List<RaftPeer> peers = cluster.peers("n1", "n2", "n3");
        cluster.startAll("n1", "n2");
        LogConfig config = LogConfig.parse(Map.of(LogConfig.SEGMENT_BYTES, SEGMENT_BYTES));
        cluster.node("n1").addPartition(TP, peers, config);
        cluster.node("n2").addPartition(TP, peers, config);
        AcknowledgedWrites writes = new AcknowledgedWrites(cluster, TP, TIMEOUT);
        writes.write(10);

        child = startChild(peers, 40);
        int sent = 0;
        while (child.isAlive() && sent < 2_000) {
            AppendOutcome outcome = writes.writeOne();
            assertThat(outcome.error()).as(outcome.errorMessage()).isEqualTo(Errors.NONE);
            sent++;
        }
        assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(child.exitValue())
                .as("n3 halted by the fault point; its output:%n%s", Files.readString(dir.resolve("n3.out")))
                .isEqualTo(FaultPoints.HALT_STATUS);

        DiskFaults.Damage damage = DiskFaults.truncateToSynced(cluster.dataDir("n3"));
        assertThat(damage.damaged()).as(damage.description()).isTrue();
        assertThat(Files.exists(cluster.dataDir("n3").resolve(FaultPoints.SYNCED_LENGTHS_FILE)))
                .isFalse();

        cluster.start("n3");
        writes.write(20);
        writes.checkConvergedAndStop("n1", "n2", "n3");
    }

    /** Starts n3 in a JVM of its own, armed to halt right after its {@code nth} segment write. */
    private Process startChild(List<RaftPeer> peers, int nth) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!arg.startsWith("-javaagent") && !arg.startsWith("-Xmx") && !arg.startsWith("-Xms")) {
                command.add(arg);
            }
        }
        command.add("-Xmx256m");
        command.add(
                "-D" + FaultPoints.PROPERTY + "=" + FaultPoints.Point.UNSYNCED_SEGMENT_WRITE.pointName() + "=" + nth);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), FaultPointNode.class.getName()));
        RaftPeer self = cluster.peer("n3");
        command.addAll(List.of(
                "n3",
                self.getAddress().substring(self.getAddress().lastIndexOf(':') + 1),
                cluster.dataDir("n3").toString(),
                TP.topic(),
                Integer.toString(TP.partition()),
                SEGMENT_BYTES));
        for (RaftPeer peer : peers) {
            command.add(peer.getId() + "=" + peer.getAddress());
        }
        return new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("n3.out").toFile())
                .start();
    }
}
