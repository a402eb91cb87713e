package dev.sluice.chaos.check;

import static dev.sluice.chaos.check.HistoryBuilder.MS;
import static dev.sluice.chaos.check.HistoryBuilder.TOPIC;

import dev.sluice.chaos.history.ConsumerMode;
import dev.sluice.chaos.history.FinalRead;
import dev.sluice.chaos.history.History;
import dev.sluice.chaos.history.Isolation;
import dev.sluice.chaos.history.Outcome;
import dev.sluice.chaos.history.Poll;
import dev.sluice.chaos.history.Read;
import dev.sluice.chaos.history.RunInfo;
import dev.sluice.chaos.history.Send;
import dev.sluice.chaos.history.Txn;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

/**
 * A correct Kafka-like log simulated step by step, recording the history a chaos run against it would record:
 * plain sends (some indeterminate yet written, some refused), transactional producers with interleaved
 * transactions that commit, abort, or end with an unknown outcome, read_uncommitted and read_committed assign
 * consumers reading contiguous ranges (read_committed ones only up to the last stable offset, skipping aborted
 * records and markers), seeks that start new sessions, subscribe consumers that rewind,
 * consume-transform-produce input polls, and the final reads. Every history it makes is legal. Not
 * thread-safe.
 */
final class SimulatedRun {
    private static final int[] PLAIN_PRODUCERS = {1, 2, 3};
    private static final int[] TXN_PRODUCERS = {10, 11, 12};

    /** One offset of a log: a data record (of a transaction, or -1) or a transaction marker. */
    private record Entry(long value, long txn, boolean marker) {}

    private static final class OpenTxn {
        final long id;
        final int process;
        final long beginNs;
        final Map<Integer, Long> firstOffsets = new LinkedHashMap<>();

        OpenTxn(long id, int process, long beginNs) {
            this.id = id;
            this.process = process;
            this.beginNs = beginNs;
        }
    }

    private static final class Consumer {
        final int process;
        final ConsumerMode mode;
        final Isolation isolation;
        final int inputOf; // the transactional producer whose input it reads, or -1
        final Map<Integer, Long> positions = new LinkedHashMap<>();
        int session = 1;

        Consumer(int process, ConsumerMode mode, Isolation isolation, int inputOf) {
            this.process = process;
            this.mode = mode;
            this.isolation = isolation;
            this.inputOf = inputOf;
        }
    }

    private final Random random;
    private final List<List<Entry>> logs = new ArrayList<>();
    private final Map<Integer, OpenTxn> open = new LinkedHashMap<>();
    private final Map<Long, Boolean> committed = new HashMap<>();
    private final List<Consumer> consumers = new ArrayList<>();
    private final List<Send> sends = new ArrayList<>();
    private final List<Poll> polls = new ArrayList<>();
    private final List<Txn> txns = new ArrayList<>();
    private long nowNs;
    private long nextValue = 1000;
    private long nextTxn = 1;

    private SimulatedRun(long seed) {
        random = new Random(seed);
        int partitions = 1 + random.nextInt(3);
        for (int p = 0; p < partitions; p++) {
            logs.add(new ArrayList<>());
        }
        int process = 20;
        for (Isolation isolation : Isolation.values()) {
            for (int k = 0; k < 2; k++) {
                consumers.add(consumer(process++, ConsumerMode.ASSIGN, isolation, -1));
            }
        }
        consumers.add(consumer(process++, ConsumerMode.SUBSCRIBE, Isolation.READ_UNCOMMITTED, -1));
        for (int producer : TXN_PRODUCERS) {
            consumers.add(consumer(process++, ConsumerMode.ASSIGN, Isolation.READ_COMMITTED, producer));
        }
    }

