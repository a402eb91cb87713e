package dev.sluice.chaos.workload;

import dev.sluice.chaos.history.ConsumerMode;
import dev.sluice.chaos.history.Isolation;
import dev.sluice.chaos.history.Poll;
import dev.sluice.chaos.history.Read;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.kafka.common.TopicPartition;

/**
 * A consumer in assign mode: reads every given partition from the beginning, follows the log, and records
 * every non-empty poll. Its position only moves forward by what it read, so within a session a skip or a step
 * back is an anomaly. A consumer recreated after an error (a new session) seeks to where the last one stopped.
 * {@code auto.offset.reset=none}: an offset that is out of range — the log no longer holds a position this
 * consumer already reached — is reported, then reading starts again from the beginning.
 */
final class AssignReader extends ClientThread {
    private final List<TopicPartition> partitions;
    private final boolean readCommitted;
    private final Map<TopicPartition, Long> positions = new HashMap<>();
    private final List<String> problems;
    private volatile Map<TopicPartition, Long> reached = Map.of();
    private KafkaConsumer<String, byte[]> consumer;
    private int session;

    AssignReader(
            RunContext run,
            String name,
            List<TopicPartition> partitions,
            boolean readCommitted,
            CopyOnWriteArrayList<String> problems) {
        super(run, name);
        this.partitions = List.copyOf(partitions);
        this.readCommitted = readCommitted;
        this.problems = problems;
    }

    /** @return the next offset this reader would read, per partition */
    Map<TopicPartition, Long> positions() {
        return reached;
    }

    @Override
    void loop() throws InterruptedException {
        int process = run.newProcess();
        consumer = new KafkaConsumer<>(Clients.consumer(run.bootstrap(), name + "-c" + process, null, readCommitted));
        consumer.assign(partitions);
        for (TopicPartition tp : partitions) {
            Long position = positions.get(tp);
            if (position == null) {
                consumer.seekToBeginning(List.of(tp));
            } else {
                consumer.seek(tp, position);
            }
        }
        session++;
        while (running) {
            long invokeNs = run.history().nowNs();
            ConsumerRecords<String, byte[]> records;
            try {
                records = consumer.poll(Duration.ofMillis(500));
            } catch (OffsetOutOfRangeException e) {
                problems.add(name + ": offset out of range " + e.offsetOutOfRangePartitions()
                        + " although this reader had reached it (session " + session + ")");
                e.offsetOutOfRangePartitions().keySet().forEach(positions::remove);
                throw e;
            }
            long completeNs = run.history().nowNs();
            if (records.isEmpty()) {
                continue;
            }
            List<Read> reads = new ArrayList<>(records.count());
            for (ConsumerRecord<String, byte[]> r : records) {
                reads.add(new Read(r.topic(), r.partition(), r.offset(), r.key(), Values.decode(r.value())));
                positions.put(new TopicPartition(r.topic(), r.partition()), r.offset() + 1);
            }
            reached = Map.copyOf(positions);
            run.history()
                    .poll(new Poll(
                            process,
                            ConsumerMode.ASSIGN,
                            readCommitted ? Isolation.READ_COMMITTED : Isolation.READ_UNCOMMITTED,
                            session,
                            invokeNs,
                            completeNs,
                            reads,
                            -1));
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
