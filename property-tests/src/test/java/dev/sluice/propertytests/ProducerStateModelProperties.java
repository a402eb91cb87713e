package dev.sluice.propertytests;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.partitionstore.ProducerStateEntry;
import dev.sluice.partitionstore.testing.Batches;
import dev.sluice.raft.ProducerStates;
import dev.sluice.raft.ProducerStates.BatchInfo;
import dev.sluice.raft.ProducerStates.Verdict;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.statistics.Statistics;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.CompressionType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.RecordBatch;

/**
 * Model-based test of {@link ProducerStates}, the idempotent-producer step every replica runs on its
 * Raft log. Random sequences of client actions (produce the next batch, retry a recent or an old batch,
 * re-send a batch split differently, bump the epoch, write with a stale epoch, skip sequences, write
 * without a producer id) and leader changes are played against the real state and against {@link
 * HistoryModel}, which keeps every appended batch of every producer and derives Kafka's rules from that
 * full history. A leader change rebuilds the state from scratch, as a new leader or a restarted replica
 * does: from a snapshot of the entries at some earlier point of the log, then by replaying the appended
 * batches after it; the rebuilt state must answer every probe exactly as the old one did.
 *
 * <p>After every action the state must give the model's verdict on a fixed set of probes per producer
 * (its next batch, each of its last eight batches again, a re-split, a gap, a new epoch at sequence 0 and
 * 1, a stale epoch, an unknown producer), and checking must leave the state unchanged.
 */
class ProducerStateModelProperties {
    private static final int MAX_ACTIONS = 60;
    private static final long FIRST_PRODUCER_ID = 1000;
    private static final long UNKNOWN_PRODUCER_ID = 999;
    /** How many of a producer's past batches a retry may reach back (more than the five kept). */
    private static final int RETRY_DEPTH = 8;

    @Property(tries = 300, edgeCases = EdgeCasesMode.NONE)
    void verdictsAgreeWithTheFullHistoryModel(@ForAll("scenarios") Scenario scenario) {
        Run run = new Run(scenario);
        List<Action> actions = scenario.actions();
        for (int step = 0; step < actions.size(); step++) {
            try {
                run.apply(actions.get(step));
                run.verifyProbes();
            } catch (AssertionError e) {
                throw new AssertionError(
                        "step " + step + " " + actions.get(step) + ": " + e.getMessage() + "\nappended: "
                                + run.model.appended,
                        e);
            }
        }
        Statistics.label("a producer's sequence wrapped past Integer.MAX_VALUE").collect(run.model.sequenceWrapped());
        Statistics.label("verdict").coverage(coverage -> {
            coverage.check("append").percentage(p -> p >= 20);
            coverage.check("duplicate").percentage(p -> p >= 5);
            coverage.check(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER.name()).percentage(p -> p >= 3);
            coverage.check(Errors.INVALID_PRODUCER_EPOCH.name()).percentage(p -> p >= 1);
        });
        Statistics.label("a producer's sequence wrapped past Integer.MAX_VALUE")
                .coverage(coverage -> coverage.check(true).percentage(p -> p >= 3));
    }

    /**
     * Two replicas fed the same log decide every batch the same way, down to the error message, although
     * the second is restored from its own entries (as after a snapshot) at every leader change and copied
     * at {@code copyAt}. Their entries are equal at the end.
     */
    @Property(tries = 200, edgeCases = EdgeCasesMode.NONE)
    void replicasFedTheSameLogReachTheSameVerdicts(
            @ForAll("scenarios") Scenario scenario, @ForAll @IntRange(min = 0, max = MAX_ACTIONS) int copyAt) {
        Run run = new Run(scenario);
        ProducerStates replica = run.states.copy();
        List<Action> actions = scenario.actions();
        for (int step = 0; step < actions.size(); step++) {
            Action action = actions.get(step);
            if (step == copyAt) {
                replica = replica.copy();
            }
            if (action instanceof LeaderChange) {
                replica = new ProducerStates(replica.entries());
                continue;
            }
            Sent sent = run.clients.batchFor(action, step);
            if (sent == null) {
                run.clients.apply(action);
                continue;
            }
            Verdict first = run.states.check(sent.info());
            Verdict second = replica.check(sent.info());
            assertThat(second).as("step %d %s: %s", step, action, sent).isEqualTo(first);
            if (first instanceof Verdict.Append) {
                long firstOffset = run.model.nextOffset;
                long lastOffset = firstOffset + sent.recordCount() - 1;
                run.states.update(sent.info(), firstOffset, lastOffset);
                replica.update(sent.info(), firstOffset, lastOffset);
                run.model.append(sent, firstOffset);
                run.clients.appended(sent);
            }
        }
        assertThat(byProducer(replica)).isEqualTo(byProducer(run.states));
    }

