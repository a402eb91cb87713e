package dev.sluice.coordinator.txn;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.coordinator.txn.TxnRecord.TxnMetadata;
import dev.sluice.coordinator.txn.TxnRecord.TxnTombstone;
import dev.sluice.coordinator.txn.TxnResult.Completion;
import dev.sluice.coordinator.txn.TxnResult.WriteMarkers;
import dev.sluice.partitionstore.ProducerStateEntry;
import dev.sluice.raft.ProducerStates;
import dev.sluice.raft.ProducerStates.BatchInfo;
import dev.sluice.raft.ProducerStates.CompletedTxn;
import dev.sluice.raft.ProducerStates.Verdict;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.Tuple;
import net.jqwik.api.statistics.Statistics;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData.AddPartitionsToTxnTransaction;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData.AddPartitionsToTxnTransactionCollection;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData;
import org.apache.kafka.common.message.EndTxnRequestData;
import org.apache.kafka.common.message.EndTxnResponseData;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.ControlRecordType;
import org.apache.kafka.common.requests.TransactionResult;

/**
 * The transaction coordinator and the partitions together: {@link TransactionCoordinatorState} decides, each
 * partition's {@link ProducerStates} appends data batches and COMMIT/ABORT markers, and every transaction must
 * end the same way on every partition it wrote to while the last stable offset never passes an open one.
 *
 * <h2>The simulation</h2>
 *
 * Three transactional ids ({@code a}, {@code b}, and {@code z}, one bump short of an exhausted epoch) each have
 * a producer client that keeps a session per (producer id, epoch) it was given: the partitions whose
 * AddPartitionsToTxn answer it received in the current transaction and its next sequence per partition. A
 * client sends a data batch only to a partition it added; older sessions send as zombies. A batch travels until
 * it is delivered, possibly after its transaction ended (the delayed produce request of KIP-890), except that a
 * commit flushes the client's batches first, as Kafka's producer does; sequence numbers are assigned on arrival
 * (reordering and retries are {@code TransactionProperties}' business). Four partitions are each a log of batches
 * with offsets plus a {@link ProducerStates}. A data batch reaches a partition as in Kafka with KIP-890 part 1:
 * when the producer has no open transaction there the partition first asks the coordinator (AddPartitionsToTxn
 * v4, {@code verifyOnly}) and appends only on a NONE answer, which is delivered once it is committed; then the
 * batch must pass {@link ProducerStates#check}. Marker work writes one partition at a time,
 * interleaved with everything else, and reports {@link TransactionCoordinatorState#markersWritten} once every
 * partition took its marker. The clock advances past transaction timeouts.
 *
 * <p>A step's coordinator records commit when the next step begins; only then are its answers delivered and its
 * marker work started. The coordinator fails over now and then: its in-flight marker work is dropped (and kept,
 * to arrive late at partitions as a deposed coordinator's markers), sometimes the last step's uncommitted
 * records with it; a fresh state replays the committed records and activates with the next epoch. A run ends
 * with no more failovers: the clock passes every timeout, every marker work is written, late markers arrive.
 *
 * <h2>What is checked</h2>
 *
 * A coordinator transaction is named {@code id#n}: the n-th time the committed state of {@code id} entered
 * ONGOING. Every batch in a partition's log carries the name of its transaction (a data batch: the transaction
 * the coordinator's committed state had ONGOING with the partition when it was verified, or the one it joined;
 * a marker: the transaction its work was asked for). After every step, on every partition: a partition-side
 * transaction (a producer's first data batch to its next marker) never mixes two coordinator transactions, a
 * marker ends only its own transaction, the live coordinator's markers are never refused, {@link
 * ProducerStates#firstUnstableOffset} matches the open transactions tracked from the log, and the last stable
 * offset never moves back, is at most the first offset of every open transaction and is the log end offset when
 * none is open. At the end: no partition has an open transaction (also by a rescan of every log), no transaction
 * is in PREPARE_*; every
 * transaction ended on each partition it wrote to exactly once, with the coordinator's decision (so the same on
 * all); only an EndTxn(commit) ever prepares a commit; an EndTxn answered NONE got the outcome it asked for.
 */
class TransactionsEndToEndProperties {
    private static final List<String> IDS = List.of("a", "b", "z");
    private static final List<TopicPartition> PARTITIONS = List.of(
            new TopicPartition("t", 0),
            new TopicPartition("t", 1),
            new TopicPartition("t", 2),
            new TopicPartition("u", 0));
    private static final int TXN_TIMEOUT_MS = 10_000;
    private static final int DEPOSED_MARKERS_KEPT = 8;
    private static final TxnCoordinatorConfig CONFIG = TxnCoordinatorConfig.parse(Map.of(
            "transactional.id.expiration.ms", "40000",
            "transaction.abort.timed.out.transaction.cleanup.interval.ms", "1000",
            "transaction.remove.expired.transaction.cleanup.interval.ms", "7000"));