    /** @return the history of {@code steps} random steps of a correct cluster, then its final reads */
    static History generate(long seed, int steps) {
        SimulatedRun run = new SimulatedRun(seed);
        for (int i = 0; i < steps; i++) {
            run.step();
        }
        for (OpenTxn txn : new ArrayList<>(run.open.values())) {
            run.nowNs += MS;
            run.end(txn, true, Outcome.OK, true);
        }
        return run.history();
    }

    private Consumer consumer(int process, ConsumerMode mode, Isolation isolation, int inputOf) {
        Consumer consumer = new Consumer(process, mode, isolation, inputOf);
        for (int p = 0; p < logs.size(); p++) {
            if (p == 0 || random.nextBoolean()) {
                consumer.positions.put(p, 0L);
            }
        }
        return consumer;
    }

    private void step() {
        nowNs += MS;
        int roll = random.nextInt(100);
        if (roll < 30) {
            plainSend();
        } else if (roll < 40) {
            int producer = TXN_PRODUCERS[random.nextInt(TXN_PRODUCERS.length)];
            open.computeIfAbsent(producer, p -> new OpenTxn(nextTxn++, p, nowNs));
        } else if (roll < 55) {
            anyOpen().ifPresent(this::txnSend);
        } else if (roll < 63) {
            anyOpen().ifPresent(this::endRandomly);
        } else if (roll < 88) {
            Consumer consumer = consumers.get(random.nextInt(consumers.size()));
            if (consumer.inputOf < 0) {
                poll(consumer, -1);
            }
        } else if (roll < 93) {
            inputPoll();
        } else if (roll < 97) {
            Consumer consumer = consumers.get(random.nextInt(consumers.size()));
            consumer.session++;
            consumer.positions.replaceAll(
                    (p, position) -> (long) random.nextInt(logs.get(p).size() + 1));
        } else {
            Consumer subscriber = consumers.stream()
                    .filter(c -> c.mode == ConsumerMode.SUBSCRIBE)
                    .findFirst()
                    .orElseThrow();
            subscriber.positions.replaceAll((p, position) -> (long) random.nextInt((int) (position + 1)));
        }
    }

    private Optional<OpenTxn> anyOpen() {
        List<OpenTxn> txns = new ArrayList<>(open.values());
        return txns.isEmpty() ? Optional.empty() : Optional.of(txns.get(random.nextInt(txns.size())));
    }

    private void plainSend() {
        int producer = PLAIN_PRODUCERS[random.nextInt(PLAIN_PRODUCERS.length)];
        int partition = random.nextInt(logs.size());
        long value = nextValue++;
        int roll = random.nextInt(10);
        Outcome outcome = roll < 8 ? Outcome.OK : roll < 9 ? Outcome.INFO : Outcome.FAIL;
        boolean written = outcome == Outcome.OK || (outcome == Outcome.INFO && random.nextBoolean());
        long offset = -1;
        if (written) {
            offset = append(partition, new Entry(value, -1, false));
        }
        sends.add(new Send(
                producer,
                TOPIC,
                partition,
                "k" + value,
                value,
                nowNs,
                nowNs + MS / 2,
                outcome,
                outcome == Outcome.OK ? offset : -1,
                outcome == Outcome.OK ? null : "TimeoutException",
                -1));
    }

    private void txnSend(OpenTxn txn) {
        int partition = random.nextInt(logs.size());
        long value = nextValue++;
        long offset = append(partition, new Entry(value, txn.id, false));
        txn.firstOffsets.putIfAbsent(partition, offset);
        sends.add(new Send(
                txn.process,
                TOPIC,
                partition,
                "k" + value,
                value,
                nowNs,
                nowNs + MS / 2,
                Outcome.OK,
                offset,
                null,
                txn.id));
    }

    private void endRandomly(OpenTxn txn) {
        int roll = random.nextInt(20);
        if (roll < 12) {
            end(txn, true, Outcome.OK, true);
        } else if (roll < 14) {
            end(txn, true, Outcome.INFO, random.nextBoolean());
        } else if (roll < 15) {
            end(txn, true, Outcome.FAIL, false);
        } else if (roll < 19) {
            end(txn, false, Outcome.OK, false);
        } else { // the producer died: the coordinator aborts it, commit was never invoked
            endWithoutInvoke(txn);
        }
    }