    // ---- one try ----------------------------------------------------------------------------------------

    /** The state under test, the model and the clients of one try. */
    static final class Run {
        final Clients clients;
        final HistoryModel model = new HistoryModel();
        ProducerStates states = new ProducerStates();
        private int step;

        Run(Scenario scenario) {
            clients = new Clients(scenario.producers());
            // A producer that starts past sequence 0 wrote the sequence before it earlier: that batch is
            // the first of the log (an unknown producer must start at 0).
            for (Client c : clients.all()) {
                if (c.nextSequence != 0) {
                    Sent earlier = Clients.idempotent(c.producerId, c.epoch, c.nextSequence - 1, 1, 1_000_000L);
                    long firstOffset = model.nextOffset;
                    states.update(earlier.info(), firstOffset, firstOffset);
                    model.append(earlier, firstOffset);
                    clients.appended(earlier);
                }
            }
        }

        void apply(Action action) {
            step++;
            if (action instanceof LeaderChange change) {
                leaderChange(change.snapshotPermille());
                return;
            }
            Sent sent = clients.batchFor(action, step);
            if (sent == null) {
                clients.apply(action);
                return;
            }
            Expected expected = model.verdict(sent.info());
            Verdict actual = states.check(sent.info());
            Statistics.label("verdict").collect(expected.label());
            assertThat(Expected.of(actual)).as("verdict on %s", sent).isEqualTo(expected);
            checkMessage(sent.info(), actual);
            if (actual instanceof Verdict.Append) {
                long firstOffset = model.nextOffset;
                states.update(sent.info(), firstOffset, firstOffset + sent.recordCount() - 1);
                model.append(sent, firstOffset);
                clients.appended(sent);
            }
        }

        /**
         * A new leader's state: the entries as of an earlier point of the log (a snapshot), then the
         * appended batches after it replayed in log order. Must equal the state it replaces.
         */
        private void leaderChange(int snapshotPermille) {
            List<Appended> log = model.appended;
            int snapshotAt = (int) ((long) log.size() * snapshotPermille / 1000);
            ProducerStates snapshot = new ProducerStates();
            for (Appended batch : log.subList(0, snapshotAt)) {
                snapshot.update(batch.sent().info(), batch.firstOffset(), batch.lastOffset());
            }
            ProducerStates rebuilt = new ProducerStates(snapshot.entries());
            for (Appended batch : log.subList(snapshotAt, log.size())) {
                rebuilt.update(batch.sent().info(), batch.firstOffset(), batch.lastOffset());
            }
            assertThat(byProducer(rebuilt))
                    .as("entries rebuilt from a snapshot after %d of %d batches", snapshotAt, log.size())
                    .isEqualTo(byProducer(states));
            for (BatchInfo probe : probes()) {
                assertThat(rebuilt.check(probe))
                        .as("the rebuilt state's verdict on %s", probe)
                        .isEqualTo(states.check(probe));
            }
            states = rebuilt;
        }

