package dev.sluice.propertytests;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.partitionstore.BatchValidator.Origin;
import dev.sluice.partitionstore.LogConfig;
import dev.sluice.partitionstore.testing.Batches;
import dev.sluice.propertytests.RaftSimulationProperties.AddLinkFaults;
import dev.sluice.propertytests.RaftSimulationProperties.Append;
import dev.sluice.propertytests.RaftSimulationProperties.AppendAcrossLeaderLoss;
import dev.sluice.propertytests.RaftSimulationProperties.ClearLinkFaults;
import dev.sluice.propertytests.RaftSimulationProperties.CutOneWay;
import dev.sluice.propertytests.RaftSimulationProperties.HealAll;
import dev.sluice.propertytests.RaftSimulationProperties.Isolate;
import dev.sluice.propertytests.RaftSimulationProperties.Restart;
import dev.sluice.propertytests.RaftSimulationProperties.Scenario;
import dev.sluice.propertytests.RaftSimulationProperties.Step;
import dev.sluice.propertytests.RaftSimulationProperties.Stop;
import dev.sluice.propertytests.ReplicaInvariants.Ack;
import dev.sluice.propertytests.ReplicaInvariants.ReplicaView;
import dev.sluice.propertytests.ReplicaInvariants.StoredBatch;
import dev.sluice.raft.AppendOutcome;
import dev.sluice.raft.RaftNode;
import dev.sluice.raft.RaftSettings;
import dev.sluice.raft.ReplicaStatus;
import dev.sluice.raft.testing.RaftTestCluster;
import dev.sluice.raft.transport.FaultInjector;
import dev.sluice.raft.transport.LinkFaults;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.CompressionType;
import org.apache.kafka.common.record.internal.RecordBatch;

/**
 * One run of the Raft simulation (see {@link RaftSimulationProperties}): starts the nodes with the
 * fault-injecting transport, plays the steps, checks {@link ReplicaInvariants} after each, then heals
 * everything and checks the converged replicas. Every failure names the scenario's fault seed and carries a
 * trace of what each step did.
 *
 * <p>The clients are two idempotent producers (epoch 0), each with at most one batch in flight: a batch
 * that is not acknowledged within its step's budget stays pending and is retried, with the same sequence,
 * before the producer's next batch. So OUT_OF_ORDER_SEQUENCE_NUMBER or INVALID_PRODUCER_EPOCH can never be
 * a correct answer, and at the end every batch sent must be in the log exactly once.
 *
 * <p>Not thread-safe: one test thread drives it. Every wait has a deadline.
 */
final class RaftSimulation {
    static final TopicPartition TP = new TopicPartition("simulated", 0);
    private static final long FIRST_PRODUCER_ID = 7001;
    private static final int PRODUCERS = 2;
    private static final long ATTEMPT_TIMEOUT_MS = 3_000;
    private static final long STEP_BATCH_BUDGET_MS = 8_000;
    private static final long FINAL_BATCH_BUDGET_MS = 30_000;
    private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration CONVERGE_TIMEOUT = Duration.ofSeconds(60);
    private static final long POLL_MS = 20;
    private static final int READ_ATTEMPTS = 10;
    /** Batches without producer id sent to a leader just cut off (at-least-once: no check counts them). */
    private static final int NOISE_BATCHES = 2;

    private final Scenario scenario;
    private final List<String> ids = new ArrayList<>();
    private final Path root;
    private final FaultInjector injector;
    private final RaftTestCluster cluster;
    private final ReplicaInvariants invariants;
    private final List<Producer> producers = new ArrayList<>();
    private final Deque<String> stopped = new ArrayDeque<>();
    private final Set<String> isolated = new TreeSet<>();
    private final Set<List<String>> cuts = new HashSet<>();
    private final List<String> trace = new ArrayList<>();
    private final long startNs = System.nanoTime();
    private final List<InFlight> abandoned = new ArrayList<>();
    private final Set<String> leadersSeen = new TreeSet<>();
    private int unknownServerErrors;

    /** An attempt whose answer the client stopped waiting for; if it answers NONE, it must agree. */
    private record InFlight(long producerId, int baseSequence, CompletableFuture<AppendOutcome> answer) {}

