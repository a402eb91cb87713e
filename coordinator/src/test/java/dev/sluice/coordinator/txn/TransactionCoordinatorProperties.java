package dev.sluice.coordinator.txn;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.coordinator.txn.TxnRecord.TxnMetadata;
import dev.sluice.coordinator.txn.TxnRecord.TxnTombstone;
import dev.sluice.coordinator.txn.TxnResult.Completion;
import dev.sluice.coordinator.txn.TxnResult.WriteMarkers;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.statistics.Statistics;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.AddOffsetsToTxnRequestData;
import org.apache.kafka.common.message.AddOffsetsToTxnResponseData;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData;
import org.apache.kafka.common.message.DescribeTransactionsRequestData;
import org.apache.kafka.common.message.DescribeTransactionsResponseData;
import org.apache.kafka.common.message.EndTxnRequestData;
import org.apache.kafka.common.message.EndTxnResponseData;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.TransactionResult;

/**
 * Properties of {@link TransactionCoordinatorState} under random producers. Three transactional ids ({@code
 * a}, {@code b}, and {@code z}, which starts one bump short of an exhausted epoch) each have a producer that
 * remembers the producer ids and epochs it was given; it initializes (sometimes with the KIP-360 fields), adds
 * partitions or the offsets partition, commits or aborts, and now and then acts as a zombie with an epoch it
 * had before (every producer starts with an InitProducerId). The runtime writes the markers asked for in random order; the clock advances past transaction
 * timeouts and id expirations; producer ids run dry now and then. A step's records commit when the next step
 * begins; only then are its waiting answers delivered and its marker work started. The coordinator fails over
 * now and then (persisted records into a fresh state, replay, activate), dropping the marker work in flight
 * and sometimes the last step's uncommitted records with their answers and markers. Every run ends by writing
 * every marker asked for.
 */
class TransactionCoordinatorProperties {
    private static final List<String> IDS = List.of("a", "b", "z");
    private static final List<TopicPartition> PARTITIONS =
            List.of(new TopicPartition("t", 0), new TopicPartition("t", 1), new TopicPartition("u", 0));
    private static final int TXN_TIMEOUT_MS = 5_000;
    private static final TxnCoordinatorConfig CONFIG = TxnCoordinatorConfig.parse(Map.of(
            "transactional.id.expiration.ms", "40000",
            "transaction.abort.timed.out.transaction.cleanup.interval.ms", "1000",
            "transaction.remove.expired.transaction.cleanup.interval.ms", "7000"));

    // ---- the properties ----

    @Property(tries = 150)
    void everyPreparedTransactionCompletesTheWayItWasPrepared(@ForAll("scenarios") List<Action> actions) {
        Simulation sim = new Simulation();
        sim.run(actions);
        sim.drain();
        // Checked on every record and marker work; here: every decision reached its completion.
        assertThat(sim.completed).isEqualTo(sim.decided);
        for (String id : IDS) {
            sim.state.transaction(id).ifPresent(m -> assertThat(m.state().isPrepare())
                    .as("%s left in %s", id, m.state())
                    .isFalse());
        }
        Statistics.label("commits completed").collect(sim.decided.containsValue(TransactionResult.COMMIT));
        Statistics.label("commits completed").coverage(c -> c.check(true).percentage(p -> p > 50));
        Statistics.label("timeouts aborted").collect(sim.timeoutAborts > 0);
        Statistics.label("timeouts aborted").coverage(c -> c.check(true).percentage(p -> p > 20));
        Statistics.label("epochs exhausted").collect(sim.rotations > 0);
        Statistics.label("epochs exhausted").coverage(c -> c.check(true).percentage(p -> p > 20));
    }

    @Property(tries = 150)
    void producerEpochsNeverDecrease(@ForAll("scenarios") List<Action> actions) {
        Simulation sim = new Simulation();
        sim.run(actions);
        sim.drain();
        // Checked on every committed record and every InitProducerId answer delivered.
    }

    @Property(tries = 150)
    void requestsWithAFencedEpochAlwaysFail(@ForAll("scenarios") List<Action> actions) {
        Simulation sim = new Simulation();
        sim.run(actions);
        sim.drain();
        // Checked on every answer; here: the runs did send fenced requests.
        Statistics.label("fenced requests sent").collect(sim.fencedRequests > 0);
        Statistics.label("fenced requests sent").coverage(c -> c.check(true).percentage(p -> p > 60));
    }