        /** The model's verdict on every probe; checking changes nothing. */
        void verifyProbes() {
            Map<Long, ProducerStateEntry> before = byProducer(states);
            for (BatchInfo probe : probes()) {
                Verdict actual = states.check(probe);
                assertThat(Expected.of(actual)).as("verdict on probe %s", probe).isEqualTo(model.verdict(probe));
                checkMessage(probe, actual);
            }
            assertThat(byProducer(states))
                    .as("entries after checking the probes")
                    .isEqualTo(before);
        }

        private List<BatchInfo> probes() {
            List<BatchInfo> probes = new ArrayList<>();
            long timestamp = 1_000_000L + step;
            for (Client client : clients.all()) {
                long id = client.producerId;
                probes.add(info(id, client.epoch, client.nextSequence, 1, timestamp));
                probes.add(info(id, client.epoch, client.nextSequence, 3, timestamp));
                probes.add(info(id, client.epoch, nextSequence(client.nextSequence), 1, timestamp));
                probes.add(info(id, client.epoch, Integer.MAX_VALUE, 1, timestamp));
                probes.add(info(id, (short) (client.epoch + 1), 0, 2, timestamp));
                probes.add(info(id, (short) (client.epoch + 1), 1, 2, timestamp));
                if (client.epoch > 0) {
                    probes.add(info(id, (short) (client.epoch - 1), client.nextSequence, 1, timestamp));
                }
                for (int back = 1; back <= Math.min(RETRY_DEPTH, client.appended.size()); back++) {
                    Sent old = client.appended.get(client.appended.size() - back);
                    probes.add(old.info());
                    probes.add(
                            info(id, old.info().producerEpoch(), old.info().baseSequence(), old.recordCount() + 1, 0));
                }
            }
            probes.add(info(UNKNOWN_PRODUCER_ID, (short) 3, 17, 2, timestamp));
            probes.add(new BatchInfo(
                    RecordBatch.NO_PRODUCER_ID,
                    RecordBatch.NO_PRODUCER_EPOCH,
                    RecordBatch.NO_SEQUENCE,
                    RecordBatch.NO_SEQUENCE,
                    false,
                    false,
                    timestamp));
            return probes;
        }
    }

    /** A rejection's message names the producer (a client's log must say which one was fenced). */
    private static void checkMessage(BatchInfo batch, Verdict verdict) {
        if (verdict instanceof Verdict.Reject reject) {
            assertThat(reject.message()).as("message of %s", reject).contains(Long.toString(batch.producerId()));
        }
    }

    private static Map<Long, ProducerStateEntry> byProducer(ProducerStates states) {
        Map<Long, ProducerStateEntry> result = new HashMap<>();
        states.entries().forEach(entry -> result.put(entry.producerId(), entry));
        return result;
    }

    // ---- the model --------------------------------------------------------------------------------------

    /** A batch as a client sent it: what the partition reads from its header, and how many records. */
    record Sent(BatchInfo info, int recordCount) {
        @Override
        public String toString() {
            return info.producerId() == RecordBatch.NO_PRODUCER_ID
                    ? "batch(" + recordCount + " records, no producer id)"
                    : "batch(producer " + info.producerId() + ", epoch " + info.producerEpoch() + ", sequences "
                            + info.baseSequence() + ".." + info.lastSequence() + ")";
        }
    }

    /** A batch in the log with its offsets. */
    record Appended(Sent sent, long firstOffset, long lastOffset) {
        @Override
        public String toString() {
            return sent + "@" + firstOffset;
        }
    }

    /** A verdict without its message: what the model predicts. */
    record Expected(String kind, Errors error, long firstOffset, long lastOffset) {
        static final Expected APPEND = new Expected("append", Errors.NONE, -1, -1);

        static Expected duplicate(long firstOffset, long lastOffset) {
            return new Expected("duplicate", Errors.NONE, firstOffset, lastOffset);
        }

        static Expected reject(Errors error) {
            return new Expected("reject", error, -1, -1);
        }