    /** An idempotent producer with at most one batch in flight. */
    private static final class Producer {
        final long producerId;
        int nextSequence;
        /** Sent but not acknowledged yet; retried with the same sequence before anything new. */
        Pending pending;

        final Map<Integer, Integer> sent = new TreeMap<>(); // baseSequence -> record count

        Producer(long producerId) {
            this.producerId = producerId;
        }
    }

    private record Pending(int baseSequence, int count, ByteBuffer bytes) {}

    private RaftSimulation(Scenario scenario) {
        this.scenario = scenario;
        for (int i = 1; i <= scenario.replicas(); i++) {
            ids.add("n" + i);
        }
        for (int i = 0; i < PRODUCERS; i++) {
            producers.add(new Producer(FIRST_PRODUCER_ID + i));
        }
        this.invariants = new ReplicaInvariants(scenario.replicas());
        this.root = TempDirs.create("sluice-raft-sim-");
        this.injector = FaultInjector.register("raft-sim-" + UUID.randomUUID(), scenario.faultSeed());
        injector.setLostCallTimeoutMs(100);
        Map<String, Object> settings = new HashMap<>(RaftTestCluster.fastElections("faulty"));
        settings.put(RaftSettings.FAULT_INJECTOR, injector.name());
        if (scenario.frequentSnapshots()) {
            settings.put(RaftSettings.SNAPSHOT_THRESHOLD_ENTRIES, 16L);
            settings.put(RaftSettings.PURGE_GAP_ENTRIES, 8);
            settings.put(RaftSettings.LOG_SEGMENT_BYTES, 8192L);
        }
        this.cluster = new RaftTestCluster(root, settings, LogConfig.parse(Map.of(LogConfig.SEGMENT_BYTES, "8192")));
    }

    /** Runs the scenario; throws an {@link AssertionError} naming the seed, the step and the trace. */
    static void run(Scenario scenario) {
        RaftSimulation simulation = new RaftSimulation(scenario);
        try {
            simulation.runSteps();
        } catch (AssertionError e) {
            simulation.closeQuietly(e);
            throw e;
        }
        simulation.close();
    }

    private void runSteps() {
        String where = "start";
        try {
            cluster.startAll(ids.toArray(new String[0]));
            cluster.createPartition(TP, ids.toArray(new String[0]));
            cluster.awaitLeader(TP, STARTUP_TIMEOUT);
            List<Step> steps = scenario.steps();
            for (int i = 0; i < steps.size(); i++) {
                where = "step " + i + " of " + steps.size() + " " + steps.get(i);
                long stepStartNs = System.nanoTime();
                String what = apply(steps.get(i));
                trace(i + ": " + steps.get(i) + " -> " + what + " (" + elapsedMs(stepStartNs) + " ms)");
                checkInvariants();
            }
            where = "the end (healed)";
            finish();
            System.out.println(summary("passed") + "\n  " + String.join("\n  ", trace));
        } catch (AssertionError | RuntimeException | IOException e) {
            String message =
                    summary("FAILED at " + where) + ": " + e.getMessage() + "\ntrace:\n  " + String.join("\n  ", trace);
            throw new AssertionError(message, e);
        }
    }

    private String summary(String outcome) {
        return "Raft simulation of " + scenario.replicas() + " replicas, fault seed " + scenario.faultSeed()
                + ", frequent snapshots " + scenario.frequentSnapshots() + ", "
                + scenario.steps().size()
                + " steps: " + outcome + " after " + elapsedMs(startNs) + " ms; "
                + invariants.acks().size()
                + " batches acknowledged, committed end " + invariants.committedEnd() + ", UNKNOWN_SERVER_ERROR"
                + " answers " + unknownServerErrors + ", leaders seen " + leadersSeen;
    }

    private void trace(String line) {
        trace.add(line);
    }

    // ---- steps ------------------------------------------------------------------------------------------

