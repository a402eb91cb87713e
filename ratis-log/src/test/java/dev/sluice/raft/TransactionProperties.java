package dev.sluice.raft;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.partitionstore.AbortedTxn;
import dev.sluice.raft.ProducerStates.BatchInfo;
import dev.sluice.raft.ProducerStates.CompletedTxn;
import dev.sluice.raft.ProducerStates.Verdict;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.ControlRecordType;
import org.apache.kafka.common.record.internal.RecordBatch;

/**
 * Random interleavings of transactional batches from several producers, plain batches (idempotent and
 * anonymous) and COMMIT/ABORT markers — some for producers with no open transaction, some of a stale or
 * a newer epoch — applied in order to {@link ProducerStates}, each step checked against a naive model that
 * rescans the whole log: the verdicts, the last stable offset, the aborted-transaction index, and what a
 * read_committed reader filtering with that index (as the Kafka consumer does) delivers.
 */
class TransactionProperties {
    private static final int PRODUCERS = 3;
    private static final long FIRST_PID = 100;

    sealed interface Action permits TxnData, PlainData, AnonymousData, Marker {}

    record TxnData(int producer, int count, boolean staleEpoch) implements Action {}

    record PlainData(int producer, int count) implements Action {}

    record AnonymousData(int count) implements Action {}

    record Marker(int producer, boolean commit, int epochDelta) implements Action {}

    /** One appended batch of the log. */
    record Batch(
            long first, long last, long pid, short epoch, boolean transactional, boolean control, boolean commit) {}

    /** What a producer client knows. */
    static final class Client {
        short epoch;
        int nextSequence;
    }

    @Provide
    Arbitrary<List<Action>> actions() {
        Arbitrary<Integer> producer = Arbitraries.integers().between(0, PRODUCERS - 1);
        Arbitrary<Integer> count = Arbitraries.integers().between(1, 4);
        Arbitrary<Action> txn = Combinators.combine(
                        producer, count, Arbitraries.integers().between(0, 9))
                .as((p, c, stale) -> new TxnData(p, c, stale == 0));
        Arbitrary<Action> plain = Combinators.combine(producer, count).as(PlainData::new);
        Arbitrary<Action> anonymous = count.map(AnonymousData::new);
        Arbitrary<Action> marker = Combinators.combine(
                        producer, Arbitraries.of(true, false), Arbitraries.of(-1, 0, 0, 0, 0, 1))
                .as(Marker::new);
        return Arbitraries.frequencyOf(
                        Tuple.of(6, txn), Tuple.of(2, plain), Tuple.of(1, anonymous), Tuple.of(3, marker))
                .list()
                .ofMinSize(1)
                .ofMaxSize(80);
    }

