package dev.sluice.chaos.nemesis;

import dev.sluice.chaos.cluster.ChaosCluster;
import dev.sluice.chaos.cluster.NodeState;
import dev.sluice.chaos.history.HistoryRecorder;
import dev.sluice.chaos.history.NemesisEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * The nemesis of a chaos run: one thread that, until the fault phase is over, waits a quiet while, picks a
 * fault kind and a target from its seed, injects the fault, holds it for the fault window, heals it, and
 * records both ends as a {@link NemesisEvent}. One fault at a time, so at most one node is down, paused,
 * isolated or damaged at any moment (a minority for 3 and 5 nodes). {@link #healAll()} undoes everything
 * still in effect before the final phase.
 *
 * <p>Not thread-safe: driven from one thread.
 */
public final class Nemesis {
    /** The quiet and fault windows, drawn uniformly from their ranges. */
    public record Timing(long quietMinMs, long quietMaxMs, long faultMinMs, long faultMaxMs) {
        /** The timing of the default runs: faults of 4–12 s, 2–6 s apart. */
        public static final Timing DEFAULT = new Timing(2_000, 6_000, 4_000, 12_000);
    }

    /** A fault in effect and how to heal it. */
    interface Active {
        void heal() throws Exception;
    }

    private final ChaosCluster cluster;
    private final HistoryRecorder history;
    private final List<FaultKind> kinds;
    private final SplittableRandom random;
    private final Timing timing;
    private final Targets targets;
    private final Faults faults;
    private final Consumer<String> log;
    private final List<String> problems = new ArrayList<>();
    private final int[] injected = new int[FaultKind.values().length];

    public Nemesis(
            ChaosCluster cluster,
            HistoryRecorder history,
            List<FaultKind> kinds,
            long seed,
            Timing timing,
            List<String> topics,
            List<String> groups,
            Consumer<String> log) {
        this.cluster = cluster;
        this.history = history;
        this.kinds = List.copyOf(kinds);
        this.random = new SplittableRandom(seed);
        this.timing = timing;
        this.targets = new Targets(cluster, topics, groups);
        this.log = log;
        this.faults = new Faults(cluster, targets, log);
    }

    /** Injects faults until {@code durationMs} have passed, then heals what is in effect. */
    public void run(long durationMs) throws InterruptedException {
        long endNs = System.nanoTime() + durationMs * 1_000_000L;
        while (System.nanoTime() < endNs) {
            Thread.sleep(between(timing.quietMinMs(), timing.quietMaxMs()));
            if (System.nanoTime() >= endNs) {
                break;
            }
            FaultKind kind = kinds.get(random.nextInt(kinds.size()));
            long windowMs = between(timing.faultMinMs(), timing.faultMaxMs());
            one(kind, windowMs);
        }
    }

    private void one(FaultKind kind, long windowMs) throws InterruptedException {
        long startNs = history.nowNs();
        Faults.Injected injectedFault;
        try {
            injectedFault = faults.inject(kind, random, windowMs);
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            problems.add(kind.cliName() + ": could not inject: " + e);
            log.accept("nemesis: " + kind.cliName() + " could not be injected: " + e);
            return;
        }
        if (injectedFault == null) {
            return; // nothing to aim at right now
        }
        injected[kind.ordinal()]++;
        log.accept(String.format(
                "nemesis: %s on %s (%s) for %d ms",
                kind.cliName(), injectedFault.target(), injectedFault.detail(), windowMs));
        if (injectedFault.active() != null) {
            Thread.sleep(windowMs);
        }
        String outcome = heal(kind, injectedFault);
        long endNs = history.nowNs();
        history.nemesis(new NemesisEvent(
                startNs,
                endNs,
                kind.cliName(),
                injectedFault.target(),
                injectedFault.detail() + (outcome.isEmpty() ? "" : "; " + outcome)));
    }

    private String heal(FaultKind kind, Faults.Injected fault) throws InterruptedException {
        if (fault.active() == null) {
            return "";
        }
        try {
            fault.active().heal();
            log.accept("nemesis: healed " + kind.cliName() + " on " + fault.target());
            return "";
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            String problem = kind.cliName() + " on " + fault.target() + ": healing failed: " + e;
            problems.add(problem);
            log.accept("nemesis: " + problem);
            return "healing failed: " + e.getMessage();
        }
    }

    /**
     * Undoes every fault still in effect: SIGCONT to paused nodes, starts stopped ones (not removed ones),
     * heals the network and the client proxies.
     */
    public void healAll() throws InterruptedException {
        cluster.network().reset(cluster);
        for (int node : cluster.nodeIds()) {
            cluster.proxy(node).heal();
            NodeState state = cluster.state(node);
            try {
                if (state == NodeState.PAUSED) {
                    cluster.resume(node);
                } else if (state == NodeState.STOPPED) {
                    cluster.restart(node);
                }
            } catch (InterruptedException e) {
                throw e;
            } catch (Exception e) {
                problems.add("node " + node + " did not come back for the final phase: " + e);
            }
        }
        cluster.network().reset(cluster);
    }

    /** @return what went wrong in the harness itself (a fault that could not be injected or healed) */
    public List<String> problems() {
        return List.copyOf(problems);
    }

    /** @return how many faults of each kind were injected */
    public int injected(FaultKind kind) {
        return injected[kind.ordinal()];
    }

    private long between(long min, long max) {
        return max <= min ? min : min + random.nextLong(max - min + 1);
    }

    /** @return a random running node, if any */
    Optional<Integer> anyRunning() {
        List<Integer> running = cluster.runningNodes();
        return running.isEmpty() ? Optional.empty() : Optional.of(running.get(random.nextInt(running.size())));
    }
}
