package dev.sluice.chaos.nemesis;

import dev.sluice.chaos.cluster.ChaosCluster;
import dev.sluice.chaos.cluster.ClusterHealth;
import dev.sluice.chaos.cluster.NodeState;
import dev.sluice.partitionstore.FaultPoints;
import dev.sluice.raft.DiskFaults;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * How each {@link FaultKind} is injected and healed. Process faults go to the chosen node's process; network
 * faults to every node's fault-injecting Raft transport ({@link dev.sluice.chaos.cluster.NetworkFaults}) and,
 * for client traffic, to the nodes' proxies; disk faults to the files of one stopped node.
 */
final class Faults {
    /** What was done, to whom, and how to undo it ({@code active == null}: nothing left to undo). */
    record Injected(String target, String detail, Nemesis.Active active) {}

    private static final long IN_SYNC_TIMEOUT_MS = 60_000;
    private static final long UNSYNCED_HALT_TIMEOUT_MS = 60_000;

    private final ChaosCluster cluster;
    private final Targets targets;
    private final Consumer<String> log;

    Faults(ChaosCluster cluster, Targets targets, Consumer<String> log) {
        this.cluster = cluster;
        this.targets = targets;
        this.log = log;
    }

    /** Injects one fault of {@code kind}; {@code null} if there is nothing to aim at now. */
    Injected inject(FaultKind kind, SplittableRandom random, long windowMs) throws Exception {
        return switch (kind) {
            case KILL -> kill(random);
            case TERM -> term(random);
            case PAUSE -> pause(random);
            case PARTITION -> partition(random);
            case LATENCY -> latency(random);
            case LOSS -> loss(random);
            case RESTART -> rollingRestart();
            case MEMBERSHIP -> membership(random);
            case DISK -> disk(random);
        };
    }

    private Injected kill(SplittableRandom random) throws InterruptedException {
        Optional<Targets.Target> target = targets.pick(random);
        if (target.isEmpty()) {
            return null;
        }
        int node = target.get().node();
        cluster.kill(node);
        return new Injected("node " + node, target.get().why() + ": SIGKILL", () -> cluster.restart(node));
    }

    private Injected term(SplittableRandom random) throws InterruptedException {
        Optional<Targets.Target> target = targets.pick(random);
        if (target.isEmpty()) {
            return null;
        }
        int node = target.get().node();
        boolean graceful = cluster.terminate(node);
        return new Injected(
                "node " + node,
                target.get().why() + ": SIGTERM" + (graceful ? "" : " (did not stop within a minute: SIGKILL)"),
                () -> cluster.restart(node));
    }

    private Injected pause(SplittableRandom random) throws InterruptedException {
        Optional<Targets.Target> target = targets.pick(random);
        if (target.isEmpty()) {
            return null;
        }
        int node = target.get().node();
        cluster.pause(node);
        return new Injected("node " + node, target.get().why() + ": SIGSTOP", () -> cluster.resume(node));
    }

    private Injected partition(SplittableRandom random) {
        List<Integer> members = cluster.memberNodes();
        if (members.size() < 2) {
            return null;
        }
        int shape = random.nextInt(3);
        if (shape == 0) {
            Optional<Targets.Target> target = targets.pick(random);
            if (target.isEmpty()) {
                return null;
            }
            int node = target.get().node();
            cluster.network().isolate(cluster, node);
            cluster.proxy(node).cut();
            return new Injected("node " + node, target.get().why() + ": isolated from nodes and clients", () -> {
                cluster.network().reset(cluster);
                cluster.proxy(node).heal();
            });
        }
        if (shape == 1) {
            List<Integer> shuffled = new ArrayList<>(members);
            Collections.shuffle(shuffled, new Random(random.nextLong()));
            int minority = (members.size() - 1) / 2;
            List<Integer> small = List.copyOf(shuffled.subList(0, Math.max(1, minority)));
            List<Integer> large = List.copyOf(shuffled.subList(Math.max(1, minority), shuffled.size()));
            cluster.network().split(cluster, small, large);
            return new Injected(
                    "nodes " + join(small) + " | " + join(large),
                    "majority/minority split between the nodes (clients reach both sides)",
                    () -> cluster.network().reset(cluster));
        }
        int from = members.get(random.nextInt(members.size()));
        int to;
        do {
            to = members.get(random.nextInt(members.size()));
        } while (to == from);
        int cutTo = to;
        cluster.network().cut(cluster, from, to);
        return new Injected(
                "nodes " + from + " -> " + to,
                "one-way cut: " + from + " cannot reach " + to + ", " + to + " still reaches " + from,
                () -> cluster.network().reset(cluster));
    }