    @Property(tries = 1000)
    void transactionsEndAtomicallyAndTheLastStableOffsetNeverPassesAnOpenOne(
            @ForAll("scenarios") List<Action> actions) {
        Simulation sim = new Simulation();
        int at = -1;
        try {
            sim.start();
            for (at = 0; at < actions.size(); at++) {
                sim.step(actions.get(at));
                sim.checkPartitions();
            }
            at = actions.size();
            sim.finish();
            sim.checkOutcomes();
        } catch (AssertionError | RuntimeException e) {
            throw new AssertionError(failure(actions, at, sim, e), e);
        }
        Statistics.label("transaction committed on partitions").collect(sim.committedSpans > 0);
        Statistics.label("transaction committed on partitions")
                .coverage(c -> c.check(true).percentage(p -> p > 40));
        Statistics.label("transaction aborted on partitions").collect(sim.abortedSpans > 0);
        Statistics.label("transaction aborted on partitions")
                .coverage(c -> c.check(true).percentage(p -> p > 50));
        Statistics.label("timeout aborted a transaction").collect(sim.timeoutAborts > 0);
        Statistics.label("timeout aborted a transaction")
                .coverage(c -> c.check(true).percentage(p -> p > 40));
        Statistics.label("failed over with marker work in flight").collect(sim.failoversWithWork > 0);
        Statistics.label("failed over with marker work in flight")
                .coverage(c -> c.check(true).percentage(p -> p > 35));
        Statistics.label("coordinator fenced a producer").collect(sim.fencedAnswers > 0);
        Statistics.label("coordinator fenced a producer")
                .coverage(c -> c.check(true).percentage(p -> p > 55));
        Statistics.label("verification refused a write").collect(sim.refusedByVerification > 0);
        Statistics.label("verification refused a write")
                .coverage(c -> c.check(true).percentage(p -> p > 55));
        Statistics.label("partition refused a zombie write").collect(sim.refusedByPartition > 0);
        Statistics.label("partition refused a deposed coordinator's marker").collect(sim.staleMarkersRefused > 0);
        Statistics.label("transaction with data on 2+ partitions").collect(sim.multiPartitionTxns() > 0);
        Statistics.label("transaction with data on 2+ partitions")
                .coverage(c -> c.check(true).percentage(p -> p > 25));
    }

    private static String failure(List<Action> actions, int at, Simulation sim, Throwable e) {
        String listed = IntStream.range(0, actions.size())
                .mapToObj(i -> (i == at ? ">> " : "   ") + i + ": " + actions.get(i))
                .collect(Collectors.joining("\n"));
        String where = at < 0 ? "while starting" : at >= actions.size() ? "while finishing" : "at action #" + at;
        return "failed " + where + ": " + e.getMessage() + "\nactions:\n" + listed + "\nlast events:\n"
                + String.join("\n", sim.trace);
    }

    // ---- scenarios ----

    sealed interface Action permits Init, Produce, Deliver, End, WriteMarker, LateMarker, Advance, FailOver {}

    /** InitProducerId; with {@code kip360} the client sends the producer id and epoch it has. */
    record Init(int client, boolean kip360) implements Action {}

    /**
     * The client's session {@code age} back (0: its newest; older: a zombie) has {@code count} records for a
     * partition. The newest session sends AddPartitionsToTxn first if the partition is not in its transaction
     * yet, as Kafka's producer does, and sends the data batch once the answer came back; a zombie sends to one of
     * the partitions it had added. The batch travels until a {@link Deliver}.
     */
    record Produce(int client, int age, int partition, int count) implements Action {}

    /**
     * A data batch in flight reaches its partition (possibly after its transaction ended: the delayed produce
     * request of KIP-890).
     */
    record Deliver(int pick) implements Action {}

    /**
     * EndTxn; {@code age} as for {@link Produce}. The newest session flushes its batches in flight before a
     * commit, as Kafka's producer does; an abort and a zombie leave them travelling.
     */
    record End(int client, int age, boolean commit) implements Action {}

    /** Marker work in flight writes its marker to one more of its partitions. */
    record WriteMarker(int work, int partition) implements Action {}

    /** A marker of a deposed coordinator's dropped work arrives at one of its partitions. */
    record LateMarker(int work, int partition) implements Action {}

    record Advance(int ms) implements Action {}

    record FailOver(boolean loseLastStep) implements Action {}

    @Provide
    Arbitrary<List<Action>> scenarios() {
        Arbitrary<Integer> client = Arbitraries.integers().between(0, IDS.size() - 1);
        Arbitrary<Integer> age = Arbitraries.frequency(Tuple.of(5, 0), Tuple.of(2, 1), Tuple.of(1, 2));
        Arbitrary<Integer> pick = Arbitraries.integers().between(0, 7);
        Arbitrary<Boolean> coin = Arbitraries.of(true, false);
        Arbitrary<Action> init = Combinators.combine(client, coin).as(Init::new);
        Arbitrary<Action> produce = Combinators.combine(
                        client,
                        age,
                        Arbitraries.integers().between(0, PARTITIONS.size() - 1),
                        Arbitraries.integers().between(1, 3))
                .as(Produce::new);
        Arbitrary<Action> end = Combinators.combine(
                        client,
                        Arbitraries.frequency(Tuple.of(8, 0), Tuple.of(1, 1)),
                        Arbitraries.frequency(Tuple.of(3, true), Tuple.of(1, false)))
                .as(End::new);
        Arbitrary<Action> deliver = pick.map(Deliver::new);
        Arbitrary<Action> marker = Combinators.combine(pick, pick).as(WriteMarker::new);
        Arbitrary<Action> late = Combinators.combine(pick, pick).as(LateMarker::new);
        Arbitrary<Action> advance = Arbitraries.frequencyOf(
                        Tuple.of(3, Arbitraries.integers().between(0, 1_500)),
                        Tuple.of(1, Arbitraries.integers().between(0, 2 * TXN_TIMEOUT_MS)))
                .map(Advance::new);
        Arbitrary<Action> failOver = coin.map(FailOver::new);
        // Advance first: a list shrinks towards the first choice, and Advance[ms=0] changes (almost) nothing.
        return Arbitraries.frequencyOf(
                        Tuple.of(6, advance),
                        Tuple.of(3, init),
                        Tuple.of(30, produce),
                        Tuple.of(20, deliver),
                        Tuple.of(10, end),
                        Tuple.of(20, marker),
                        Tuple.of(3, late),
                        Tuple.of(3, failOver))
                .list()
                .ofMinSize(20)
                .ofMaxSize(260)
                .withSizeDistribution(RandomDistribution.uniform());
    }

