package dev.sluice.coordinator;

import static dev.sluice.coordinator.CoordinatorTestCluster.awaitImage;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.coordinator.CoordinatorCommand.CreateTopic;
import dev.sluice.coordinator.CoordinatorService.Timing;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The coordinator group on real Raft servers on 127.0.0.1: the controller loop and image following. */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class CoordinatorServiceTest {
    /** Short enough for a quick test, long enough that a busy machine does not fence a live node. */
    private static final Timing TIMING = new Timing(100, 2_000);

    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void shouldMovePreferredLeadersOffAFencedNodeAndGiveThemBackWhenItReturns() throws Exception {
        try (CoordinatorTestCluster cluster = new CoordinatorTestCluster(dir, List.of(1, 2, 3), TIMING)) {
            for (int id = 1; id <= 3; id++) {
                cluster.start(id);
            }
            awaitImage(cluster.service(1), WAIT, "three live nodes", image -> image.liveNodes()
                    .equals(Set.of(1, 2, 3)));
            createTopic(cluster.service(1), "events", 6, 3);
            int coordinatorLeader = cluster.awaitLeader(WAIT);
            int victim = coordinatorLeader == 3 ? 2 : 3; // the controller keeps running on the leader
            int survivor = coordinatorLeader;
            awaitImage(cluster.service(survivor), WAIT, "two preferred leaderships each", image -> leaderCounts(image)
                    .equals(Map.of(1, 2, 2, 2, 3, 2)));

            cluster.stop(victim);

            Map<Integer, Integer> evenOverTheLiveNodes = new TreeMap<>(Map.of(1, 3, 2, 3, 3, 3));
            evenOverTheLiveNodes.remove(victim);
            ClusterImage fenced = awaitImage(
                    cluster.service(survivor),
                    WAIT,
                    "node " + victim + " fenced and the partitions it preferred led by the live nodes, three each",
                    image -> image.node(victim).fenced() && leaderCounts(image).equals(evenOverTheLiveNodes));
            for (List<Integer> replicas : fenced.topic("events").replicas().values()) {
                assertThat(replicas.get(0)).isNotEqualTo(victim);
                // Every live node is already a replica, so the fenced one cannot be replaced and stays last.
                assertThat(replicas).containsExactlyInAnyOrder(1, 2, 3).endsWith(victim);
            }

            cluster.start(victim);

            ClusterImage back = awaitImage(
                    cluster.service(survivor),
                    WAIT,
                    "node " + victim + " unfenced and the preferred leader of two partitions again",
                    image -> !image.node(victim).fenced() && leaderCounts(image).equals(Map.of(1, 2, 2, 2, 3, 2)));
            assertThat(back.topic("events").replicas().values())
                    .allSatisfy(replicas -> assertThat(replicas).containsExactlyInAnyOrder(1, 2, 3));
        }
    }

    @Test
    void shouldShowANodeThatIsNotAVoterTheTopicsCreatedThroughAVoter() throws Exception {
        try (CoordinatorTestCluster cluster = new CoordinatorTestCluster(dir, List.of(1, 2, 3), TIMING)) {
            for (int id = 1; id <= 4; id++) {
                cluster.start(id);
            }
            CoordinatorService voter = cluster.service(1);
            CoordinatorService follower = cluster.service(4);
            // Node 4 registers through the group's client like any node, though it hosts no member.
            awaitImage(
                    voter, WAIT, "four live nodes", image -> image.liveNodes().equals(Set.of(1, 2, 3, 4)));

            createTopic(voter, "events", 4, 4);

            // The submit completes when the leader applied it; voter 1 may be a follower a moment behind.
            ClusterImage created =
                    awaitImage(voter, WAIT, "voter 1 to apply topic events", image -> image.topic("events") != null);
            ClusterImage seen = awaitImage(
                    follower, WAIT, "the non-voter to see topic events", image -> image.topic("events") != null);
            assertThat(seen.topic("events").replicas())
                    .isEqualTo(created.topic("events").replicas());
            assertThat(follower.isLeader()).isFalse();
            assertThat(follower.awaitImage(created.version(), WAIT.toMillis())).isTrue();
        }
    }

    private static void createTopic(CoordinatorService service, String name, int partitions, int replicationFactor)
            throws Exception {
        CoordinatorResult result = service.submit(new CreateTopic(
                        name, Uuid.randomUuid().toString(), partitions, replicationFactor, Map.of(), null))
                .get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(result.error()).as(result.message()).isEqualTo(Errors.NONE);
    }

    /** How many partitions of the image prefer each node: a node that prefers none is left out. */
    private static Map<Integer, Integer> leaderCounts(ClusterImage image) {
        Map<Integer, Integer> counts = new TreeMap<>();
        image.topics().values().forEach(topic -> topic.replicas()
                .values()
                .forEach(replicas -> counts.merge(replicas.get(0), 1, Integer::sum)));
        return counts;
    }
}