    @Property(tries = 400)
    void lastStableOffsetAbortedIndexAndReadCommittedFollowTheNaiveModel(@ForAll("actions") List<Action> actions) {
        ProducerStates states = new ProducerStates();
        Map<Long, Client> clients = new HashMap<>();
        List<Batch> log = new ArrayList<>();
        List<AbortedTxn> index = new ArrayList<>();
        long next = 0;
        for (Action action : actions) {
            BatchInfo info = batchOf(action, clients);
            Errors expected = expectedError(info, log);
            Verdict verdict = states.check(info);
            Errors actual = verdict instanceof Verdict.Reject reject ? reject.error() : Errors.NONE;
            assertThat(verdict).as("%s after %s", action, log).isNotInstanceOf(Verdict.Duplicate.class);
            assertThat(actual).as("verdict for %s after %s", action, log).isEqualTo(expected);
            if (actual != Errors.NONE) {
                continue;
            }
            int count = info.control() ? 1 : info.lastSequence() - info.baseSequence() + 1;
            long last = next + count - 1;
            CompletedTxn completed = states.update(info, next, last);
            log.add(new Batch(
                    next,
                    last,
                    info.producerId(),
                    info.producerEpoch(),
                    info.transactional(),
                    info.control(),
                    info.control() && info.controlType() == ControlRecordType.COMMIT));
            advance(info, clients);
            if (completed != null && completed.aborted()) {
                index.add(new AbortedTxn(
                        completed.producerId(),
                        completed.firstOffset(),
                        completed.lastOffset(),
                        Math.min(states.firstUnstableOffset(), last + 1)));
            }
            next = last + 1;

            long naiveFirstUnstable = naiveOpenTransactions(log).values().stream()
                    .mapToLong(Long::longValue)
                    .min()
                    .orElse(ProducerStates.NO_OPEN_TRANSACTION);
            assertThat(states.firstUnstableOffset()).isEqualTo(naiveFirstUnstable);
            long lastStable = ProducerStates.lastStableOffset(states.firstUnstableOffset(), 0, next);
            assertThat(lastStable).isEqualTo(Math.min(naiveFirstUnstable, next));
            for (long open : naiveOpenTransactions(log).values()) {
                assertThat(lastStable).isLessThanOrEqualTo(open);
            }
            assertThat(index).isEqualTo(naiveIndex(log));
        }
        long lastStable = ProducerStates.lastStableOffset(states.firstUnstableOffset(), 0, next);
        assertThat(readCommitted(log, index, lastStable)).isEqualTo(naiveCommitted(log, lastStable));
    }

    private static BatchInfo batchOf(Action action, Map<Long, Client> clients) {
        if (action instanceof AnonymousData d) {
            return new BatchInfo(
                    RecordBatch.NO_PRODUCER_ID,
                    RecordBatch.NO_PRODUCER_EPOCH,
                    RecordBatch.NO_SEQUENCE,
                    RecordBatch.NO_SEQUENCE + d.count() - 1,
                    false,
                    false,
                    1L);
        }
        if (action instanceof Marker m) {
            Client client = clients.computeIfAbsent(FIRST_PID + m.producer(), k -> new Client());
            int epoch = Math.max(0, client.epoch + m.epochDelta());
            return BatchInfo.marker(FIRST_PID + m.producer(), (short) epoch, m.commit(), 0);
        }
        boolean transactional = action instanceof TxnData;
        int producer = transactional ? ((TxnData) action).producer() : ((PlainData) action).producer();
        int count = transactional ? ((TxnData) action).count() : ((PlainData) action).count();
        boolean stale = transactional && ((TxnData) action).staleEpoch();
        long pid = FIRST_PID + producer;
        Client client = clients.computeIfAbsent(pid, k -> new Client());
        short epoch = stale && client.epoch > 0 ? (short) (client.epoch - 1) : client.epoch;
        return new BatchInfo(
                pid, epoch, client.nextSequence, client.nextSequence + count - 1, transactional, false, 1L);
    }

    /** The client learns of an appended batch: its sequence moves on, a marker's newer epoch is adopted. */
    private static void advance(BatchInfo info, Map<Long, Client> clients) {
        if (info.producerId() == RecordBatch.NO_PRODUCER_ID) {
            return;
        }
        Client client = clients.get(info.producerId());
        if (info.control()) {
            if (info.producerEpoch() > client.epoch) {
                client.epoch = info.producerEpoch();
                client.nextSequence = 0;
            }
        } else {
            client.nextSequence = info.lastSequence() + 1;
        }
    }

    /** Kafka's verdicts, from a rescan of the log. */
    private static Errors expectedError(BatchInfo info, List<Batch> log) {
        if (info.producerId() == RecordBatch.NO_PRODUCER_ID) {
            return Errors.NONE;
        }
        if (info.producerEpoch() < naiveEpoch(info.producerId(), log)) {
            return Errors.INVALID_PRODUCER_EPOCH;
        }
        if (!info.control()
                && !info.transactional()
                && naiveOpenTransactions(log).containsKey(info.producerId())) {
            return Errors.INVALID_TXN_STATE;
        }
        return Errors.NONE;
    }