    // ---- the model ----

    /** A producer client's view of one (producer id, epoch) it was given. */
    private static final class Session {
        final long producerId;
        final short producerEpoch;
        /** The partitions whose AddPartitionsToTxn answer came back NONE in the current transaction. */
        final List<TopicPartition> added = new ArrayList<>();

        final Map<TopicPartition, Integer> nextSequence = new HashMap<>();
        /** EndTxn sent, no final answer yet: the client sends no data meanwhile. */
        boolean ending;

        Session(long producerId, short producerEpoch) {
            this.producerId = producerId;
            this.producerEpoch = producerEpoch;
        }

        @Override
        public String toString() {
            return "(" + producerId + ", " + producerEpoch + ")";
        }
    }

    /**
     * One batch of a partition's log.
     *
     * @param txn the coordinator transaction it belongs to ({@code id#n})
     */
    private record Batch(
            long baseOffset,
            long lastOffset,
            long producerId,
            short producerEpoch,
            boolean control,
            boolean commit,
            String txn) {}

    /** A producer's open transaction on a partition, tracked from the batches appended (not from ProducerStates). */
    private record Open(long firstOffset, String txn) {}

    /** A transaction that ended on a partition. */
    private record Ended(TopicPartition tp, String txn, long firstOffset, long markerOffset, boolean commit) {}

    /** A partition: its log and the producer state the partition keeps. */
    private static final class Partition {
        final TopicPartition tp;
        final ProducerStates states = new ProducerStates();
        final List<Batch> log = new ArrayList<>();
        final Map<Long, Open> open = new TreeMap<>();
        long logEndOffset;
        long lastStableOffsetSeen;

        Partition(TopicPartition tp) {
            this.tp = tp;
        }

        long lastStableOffset() {
            return ProducerStates.lastStableOffset(states.firstUnstableOffset(), 0, logEndOffset);
        }

        long naiveFirstUnstableOffset() {
            return open.values().stream().mapToLong(Open::firstOffset).min().orElse(ProducerStates.NO_OPEN_TRANSACTION);
        }
    }

    /** A data batch on its way to its partition. */
    private record DataRequest(String transactionalId, Session session, TopicPartition tp, int count) {
        @Override
        public String toString() {
            return transactionalId + " " + session + " x" + count + " to " + tp;
        }
    }

    /** Marker work started: the partitions still owed their marker. */
    private static final class Work {
        final WriteMarkers markers;
        final String txn;
        final List<TopicPartition> remaining;

        Work(WriteMarkers markers, String txn) {
            this.markers = markers;
            this.txn = txn;
            this.remaining = new ArrayList<>(markers.partitions());
        }
    }

    /** What a step produced, waiting for its records to commit. */
    private record Step(TxnResult result, Map<Long, Runnable> onDelivery) {}

    private static final class Simulation {
        long nowMs = 1_000_000;
        int coordinatorEpoch = 1;
        long nextProducerId = 100;
        long nextHandle = 1;
        TransactionCoordinatorState state = newState();
        Step pending;
        final Map<String, List<Session>> sessions = new HashMap<>();
        final Map<TopicPartition, Partition> partitions = new LinkedHashMap<>();
        final List<Work> inFlight = new ArrayList<>();
        final List<DataRequest> dataInFlight = new ArrayList<>();
        final List<Work> deposed = new ArrayList<>();
        final Map<String, TxnMetadata> lastCommitted = new HashMap<>();
        final Map<String, Integer> txnNumber = new HashMap<>();
        final Map<String, TransactionResult> decided = new HashMap<>();
        final Set<TxnMetadata> commitsPreparedByEndTxn = Collections.newSetFromMap(new IdentityHashMap<>());
        final List<Ended> ended = new ArrayList<>();
        final Map<String, Set<TopicPartition>> wroteTo = new HashMap<>();
        final Deque<String> trace = new ArrayDeque<>();
        int committedSpans;
        int abortedSpans;
        int timeoutAborts;
        int failoversWithWork;
        int fencedAnswers;
        int refusedByVerification;
        int refusedByPartition;
        int staleMarkersRefused;

