package dev.sluice.propertytests;

import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;

/**
 * A seeded simulation of a whole Sluice cluster in one JVM: three real nodes (Kafka listener, coordinator group,
 * a Raft group per partition, RocksDB, segment files) whose Raft traffic — replication, elections and the nodes'
 * own Ratis clients (heartbeats, markers, installs) — crosses one shared fault injector, driven by real Kafka
 * clients (the chaos harness's queue workload: idempotent producers, assign-mode readers, a consumer group).
 * jqwik generates the injector's seed and 4 to 7 {@link ClusterSimulation.Step steps}: isolating a node, a
 * majority/minority split, a one-way cut, lossy or slow links, restarting a node on its data, healing. After every
 * step the chaos checker judges the history so far and no safety anomaly may appear (loss, duplicates,
 * inconsistent offsets, reordering, skips, aborted or unknown values); at the end everything is healed, every
 * partition is read to its end, and the full verdict must be valid with byte-identical replicas.
 *
 * <p>A failure names the injector seed and the steps (and jqwik prints its seed, which regenerates the same
 * scenario); the seed fixes each link's drop and delay draws, not thread timing. Shrinking is off: a try takes
 * about a minute.
 */
class ClusterSimulationProperties {
    @Property(tries = 2, edgeCases = EdgeCasesMode.NONE, shrinking = ShrinkingMode.OFF)
    void aClusterUnderNetworkFaultsAndRestartsLosesNothingAcknowledged(
            @ForAll("scenarios") ClusterSimulation.Scenario scenario) throws Exception {
        ClusterSimulation.run(scenario);
    }

    @Provide
    Arbitrary<ClusterSimulation.Scenario> scenarios() {
        Arbitrary<ClusterSimulation.Step> step = Arbitraries.oneOf(
                Arbitraries.integers().between(1, 3).map(ClusterSimulation.Isolate::new),
                Arbitraries.integers().between(1, 3).map(ClusterSimulation.Split::new),
                Combinators.combine(
                                Arbitraries.integers().between(1, 3),
                                Arbitraries.integers().between(1, 2))
                        .as((from, offset) -> new ClusterSimulation.CutOneWay(from, (from - 1 + offset) % 3 + 1)),
                Combinators.combine(
                                Arbitraries.doubles().between(0.0, 0.2).ofScale(2),
                                Arbitraries.longs().between(0, 150))
                        .as(ClusterSimulation.Degrade::new),
                Arbitraries.integers().between(1, 3).map(ClusterSimulation.Restart::new),
                Arbitraries.just(new ClusterSimulation.HealAll()));
        Arbitrary<List<ClusterSimulation.Step>> steps = step.list().ofMinSize(4).ofMaxSize(7);
        return Combinators.combine(Arbitraries.longs(), steps).as(ClusterSimulation.Scenario::new);
    }
}