    @Property(tries = 150)
    void replayingThePersistedRecordsRebuildsTheSameState(@ForAll("scenarios") List<Action> actions) {
        Simulation sim = new Simulation();
        sim.run(actions);
        sim.drain();
        TransactionCoordinatorState fromSnapshot = sim.newState();
        sim.state.persistedRecords().forEach(fromSnapshot::replay);
        TransactionCoordinatorState fromLog = sim.newState();
        sim.committed.forEach(fromLog::replay);
        assertThat(fromSnapshot.persistedRecords()).isEqualTo(sim.state.persistedRecords());
        assertThat(fromLog.persistedRecords()).isEqualTo(sim.state.persistedRecords());
        List<DescribeTransactionsResponseData.TransactionState> live = sim.describeAll(sim.state);
        fromSnapshot.activate(sim.coordinatorEpoch + 1, sim.nowMs);
        assertThat(sim.describeAll(fromSnapshot)).isEqualTo(live);
    }

    // ---- scenarios ----

    sealed interface Action permits Init, Add, AddOffsets, End, Zombie, FinishMarkers, Advance, FailOver, DryIds {}

    /** @param kip360 send the producer id and epoch it has */
    record Init(int client, boolean kip360) implements Action {}

    record Add(int client, int partition) implements Action {}

    record AddOffsets(int client) implements Action {}

    record End(int client, boolean commit) implements Action {}

    /** The producer sends AddPartitions or EndTxn with an id and epoch it had before. */
    record Zombie(int client, int age, boolean endTxn) implements Action {}

    /** The runtime finishes one of the marker works in flight. */
    record FinishMarkers(int pick) implements Action {}

    record Advance(int ms) implements Action {}

    record FailOver(boolean loseLastStep) implements Action {}

    /** Producer ids run dry for the next few steps. */
    record DryIds() implements Action {}

    @Provide
    Arbitrary<List<Action>> scenarios() {
        Arbitrary<Integer> client = Arbitraries.integers().between(0, IDS.size() - 1);
        Arbitrary<Boolean> coin = Arbitraries.of(true, false);
        Arbitrary<Action> init = Combinators.combine(
                        client, Arbitraries.integers().between(0, 2).map(i -> i > 0))
                .as(Init::new);
        Arbitrary<Action> add = Combinators.combine(
                        client, Arbitraries.integers().between(0, PARTITIONS.size() - 1))
                .as(Add::new);
        Arbitrary<Action> offsets = client.map(AddOffsets::new);
        Arbitrary<Action> end = Combinators.combine(client, coin).as(End::new);
        Arbitrary<Action> zombie = Combinators.combine(
                        client, Arbitraries.integers().between(1, 3), coin)
                .as(Zombie::new);
        Arbitrary<Action> markers = Arbitraries.integers().between(0, 5).map(FinishMarkers::new);
        Arbitrary<Action> advance = Arbitraries.oneOf(
                        Arbitraries.integers().between(0, 1_500),
                        Arbitraries.integers().between(0, 12_000))
                .map(Advance::new);
        Arbitrary<Action> failOver = coin.map(FailOver::new);
        Arbitrary<Action> dry = Arbitraries.just(new DryIds());
        return Arbitraries.frequencyOf(
                        Tuple.of(7, init),
                        Tuple.of(20, add),
                        Tuple.of(4, offsets),
                        Tuple.of(14, end),
                        Tuple.of(6, zombie),
                        Tuple.of(14, markers),
                        Tuple.of(8, advance),
                        Tuple.of(3, failOver),
                        Tuple.of(2, dry))
                .list()
                .ofMinSize(40)
                .ofMaxSize(160);
    }

    // ---- the simulation ----

    /** A producer's view: the (producer id, epoch) pairs it was given, newest last. */
    private static final class Producer {
        final List<long[]> given = new ArrayList<>();

        Optional<long[]> current() {
            return given.isEmpty() ? Optional.empty() : Optional.of(given.get(given.size() - 1));
        }
    }

    /** What a step produced, waiting for its records to commit. */
    private record Step(TxnResult result, Map<Long, Runnable> onDelivery) {}