    private String apply(Step step) throws IOException {
        if (step instanceof Append append) {
            return append(producers.get(append.producer()), append.batches(), append.records());
        }
        if (step instanceof AppendAcrossLeaderLoss across) {
            return appendAcrossLeaderLoss(producers.get(across.producer()), across.records(), across.stopLeader());
        }
        if (step instanceof Stop stop) {
            return stop(node(stop.node()));
        }
        if (step instanceof Restart) {
            if (stopped.isEmpty()) {
                return "nothing stopped";
            }
            String node = stopped.removeFirst();
            cluster.start(node);
            invariants.newIncarnation(node);
            return "restarted " + node;
        }
        return applyNetworkFault(step);
    }

    private String applyNetworkFault(Step step) {
        if (step instanceof Isolate isolate) {
            String node = node(isolate.node());
            return ifAvailable("isolate " + node, () -> isolated.add(node), () -> isolated.remove(node), () -> {
                injector.isolate(node);
            });
        }
        if (step instanceof CutOneWay cut) {
            String from = node(cut.from());
            String to = node(cut.to());
            if (from.equals(to)) {
                return "nothing (a node to itself)";
            }
            List<String> link = List.of(from, to);
            return ifAvailable(
                    "cut " + from + "->" + to,
                    () -> cuts.add(link),
                    () -> cuts.remove(link),
                    () -> injector.cut(from, to));
        }
        if (step instanceof HealAll) {
            isolated.clear();
            cuts.clear();
            injector.healAll();
            return "healed";
        }
        if (step instanceof AddLinkFaults faults) {
            String from = node(faults.from());
            String to = node(faults.to());
            if (from.equals(to)) {
                return "nothing (a node to itself)";
            }
            LinkFaults linkFaults = LinkFaults.NONE
                    .withDropProbability(faults.dropPercent() / 100.0)
                    .withDelayMs(0, faults.delayMaxMs())
                    .withDuplicateProbability(faults.duplicatePercent() / 100.0)
                    .withReorder(faults.reorderPercent() / 100.0, 30);
            injector.setFaults(from, to, linkFaults);
            return from + "->" + to + " " + linkFaults;
        }
        if (step instanceof ClearLinkFaults) {
            injector.clearFaults();
            return "link faults cleared";
        }
        throw new IllegalArgumentException("unknown step " + step);
    }

    private String stop(String node) throws IOException {
        if (!cluster.isRunning(node)) {
            return "nothing (" + node + " is stopped)";
        }
        stopped.addLast(node);
        if (!majorityCanWork()) {
            stopped.removeLast();
            return "skipped: stopping " + node + " would leave no working majority";
        }
        long stopStartNs = System.nanoTime();
        cluster.stop(node);
        invariants.newIncarnation(node);
        return "stopped " + node + " in " + elapsedMs(stopStartNs) + " ms";
    }

    /** Applies a fault to the model, keeps it only when a working majority remains, then to the network. */
    private String ifAvailable(String what, Runnable add, Runnable undo, Runnable inject) {
        add.run();
        if (!majorityCanWork()) {
            undo.run();
            return "skipped: " + what + " would leave no working majority";
        }
        inject.run();
        return what;
    }

    /** Whether some majority of running, non-isolated nodes has no cut between any two of them. */
    private boolean majorityCanWork() {
        int n = ids.size();
        for (int mask = 0; mask < 1 << n; mask++) {
            if (Integer.bitCount(mask) < n / 2 + 1) {
                continue;
            }
            boolean works = true;
            for (int i = 0; i < n && works; i++) {
                if ((mask & 1 << i) == 0) {
                    continue;
                }
                String a = ids.get(i);
                works = !stopped.contains(a) && !isolated.contains(a);
                for (int j = 0; j < n && works; j++) {
                    if ((mask & 1 << j) != 0 && cuts.contains(List.of(a, ids.get(j)))) {
                        works = false;
                    }
                }
            }
            if (works) {
                return true;
            }
        }
        return false;
    }

    /** The node an index names: {@code replicas} is the current leader (or the first running node). */
    private String node(int index) {
        if (index < ids.size()) {
            return ids.get(index);
        }
        RaftNode leader = leader();
        if (leader != null) {
            return leader.id();
        }
        return cluster.nodes().isEmpty() ? ids.get(0) : cluster.nodes().get(0).id();
    }

