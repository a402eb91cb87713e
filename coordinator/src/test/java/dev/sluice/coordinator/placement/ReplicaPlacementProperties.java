package dev.sluice.coordinator.placement;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/**
 * Properties of {@link ReplicaPlacement}. Clusters have up to eight live nodes (ids 0..20) and up to
 * three dead ones (ids 21..25) and existing partitions of topics {@code t0..t2} with one to four replicas
 * on any of them; the balance is checked against an exhaustive search over every choice of leaders.
 */
class ReplicaPlacementProperties {
    private static final String NEW_TOPIC = "new";

    // ---- place ----

    @Property(tries = 300)
    void replicasOfAPartitionAreDistinctLiveNodes(
            @ForAll("clusters") ClusterLoad load,
            @ForAll @IntRange(min = 1, max = 8) int replicationFactor,
            @ForAll @IntRange(min = 0, max = 12) int count) {
        Assume.that(replicationFactor <= load.liveNodes().size());

        List<Assignment> placed = ReplicaPlacement.place(load, NEW_TOPIC, 3, count, replicationFactor);

        assertThat(placed).hasSize(count);
        for (int i = 0; i < count; i++) {
            Assignment assignment = placed.get(i);
            assertThat(assignment.topic()).isEqualTo(NEW_TOPIC);
            assertThat(assignment.partition()).isEqualTo(3 + i);
            assertThat(assignment.replicas()).hasSize(replicationFactor).doesNotHaveDuplicates();
            assertThat(load.liveNodes()).containsAll(assignment.replicas());
        }
    }

    @Property(tries = 300)
    void replicaCountsDifferByAtMostOneAfterPlacingOnAnEmptyCluster(@ForAll("topicsOnEmptyClusters") Scenario s) {
        List<Assignment> all = new ArrayList<>();
        for (TopicRequest topic : s.topics()) {
            all.addAll(ReplicaPlacement.place(
                    new ClusterLoad(s.liveNodes(), all), topic.name(), 0, topic.count(), topic.replicationFactor()));
            assertThat(spread(replicaCounts(s.liveNodes(), all))).isLessThanOrEqualTo(1);
        }
    }

    @Property(tries = 300)
    void preferredLeadersDifferByAtMostOneAfterPlacingOnAnEmptyCluster(@ForAll("topicsOnEmptyClusters") Scenario s) {
        List<Assignment> all = new ArrayList<>();
        for (TopicRequest topic : s.topics()) {
            all.addAll(ReplicaPlacement.place(
                    new ClusterLoad(s.liveNodes(), all), topic.name(), 0, topic.count(), topic.replicationFactor()));
            assertThat(spread(leaderCounts(s.liveNodes(), all))).isLessThanOrEqualTo(1);
        }
    }

    @Property(tries = 300)
    void successivePartitionsOfATopicStartOnDifferentNodesOnAnEmptyCluster(
            @ForAll("topicsOnEmptyClusters") Scenario s) {
        Assume.that(s.liveNodes().size() >= 2);
        List<Assignment> all = new ArrayList<>();
        for (TopicRequest topic : s.topics()) {
            List<Assignment> placed = ReplicaPlacement.place(
                    new ClusterLoad(s.liveNodes(), all), topic.name(), 0, topic.count(), topic.replicationFactor());
            for (int i = 1; i < placed.size(); i++) {
                assertThat(placed.get(i).preferredLeader())
                        .isNotEqualTo(placed.get(i - 1).preferredLeader());
            }
            all.addAll(placed);
        }
    }

    @Property(tries = 300)
    void eachNewPartitionGoesToTheLeastLoadedNodes(
            @ForAll("clusters") ClusterLoad load, @ForAll @IntRange(min = 1, max = 8) int replicationFactor) {
        Assume.that(replicationFactor <= load.liveNodes().size());
        Map<Integer, Integer> before = replicaCounts(load.liveNodes(), load.assignments());

        List<Integer> chosen = ReplicaPlacement.place(load, NEW_TOPIC, 0, 1, replicationFactor)
                .get(0)
                .replicas();

        int mostLoadedChosen = chosen.stream().mapToInt(before::get).max().orElseThrow();
        load.liveNodes().stream().filter(node -> !chosen.contains(node)).forEach(node -> assertThat(before.get(node))
                .isGreaterThanOrEqualTo(mostLoadedChosen));
    }

