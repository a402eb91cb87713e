package dev.sluice.coordinator;

import static dev.sluice.coordinator.CoordinatorTestCluster.awaitImage;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.coordinator.CoordinatorCommand.CreateTopic;
import dev.sluice.coordinator.CoordinatorService.Timing;
import dev.sluice.raft.DiskFaults;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The coordinator group's Raft log cut on one stopped voter (see {@link DiskFaults}): the voter starts, drops
 * what is torn, takes the lost entries again from the leader, and its image ends up equal to the others'.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class CoordinatorDiskFaultTest {
    private static final Timing TIMING = new Timing(100, 5_000);
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void shouldRecoverTornLastEntryOfCoordinatorRaftLog() throws Exception {
        recoverFrom(groupDir -> DiskFaults.tearRaftLog(groupDir, 2));
    }

    @Test
    void shouldRecoverCoordinatorRaftLogTruncatedByWholeEntries() throws Exception {
        recoverFrom(groupDir -> DiskFaults.truncateRaftLogEntries(groupDir, 3));
    }

    private void recoverFrom(Fault fault) throws Exception {
        try (CoordinatorTestCluster cluster = new CoordinatorTestCluster(dir, List.of(1, 2, 3), TIMING)) {
            for (int id = 1; id <= 3; id++) {
                cluster.start(id);
            }
            int leader = cluster.awaitLeader(WAIT);
            awaitImage(cluster.service(leader), WAIT, "three live nodes", image -> image.liveNodes()
                    .equals(Set.of(1, 2, 3)));
            for (int i = 0; i < 5; i++) {
                createTopic(cluster.service(leader), "before-" + i);
            }
            int victim = leader == 3 ? 2 : 3;
            awaitImage(
                    cluster.service(victim),
                    WAIT,
                    "the victim to apply every topic",
                    image -> image.topics().size() == 5);
            cluster.stop(victim);
            DiskFaults.Damage damage =
                    fault.apply(DiskFaults.raftGroupDir(cluster.dataDir(victim), CoordinatorService.GROUP_ID));
            assertThat(damage.damaged()).as(damage.description()).isTrue();

            cluster.start(victim);
            leader = cluster.awaitLeader(WAIT);
            createTopic(cluster.service(leader), "after");
            ClusterImage expected =
                    awaitImage(cluster.service(leader), WAIT, "topic after", image -> image.topic("after") != null);
            for (int id = 1; id <= 3; id++) {
                ClusterImage seen =
                        awaitImage(cluster.service(id), WAIT, "node " + id + " to catch up", image -> image.topics()
                                .keySet()
                                .equals(expected.topics().keySet()));
                assertThat(seen.topics()).isEqualTo(expected.topics());
            }
        }
    }

    private static void createTopic(CoordinatorService service, String name) throws Exception {
        CoordinatorResult result = service.submit(
                        new CreateTopic(name, Uuid.randomUuid().toString(), 1, 3, Map.of(), null))
                .get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(result.error()).as(result.message()).isEqualTo(Errors.NONE);
    }

    /** A fault inflicted on the coordinator group's Raft directory of the stopped voter. */
    private interface Fault {
        DiskFaults.Damage apply(Path groupDir) throws Exception;
    }
}