    // ---- appends ----------------------------------------------------------------------------------------

    private static void ensurePending(Producer producer, int records) {
        if (producer.pending == null) {
            int sequence = producer.nextSequence;
            producer.pending = new Pending(
                    sequence, records, Batches.idempotent(producer.producerId, (short) 0, sequence, records, sequence));
            producer.sent.put(sequence, records);
            producer.nextSequence += records;
        }
    }

    private String appendAcrossLeaderLoss(Producer producer, int records, boolean stopLeader) throws IOException {
        RaftNode leader = leader();
        if (leader == null) {
            return "no leader; " + append(producer, 1, records);
        }
        ensurePending(producer, records);
        Pending batch = producer.pending;
        abandoned.add(new InFlight(
                producer.producerId,
                batch.baseSequence(),
                leader.append(TP, batch.bytes().duplicate(), Origin.CLIENT)));
        String node = leader.id();
        String fault;
        if (stopLeader) {
            fault = stop(node);
        } else {
            fault = ifAvailable("isolate " + node, () -> isolated.add(node), () -> isolated.remove(node), () -> {
                injector.isolate(node);
            });
            // A cut-off leader still takes writes until it steps down: entries that Raft must discard later.
            for (int i = 0; i < NOISE_BATCHES; i++) {
                leader.append(TP, Batches.batch(CompressionType.NONE, 1, i), Origin.CLIENT);
            }
        }
        return "sent p" + producer.producerId + " seq " + batch.baseSequence() + " to " + node + ", then " + fault
                + "; " + send(producer, STEP_BATCH_BUDGET_MS);
    }

    private String append(Producer producer, int batches, int records) {
        List<String> done = new ArrayList<>();
        for (int i = 0; i < batches; i++) {
            ensurePending(producer, records);
            String result = send(producer, STEP_BATCH_BUDGET_MS);
            done.add(result);
            if (producer.pending != null) {
                break; // not acknowledged in time: the next step retries it first
            }
        }
        return String.join("; ", done);
    }

    /** Sends the producer's pending batch until acknowledged or {@code budgetMs} runs out. */
    private String send(Producer producer, long budgetMs) {
        Pending batch = producer.pending;
        long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(budgetMs);
        List<String> attempts = new ArrayList<>();
        String what = "p" + producer.producerId + " seq " + batch.baseSequence() + "+" + batch.count();
        while (System.nanoTime() < deadlineNs) {
            RaftNode leader = leader();
            if (leader == null) {
                pause();
                continue;
            }
            AppendOutcome outcome = attempt(producer, batch, leader, deadlineNs);
            attempts.add(leader.id() + ":" + outcome.error());
            if (outcome.error() == Errors.NONE) {
                Ack ack = new Ack(
                        producer.producerId,
                        batch.baseSequence(),
                        batch.count(),
                        outcome.firstOffset(),
                        outcome.lastOffset());
                invariants.acknowledged(ack);
                producer.pending = null;
                return what + " at " + outcome.firstOffset() + ".." + outcome.lastOffset() + " " + attempts;
            }
            if (outcome.error() == Errors.UNKNOWN_SERVER_ERROR) {
                unknownServerErrors++;
                trace("  " + what + " via " + leader.id() + ": UNKNOWN_SERVER_ERROR " + outcome.errorMessage());
            } else {
                assertThat(outcome.error())
                        .as(
                                "%s via %s, a retry of a batch never acknowledged (%s): %s",
                                what, leader.id(), attempts, outcome.errorMessage())
                        .isIn(Errors.NOT_LEADER_OR_FOLLOWER, Errors.REQUEST_TIMED_OUT);
            }
            pause();
        }
        return what + " NOT acknowledged " + attempts;
    }