        static Expected of(Verdict verdict) {
            if (verdict instanceof Verdict.Duplicate duplicate) {
                return duplicate(duplicate.firstOffset(), duplicate.lastOffset());
            }
            if (verdict instanceof Verdict.Reject reject) {
                return reject(reject.error());
            }
            return APPEND;
        }

        String label() {
            return kind.equals("reject") ? error.name() : kind;
        }
    }

    /**
     * Kafka's idempotence rules over the full history: every batch ever appended, per producer, in log
     * order. A producer's current epoch is the epoch of its last appended batch (lower epochs are never
     * appended after a higher one); the batches that retries are matched against are the last {@value
     * ProducerStateEntry#MAX_BATCHES} of that epoch.
     */
    static final class HistoryModel {
        final List<Appended> appended = new ArrayList<>();
        final Map<Long, List<Appended>> byProducer = new HashMap<>();
        long nextOffset;

        Expected verdict(BatchInfo batch) {
            if (batch.producerId() == RecordBatch.NO_PRODUCER_ID) {
                return Expected.APPEND;
            }
            List<Appended> history = byProducer.getOrDefault(batch.producerId(), List.of());
            if (history.isEmpty()) {
                // Stricter than Kafka 2.5+ (a partition never drops a producer's state): start at 0.
                return batch.control() || batch.baseSequence() == 0
                        ? Expected.APPEND
                        : Expected.reject(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER);
            }
            short currentEpoch = history.get(history.size() - 1).sent().info().producerEpoch();
            if (batch.producerEpoch() < currentEpoch) {
                return Expected.reject(Errors.INVALID_PRODUCER_EPOCH);
            }
            if (batch.producerEpoch() > currentEpoch) {
                return batch.baseSequence() == 0
                        ? Expected.APPEND
                        : Expected.reject(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER);
            }
            List<Appended> sameEpoch = history.stream()
                    .filter(a -> a.sent().info().producerEpoch() == currentEpoch)
                    .toList();
            List<Appended> retained =
                    sameEpoch.subList(Math.max(0, sameEpoch.size() - ProducerStateEntry.MAX_BATCHES), sameEpoch.size());
            for (Appended seen : retained) {
                BatchInfo info = seen.sent().info();
                if (info.baseSequence() == batch.baseSequence() && info.lastSequence() == batch.lastSequence()) {
                    return Expected.duplicate(seen.firstOffset(), seen.lastOffset());
                }
            }
            int last = sameEpoch.get(sameEpoch.size() - 1).sent().info().lastSequence();
            return batch.baseSequence() == nextSequence(last)
                    ? Expected.APPEND
                    : Expected.reject(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER);
        }

        void append(Sent sent, long firstOffset) {
            Appended batch = new Appended(sent, firstOffset, firstOffset + sent.recordCount() - 1);
            appended.add(batch);
            nextOffset = batch.lastOffset() + 1;
            if (sent.info().producerId() != RecordBatch.NO_PRODUCER_ID) {
                byProducer
                        .computeIfAbsent(sent.info().producerId(), id -> new ArrayList<>())
                        .add(batch);
            }
        }

        boolean sequenceWrapped() {
            return appended.stream()
                    .anyMatch(a -> a.sent().info().producerId() != RecordBatch.NO_PRODUCER_ID
                            && a.sent().info().lastSequence() < a.sent().info().baseSequence());
        }
    }

    /** The sequence after {@code sequence}: Kafka wraps from {@code Integer.MAX_VALUE} to 0. */
    static int nextSequence(int sequence) {
        return sequence == Integer.MAX_VALUE ? 0 : sequence + 1;
    }

    /** The last sequence of {@code count} records from {@code baseSequence}, wrapping as Kafka does. */
    static int lastSequence(int baseSequence, int count) {
        return (int) (((long) baseSequence + count - 1) % (1L + Integer.MAX_VALUE));
    }

    static BatchInfo info(long producerId, short epoch, int baseSequence, int count, long timestamp) {
        return new BatchInfo(
                producerId, epoch, baseSequence, lastSequence(baseSequence, count), false, false, timestamp);
    }

