package dev.sluice.propertytests;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.broker.BrokerConfig;
import dev.sluice.broker.InProcessCluster;
import dev.sluice.broker.SluiceNode;
import dev.sluice.chaos.check.Anomaly;
import dev.sluice.chaos.check.Checker;
import dev.sluice.chaos.check.Verdict;
import dev.sluice.chaos.cluster.ClusterHealth;
import dev.sluice.chaos.cluster.NodeStatus;
import dev.sluice.chaos.history.History;
import dev.sluice.chaos.history.HistoryRecorder;
import dev.sluice.chaos.history.Isolation;
import dev.sluice.chaos.history.RunInfo;
import dev.sluice.chaos.run.ClusterChecks;
import dev.sluice.chaos.run.FinalReads;
import dev.sluice.chaos.workload.QueueWorkload;
import dev.sluice.chaos.workload.RunContext;
import dev.sluice.chaos.workload.Values;
import dev.sluice.raft.transport.FaultInjector;
import dev.sluice.raft.transport.LinkFaults;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.TopicPartition;

/**
 * One run of {@link ClusterSimulationProperties}: starts three in-process nodes on the fault-injecting transport
 * with one shared injector, runs the queue workload, plays the steps (three seconds each) checking the history
 * after each, heals, settles, reads everything, checks the full verdict and the replicas' files. Every failure
 * message carries the scenario and a trace of what each step did.
 *
 * <p>Not thread-safe: one test thread drives it; every wait has a deadline.
 */
final class ClusterSimulation {
    /**
     * The anomalies that can be judged only at the end: those that need the final reads, and a value read before
     * its send's acknowledgement came back (a send is recorded when it completes). The others must never
     * appear, even mid-run.
     */
    private static final Set<Anomaly> NEED_FINAL_READS =
            EnumSet.of(Anomaly.UNSEEN, Anomaly.VANISHED, Anomaly.UNKNOWN_VALUE);

    private static final long STEP_MS = 3_000;
    private static final long SETTLE_MS = 120_000;
    private static final int NODES = 3;

    /** A fault or repair, played for {@link #STEP_MS}. */
    sealed interface Step permits Isolate, Split, CutOneWay, Degrade, Restart, HealAll {}

    /** Cuts every Raft link into and out of a node. */
    record Isolate(int node) implements Step {}

    /** Cuts a node off from the two others (a minority of one). */
    record Split(int node) implements Step {}

    /** Cuts {@code from -> to} only. */
    record CutOneWay(int from, int to) implements Step {}

    /** Every link loses messages and delays them. */
    record Degrade(double dropProbability, long delayMaxMs) implements Step {}

    /** Stops a node gracefully and starts it again on its data (after healing the network). */
    record Restart(int node) implements Step {}

    /** Every link healthy again. */
    record HealAll() implements Step {}

    /** The injector's seed and the steps. */
    record Scenario(long seed, List<Step> steps) {}

    private final Scenario scenario;
    private final List<String> trace = new ArrayList<>();

    private ClusterSimulation(Scenario scenario) {
        this.scenario = scenario;
    }

    static void run(Scenario scenario) throws Exception {
        new ClusterSimulation(scenario).play();
    }