    private AppendOutcome attempt(Producer producer, Pending batch, RaftNode leader, long deadlineNs) {
        long waitMs = Math.max(1, Math.min(ATTEMPT_TIMEOUT_MS, (deadlineNs - System.nanoTime()) / 1_000_000));
        CompletableFuture<AppendOutcome> answer =
                leader.append(TP, batch.bytes().duplicate(), Origin.CLIENT);
        try {
            return answer.get(waitMs, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            abandoned.add(new InFlight(producer.producerId, batch.baseSequence(), answer));
            return AppendOutcome.error(Errors.REQUEST_TIMED_OUT, "no answer within " + waitMs + " ms");
        } catch (ExecutionException e) {
            return AppendOutcome.error(Errors.REQUEST_TIMED_OUT, e.getCause().toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The ready leader with the highest term among running nodes, or null. */
    private RaftNode leader() {
        RaftNode best = null;
        long bestTerm = -1;
        for (RaftNode node : cluster.nodes()) {
            ReplicaStatus status = node.status(TP);
            if (status != null && status.isLeader() && status.leaderEpoch() > bestTerm) {
                best = node;
                bestTerm = status.leaderEpoch();
            }
        }
        if (best != null) {
            leadersSeen.add(best.id() + "@" + bestTerm);
        }
        return best;
    }

    // ---- checks -----------------------------------------------------------------------------------------

    /** The running replicas that can be read now (a node still starting cannot). */
    private List<ReplicaView> views() {
        List<ReplicaView> views = new ArrayList<>();
        for (RaftNode node : cluster.nodes()) {
            ReplicaView view = read(node);
            if (view != null) {
                views.add(view);
            }
        }
        return views;
    }

    /** Reads a replica, retrying briefly while its partition is not open or its log is being replaced. */
    private static ReplicaView read(RaftNode node) {
        RuntimeException failure = null;
        for (int attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
            try {
                ReplicaView view = ReplicaView.read(node.id(), node.stateMachine(TP));
                if (view != null) {
                    return view;
                }
            } catch (RuntimeException e) {
                failure = e;
            }
            pause();
        }
        if (failure != null) {
            throw new IllegalStateException("cannot read the log of running replica " + node.id(), failure);
        }
        return null;
    }

    private void checkInvariants() {
        List<ReplicaView> views = views();
        // Replicas that cannot be read now may hold acknowledged batches, like stopped ones.
        invariants.check(views, ids.size() - views.size());
    }

    /**
     * Heals every fault, restarts stopped nodes, gets every pending batch and one more per producer
     * acknowledged (the new batch makes a leader overwrite any stale uncommitted tail), then checks the
     * converged replicas.
     */
    private void finish() throws IOException {
        isolated.clear();
        cuts.clear();
        injector.healAll();
        injector.clearFaults();
        while (!stopped.isEmpty()) {
            String node = stopped.removeFirst();
            cluster.start(node);
            invariants.newIncarnation(node);
        }
        trace("end: healed, every node running");
        for (Producer producer : producers) {
            if (producer.pending != null) {
                trace("end: retry " + send(producer, FINAL_BATCH_BUDGET_MS));
            }
            append(producer, 1, 1);
            trace("end: " + (producer.pending == null ? "appended one more" : "could not append"));
            assertThat(producer.pending)
                    .as("after healing, p%d's batches are acknowledged", producer.producerId)
                    .isNull();
        }
        String[] all = ids.toArray(new String[0]);
        long end;
        try {
            end = cluster.awaitConverged(TP, CONVERGE_TIMEOUT, all);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; replicas: " + statuses() + installThreads(), e);
        }
        checkInvariants();
        assertThat(end)
                .as("the converged high watermark keeps everything ever committed")
                .isGreaterThanOrEqualTo(invariants.committedEnd());
        assertThat(cluster.segmentDifferences(TP, all))
                .as("segment files differ")
                .isEmpty();
        List<ReplicaView> views = views();
        assertThat(views).as("every replica can be read at the end").hasSize(ids.size());
        for (ReplicaView view : views) {
            checkExactlyOnce(view);
        }
        checkAbandonedAnswers();
    }

    /** Where the snapshot-install threads are, for a failure to converge (a stuck install is one cause). */
    private static String installThreads() {
        StringBuilder out = new StringBuilder();
        Thread.getAllStackTraces().forEach((thread, stack) -> {
            if (thread.getName().startsWith("sluice-raft-install")) {
                out.append("\n")
                        .append(thread.getName())
                        .append(" (")
                        .append(thread.getState())
                        .append(')');
                for (int i = 0; i < Math.min(stack.length, 25); i++) {
                    out.append("\n    at ").append(stack[i]);
                }
            }
        });
        return out.toString();
    }

    /** An answer the client no longer waited for is still an acknowledgement: it must name the same offsets. */
    private void checkAbandonedAnswers() {
        Map<List<Long>, Ack> acks = new HashMap<>();
        for (Ack ack : invariants.acks()) {
            acks.put(List.of(ack.producerId(), (long) ack.baseSequence()), ack);
        }
        for (InFlight inFlight : abandoned) {
            AppendOutcome late = inFlight.answer().getNow(null);
            if (late == null || late.error() != Errors.NONE) {
                continue;
            }
            Ack ack = acks.get(List.of(inFlight.producerId(), (long) inFlight.baseSequence()));
            assertThat(ack)
                    .as(
                            "p%d seq %d answered NONE late, so it is acknowledged",
                            inFlight.producerId(), inFlight.baseSequence())
                    .isNotNull();
            assertThat(List.of(late.firstOffset(), late.lastOffset()))
                    .as(
                            "a late answer to p%d seq %d agrees with its acknowledgement %s",
                            inFlight.producerId(), inFlight.baseSequence(), ack)
                    .isEqualTo(List.of(ack.firstOffset(), ack.lastOffset()));
        }
    }

    /** Every batch sent is in the log exactly once, at the offsets its acknowledgement named. */
    private void checkExactlyOnce(ReplicaView view) {
        Map<List<Long>, Long> inLog = new HashMap<>(); // [producerId, epoch, baseSequence] -> base offset
        for (StoredBatch batch : view.batches().values()) {
            if (batch.producerId() == RecordBatch.NO_PRODUCER_ID) {
                continue;
            }
            List<Long> key = List.of(batch.producerId(), (long) batch.producerEpoch(), (long) batch.baseSequence());
            Long previous = inLog.put(key, batch.baseOffset());
            assertThat(previous)
                    .as(
                            "%s: producer %d sequence %d is in the log twice: at %s and %d",
                            view.id(), key.get(0), key.get(2), previous, batch.baseOffset())
                    .isNull();
        }
        Map<List<Long>, Long> acknowledged = new HashMap<>();
        for (Ack ack : invariants.acks()) {
            acknowledged.put(List.of(ack.producerId(), 0L, (long) ack.baseSequence()), ack.firstOffset());
        }
        assertThat(inLog)
                .as("%s: the producers' batches are exactly the acknowledged ones, where acknowledged", view.id())
                .isEqualTo(acknowledged);
        for (Producer producer : producers) {
            long inLogCount = inLog.keySet().stream()
                    .filter(key -> key.get(0) == producer.producerId)
                    .count();
            assertThat(inLogCount)
                    .as("%s: batches of p%d in the log", view.id(), producer.producerId)
                    .isEqualTo(producer.sent.size());
        }
    }

    // ---- plumbing ---------------------------------------------------------------------------------------

    private String statuses() {
        List<String> result = new ArrayList<>();
        for (RaftNode node : cluster.nodes()) {
            ReplicaStatus status = node.status(TP);
            result.add(
                    status == null
                            ? node.id() + " (no replica)"
                            : node.id() + " leader " + status.leader() + "@" + status.leaderEpoch() + " highWatermark "
                                    + status.highWatermark() + " logEndOffset " + status.logEndOffset());
        }
        return String.join(", ", result);
    }

    private static void pause() {
        try {
            Thread.sleep(POLL_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static long elapsedMs(long sinceNs) {
        return (System.nanoTime() - sinceNs) / 1_000_000;
    }

    private void closeQuietly(AssertionError failure) {
        try {
            close();
        } catch (RuntimeException e) {
            failure.addSuppressed(e);
        }
    }

    private void close() {
        try {
            cluster.close();
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "closing the simulated cluster (fault seed " + scenario.faultSeed() + ")", e);
        } finally {
            injector.close();
            TempDirs.delete(root);
        }
    }
}