    @Property(tries = 300)
    void placementNeverWidensAReplicaSpreadAboveOne(
            @ForAll("clusters") ClusterLoad load,
            @ForAll @IntRange(min = 1, max = 8) int replicationFactor,
            @ForAll @IntRange(min = 0, max = 12) int count) {
        Assume.that(replicationFactor <= load.liveNodes().size());

        List<Assignment> all = new ArrayList<>(load.assignments());
        all.addAll(ReplicaPlacement.place(load, NEW_TOPIC, 0, count, replicationFactor));

        int spreadBefore = spread(replicaCounts(load.liveNodes(), load.assignments()));
        assertThat(spread(replicaCounts(load.liveNodes(), all))).isLessThanOrEqualTo(Math.max(spreadBefore, 1));
    }

    @Property(tries = 200)
    void placementIsDeterministic(
            @ForAll("clusters") ClusterLoad load,
            @ForAll @IntRange(min = 1, max = 8) int replicationFactor,
            @ForAll @IntRange(min = 0, max = 12) int count,
            @ForAll long shuffleSeed) {
        Assume.that(replicationFactor <= load.liveNodes().size());
        ClusterLoad shuffled = shuffled(load, shuffleSeed);

        assertThat(ReplicaPlacement.place(shuffled, "t1", 8, count, replicationFactor))
                .isEqualTo(ReplicaPlacement.place(load, "t1", 8, count, replicationFactor));
        assertThat(ReplicaPlacement.replaceDeadReplicas(shuffled))
                .isEqualTo(ReplicaPlacement.replaceDeadReplicas(load));
        assertThat(ReplicaPlacement.balancePreferredLeaders(shuffled))
                .isEqualTo(ReplicaPlacement.balancePreferredLeaders(load));
    }

    // ---- replaceDeadReplicas ----

    @Property(tries = 300)
    void replacingDeadReplicasKeepsLiveOnesAndRestoresReplicationFactorWhenPossible(
            @ForAll("clusters") ClusterLoad load) {
        Map<String, Assignment> replaced = byPartition(ReplicaPlacement.replaceDeadReplicas(load));

        for (Assignment old : load.assignments()) {
            List<Integer> live =
                    old.replicas().stream().filter(load.liveNodes()::contains).toList();
            int dead = old.replicas().size() - live.size();
            Assignment now = replaced.getOrDefault(key(old), old);
            if (dead == 0) {
                assertThat(replaced).doesNotContainKey(key(old));
                continue;
            }
            int spareNodes = load.liveNodes().size() - live.size();
            int stillDead = Math.max(0, dead - spareNodes);
            assertThat(now.replicas()).hasSize(old.replicas().size());
            assertThat(now.replicas().subList(0, live.size())).isEqualTo(live);
            List<Integer> added =
                    now.replicas().subList(live.size(), now.replicas().size());
            assertThat(added.stream().filter(load.liveNodes()::contains)).hasSize(dead - stillDead);
            assertThat(added.stream().filter(node -> !load.liveNodes().contains(node)))
                    .hasSize(stillDead)
                    .allSatisfy(node -> assertThat(old.replicas()).contains(node));
            assertThat(replaced.containsKey(key(old))).isEqualTo(!now.replicas().equals(old.replicas()));
        }
        assertThat(replaced.keySet()).isSubsetOf(byPartition(load.assignments()).keySet());
    }

    // ---- balancePreferredLeaders ----