    private void play() throws Exception {
        Path dir = Files.createTempDirectory("cluster-simulation");
        String injectorName = "cluster-simulation-" + Long.toUnsignedString(scenario.seed(), 36);
        Map<String, String> settings = Map.of(
                "raft.rpc.type", "faulty",
                "raft.fault.injector", injectorName,
                "raft.fault.seed", Long.toString(scenario.seed()),
                "offsets.topic.num.partitions", "2",
                "log.segment.bytes", "65536",
                "raft.snapshot.threshold.entries", "500",
                "group.initial.rebalance.delay.ms", "200",
                "replica.lag.time.max.ms", "10000");
        List<SluiceNode> nodes = new ArrayList<>();
        HistoryRecorder history = new HistoryRecorder(
                new RunInfo("cluster-simulation", scenario.seed(), NODES, List.of("simulated"), "queue", 0, 0), null);
        try {
            String bootstrap = InProcessCluster.start(dir, NODES, settings, nodes);
            FaultInjector injector = FaultInjector.lookup(injectorName)
                    .orElseThrow(() -> new IllegalStateException("no injector " + injectorName + " registered"));
            RunContext context = new RunContext(history, new Values(128), () -> bootstrap, trace::add);
            try (QueueWorkload workload = new QueueWorkload(context, 3, 3, 2, 80, scenario.seed())) {
                try (Admin admin = admin(bootstrap)) {
                    workload.setUp(admin);
                }
                workload.start();
                for (int i = 0; i < scenario.steps().size(); i++) {
                    Step step = scenario.steps().get(i);
                    trace.add("step " + i + ": " + step);
                    apply(step, injector, nodes);
                    Thread.sleep(STEP_MS);
                    assertNoSafetyAnomaly(history.snapshot(), "after step " + i + " (" + step + ")");
                }
                injector.reset();
                trace.add("healed");
                String unsettled = awaitSettled(bootstrap);
                assertThat(unsettled)
                        .as(describe("the cluster settles within %d s", SETTLE_MS / 1000))
                        .isNull();
                workload.stopWriters();
                workload.stopReaders();
                FinalReads reads = new FinalReads(() -> bootstrap, trace::add);
                List<String> problems = new ArrayList<>();
                problems.addAll(reads.read(workload.topics(), Isolation.READ_UNCOMMITTED, history, 60_000));
                problems.addAll(reads.read(workload.topics(), Isolation.READ_COMMITTED, history, 60_000));
                problems.addAll(workload.ownChecks());
                Map<TopicPartition, List<Integer>> replicas;
                try (Admin admin = admin(bootstrap)) {
                    replicas = ClusterHealth.replicas(admin);
                }
                List<Path> dataDirs =
                        nodes.stream().map(n -> n.config().dataDir()).toList();
                List<Integer> httpPorts =
                        nodes.stream().map(SluiceNode::httpPort).toList();
                ClusterHealth.Converged converged = ClusterHealth.awaitConverged(
                        n -> NodeStatus.fetch(httpPorts.get(n - 1)), List.of(1, 2, 3), 60_000);
                if (converged.problem() != null) {
                    problems.add("the replicas did not converge within 60 s: " + converged.problem());
                }
                closeAll(nodes);
                List<String> mismatches =
                        ClusterChecks.compareReplicas(replicas, n -> dataDirs.get(n - 1), converged.ends());
                Verdict verdict = new Checker()
                        .check(history.snapshot())
                        .withClusterChecks(mismatches, List.of())
                        .withRunProblems(problems);
                assertThat(verdict.valid())
                        .as(describe("the final verdict is valid: %s", summary(verdict)))
                        .isTrue();
            }
        } finally {
            closeAll(nodes);
        }
    }

    private void apply(Step step, FaultInjector injector, List<SluiceNode> nodes) throws Exception {
        if (step instanceof Isolate s) {
            injector.isolate(peer(s.node()));
        } else if (step instanceof Split s) {
            for (int other = 1; other <= NODES; other++) {
                if (other != s.node()) {
                    injector.partition(peer(s.node()), peer(other));
                }
            }
        } else if (step instanceof CutOneWay s) {
            injector.cut(peer(s.from()), peer(s.to()));
        } else if (step instanceof Degrade s) {
            injector.setDefaultFaults(
                    LinkFaults.NONE.withDropProbability(s.dropProbability()).withDelayMs(0, s.delayMaxMs()));
        } else if (step instanceof Restart s) {
            injector.reset(); // a restart with the network cut would be two faults at once
            SluiceNode old = nodes.get(s.node() - 1);
            BrokerConfig config = old.config();
            old.close();
            nodes.set(s.node() - 1, SluiceNode.start(config));
        } else {
            injector.reset();
        }
    }

    private void assertNoSafetyAnomaly(History history, String when) {
        Verdict verdict = new Checker().check(history);
        List<String> found = new ArrayList<>();
        verdict.counts().forEach((kind, count) -> {
            if (count > 0 && !NEED_FINAL_READS.contains(kind)) {
                found.add(
                        kind.jsonName() + "=" + count + " " + verdict.examples().get(kind));
            }
        });
        assertThat(found).as(describe("no safety anomaly %s", when)).isEmpty();
    }

    private static String awaitSettled(String bootstrap) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SETTLE_MS);
        String why = "not asked yet";
        try (Admin admin = admin(bootstrap)) {
            while (System.nanoTime() < deadline) {
                why = ClusterHealth.unsettledPartitions(admin, List.of(1, 2, 3));
                if (why == null) {
                    return null;
                }
                Thread.sleep(500);
            }
        }
        return why;
    }

    private static Admin admin(String bootstrap) {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000);
        return Admin.create(props);
    }

    private static void closeAll(List<SluiceNode> nodes) {
        for (SluiceNode node : nodes) {
            node.close();
        }
        nodes.clear();
    }

    private static String peer(int node) {
        return Integer.toString(node);
    }

    private static String summary(Verdict verdict) {
        return verdict.anomalies().stream()
                        .map(a -> a.jsonName() + "=" + verdict.count(a) + " "
                                + verdict.examples().get(a))
                        .collect(Collectors.joining("; "))
                + " replicas " + verdict.replicaMismatches() + " problems " + verdict.runProblems();
    }

    private String describe(String what, Object... args) {
        return String.format(what, args) + " — scenario seed " + scenario.seed() + ", steps " + scenario.steps()
                + "\ntrace:\n  " + String.join("\n  ", trace);
    }
}