    private static final class Simulation {
        long nowMs = 1_000_000;
        int coordinatorEpoch = 1;
        long nextProducerId = 100;
        boolean idsAvailable = true;
        int dryStepsLeft;
        TransactionCoordinatorState state;
        final List<TxnRecord> committed = new ArrayList<>();
        final Map<String, TxnMetadata> lastCommitted = new HashMap<>();
        final List<WriteMarkers> inFlight = new ArrayList<>();
        final Map<String, Producer> producers = new HashMap<>();
        final Map<String, Integer> txnNumber = new HashMap<>();
        final Map<String, TransactionResult> decided = new HashMap<>();
        final Map<String, TransactionResult> completed = new HashMap<>();
        final Map<String, long[]> highestGiven = new HashMap<>();
        Step pending;
        long nextHandle = 1;
        int fencedRequests;
        int timeoutAborts;
        int rotations;

        Simulation() {
            state = newState();
            // z: one InitProducerId away from an exhausted epoch.
            TxnMetadata z = new TxnMetadata(
                    "z", 1, -1, -1, (short) 32765, (short) -1, TXN_TIMEOUT_MS, TxnState.EMPTY, List.of(), -1, nowMs);
            state.replay(z);
            checkCommitted(z);
            committed.add(z);
            startMarkers(state.activate(coordinatorEpoch, nowMs).markers());
            for (String id : IDS) {
                producers.put(id, new Producer());
            }
        }

        TransactionCoordinatorState newState() {
            return new TransactionCoordinatorState(
                    CONFIG, () -> idsAvailable ? nextProducerId++ : ProducerIdSource.NONE_AVAILABLE, 10);
        }

        /** Every producer initializes first, then the scenario plays. */
        void run(List<Action> actions) {
            for (String id : IDS) {
                init(id, false);
            }
            for (Action action : actions) {
                step(action);
            }
        }

        void step(Action action) {
            if (action instanceof Init a) {
                init(IDS.get(a.client()), a.kip360());
            } else if (action instanceof Add a) {
                producers
                        .get(IDS.get(a.client()))
                        .current()
                        .ifPresent(p -> add(IDS.get(a.client()), p, PARTITIONS.get(a.partition())));
            } else if (action instanceof AddOffsets a) {
                producers.get(IDS.get(a.client())).current().ifPresent(p -> addOffsets(IDS.get(a.client()), p));
            } else if (action instanceof End a) {
                producers.get(IDS.get(a.client())).current().ifPresent(p -> end(IDS.get(a.client()), p, a.commit()));
            } else if (action instanceof Zombie a) {
                String id = IDS.get(a.client());
                List<long[]> given = producers.get(id).given;
                if (given.size() > a.age()) {
                    long[] old = given.get(given.size() - 1 - a.age());
                    if (a.endTxn()) {
                        end(id, old, true);
                    } else {
                        add(id, old, PARTITIONS.get(0));
                    }
                }
            } else if (action instanceof FinishMarkers a) {
                if (!inFlight.isEmpty()) {
                    writeMarkers(inFlight.remove(a.pick() % inFlight.size()));
                }
            } else if (action instanceof Advance a) {
                advance(a.ms());
            } else if (action instanceof FailOver a) {
                failOver(a.loseLastStep());
            } else if (action instanceof DryIds) {
                dryStepsLeft = 4;
            }
            idsAvailable = dryStepsLeft-- <= 0;
        }