    private Injected latency(SplittableRandom random) {
        long minMs = 5 + random.nextInt(30);
        long maxMs = minMs + 20 + random.nextInt(150);
        long clientMs = 10 + random.nextInt(60);
        cluster.network().degrade(cluster, 0, minMs, maxMs);
        for (int node : cluster.memberNodes()) {
            cluster.proxy(node).setDelayMs(clientMs);
        }
        return new Injected(
                "all links",
                "Raft links delayed " + minMs + "-" + maxMs + " ms, client connections " + clientMs + " ms",
                () -> {
                    cluster.network().reset(cluster);
                    for (int node : cluster.nodeIds()) {
                        cluster.proxy(node).setDelayMs(0);
                    }
                });
    }

    private Injected loss(SplittableRandom random) {
        double drop = 0.05 + random.nextInt(16) / 100.0;
        cluster.network().degrade(cluster, drop, 0, 0);
        return new Injected(
                "all links", String.format("Raft links lose %.0f%% of messages", drop * 100), () -> cluster.network()
                        .reset(cluster));
    }

    private Injected rollingRestart() throws Exception {
        List<Integer> members = cluster.memberNodes();
        for (int node : members) {
            if (cluster.state(node) != NodeState.RUNNING) {
                continue;
            }
            boolean graceful = cluster.terminate(node);
            log.accept("nemesis: rolling restart: node " + node + (graceful ? " stopped" : " killed after a minute"));
            cluster.restart(node);
        }
        return new Injected("nodes " + join(members), "rolling restart (SIGTERM, start, ready; one at a time)", null);
    }

    private Injected membership(SplittableRandom random) throws Exception {
        int added = cluster.addNode();
        List<Integer> candidates = cluster.memberNodes().stream()
                .filter(n -> !cluster.voters().contains(n) && n != added)
                .toList();
        if (candidates.isEmpty()) {
            return new Injected("node " + added, "added node " + added + " (no non-voter to remove)", null);
        }
        int removed = candidates.get(random.nextInt(candidates.size()));
        cluster.remove(removed);
        return new Injected(
                "nodes +" + added + " -" + removed,
                "added node " + added + ", removed node " + removed + " (its replicas move to live nodes)",
                null);
    }

    /**
     * Damages the files of one node while it is stopped: the tail of its newest segment or of a Raft log cut
     * off, a bit flipped in a closed segment, or the writes it had not fsynced lost (the node restarted with
     * the {@code unsynced-segment-write} fault point armed halts itself right after such a write, and its
     * files are cut to their synced lengths). Only when every replica is in sync, so that the damaged node is
     * the only one missing anything: one fault at a time, within what Raft survives.
     */
    private Injected disk(SplittableRandom random) throws Exception {
        String unsettled = ClusterHealth.awaitSettled(cluster, IN_SYNC_TIMEOUT_MS);
        if (unsettled != null) {
            log.accept("nemesis: no disk fault: the replicas are not all in sync (" + unsettled + ")");
            return null;
        }
        Optional<Targets.Target> target = targets.pick(random);
        if (target.isEmpty()) {
            return null;
        }
        int node = target.get().node();
        Path dataDir = cluster.dataDir(node);
        Random damageRandom = new Random(random.nextLong());
        int what = random.nextInt(4);
        cluster.kill(node);
        DiskFaults.Damage damage =
                switch (what) {
                    case 0 -> DiskFaults.truncateNewestSegment(dataDir, damageRandom);
                    case 1 -> DiskFaults.truncateRaftLog(dataDir, damageRandom);
                    case 2 -> DiskFaults.flipBitInClosedSegment(dataDir, damageRandom);
                    default -> loseUnsyncedWrites(node, dataDir, damageRandom);
                };
        return new Injected(
                "node " + node,
                target.get().why() + ": SIGKILL, then " + damage.fault() + ": " + damage.description(),
                () -> cluster.restart(node));
    }

    private DiskFaults.Damage loseUnsyncedWrites(int node, Path dataDir, Random random) throws Exception {
        int nth = 20 + random.nextInt(200);
        cluster.startWith(node, List.of("-D" + FaultPoints.PROPERTY + "=unsynced-segment-write=" + nth));
        int status = cluster.awaitExit(node, UNSYNCED_HALT_TIMEOUT_MS);
        if (status != FaultPoints.HALT_STATUS) {
            log.accept("nemesis: node " + node + " armed at segment write " + nth + " did not halt (status " + status
                    + "); killed it");
        }
        return DiskFaults.truncateToSynced(dataDir);
    }

    private static String join(List<Integer> nodes) {
        return nodes.stream().map(String::valueOf).collect(Collectors.joining(","));
    }
}
