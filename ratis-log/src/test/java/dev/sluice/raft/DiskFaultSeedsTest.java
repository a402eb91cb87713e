package dev.sluice.raft;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.partitionstore.LogConfig;
import dev.sluice.raft.testing.RaftTestCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.stream.LongStream;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The nemesis's seeded disk faults as a chaos run inflicts them ({@link DiskFaults} with a {@link Random}),
 * one per seed on a stopped replica — leader or follower, stopped with or without a snapshot, the others
 * writing on or not while it is down, over gRPC or Netty — followed by the checks of {@link
 * AcknowledgedWrites}. The seed picks everything, so a failure replays; {@code
 * -Dsluice.disk.fault.seeds=1-100} runs more of them.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class DiskFaultSeedsTest {
    static final Duration TIMEOUT = Duration.ofSeconds(30);
    static final TopicPartition TP = new TopicPartition("seeded", 0);
    static final String[] ALL = {"n1", "n2", "n3"};

    @TempDir
    Path dir;

    RaftTestCluster cluster;

    @AfterEach
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** Seeds 1 to 3, or those of {@code -Dsluice.disk.fault.seeds=FROM-TO} (a longer run). */
    static LongStream seeds() {
        String range = System.getProperty("sluice.disk.fault.seeds", "1-3");
        int dash = range.indexOf('-');
        return LongStream.rangeClosed(
                Long.parseLong(range.substring(0, dash)), Long.parseLong(range.substring(dash + 1)));
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void replicasConvergeAfterASeededDiskFault(long seed) throws Exception {
        Random random = new Random(seed);
        Map<String, Object> settings =
                new HashMap<>(RaftTestCluster.fastElections(random.nextBoolean() ? "grpc" : "netty"));
        settings.put(RaftSettings.INSTALL_CHUNK_BYTES, 4096);
        settings.put(RaftSettings.SCRUB_BYTES_PER_SECOND, 1024L * 1024);
        settings.put(RaftSettings.SNAPSHOT_ON_STOP, random.nextBoolean());
        settings.put(RaftSettings.SNAPSHOT_THRESHOLD_ENTRIES, 20L + random.nextInt(200));
        cluster = new RaftTestCluster(dir, settings, LogConfig.parse(Map.of(LogConfig.SEGMENT_BYTES, "4096")));
        cluster.startAll(ALL);
        cluster.createPartition(TP, ALL);
        AcknowledgedWrites writes = new AcknowledgedWrites(cluster, TP, TIMEOUT);
        writes.write(30 + random.nextInt(50));
        cluster.awaitConverged(TP, TIMEOUT, ALL);

        String leader = cluster.awaitLeader(TP, TIMEOUT).id();
        String victim = random.nextBoolean() ? leader : (leader.equals("n1") ? "n2" : "n1");
        cluster.stop(victim);
        if (random.nextBoolean()) {
            writes.write(1 + random.nextInt(10));
        }
        Path dataDir = cluster.dataDir(victim);
        DiskFaults.Damage damage =
                switch (random.nextInt(3)) {
                    case 0 -> DiskFaults.flipBitInClosedSegment(dataDir, random);
                    case 1 -> DiskFaults.truncateNewestSegment(dataDir, random);
                    default -> DiskFaults.truncateRaftLog(dataDir, random);
                };
        assertThat(damage.damaged()).as(damage.description()).isTrue();
        System.out.println("seed " + seed + ", " + settings.get(RaftSettings.RPC_TYPE) + ", " + victim
                + (victim.equals(leader) ? " (leader)" : "") + ": " + damage);

        cluster.start(victim);
        writes.write(10 + random.nextInt(20));
        writes.checkConvergedAndStop(ALL);
    }
}