    @Property(tries = 300)
    void balancingNeverChangesReplicaSets(@ForAll("clusters") ClusterLoad load) {
        Map<String, Assignment> before = byPartition(load.assignments());

        for (Assignment balanced : ReplicaPlacement.balancePreferredLeaders(load)) {
            Assignment old = before.get(key(balanced));
            assertThat(old).isNotNull();
            assertThat(balanced.replicas()).containsExactlyInAnyOrderElementsOf(old.replicas());
            assertThat(balanced.preferredLeader()).isNotEqualTo(old.preferredLeader());
            assertThat(load.liveNodes()).contains(balanced.preferredLeader());
            List<Integer> others = new ArrayList<>(old.replicas());
            others.remove(Integer.valueOf(balanced.preferredLeader()));
            assertThat(balanced.replicas().subList(1, balanced.replicas().size()))
                    .isEqualTo(others);
        }
    }

    /**
     * The strongest claim, against an exhaustive search over every choice of one live replica per
     * partition: no choice has a smaller largest count or a larger smallest count than the balanced one.
     */
    @Property(tries = 300)
    void balancingReachesTheMostEvenLeaderCountsTheReplicaSetsAllow(@ForAll("smallClusters") ClusterLoad load) {
        List<Assignment> after = apply(load.assignments(), ReplicaPlacement.balancePreferredLeaders(load));
        Map<Integer, Integer> counts = leaderCounts(load.liveNodes(), after);
        int[] best = bestAchievableMaxAndMin(load);

        assertThat(Collections.max(counts.values())).isEqualTo(best[0]);
        assertThat(Collections.min(counts.values())).isEqualTo(best[1]);
    }

    /**
     * Leader counts within one are achievable whenever some order of the replica lists achieves them; here
     * that is guaranteed by building the replica sets with {@link ReplicaPlacement#place} on an empty
     * cluster (whose leaders are within one) and then rotating every list by a random amount.
     */
    @Property(tries = 200)
    void balancingLeavesLeaderCountsWithinOneWhenAchievable(
            @ForAll("topicsOnEmptyClusters") Scenario s, @ForAll long rotationSeed) {
        List<Assignment> all = new ArrayList<>();
        for (TopicRequest topic : s.topics()) {
            all.addAll(ReplicaPlacement.place(
                    new ClusterLoad(s.liveNodes(), all), topic.name(), 0, topic.count(), topic.replicationFactor()));
        }
        Random random = new Random(rotationSeed);
        List<Assignment> rotated = new ArrayList<>();
        for (Assignment assignment : all) {
            List<Integer> replicas = new ArrayList<>(assignment.replicas());
            Collections.rotate(replicas, random.nextInt(replicas.size()));
            rotated.add(new Assignment(assignment.topic(), assignment.partition(), replicas));
        }
        ClusterLoad load = new ClusterLoad(s.liveNodes(), rotated);

        List<Assignment> after = apply(rotated, ReplicaPlacement.balancePreferredLeaders(load));

        assertThat(spread(leaderCounts(s.liveNodes(), after))).isLessThanOrEqualTo(1);
    }

    @Property(tries = 300)
    void balancingTwiceChangesNothingTheSecondTime(@ForAll("clusters") ClusterLoad load) {
        List<Assignment> once = apply(load.assignments(), ReplicaPlacement.balancePreferredLeaders(load));

        assertThat(ReplicaPlacement.balancePreferredLeaders(new ClusterLoad(load.liveNodes(), once)))
                .isEmpty();
    }

    @Property(tries = 300)
    void cappedBalancingMovesAtMostTheCapOrOneChainOfLiveLeaders(
            @ForAll("clusters") ClusterLoad load, @ForAll @IntRange(min = 1, max = 4) int movesMax) {
        Map<String, Assignment> before = byPartition(load.assignments());

        List<Assignment> changes = ReplicaPlacement.balancePreferredLeaders(load, movesMax);

        long movedLiveLeaders = changes.stream()
                .filter(c -> load.liveNodes().contains(before.get(key(c)).preferredLeader()))
                .count();
        assertThat(movedLiveLeaders)
                .isLessThanOrEqualTo(Math.max(movesMax, load.liveNodes().size() - 1));
        long deadLeadersWithALiveReplica = load.assignments().stream()
                .filter(a -> !load.liveNodes().contains(a.preferredLeader()))
                .filter(a -> a.replicas().stream().anyMatch(load.liveNodes()::contains))
                .count();
        assertThat(changes.size() - movedLiveLeaders).isEqualTo(deadLeadersWithALiveReplica);
    }