    private void end(OpenTxn txn, boolean commit, Outcome outcome, boolean actuallyCommitted) {
        writeMarkers(txn, actuallyCommitted);
        txns.add(
                new Txn(txn.id, txn.process, "tx-" + txn.process, txn.beginNs, nowNs, nowNs + MS / 2, commit, outcome));
    }

    private void endWithoutInvoke(OpenTxn txn) {
        writeMarkers(txn, false);
        txns.add(new Txn(txn.id, txn.process, "tx-" + txn.process, txn.beginNs, -1, nowNs, false, Outcome.INFO));
    }

    private void writeMarkers(OpenTxn txn, boolean actuallyCommitted) {
        open.remove(txn.process);
        committed.put(txn.id, actuallyCommitted);
        for (int partition : txn.firstOffsets.keySet()) {
            append(partition, new Entry(0, txn.id, true));
        }
    }

    private long append(int partition, Entry entry) {
        List<Entry> log = logs.get(partition);
        log.add(entry);
        return log.size() - 1;
    }

    private void inputPoll() {
        anyOpen().ifPresent(txn -> consumers.stream()
                .filter(c -> c.inputOf == txn.process)
                .findFirst()
                .ifPresent(c -> poll(c, txn.id)));
    }

    private void poll(Consumer consumer, long txn) {
        List<Read> records = new ArrayList<>();
        int wanted = 1 + random.nextInt(5);
        for (Map.Entry<Integer, Long> position : consumer.positions.entrySet()) {
            int partition = position.getKey();
            List<Entry> log = logs.get(partition);
            long limit = consumer.isolation == Isolation.READ_UNCOMMITTED ? log.size() : lastStableOffset(partition);
            long offset = position.getValue();
            int taken = 0;
            for (; offset < limit && taken < wanted; offset++) {
                Entry entry = log.get((int) offset);
                if (visible(entry, consumer.isolation)) {
                    records.add(new Read(TOPIC, partition, offset, "k" + entry.value, entry.value));
                    taken++;
                }
            }
            position.setValue(offset);
        }
        polls.add(new Poll(
                consumer.process,
                consumer.mode,
                consumer.isolation,
                consumer.session,
                nowNs,
                nowNs + MS / 4,
                records,
                txn));
    }

    private boolean visible(Entry entry, Isolation isolation) {
        if (entry.marker) {
            return false;
        }
        return isolation == Isolation.READ_UNCOMMITTED || entry.txn < 0 || committed.getOrDefault(entry.txn, false);
    }

    private long lastStableOffset(int partition) {
        long lso = logs.get(partition).size();
        for (OpenTxn txn : open.values()) {
            Long first = txn.firstOffsets.get(partition);
            if (first != null) {
                lso = Math.min(lso, first);
            }
        }
        return lso;
    }

    private History history() {
        List<FinalRead> finals = new ArrayList<>();
        for (int p = 0; p < logs.size(); p++) {
            for (Isolation isolation : Isolation.values()) {
                List<Read> records = new ArrayList<>();
                List<Entry> log = logs.get(p);
                for (int offset = 0; offset < log.size(); offset++) {
                    Entry entry = log.get(offset);
                    if (visible(entry, isolation)) {
                        records.add(new Read(TOPIC, p, offset, "k" + entry.value, entry.value));
                    }
                }
                finals.add(new FinalRead(TOPIC, p, isolation, 0, log.size(), records));
            }
        }
        RunInfo info = new RunInfo("simulated", 7, 3, List.of(), "txn", 0, nowNs / MS);
        return new History(info, sends, polls, txns, finals, List.of());
    }
}
