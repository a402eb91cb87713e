package dev.sluice.chaos.workload;

import dev.sluice.chaos.history.Outcome;
import dev.sluice.chaos.history.Send;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.TimeoutException;

/**
 * An idempotent acks=all producer writing unique values to random partitions of a topic at a steady rate,
 * each send recorded with its outcome. A send refused on the client before it is queued is a {@code FAIL};
 * every error after that is {@code INFO} (it may have been written). After an error the
 * producer cannot recover from, the thread closes it and continues with a new producer (a new process).
 */
final class ProducerThread extends ClientThread {
    private final String topic;
    private final int partitions;
    private final double ratePerSecond;
    private final SplittableRandom random;
    private final AtomicLong acked;
    private final AtomicLong sent;
    private KafkaProducer<String, byte[]> producer;

    ProducerThread(
            RunContext run,
            String name,
            String topic,
            int partitions,
            double ratePerSecond,
            long seed,
            AtomicLong sent,
            AtomicLong acked) {
        super(run, name);
        this.topic = topic;
        this.partitions = partitions;
        this.ratePerSecond = ratePerSecond;
        this.random = new SplittableRandom(seed);
        this.sent = sent;
        this.acked = acked;
    }

    @Override
    void loop() throws InterruptedException {
        int process = run.newProcess();
        producer = new KafkaProducer<>(Clients.producer(run.bootstrap(), name + "-p" + process, null));
        Pacer pacer = new Pacer(ratePerSecond);
        while (running) {
            pacer.await();
            long value = run.values().next();
            int partition = random.nextInt(partitions);
            String key = "k" + partition;
            long invokeNs = run.history().nowNs();
            sent.incrementAndGet();
            try {
                producer.send(
                        new ProducerRecord<>(topic, partition, key, run.values().encode(value)), (metadata, error) -> {
                            long completeNs = run.history().nowNs();
                            if (error == null) {
                                acked.incrementAndGet();
                            }
                            run.history()
                                    .send(new Send(
                                            process,
                                            topic,
                                            partition,
                                            key,
                                            value,
                                            invokeNs,
                                            completeNs,
                                            error == null ? Outcome.OK : Outcome.INFO,
                                            error == null ? metadata.offset() : -1,
                                            error == null ? null : error.toString(),
                                            -1));
                        });
            } catch (KafkaException e) {
                // Refused before it was queued (no metadata in time, a producer in a fatal state): not written.
                long completeNs = run.history().nowNs();
                run.history()
                        .send(new Send(
                                process,
                                topic,
                                partition,
                                key,
                                value,
                                invokeNs,
                                completeNs,
                                Outcome.FAIL,
                                -1,
                                e.toString(),
                                -1));
                if (!(e instanceof TimeoutException)) {
                    throw e;
                }
            }
        }
        producer.close(Duration.ofMillis(Clients.DELIVERY_TIMEOUT_MS + 5_000L));
        producer = null;
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