    // ---- the clients ------------------------------------------------------------------------------------

    /** What one producer knows: its epoch, its next sequence and the batches it saw appended. */
    static final class Client {
        final long producerId;
        short epoch;
        int nextSequence;
        final List<Sent> appended = new ArrayList<>();

        Client(long producerId, short epoch, int nextSequence) {
            this.producerId = producerId;
            this.epoch = epoch;
            this.nextSequence = nextSequence;
        }
    }

    /** The producers of one try; turns actions into the batches they send. */
    static final class Clients {
        private final List<Client> clients = new ArrayList<>();

        Clients(List<ProducerSpec> specs) {
            for (int i = 0; i < specs.size(); i++) {
                ProducerSpec spec = specs.get(i);
                clients.add(new Client(FIRST_PRODUCER_ID + i, spec.initialEpoch(), spec.initialSequence()));
            }
        }

        List<Client> all() {
            return clients;
        }

        private Client client(int producer) {
            return clients.get(producer % clients.size());
        }

        /**
         * The batch an action sends, built with Kafka's own batch builder (so the sequence arithmetic is
         * Kafka's), or null when the action sends nothing.
         */
        Sent batchFor(Action action, int step) {
            long timestamp = 1_000_000L + step;
            if (action instanceof Produce produce) {
                Client c = client(produce.producer());
                return idempotent(c.producerId, c.epoch, c.nextSequence, produce.count(), timestamp);
            }
            if (action instanceof Retry retry) {
                Client c = client(retry.producer());
                return c.appended.isEmpty() ? null : back(c, retry.back());
            }
            if (action instanceof Resplit resplit) {
                Client c = client(resplit.producer());
                if (c.appended.isEmpty()) {
                    return null;
                }
                Sent old = back(c, resplit.back());
                int count = old.recordCount() + resplit.extra();
                return idempotent(
                        c.producerId,
                        old.info().producerEpoch(),
                        old.info().baseSequence(),
                        count < 1 ? old.recordCount() + 1 : count,
                        timestamp);
            }
            if (action instanceof StaleEpoch stale) {
                Client c = client(stale.producer());
                int epoch = c.epoch - stale.epochsBack();
                return epoch < 0
                        ? null
                        : idempotent(c.producerId, (short) epoch, c.nextSequence, stale.count(), timestamp);
            }
            if (action instanceof Gap gap) {
                Client c = client(gap.producer());
                int base = (int) (((long) c.nextSequence + gap.skip()) % (1L + Integer.MAX_VALUE));
                return idempotent(c.producerId, c.epoch, base, gap.count(), timestamp);
            }
            if (action instanceof NoProducerId none) {
                ByteBuffer bytes = Batches.batch(CompressionType.NONE, none.count(), timestamp);
                return new Sent(BatchInfo.of(onlyBatch(bytes)), none.count());
            }
            return null; // BumpEpoch and LeaderChange send nothing
        }

        private static Sent back(Client c, int back) {
            return c.appended.get(Math.max(0, c.appended.size() - back));
        }

        /** Actions that change only the client: an epoch bump restarts its sequences at 0. */
        void apply(Action action) {
            if (action instanceof BumpEpoch bump) {
                Client c = client(bump.producer());
                c.epoch++;
                c.nextSequence = 0;
            }
        }

        /** The partition appended the batch: its producer continues after it. */
        void appended(Sent sent) {
            for (Client c : clients) {
                if (c.producerId == sent.info().producerId()) {
                    c.appended.add(sent);
                    if (sent.info().producerEpoch() == c.epoch) {
                        c.nextSequence = nextSequence(sent.info().lastSequence());
                    }
                }
            }
        }

        private static Sent idempotent(long producerId, short epoch, int baseSequence, int count, long timestamp) {
            ByteBuffer bytes = Batches.idempotent(producerId, epoch, baseSequence, count, timestamp);
            BatchInfo fromKafka = BatchInfo.of(onlyBatch(bytes));
            assertThat(fromKafka)
                    .as("Kafka's header agrees with the test's sequence arithmetic")
                    .isEqualTo(info(producerId, epoch, baseSequence, count, timestamp));
            return new Sent(fromKafka, count);
        }