    /** The highest epoch among the producer's appended batches, or -1. */
    private static short naiveEpoch(long pid, List<Batch> log) {
        short max = -1;
        for (Batch batch : log) {
            if (batch.pid() == pid) {
                max = (short) Math.max(max, batch.epoch());
            }
        }
        return max;
    }

    /** Producer → first offset of its open transaction. */
    private static Map<Long, Long> naiveOpenTransactions(List<Batch> log) {
        Map<Long, Long> open = new HashMap<>();
        for (Batch batch : log) {
            if (batch.control()) {
                open.remove(batch.pid());
            } else if (batch.transactional()) {
                open.putIfAbsent(batch.pid(), batch.first());
            }
        }
        return open;
    }

    private static List<AbortedTxn> naiveIndex(List<Batch> log) {
        Map<Long, Long> open = new HashMap<>();
        List<AbortedTxn> index = new ArrayList<>();
        for (Batch batch : log) {
            if (batch.control()) {
                Long first = open.remove(batch.pid());
                if (first != null && !batch.commit()) {
                    long othersFirst = open.values().stream()
                            .mapToLong(Long::longValue)
                            .min()
                            .orElse(batch.last() + 1);
                    index.add(
                            new AbortedTxn(batch.pid(), first, batch.last(), Math.min(othersFirst, batch.last() + 1)));
                }
            } else if (batch.transactional()) {
                open.putIfAbsent(batch.pid(), batch.first());
            }
        }
        return index;
    }

    /** Kafka's consumer under read_committed: drop the records of the aborted transactions it is told of. */
    private static List<Long> readCommitted(List<Batch> log, List<AbortedTxn> index, long lastStable) {
        PriorityQueue<AbortedTxn> aborted = new PriorityQueue<>(Comparator.comparingLong(AbortedTxn::firstOffset));
        index.stream()
                .filter(txn -> txn.lastOffset() >= 0 && txn.firstOffset() < lastStable)
                .forEach(aborted::add);
        Set<Long> abortedProducers = new HashSet<>();
        List<Long> delivered = new ArrayList<>();
        for (Batch batch : log) {
            if (batch.first() >= lastStable) {
                break;
            }
            if (batch.pid() != RecordBatch.NO_PRODUCER_ID) {
                while (!aborted.isEmpty() && aborted.peek().firstOffset() <= batch.last()) {
                    abortedProducers.add(aborted.poll().producerId());
                }
                if (batch.control() && !batch.commit()) {
                    abortedProducers.remove(batch.pid());
                    continue;
                }
                if (batch.transactional() && !batch.control() && abortedProducers.contains(batch.pid())) {
                    continue;
                }
            }
            if (!batch.control()) {
                for (long offset = batch.first(); offset <= batch.last(); offset++) {
                    delivered.add(offset);
                }
            }
        }
        return delivered;
    }

    /** The records below the last stable offset that are plain or belong to a committed transaction. */
    private static List<Long> naiveCommitted(List<Batch> log, long lastStable) {
        List<Long> expected = new ArrayList<>();
        for (int i = 0; i < log.size(); i++) {
            Batch batch = log.get(i);
            if (batch.first() >= lastStable || batch.control()) {
                continue;
            }
            boolean include = !batch.transactional();
            if (batch.transactional()) {
                Boolean committed = null;
                for (int j = i + 1; j < log.size() && committed == null; j++) {
                    Batch later = log.get(j);
                    if (later.control() && later.pid() == batch.pid()) {
                        committed = later.commit();
                    }
                }
                assertThat(committed)
                        .as("a transaction below the last stable offset has ended")
                        .isNotNull();
                include = committed;
            }
            if (include) {
                for (long offset = batch.first(); offset <= batch.last(); offset++) {
                    expected.add(offset);
                }
            }
        }
        return expected;
    }
}