        TransactionCoordinatorState newState() {
            return new TransactionCoordinatorState(CONFIG, () -> nextProducerId++, 10);
        }

        void start() {
            // z: one InitProducerId away from an exhausted epoch.
            TxnMetadata z = new TxnMetadata(
                    "z", 1, -1, -1, (short) 32765, (short) -1, TXN_TIMEOUT_MS, TxnState.EMPTY, List.of(), -1, nowMs);
            state.replay(z);
            checkCommitted(z);
            startMarkers(state.activate(coordinatorEpoch, nowMs).markers());
            PARTITIONS.forEach(tp -> partitions.put(tp, new Partition(tp)));
            for (String id : IDS) {
                sessions.put(id, new ArrayList<>());
                init(id, false);
            }
        }

        void note(String event) {
            trace.addLast(nowMs + " " + event);
            if (trace.size() > 80) {
                trace.removeFirst();
            }
        }

        void step(Action action) {
            note("-- " + action);
            if (action instanceof Init a) {
                init(IDS.get(a.client()), a.kip360());
            } else if (action instanceof Produce a) {
                send(IDS.get(a.client()), a.age(), PARTITIONS.get(a.partition()), a.count());
            } else if (action instanceof Deliver a) {
                if (!dataInFlight.isEmpty()) {
                    produce(dataInFlight.remove(a.pick() % dataInFlight.size()));
                }
            } else if (action instanceof End a) {
                Session s = session(IDS.get(a.client()), a.age());
                if (s != null) {
                    end(IDS.get(a.client()), s, a.commit());
                }
            } else if (action instanceof WriteMarker a) {
                if (!inFlight.isEmpty()) {
                    writeNextMarker(inFlight.get(a.work() % inFlight.size()), a.partition());
                }
            } else if (action instanceof LateMarker a) {
                if (!deposed.isEmpty()) {
                    writeLateMarker(deposed.get(a.work() % deposed.size()), a.partition());
                }
            } else if (action instanceof Advance a) {
                advance(a.ms());
            } else if (action instanceof FailOver a) {
                failOver(a.loseLastStep());
            }
        }

        void send(String id, int age, TopicPartition tp, int count) {
            Session s = session(id, age);
            if (s == null || (age == 0 && s.ending)) {
                return;
            }
            if (age == 0 && !s.added.contains(tp)) {
                add(id, s, tp);
            } else if (!s.added.isEmpty()) {
                TopicPartition to = s.added.contains(tp) ? tp : s.added.get(PARTITIONS.indexOf(tp) % s.added.size());
                DataRequest request = new DataRequest(id, s, to, count);
                note("sent " + request);
                dataInFlight.add(request);
            }
        }

        /** The client's session {@code age} back from its newest, or its oldest; null before the first. */
        Session session(String id, int age) {
            List<Session> given = sessions.get(id);
            return given.isEmpty() ? null : given.get(Math.max(0, given.size() - 1 - age));
        }

        String currentTxn(String id) {
            return id + "#" + txnNumber.getOrDefault(id, 0);
        }

        // ---- the coordinator's steps ----

        /** Commits the previous step, then hands this one's result over; answers wait as they must. */
        void absorb(TxnResult result, Map<Long, Runnable> onDelivery) {
            commitPending();
            for (Completion c : result.completions()) {
                if (!c.awaitsCommit()) {
                    Runnable r = onDelivery.remove(c.requestHandle());
                    if (r != null) {
                        r.run();
                    }
                }
            }
            pending = new Step(result, onDelivery);
        }

        void commitPending() {
            if (pending == null) {
                return;
            }
            Step step = pending;
            pending = null;
            step.result().records().forEach(this::checkCommitted);
            for (Completion c : step.result().completions()) {
                Runnable r = step.onDelivery().remove(c.requestHandle());
                if (r != null) {
                    r.run();
                }
            }
            startMarkers(step.result().markers());
        }

        void startMarkers(List<WriteMarkers> work) {
            for (WriteMarkers w : work) {
                TxnMetadata prepared = lastCommitted.get(w.transactionalId());
                assertThat(prepared)
                        .as("markers %s without a committed record", w)
                        .isNotNull();
                assertThat(prepared.state().isPrepare())
                        .as("markers %s for %s", w, prepared)
                        .isTrue();
                assertThat(w.result())
                        .as("marker kind of %s", w)
                        .isEqualTo(
                                prepared.state() == TxnState.PREPARE_COMMIT
                                        ? TransactionResult.COMMIT
                                        : TransactionResult.ABORT);
                assertThat(w.partitions()).as("partitions of %s", w).isEqualTo(prepared.partitions());
                assertThat(new long[] {w.producerId(), w.producerEpoch()})
                        .as("producer of %s", w)
                        .containsExactly(prepared.producerId(), prepared.producerEpoch());
                assertThat(w.coordinatorEpoch()).as("epoch of %s", w).isEqualTo(coordinatorEpoch);
                Work started = new Work(w, currentTxn(w.transactionalId()));
                note("marker work " + started.txn + " " + w.result() + " " + w.partitions() + " pid " + w.producerId()
                        + " epoch " + w.producerEpoch() + " coordinator epoch " + coordinatorEpoch);
                inFlight.add(started);
            }
        }