    /**
     * The controller's passes: each applies a capped answer to the image and the next one starts from
     * there. They end (each pass after the first lowers the sum of squared counts, which starts below the
     * square of the partition count) at the leader counts of one uncapped call.
     */
    @Property(tries = 300)
    void cappedBalancingRepeatedEndsAtTheCountsOfUncappedBalancing(
            @ForAll("clusters") ClusterLoad load, @ForAll @IntRange(min = 1, max = 4) int movesMax) {
        List<Integer> uncapped = sortedCounts(leaderCounts(
                load.liveNodes(), apply(load.assignments(), ReplicaPlacement.balancePreferredLeaders(load))));
        List<Assignment> current = load.assignments();
        int passes = 0;
        List<Assignment> changes;
        do {
            changes = ReplicaPlacement.balancePreferredLeaders(new ClusterLoad(load.liveNodes(), current), movesMax);
            current = apply(current, changes);
            passes++;
            assertThat(passes)
                    .isLessThanOrEqualTo(
                            load.assignments().size() * load.assignments().size() + 1);
        } while (!changes.isEmpty());

        assertThat(sortedCounts(leaderCounts(load.liveNodes(), current))).isEqualTo(uncapped);
    }

    // ---- generators ----

    record TopicRequest(String name, int count, int replicationFactor) {}

    record Scenario(SortedSet<Integer> liveNodes, List<TopicRequest> topics) {}

    @Provide
    Arbitrary<ClusterLoad> clusters() {
        return clusters(8, 3, 24);
    }

    @Provide
    Arbitrary<ClusterLoad> smallClusters() {
        return clusters(5, 2, 7);
    }

    private static Arbitrary<ClusterLoad> clusters(int maxLive, int maxDead, int maxPartitions) {
        Arbitrary<Set<Integer>> live =
                Arbitraries.integers().between(0, 20).set().ofMinSize(1).ofMaxSize(maxLive);
        Arbitrary<Set<Integer>> dead =
                Arbitraries.integers().between(21, 25).set().ofMaxSize(maxDead);
        return Combinators.combine(live, dead).flatAs((liveNodes, deadNodes) -> {
            List<Integer> nodes = new ArrayList<>(new TreeSet<>(liveNodes));
            nodes.addAll(new TreeSet<>(deadNodes));
            int maxReplicas = Math.min(4, nodes.size());
            Arbitrary<List<Integer>> replicas = Arbitraries.shuffle(nodes).flatMap(order -> Arbitraries.integers()
                    .between(1, maxReplicas)
                    .map(size -> List.copyOf(order.subList(0, size))));
            return replicas.list()
                    .ofMaxSize(maxPartitions)
                    .map(lists -> new ClusterLoad(new TreeSet<>(liveNodes), assignments(lists)));
        });
    }

    /** One to ten live nodes and one to five topics of up to twenty partitions each. */
    @Provide
    Arbitrary<Scenario> topicsOnEmptyClusters() {
        Arbitrary<Set<Integer>> live =
                Arbitraries.integers().between(0, 50).set().ofMinSize(1).ofMaxSize(10);
        Arbitrary<List<int[]>> requests = Combinators.combine(
                        Arbitraries.integers().between(0, 20),
                        Arbitraries.integers().between(0, 1000))
                .as((count, replicationSeed) -> new int[] {count, replicationSeed})
                .list()
                .ofMinSize(1)
                .ofMaxSize(5);
        return Combinators.combine(live, requests).as((liveNodes, rawRequests) -> {
            List<TopicRequest> topics = new ArrayList<>();
            for (int i = 0; i < rawRequests.size(); i++) {
                int[] raw = rawRequests.get(i);
                topics.add(new TopicRequest("topic" + i, raw[0], 1 + raw[1] % liveNodes.size()));
            }
            return new Scenario(new TreeSet<>(liveNodes), topics);
        });
    }

