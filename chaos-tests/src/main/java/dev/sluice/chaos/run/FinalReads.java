package dev.sluice.chaos.run;

import dev.sluice.chaos.history.FinalRead;
import dev.sluice.chaos.history.HistoryRecorder;
import dev.sluice.chaos.history.Isolation;
import dev.sluice.chaos.history.Read;
import dev.sluice.chaos.workload.Values;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * The final reads of a run, once the cluster has settled: every partition of the workload's topics from the log
 * start to the end, once read_uncommitted (to the log end offset) and once read_committed (to the last stable
 * offset, after waiting for open transactions to end), recorded as {@link FinalRead}s. Used by the chaos runs and
 * by the in-process simulation.
 */
public final class FinalReads {
    private final Supplier<String> bootstrap;
    private final Consumer<String> log;

    /** @param bootstrap the cluster's bootstrap servers now */
    public FinalReads(Supplier<String> bootstrap, Consumer<String> log) {
        this.bootstrap = bootstrap;
        this.log = log;
    }

    /**
     * Reads every partition of {@code topics} to its end with {@code isolation} into the history; returns
     * the partitions it could not read to the end within {@code timeoutMs}.
     */
    public List<String> read(List<String> topics, Isolation isolation, HistoryRecorder history, long timeoutMs) {
        List<String> problems = new ArrayList<>();
        for (String topic : topics) {
            try {
                readTopic(topic, isolation, history, timeoutMs, problems);
            } catch (Exception e) {
                problems.add("final " + isolation + " read of " + topic + " failed: " + e);
            }
        }
        return problems;
    }

    private void readTopic(
            String topic, Isolation isolation, HistoryRecorder history, long timeoutMs, List<String> problems) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap.get());
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "final-reader");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
        p.put(
                ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                isolation == Isolation.READ_COMMITTED ? "read_committed" : "read_uncommitted");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5_000);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(p)) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(i -> new TopicPartition(topic, i.partition()))
                    .sorted((a, b) -> Integer.compare(a.partition(), b.partition()))
                    .toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> starts = consumer.beginningOffsets(partitions, Duration.ofSeconds(30));
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, Duration.ofSeconds(30));
            Map<TopicPartition, List<Read>> reads = new HashMap<>();
            partitions.forEach(tp -> reads.put(tp, new ArrayList<>()));
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
            while (System.nanoTime() < deadline && !reachedAll(consumer, partitions, ends)) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    reads.get(new TopicPartition(r.topic(), r.partition()))
                            .add(new Read(r.topic(), r.partition(), r.offset(), r.key(), Values.decode(r.value())));
                }
            }
            for (TopicPartition tp : partitions) {
                long position = consumer.position(tp, Duration.ofSeconds(10));
                if (position < ends.get(tp)) {
                    problems.add("final " + isolation + " read of " + tp + " reached " + position + " of "
                            + ends.get(tp) + " in " + timeoutMs + " ms");
                }
                history.finalRead(
                        new FinalRead(topic, tp.partition(), isolation, starts.get(tp), ends.get(tp), reads.get(tp)));
            }
            log.accept("final " + isolation + " read of " + topic + ": "
                    + reads.values().stream().mapToInt(List::size).sum() + " records");
        }
    }

    private static boolean reachedAll(
            KafkaConsumer<String, byte[]> consumer, List<TopicPartition> partitions, Map<TopicPartition, Long> ends) {
        for (TopicPartition tp : partitions) {
            if (consumer.position(tp, Duration.ofSeconds(10)) < ends.get(tp)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Waits until no partition of {@code topics} has an open transaction (last stable offset = log end
     * offset); returns the partitions still open after {@code timeoutMs}.
     */
    public List<String> awaitTransactionsEnded(List<String> topics, long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        List<String> open = List.of();
        while (System.nanoTime() < deadline) {
            open = openTransactions(topics);
            if (open.isEmpty()) {
                return open;
            }
            Thread.sleep(500);
        }
        return open;
    }

    private List<String> openTransactions(List<String> topics) {
        List<String> open = new ArrayList<>();
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap.get());
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        Properties committed = new Properties();
        committed.putAll(p);
        committed.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        try (KafkaConsumer<String, byte[]> uncommittedReader = new KafkaConsumer<>(p);
                KafkaConsumer<String, byte[]> committedReader = new KafkaConsumer<>(committed)) {
            for (String topic : topics) {
                List<TopicPartition> partitions =
                        uncommittedReader.partitionsFor(topic, Duration.ofSeconds(10)).stream()
                                .map(i -> new TopicPartition(topic, i.partition()))
                                .toList();
                Map<TopicPartition, Long> logEnd = uncommittedReader.endOffsets(partitions, Duration.ofSeconds(10));
                Map<TopicPartition, Long> stable = committedReader.endOffsets(partitions, Duration.ofSeconds(10));
                for (TopicPartition tp : partitions) {
                    if (!logEnd.get(tp).equals(stable.get(tp))) {
                        open.add(tp + " (last stable offset " + stable.get(tp) + ", log end " + logEnd.get(tp) + ")");
                    }
                }
            }
        } catch (Exception e) {
            open.add("cannot tell: " + e);
        }
        return open;
    }
}