        private static RecordBatch onlyBatch(ByteBuffer bytes) {
            return MemoryRecords.readableRecords(bytes).batches().iterator().next();
        }
    }

    // ---- actions ----------------------------------------------------------------------------------------

    /** A client action, or a leader change. Producers are indices, taken modulo the producer count. */
    sealed interface Action {}

    /** The producer's next batch, at its epoch and next sequence. */
    record Produce(int producer, int count) implements Action {}

    /** Sends again the producer's {@code back}-th most recent appended batch (1 = the last). */
    record Retry(int producer, int back) implements Action {}

    /** Sends the sequences of an appended batch again, with {@code extra} more records (a different split). */
    record Resplit(int producer, int back, int extra) implements Action {}

    /** The producer gets a new epoch (InitProducerId) and restarts at sequence 0. */
    record BumpEpoch(int producer) implements Action {}

    /** A zombie of the producer writes with an epoch {@code epochsBack} older than its current one. */
    record StaleEpoch(int producer, int epochsBack, int count) implements Action {}

    /** The producer skips {@code skip} sequences. */
    record Gap(int producer, int skip, int count) implements Action {}

    /** A batch without producer id, from a non-idempotent producer. */
    record NoProducerId(int count) implements Action {}

    /** The state is rebuilt from a snapshot taken at {@code snapshotPermille} of the log and the rest of it. */
    record LeaderChange(int snapshotPermille) implements Action {}

    /** A producer's starting point: an epoch and a first sequence (past 0: it wrote the one before first). */
    record ProducerSpec(short initialEpoch, int initialSequence) {}

    record Scenario(List<ProducerSpec> producers, List<Action> actions) {}

    @Provide
    Arbitrary<Scenario> scenarios() {
        Arbitrary<ProducerSpec> producer = Combinators.combine(
                        Arbitraries.of((short) 0, (short) 0, (short) 1, (short) 7),
                        Arbitraries.frequencyOf(
                                Tuple.of(6, Arbitraries.just(0)),
                                Tuple.of(3, Arbitraries.integers().between(Integer.MAX_VALUE - 8, Integer.MAX_VALUE)),
                                Tuple.of(1, Arbitraries.integers().between(0, Integer.MAX_VALUE))))
                .as(ProducerSpec::new);
        Arbitrary<Integer> index = Arbitraries.integers().between(0, 2);
        Arbitrary<Integer> count = Arbitraries.integers().between(1, 4);
        Arbitrary<Integer> back = Arbitraries.integers().between(1, RETRY_DEPTH);
        Arbitrary<Action> action = Arbitraries.frequencyOf(
                Tuple.of(40, Combinators.combine(index, count).as(Produce::new)),
                Tuple.of(16, Combinators.combine(index, back).as(Retry::new)),
                Tuple.of(
                        4,
                        Combinators.combine(index, back, Arbitraries.of(-1, 1)).as(Resplit::new)),
                Tuple.of(5, index.map(BumpEpoch::new)),
                Tuple.of(
                        5,
                        Combinators.combine(index, Arbitraries.integers().between(1, 2), count)
                                .as(StaleEpoch::new)),
                Tuple.of(
                        6,
                        Combinators.combine(index, Arbitraries.integers().between(1, 3), count)
                                .as(Gap::new)),
                Tuple.of(4, count.map(NoProducerId::new)),
                Tuple.of(6, Arbitraries.integers().between(0, 1000).map(LeaderChange::new)));
        return Combinators.combine(
                        producer.list().ofMinSize(1).ofMaxSize(3),
                        action.list()
                                .ofMinSize(1)
                                .ofMaxSize(MAX_ACTIONS)
                                .withSizeDistribution(RandomDistribution.uniform()))
                .as(Scenario::new);
    }
}