    private static List<Assignment> assignments(List<List<Integer>> replicaLists) {
        List<Assignment> assignments = new ArrayList<>();
        for (int i = 0; i < replicaLists.size(); i++) {
            assignments.add(new Assignment("t" + i % 3, i / 3, replicaLists.get(i)));
        }
        return assignments;
    }

    // ---- helpers and the reference ----

    /** The smallest largest count and the largest smallest count over every choice of live leaders. */
    private static int[] bestAchievableMaxAndMin(ClusterLoad load) {
        List<Integer> nodes = new ArrayList<>(load.liveNodes());
        List<List<Integer>> choices = new ArrayList<>();
        for (Assignment assignment : load.assignments()) {
            List<Integer> live = assignment.replicas().stream()
                    .filter(load.liveNodes()::contains)
                    .toList();
            if (!live.isEmpty()) {
                choices.add(live);
            }
        }
        int[] best = {Integer.MAX_VALUE, Integer.MIN_VALUE};
        search(choices, 0, new HashMap<>(), nodes, best);
        return best;
    }

    private static void search(
            List<List<Integer>> choices, int next, Map<Integer, Integer> counts, List<Integer> nodes, int[] best) {
        if (next == choices.size()) {
            int max = nodes.stream()
                    .mapToInt(node -> counts.getOrDefault(node, 0))
                    .max()
                    .orElseThrow();
            int min = nodes.stream()
                    .mapToInt(node -> counts.getOrDefault(node, 0))
                    .min()
                    .orElseThrow();
            best[0] = Math.min(best[0], max);
            best[1] = Math.max(best[1], min);
            return;
        }
        for (int node : choices.get(next)) {
            counts.merge(node, 1, Integer::sum);
            search(choices, next + 1, counts, nodes, best);
            counts.merge(node, -1, Integer::sum);
        }
    }

    private static List<Assignment> apply(List<Assignment> assignments, List<Assignment> changes) {
        Map<String, Assignment> changed = byPartition(changes);
        return assignments.stream()
                .map(assignment -> changed.getOrDefault(key(assignment), assignment))
                .toList();
    }

    private static ClusterLoad shuffled(ClusterLoad load, long seed) {
        List<Assignment> assignments = new ArrayList<>(load.assignments());
        Collections.shuffle(assignments, new Random(seed));
        return new ClusterLoad(load.liveNodes(), assignments);
    }

    private static Map<String, Assignment> byPartition(List<Assignment> assignments) {
        Map<String, Assignment> byPartition = new HashMap<>();
        for (Assignment assignment : assignments) {
            assertThat(byPartition.put(key(assignment), assignment)).isNull();
        }
        return byPartition;
    }

    private static String key(Assignment assignment) {
        return assignment.topic() + "-" + assignment.partition();
    }

    private static Map<Integer, Integer> replicaCounts(Set<Integer> liveNodes, List<Assignment> assignments) {
        Map<Integer, Integer> counts = zeroCounts(liveNodes);
        for (Assignment assignment : assignments) {
            for (int node : assignment.replicas()) {
                counts.computeIfPresent(node, (n, count) -> count + 1);
            }
        }
        return counts;
    }

    private static Map<Integer, Integer> leaderCounts(Set<Integer> liveNodes, List<Assignment> assignments) {
        Map<Integer, Integer> counts = zeroCounts(liveNodes);
        for (Assignment assignment : assignments) {
            counts.computeIfPresent(assignment.preferredLeader(), (n, count) -> count + 1);
        }
        return counts;
    }

    private static Map<Integer, Integer> zeroCounts(Set<Integer> liveNodes) {
        Map<Integer, Integer> counts = new HashMap<>();
        liveNodes.forEach(node -> counts.put(node, 0));
        return counts;
    }

    private static List<Integer> sortedCounts(Map<Integer, Integer> counts) {
        return counts.values().stream().sorted().toList();
    }

    private static int spread(Map<Integer, Integer> counts) {
        return Collections.max(counts.values()) - Collections.min(counts.values());
    }
}