        TxnCommand.Context context(short version) {
            return new TxnCommand.Context(nextHandle++, version, "p");
        }

        void init(String id, boolean kip360) {
            Session current = session(id, 0);
            boolean withFields = kip360 && current != null;
            TxnCommand.InitProducerId command = new TxnCommand.InitProducerId(
                    context((short) 4),
                    new InitProducerIdRequestData()
                            .setTransactionalId(id)
                            .setTransactionTimeoutMs(TXN_TIMEOUT_MS)
                            .setProducerId(withFields ? current.producerId : -1)
                            .setProducerEpoch(withFields ? current.producerEpoch : -1));
            TxnResult result = state.handle(command, nowMs);
            InitProducerIdResponseData response =
                    (InitProducerIdResponseData) result.completions().get(0).response();
            Map<Long, Runnable> onDelivery = new HashMap<>();
            onDelivery.put(command.requestHandle(), () -> {
                note("InitProducerId " + id + " answered " + Errors.forCode(response.errorCode()) + " "
                        + response.producerId() + "/" + response.producerEpoch());
                countFenced(Errors.forCode(response.errorCode()));
                if (response.errorCode() == Errors.NONE.code()) {
                    List<Session> given = sessions.get(id);
                    Session same = given.stream()
                            .filter(s -> s.producerId == response.producerId()
                                    && s.producerEpoch == response.producerEpoch())
                            .findFirst()
                            .orElse(null);
                    // A KIP-360 retry may hand out the same epoch again: the client keeps its sequences.
                    Session next = same != null ? same : new Session(response.producerId(), response.producerEpoch());
                    given.remove(next);
                    next.added.clear();
                    next.ending = false;
                    given.add(next);
                }
            });
            absorb(result, onDelivery);
        }

        void add(String id, Session s, TopicPartition tp) {
            TxnCommand.AddPartitionsToTxn command = new TxnCommand.AddPartitionsToTxn(
                    context((short) 3),
                    new AddPartitionsToTxnRequestData()
                            .setV3AndBelowTransactionalId(id)
                            .setV3AndBelowProducerId(s.producerId)
                            .setV3AndBelowProducerEpoch(s.producerEpoch)
                            .setV3AndBelowTopics(TxnTestDriver.topics(tp)));
            TxnResult result = state.handle(command, nowMs);
            Errors error = TxnTestDriver.partitionErrors(((AddPartitionsToTxnResponseData)
                                    result.completions().get(0).response())
                            .resultsByTopicV3AndBelow())
                    .get(tp);
            Map<Long, Runnable> onDelivery = new HashMap<>();
            onDelivery.put(command.requestHandle(), () -> {
                note("AddPartitionsToTxn " + id + " " + s + " " + tp + " answered " + error);
                countFenced(error);
                if (error == Errors.NONE && !s.added.contains(tp)) {
                    s.added.add(tp);
                }
            });
            absorb(result, onDelivery);
        }

        void end(String id, Session s, boolean commit) {
            if (commit && s == session(id, 0)) {
                // commitTransaction() flushes first: the client's batches in flight reach their partitions.
                for (DataRequest request : new ArrayList<>(dataInFlight)) {
                    if (request.session() == s) {
                        dataInFlight.remove(request);
                        produce(request);
                    }
                }
            }
            s.ending = true;
            TxnCommand.EndTxn command = new TxnCommand.EndTxn(
                    context((short) 3),
                    new EndTxnRequestData()
                            .setTransactionalId(id)
                            .setProducerId(s.producerId)
                            .setProducerEpoch(s.producerEpoch)
                            .setCommitted(commit));
            TxnResult result = state.handle(command, nowMs);
            if (commit) {
                for (TxnRecord r : result.records()) {
                    if (r instanceof TxnMetadata m && m.state() == TxnState.PREPARE_COMMIT) {
                        commitsPreparedByEndTxn.add(m);
                    }
                }
            }
            Errors error = Errors.forCode(
                    ((EndTxnResponseData) result.completions().get(0).response()).errorCode());
            Map<Long, Runnable> onDelivery = new HashMap<>();
            onDelivery.put(command.requestHandle(), () -> {
                note("EndTxn(" + (commit ? "commit" : "abort") + ") " + id + " " + s + " answered " + error);
                countFenced(error);
                if (error == Errors.NONE) {
                    // The answer reflects the committed state: the transaction it ended is the current one.
                    String txn = currentTxn(id);
                    assertThat(decided.get(txn))
                            .as("EndTxn(%s) of %s answered NONE", commit ? "commit" : "abort", txn)
                            .isEqualTo(commit ? TransactionResult.COMMIT : TransactionResult.ABORT);
                    s.added.clear();
                }
                if (error != Errors.CONCURRENT_TRANSACTIONS) {
                    s.ending = false;
                }
            });
            absorb(result, onDelivery);
        }

        void countFenced(Errors error) {
            if (error == Errors.PRODUCER_FENCED || error == Errors.INVALID_PRODUCER_EPOCH) {
                fencedAnswers++;
            }
        }

        void markersWritten(Work work) {
            WriteMarkers w = work.markers;
            note("markers written " + work.txn);
            absorb(
                    state.markersWritten(w.transactionalId(), w.producerId(), w.producerEpoch(), nowMs),
                    new HashMap<>());
        }

