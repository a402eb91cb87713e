package dev.sluice.chaos.workload;

import dev.sluice.chaos.history.Outcome;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.TimeoutException;

/**
 * A transactional producer writing unique values in transactions of one to five records over random
 * partitions of a topic, committing most and aborting about one in five. Each transaction is recorded with how
 * it ended: {@code OK} when the commit or abort returned, {@code FAIL} when it certainly did not commit
 * (aborted, or failed before commit was asked), {@code INFO} when a commit was asked and its outcome is
 * unknown. After an error, the producer is closed and a new one with the same {@code transactional.id}
 * takes over (fencing whatever the old one left open).
 */
final class TxnWriter extends ClientThread {
    private final String topic;
    private final int partitions;
    private final double txnsPerSecond;
    private final SplittableRandom random;
    private final AtomicLong txnIds;
    private final String transactionalId;
    private final AtomicLong committed;
    private KafkaProducer<String, byte[]> producer;

    TxnWriter(
            RunContext run,
            String name,
            String topic,
            int partitions,
            double txnsPerSecond,
            long seed,
            AtomicLong txnIds,
            AtomicLong committed) {
        super(run, name);
        this.topic = topic;
        this.partitions = partitions;
        this.txnsPerSecond = txnsPerSecond;
        this.random = new SplittableRandom(seed);
        this.txnIds = txnIds;
        this.transactionalId = "chaos-" + name;
        this.committed = committed;
    }

    @Override
    void loop() throws InterruptedException {
        int process = run.newProcess();
        producer = new KafkaProducer<>(Clients.producer(run.bootstrap(), name + "-p" + process, transactionalId));
        producer.initTransactions();
        Pacer pacer = new Pacer(txnsPerSecond);
        while (running) {
            pacer.await();
            transaction(process);
        }
        cleanUp();
    }

    private void transaction(int process) {
        long txn = txnIds.incrementAndGet();
        long beginNs = run.history().nowNs();
        boolean commit = random.nextInt(5) != 0;
        long endInvokeNs = -1;
        List<PendingSend> pending = new ArrayList<>();
        try {
            producer.beginTransaction();
            int records = 1 + random.nextInt(5);
            for (int i = 0; i < records; i++) {
                long value = run.values().next();
                int partition = random.nextInt(partitions);
                String key = "k" + partition;
                long invokeNs = run.history().nowNs();
                Future<RecordMetadata> f = producer.send(
                        new ProducerRecord<>(topic, partition, key, run.values().encode(value)));
                pending.add(new PendingSend(partition, key, value, invokeNs, f));
            }
            endInvokeNs = run.history().nowNs();
            if (commit) {
                commitWithRetry();
                committed.incrementAndGet();
            } else {
                producer.abortTransaction();
            }
            PendingSend.recordTransaction(
                    run, process, topic, transactionalId, txn, beginNs, endInvokeNs, commit, Outcome.OK, pending);
        } catch (KafkaException e) {
            Outcome outcome = commit && endInvokeNs >= 0 ? Outcome.INFO : Outcome.FAIL;
            PendingSend.recordTransaction(
                    run, process, topic, transactionalId, txn, beginNs, endInvokeNs, commit, outcome, pending);
            throw e;
        }
    }

    /** A commit that timed out may be retried; it ends the same transaction. */
    private void commitWithRetry() {
        for (int attempt = 0; ; attempt++) {
            try {
                producer.commitTransaction();
                return;
            } catch (TimeoutException e) {
                if (attempt >= 3 || !running) {
                    throw e;
                }
            }
        }
    }

    @Override
    void cleanUp() {
        KafkaProducer<String, byte[]> p = producer;
        producer = null;
        if (p != null) {
            p.close(Duration.ofSeconds(5));
        }
    }
}
