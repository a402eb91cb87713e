package dev.sluice.chaos.workload;

import dev.sluice.chaos.history.ConsumerMode;
import dev.sluice.chaos.history.Isolation;
import dev.sluice.chaos.history.Poll;
import dev.sluice.chaos.history.Read;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;

/**
 * A member of a consumer group (subscribe mode): polls, records every non-empty poll, and commits what it
 * read after each poll. Every assignment starts a new session, since the group may move it back to a
 * committed offset.
 */
final class GroupReader extends ClientThread {
    private final List<String> topics;
    private final String group;
    private final boolean readCommitted;
    private KafkaConsumer<String, byte[]> consumer;
    private int session;

    GroupReader(RunContext run, String name, List<String> topics, String group, boolean readCommitted) {
        super(run, name);
        this.topics = List.copyOf(topics);
        this.group = group;
        this.readCommitted = readCommitted;
    }

    @Override
    void loop() throws InterruptedException {
        int process = run.newProcess();
        consumer = new KafkaConsumer<>(Clients.consumer(run.bootstrap(), name + "-c" + process, group, readCommitted));
        Clients.subscribe(consumer, topics, () -> session++);
        while (running) {
            long invokeNs = run.history().nowNs();
            ConsumerRecords<String, byte[]> records = consumer.poll(Duration.ofMillis(500));
            long completeNs = run.history().nowNs();
            if (records.isEmpty()) {
                continue;
            }
            List<Read> reads = new ArrayList<>(records.count());
            for (ConsumerRecord<String, byte[]> r : records) {
                reads.add(new Read(r.topic(), r.partition(), r.offset(), r.key(), Values.decode(r.value())));
            }
            run.history()
                    .poll(new Poll(
                            process,
                            ConsumerMode.SUBSCRIBE,
                            readCommitted ? Isolation.READ_COMMITTED : Isolation.READ_UNCOMMITTED,
                            session,
                            invokeNs,
                            completeNs,
                            reads,
                            -1));
            try {
                consumer.commitSync(Duration.ofSeconds(10));
            } catch (KafkaException e) {
                // a rebalance or a coordinator move: the next owner reads from the last commit again
                session++;
            }
        }
        cleanUp();
    }

    @Override
    void cleanUp() {
        KafkaConsumer<String, byte[]> c = consumer;
        consumer = null;
        if (c != null) {
            c.close(CloseOptions.timeout(Duration.ofSeconds(5)));
        }
    }
}