        void advance(long ms) {
            long target = nowMs + ms;
            while (state.nextDeadlineMs() <= target) {
                nowMs = Math.max(nowMs, state.nextDeadlineMs());
                TxnResult result = state.tick(nowMs);
                timeoutAborts += result.markers().size();
                absorb(result, new HashMap<>());
            }
            nowMs = target;
        }

        void failOver(boolean loseLastStep) {
            if (loseLastStep) {
                if (pending != null) {
                    note("failover loses " + pending.result().records());
                }
                pending = null;
            } else {
                commitPending();
            }
            state.unload();
            if (!inFlight.isEmpty()) {
                failoversWithWork++;
            }
            deposed.addAll(inFlight);
            while (deposed.size() > DEPOSED_MARKERS_KEPT) {
                deposed.remove(0);
            }
            inFlight.clear();
            state = newState();
            for (TxnRecord record : new ArrayList<>(lastCommitted.values())) {
                state.replay(TxnRecordCodec.decode(TxnRecordCodec.encode(record)));
            }
            coordinatorEpoch++;
            note("failover to coordinator epoch " + coordinatorEpoch);
            TxnResult activated = state.activate(coordinatorEpoch, nowMs);
            assertThat(activated.records()).isEmpty();
            startMarkers(activated.markers());
        }

        // ---- the partitions ----

        /**
         * A data batch from a client session: verified with the coordinator unless the producer has a transaction
         * open on the partition (Kafka's KIP-890 part 1), then checked and appended as the partition would.
         */
        void produce(DataRequest request) {
            note("arrives " + request);
            String id = request.transactionalId();
            Session s = request.session();
            TopicPartition tp = request.tp();
            int count = request.count();
            Partition p = partitions.get(tp);
            ProducerStateEntry entry = p.states.get(s.producerId);
            if (entry != null && entry.currentTxnFirstOffset() >= 0) {
                append(p, s, count, p.open.get(s.producerId).txn(), "joins open transaction");
                return;
            }
            AddPartitionsToTxnTransactionCollection txns = new AddPartitionsToTxnTransactionCollection();
            txns.add(new AddPartitionsToTxnTransaction()
                    .setTransactionalId(id)
                    .setProducerId(s.producerId)
                    .setProducerEpoch(s.producerEpoch)
                    .setVerifyOnly(true)
                    .setTopics(TxnTestDriver.topics(tp)));
            TxnCommand.AddPartitionsToTxn command = new TxnCommand.AddPartitionsToTxn(
                    context((short) 4), new AddPartitionsToTxnRequestData().setTransactions(txns));
            TxnResult result = state.handle(command, nowMs);
            assertThat(result.records()).as("verification changes nothing").isEmpty();
            Errors error = TxnTestDriver.partitionErrors(((AddPartitionsToTxnResponseData)
                                    result.completions().get(0).response())
                            .resultsByTransaction()
                            .find(id)
                            .topicResults())
                    .get(tp);
            Map<Long, Runnable> onDelivery = new HashMap<>();
            onDelivery.put(command.requestHandle(), () -> {
                if (error != Errors.NONE) {
                    note("write " + id + " " + s + " to " + tp + " refused by verification: " + error);
                    refusedByVerification++;
                    return;
                }
                // The answer reflects the committed state, which must hold the partition in the transaction.
                TxnMetadata m = lastCommitted.get(id);
                assertThat(m).as("verified %s %s on %s", id, s, tp).isNotNull();
                assertThat(m.state() == TxnState.ONGOING
                                && m.partitions().contains(tp)
                                && m.producerId() == s.producerId
                                && m.producerEpoch() == s.producerEpoch)
                        .as("verified %s %s on %s with committed %s", id, s, tp, m)
                        .isTrue();
                append(p, s, count, currentTxn(id), "verified");
            });
            absorb(result, onDelivery);
        }

        void append(Partition p, Session s, int count, String txn, String how) {
            int baseSequence = s.nextSequence.getOrDefault(p.tp, 0);
            BatchInfo batch = new BatchInfo(
                    s.producerId, s.producerEpoch, baseSequence, baseSequence + count - 1, true, false, nowMs);
            Verdict verdict = p.states.check(batch);
            if (verdict instanceof Verdict.Reject reject) {
                ProducerStateEntry entry = p.states.get(s.producerId);
                note("write " + s + " to " + p.tp + " (" + how + ") rejected: " + reject);
                assertThat(reject.error())
                        .as("%s write of %s to %s, partition at %s: %s", how, s, p.tp, entry, reject.message())
                        .isEqualTo(Errors.INVALID_PRODUCER_EPOCH);
                assertThat(entry != null && entry.producerEpoch() > s.producerEpoch)
                        .as("%s fenced on %s at %s", s, p.tp, entry)
                        .isTrue();
                refusedByPartition++;
                return;
            }
            assertThat(verdict).as("write of %s to %s", s, p.tp).isInstanceOf(Verdict.Append.class);
            s.nextSequence.put(p.tp, baseSequence + count);
            wroteTo.computeIfAbsent(txn, k -> new TreeSet<>(TxnRecord.PARTITION_ORDER))
                    .add(p.tp);
            appendToLog(p, batch, count, txn, how);
        }