        // ---- driving the state ----

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
            for (TxnRecord record : step.result().records()) {
                checkCommitted(record);
                committed.add(record);
            }
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
                        .as("markers for %s without a committed record", w)
                        .isNotNull();
                assertThat(prepared.state().isPrepare())
                        .as("markers for %s in %s", w, prepared)
                        .isTrue();
                TransactionResult expected = prepared.state() == TxnState.PREPARE_COMMIT
                        ? TransactionResult.COMMIT
                        : TransactionResult.ABORT;
                assertThat(w.result()).as("marker kind of %s", w).isEqualTo(expected);
                assertThat(w.partitions()).as("marker partitions of %s", w).isEqualTo(prepared.partitions());
                assertThat(w.producerId()).isEqualTo(prepared.producerId());
                assertThat(w.producerEpoch()).isEqualTo(prepared.producerEpoch());
                assertThat(w.coordinatorEpoch()).isEqualTo(coordinatorEpoch);
                inFlight.add(w);
            }
        }

        TxnCommand.Context context(short version) {
            return new TxnCommand.Context(nextHandle++, version, "p");
        }

        void init(String id, boolean kip360) {
            Producer producer = producers.get(id);
            long[] current = producer.current().orElse(null);
            boolean withFields = kip360 && current != null;
            TxnCommand.InitProducerId command = new TxnCommand.InitProducerId(
                    context((short) 4),
                    new InitProducerIdRequestData()
                            .setTransactionalId(id)
                            .setTransactionTimeoutMs(TXN_TIMEOUT_MS)
                            .setProducerId(withFields ? current[0] : -1)
                            .setProducerEpoch(withFields ? (short) current[1] : -1));
            TxnResult result = state.handle(command, nowMs);
            InitProducerIdResponseData response =
                    (InitProducerIdResponseData) result.completions().get(0).response();
            Map<Long, Runnable> onDelivery = new HashMap<>();
            onDelivery.put(command.requestHandle(), () -> {
                if (response.errorCode() == Errors.NONE.code()) {
                    long[] given = {response.producerId(), response.producerEpoch()};
                    long[] highest = highestGiven.get(id);
                    assertThat(highest == null || compare(given, highest) >= 0)
                            .as("InitProducerId for %s gave %s after %s", id, str(given), str(highest))
                            .isTrue();
                    highestGiven.put(id, given);
                    producer.given.add(given);
                }
            });
            absorb(result, onDelivery);
        }

        void add(String id, long[] producer, TopicPartition tp) {
            boolean fenced = isFenced(id, producer);
            TxnCommand.AddPartitionsToTxn command = new TxnCommand.AddPartitionsToTxn(
                    context((short) 3),
                    new AddPartitionsToTxnRequestData()
                            .setV3AndBelowTransactionalId(id)
                            .setV3AndBelowProducerId(producer[0])
                            .setV3AndBelowProducerEpoch((short) producer[1])
                            .setV3AndBelowTopics(TxnTestDriver.topics(tp)));
            TxnResult result = state.handle(command, nowMs);
            AddPartitionsToTxnResponseData response =
                    (AddPartitionsToTxnResponseData) result.completions().get(0).response();
            Errors error = TxnTestDriver.partitionErrors(response.resultsByTopicV3AndBelow())
                    .get(tp);
            checkFenced(fenced, error, "AddPartitionsToTxn", id, producer);
            absorb(result, new HashMap<>());
        }

        void addOffsets(String id, long[] producer) {
            boolean fenced = isFenced(id, producer);
            TxnCommand.AddOffsetsToTxn command = new TxnCommand.AddOffsetsToTxn(
                    context((short) 3),
                    new AddOffsetsToTxnRequestData()
                            .setTransactionalId(id)
                            .setProducerId(producer[0])
                            .setProducerEpoch((short) producer[1])
                            .setGroupId("group"));
            TxnResult result = state.handle(command, nowMs);
            Errors error = Errors.forCode(
                    ((AddOffsetsToTxnResponseData) result.completions().get(0).response()).errorCode());
            checkFenced(fenced, error, "AddOffsetsToTxn", id, producer);
            absorb(result, new HashMap<>());
        }

        void end(String id, long[] producer, boolean commit) {
            boolean fenced = isFenced(id, producer);
            TxnCommand.EndTxn command = new TxnCommand.EndTxn(
                    context((short) 3),
                    new EndTxnRequestData()
                            .setTransactionalId(id)
                            .setProducerId(producer[0])
                            .setProducerEpoch((short) producer[1])
                            .setCommitted(commit));
            TxnResult result = state.handle(command, nowMs);
            Errors error = Errors.forCode(
                    ((EndTxnResponseData) result.completions().get(0).response()).errorCode());
            checkFenced(fenced, error, "EndTxn", id, producer);
            absorb(result, new HashMap<>());
        }

        void writeMarkers(WriteMarkers w) {
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
                pending = null;
            } else {
                commitPending();
            }
            state.unload();
            inFlight.clear();
            state = newState();
            List<TxnRecord> snapshot = new ArrayList<>(lastCommitted.values());
            for (TxnRecord record : snapshot) {
                state.replay(TxnRecordCodec.decode(TxnRecordCodec.encode(record)));
            }
            coordinatorEpoch++;
            TxnResult activated = state.activate(coordinatorEpoch, nowMs);
            assertThat(activated.records()).isEmpty();
            startMarkers(activated.markers());
        }

        /** Writes every marker asked for, until nothing is left in flight. */
        void drain() {
            commitPending();
            while (!inFlight.isEmpty()) {
                writeMarkers(inFlight.remove(0));
                commitPending();
            }
        }

        // ---- checks ----

        /** A request is fenced if the coordinator holds a newer producer id or epoch for the transactional id. */
        boolean isFenced(String id, long[] producer) {
            Optional<TxnMetadata> m = state.transaction(id);
            boolean fenced = m.isPresent()
                    && compare(
                                    producer,
                                    new long[] {m.get().producerId(), m.get().producerEpoch()})
                            < 0;
            if (fenced) {
                fencedRequests++;
            }
            return fenced;
        }

        static void checkFenced(boolean fenced, Errors error, String api, String id, long[] producer) {
            if (fenced) {
                assertThat(error)
                        .as("%s for %s with fenced %s", api, id, str(producer))
                        .isIn(
                                Errors.PRODUCER_FENCED,
                                Errors.INVALID_PRODUCER_EPOCH,
                                Errors.INVALID_PRODUCER_ID_MAPPING);
            }
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
                return;
            }
            TxnMetadata m = (TxnMetadata) record;
            if (before != null) {
                long[] was = {before.producerId(), before.producerEpoch()};
                long[] is = {m.producerId(), m.producerEpoch()};
                assertThat(compare(is, was))
                        .as("%s went from %s to %s", id, str(was), str(is))
                        .isGreaterThanOrEqualTo(0);
                if (m.producerId() != before.producerId()) {
                    rotations++;
                }
            }
            String txn = id + "#" + txnNumber.getOrDefault(id, 0);
            TxnState from = before == null ? null : before.state();
            switch (m.state()) {
                case ONGOING:
                    if (from != TxnState.ONGOING) {
                        txnNumber.merge(id, 1, Integer::sum);
                    }
                    break;
                case PREPARE_COMMIT:
                case PREPARE_ABORT:
                    assertThat(from).as("%s prepared from %s", txn, from).isEqualTo(TxnState.ONGOING);
                    assertThat(m.partitions()).isEqualTo(before.partitions());
                    TransactionResult decision =
                            m.state() == TxnState.PREPARE_COMMIT ? TransactionResult.COMMIT : TransactionResult.ABORT;
                    assertThat(decided.putIfAbsent(txn, decision))
                            .as("%s decided twice", txn)
                            .isNull();
                    break;
                case COMPLETE_COMMIT:
                case COMPLETE_ABORT:
                    TxnState prepare =
                            m.state() == TxnState.COMPLETE_COMMIT ? TxnState.PREPARE_COMMIT : TxnState.PREPARE_ABORT;
                    assertThat(from)
                            .as("%s completed as %s from %s", txn, m.state(), from)
                            .isEqualTo(prepare);
                    assertThat(m.producerEpoch()).isEqualTo(before.producerEpoch());
                    assertThat(completed.put(txn, decided.get(txn)))
                            .as("%s completed twice", txn)
                            .isNull();
                    break;
                default:
                    assertThat(from)
                            .as("%s re-initialized during a transaction", id)
                            .isNotIn(TxnState.ONGOING, TxnState.PREPARE_COMMIT, TxnState.PREPARE_ABORT);
            }
            lastCommitted.put(id, m);
        }

        List<DescribeTransactionsResponseData.TransactionState> describeAll(TransactionCoordinatorState s) {
            TxnResult result = s.handle(
                    new TxnCommand.DescribeTransactions(
                            context((short) 0), new DescribeTransactionsRequestData().setTransactionalIds(IDS)),
                    nowMs);
            return ((DescribeTransactionsResponseData)
                            result.completions().get(0).response())
                    .transactionStates();
        }

        static int compare(long[] a, long[] b) {
            return a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]);
        }

        static String str(long[] p) {
            return p == null ? "nothing" : "(" + p[0] + ", " + p[1] + ")";
        }
    }
}
