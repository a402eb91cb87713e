package dev.sluice.chaos.workload;

import dev.sluice.chaos.history.ConsumerMode;
import dev.sluice.chaos.history.Isolation;
import dev.sluice.chaos.history.Outcome;
import dev.sluice.chaos.history.Poll;
import dev.sluice.chaos.history.Read;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;

/**
 * A consume-transform-produce loop, exactly once: a read_committed member of a consumer group reads the input
 * topic, and for each poll a transaction writes one output record per input record (to the same partition
 * number of the output topic, keyed {@code in:<input value>} so the output can be traced back) and commits the
 * consumed offsets with {@code sendOffsetsToTransaction}. A failed transaction is aborted and the consumer
 * rewinds to the group's committed offsets (a new session). The poll carries the transaction's id, so the
 * checker sees what each transaction read.
 */
final class TxnProcessor extends ClientThread {
    private final String input;
    private final String output;
    private final String group;
    private final AtomicLong txnIds;
    private final AtomicLong processed;
    private final String transactionalId;
    private KafkaConsumer<String, byte[]> consumer;
    private KafkaProducer<String, byte[]> producer;
    private int session;

    TxnProcessor(
            RunContext run,
            String name,
            String input,
            String output,
            String group,
            AtomicLong txnIds,
            AtomicLong processed) {
        super(run, name);
        this.input = input;
        this.output = output;
        this.group = group;
        this.txnIds = txnIds;
        this.processed = processed;
        this.transactionalId = "chaos-" + name;
    }

    @Override
    void loop() throws InterruptedException {
        int process = run.newProcess();
        producer = new KafkaProducer<>(Clients.producer(run.bootstrap(), name + "-p" + process, transactionalId));
        producer.initTransactions();
        consumer = new KafkaConsumer<>(Clients.consumer(run.bootstrap(), name + "-c" + process, group, true));
        Clients.subscribe(consumer, List.of(input), () -> session++);
        while (running) {
            long invokeNs = run.history().nowNs();
            ConsumerRecords<String, byte[]> records = consumer.poll(Duration.ofMillis(500));
            long completeNs = run.history().nowNs();
            if (records.isEmpty()) {
                continue;
            }
            transform(process, records, invokeNs, completeNs);
        }
        cleanUp();
    }

    private void transform(
            int process, ConsumerRecords<String, byte[]> records, long pollInvokeNs, long pollCompleteNs) {
        long txn = txnIds.incrementAndGet();
        List<Read> reads = new ArrayList<>(records.count());
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (ConsumerRecord<String, byte[]> r : records) {
            reads.add(new Read(r.topic(), r.partition(), r.offset(), r.key(), Values.decode(r.value())));
            offsets.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
        }
        run.history()
                .poll(new Poll(
                        process,
                        ConsumerMode.SUBSCRIBE,
                        Isolation.READ_COMMITTED,
                        session,
                        pollInvokeNs,
                        pollCompleteNs,
                        reads,
                        txn));
        long beginNs = run.history().nowNs();
        long endInvokeNs = -1;
        List<PendingSend> pending = new ArrayList<>();
        try {
            producer.beginTransaction();
            for (Read in : reads) {
                long value = run.values().next();
                String key = "in:" + in.value();
                long sendNs = run.history().nowNs();
                Future<RecordMetadata> f = producer.send(new ProducerRecord<>(
                        output, in.partition(), key, run.values().encode(value)));
                pending.add(new PendingSend(in.partition(), key, value, sendNs, f));
            }
            producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
            endInvokeNs = run.history().nowNs();
            producer.commitTransaction();
            processed.addAndGet(reads.size());
            PendingSend.recordTransaction(
                    run, process, output, transactionalId, txn, beginNs, endInvokeNs, true, Outcome.OK, pending);
        } catch (KafkaException e) {
            Outcome outcome = endInvokeNs >= 0 ? Outcome.INFO : Outcome.FAIL; // committing, or never got there
            PendingSend.recordTransaction(
                    run, process, output, transactionalId, txn, beginNs, endInvokeNs, true, outcome, pending);
            throw e; // a new producer and consumer: the group's committed offsets decide where to resume
        }
    }

    @Override
    void cleanUp() {
        KafkaProducer<String, byte[]> p = producer;
        producer = null;
        if (p != null) {
            p.close(Duration.ofSeconds(5));
        }
        KafkaConsumer<String, byte[]> c = consumer;
        consumer = null;
        if (c != null) {
            c.close(CloseOptions.timeout(Duration.ofSeconds(5)));
        }
    }
}