        void appendToLog(Partition p, BatchInfo batch, int count, String txn, String how) {
            long base = p.logEndOffset;
            long last = base + count - 1;
            CompletedTxn completed = p.states.update(batch, base, last);
            boolean commit = batch.control() && batch.controlType() == ControlRecordType.COMMIT;
            p.log.add(new Batch(base, last, batch.producerId(), batch.producerEpoch(), batch.control(), commit, txn));
            p.logEndOffset = last + 1;
            note(p.tp + "@" + base + (batch.control() ? (commit ? " COMMIT" : " ABORT") : " data x" + count)
                    + " pid " + batch.producerId() + " epoch " + batch.producerEpoch() + " " + txn + " (" + how
                    + ")");
            if (batch.control()) {
                Open open = p.open.remove(batch.producerId());
                if (open == null) {
                    assertThat(completed)
                            .as("marker at %s@%d ended nothing", p.tp, base)
                            .isNull();
                    return;
                }
                assertThat(open.txn())
                        .as("marker of %s at %s@%d ends the data of %s", txn, p.tp, base, open.txn())
                        .isEqualTo(txn);
                assertThat(completed)
                        .as("marker at %s@%d ends the transaction from %d", p.tp, base, open.firstOffset())
                        .isEqualTo(new CompletedTxn(batch.producerId(), open.firstOffset(), base, !commit));
                ended.add(new Ended(p.tp, txn, open.firstOffset(), base, commit));
                if (commit) {
                    committedSpans++;
                } else {
                    abortedSpans++;
                }
            } else {
                Open open = p.open.putIfAbsent(batch.producerId(), new Open(base, txn));
                assertThat(open == null || open.txn().equals(txn))
                        .as("data of %s at %s@%d joins the open transaction of %s", txn, p.tp, base, open)
                        .isTrue();
            }
        }

        /** The current coordinator's marker work writes to one more partition; the work never fails. */
        void writeNextMarker(Work work, int pick) {
            if (!work.remaining.isEmpty()) {
                TopicPartition tp = work.remaining.remove(pick % work.remaining.size());
                Verdict verdict = writeMarker(work, tp, "current");
                assertThat(verdict)
                        .as("marker of %s from the current coordinator at %s", work.txn, tp)
                        .isInstanceOf(Verdict.Append.class);
            }
            if (work.remaining.isEmpty()) {
                inFlight.remove(work);
                markersWritten(work);
            }
        }

        /** A deposed coordinator's marker arrives: it must be fenced or harmless (checked on append). */
        void writeLateMarker(Work work, int pick) {
            if (work.remaining.isEmpty()) {
                deposed.remove(work);
                return;
            }
            TopicPartition tp = work.remaining.remove(pick % work.remaining.size());
            if (writeMarker(work, tp, "late") instanceof Verdict.Reject) {
                staleMarkersRefused++;
            }
        }

        Verdict writeMarker(Work work, TopicPartition tp, String how) {
            WriteMarkers w = work.markers;
            Partition p = partitions.get(tp);
            BatchInfo marker = BatchInfo.marker(
                    w.producerId(), w.producerEpoch(), w.result() == TransactionResult.COMMIT, w.coordinatorEpoch());
            Verdict verdict = p.states.check(marker);
            if (verdict instanceof Verdict.Append) {
                appendToLog(p, marker, 1, work.txn, how + " marker, coordinator epoch " + w.coordinatorEpoch());
            } else {
                note(how + " marker of " + work.txn + " at " + tp + " refused: " + verdict);
                assertThat(verdict)
                        .as("%s marker of %s at %s", how, work.txn, tp)
                        .isInstanceOf(Verdict.Reject.class);
            }
            return verdict;
        }

        // ---- the end ----

        /** No more failovers: every transaction times out or ends, every marker is written, late ones arrive. */
        void finish() {
            note("-- finish");
            while (!dataInFlight.isEmpty()) {
                produce(dataInFlight.remove(0));
            }
            commitPending();
            advance(TXN_TIMEOUT_MS + 2L * CONFIG.abortTimedOutTransactionCleanupIntervalMs());
            commitPending();
            while (!inFlight.isEmpty()) {
                Work work = inFlight.get(0);
                while (inFlight.contains(work)) {
                    writeNextMarker(work, 0);
                }
                commitPending();
                checkPartitions();
            }
            for (Work work : new ArrayList<>(deposed)) {
                while (!work.remaining.isEmpty()) {
                    writeLateMarker(work, 0);
                }
            }
            checkPartitions();
        }

        // ---- checks ----

        /** After every step: the first unstable offset follows the log, the LSO passes no open transaction. */
        void checkPartitions() {
            for (Partition p : partitions.values()) {
                assertThat(p.states.firstUnstableOffset())
                        .as("first unstable offset of %s, open %s", p.tp, p.open)
                        .isEqualTo(p.naiveFirstUnstableOffset());
                long lastStable = p.lastStableOffset();
                assertThat(lastStable).as("LSO of %s moves back", p.tp).isGreaterThanOrEqualTo(p.lastStableOffsetSeen);
                p.lastStableOffsetSeen = lastStable;
                for (Open open : p.open.values()) {
                    assertThat(lastStable)
                            .as("LSO of %s passes the open %s", p.tp, open)
                            .isLessThanOrEqualTo(open.firstOffset());
                }
                if (p.open.isEmpty()) {
                    assertThat(lastStable)
                            .as("LSO of %s with no open transaction", p.tp)
                            .isEqualTo(p.logEndOffset);
                }
            }
        }

        void checkOutcomes() {
            for (Partition p : partitions.values()) {
                assertThat(rescan(p))
                        .as("transactions ended on %s, from a rescan of its log", p.tp)
                        .isEqualTo(
                                ended.stream().filter(e -> e.tp().equals(p.tp)).toList());
                assertThat(p.open)
                        .as("open transactions on %s at the end", p.tp)
                        .isEmpty();
                assertThat(p.states.firstUnstableOffset())
                        .as("first unstable offset of %s at the end", p.tp)
                        .isEqualTo(ProducerStates.NO_OPEN_TRANSACTION);
            }
            for (String id : IDS) {
                state.transaction(id).ifPresent(m -> assertThat(m.state().isPrepare())
                        .as("%s left in %s", id, m.state())
                        .isFalse());
            }
            Map<String, Map<TopicPartition, List<Ended>>> byTxn = new TreeMap<>();
            for (Ended e : ended) {
                byTxn.computeIfAbsent(e.txn(), k -> new TreeMap<>(TxnRecord.PARTITION_ORDER))
                        .computeIfAbsent(e.tp(), k -> new ArrayList<>())
                        .add(e);
                assertThat(decided.get(e.txn()))
                        .as("outcome of %s on %s", e.txn(), e.tp())
                        .isEqualTo(e.commit() ? TransactionResult.COMMIT : TransactionResult.ABORT);
            }
            for (Map.Entry<String, Set<TopicPartition>> wrote : wroteTo.entrySet()) {
                Map<TopicPartition, List<Ended>> endings = byTxn.getOrDefault(wrote.getKey(), Map.of());
                assertThat(endings.keySet())
                        .as("partitions where %s ended", wrote.getKey())
                        .containsExactlyInAnyOrderElementsOf(wrote.getValue());
                endings.forEach((tp, list) -> assertThat(list)
                        .as("endings of %s on %s", wrote.getKey(), tp)
                        .hasSize(1));
            }
        }

        /** The transactions that ended on the partition, from its log alone (each marker ends its producer's). */
        static List<Ended> rescan(Partition p) {
            Map<Long, Batch> first = new HashMap<>();
            List<Ended> endings = new ArrayList<>();
            for (Batch batch : p.log) {
                if (!batch.control()) {
                    first.putIfAbsent(batch.producerId(), batch);
                    continue;
                }
                Batch opened = first.remove(batch.producerId());
                if (opened != null) {
                    endings.add(new Ended(p.tp, batch.txn(), opened.baseOffset(), batch.baseOffset(), batch.commit()));
                }
            }
            assertThat(first).as("data of %s never ended", p.tp).isEmpty();
            return endings;
        }

        /** Checks a committed record against the previous committed record of its transactional id. */
        void checkCommitted(TxnRecord record) {
            String id = record.transactionalId();
            TxnMetadata before = lastCommitted.get(id);
            if (record instanceof TxnTombstone) {
                assertThat(before).as("tombstone of unknown %s", id).isNotNull();
                assertThat(before.state().isExpirationAllowed())
                        .as("%s expired in %s", id, before.state())
                        .isTrue();
                lastCommitted.remove(id);
                note("committed tombstone " + id);
                return;
            }
            TxnMetadata m = (TxnMetadata) record;
            TxnState from = before == null ? null : before.state();
            if (m.state() == TxnState.ONGOING && from != TxnState.ONGOING) {
                txnNumber.merge(id, 1, Integer::sum);
            }
            String txn = currentTxn(id);
            note("committed " + txn + " " + m.state() + " pid " + m.producerId() + " epoch " + m.producerEpoch() + " "
                    + m.partitions());
            switch (m.state()) {
                case PREPARE_COMMIT, PREPARE_ABORT -> {
                    assertThat(from).as("%s prepared from %s", txn, from).isEqualTo(TxnState.ONGOING);
                    assertThat(m.state() != TxnState.PREPARE_COMMIT || commitsPreparedByEndTxn.contains(m))
                            .as("%s prepared to commit by anything but EndTxn(commit)", txn)
                            .isTrue();
                    TransactionResult decision =
                            m.state() == TxnState.PREPARE_COMMIT ? TransactionResult.COMMIT : TransactionResult.ABORT;
                    assertThat(decided.putIfAbsent(txn, decision))
                            .as("%s decided twice", txn)
                            .isNull();
                }
                case COMPLETE_COMMIT, COMPLETE_ABORT ->
                    assertThat(from)
                            .as("%s completed as %s from %s", txn, m.state(), from)
                            .isEqualTo(
                                    m.state() == TxnState.COMPLETE_COMMIT
                                            ? TxnState.PREPARE_COMMIT
                                            : TxnState.PREPARE_ABORT);
                default -> {}
            }
            lastCommitted.put(id, m);
        }

        long multiPartitionTxns() {
            return wroteTo.values().stream().filter(s -> s.size() > 1).count();
        }
    }
}
