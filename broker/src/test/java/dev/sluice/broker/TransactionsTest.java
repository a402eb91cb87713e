package dev.sluice.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Transactions with the Kafka Java client on an in-process 3-node cluster: commit and abort, read_committed
 * and read_uncommitted readers, fencing of a zombie, the coordinator's view through the admin client, and the
 * KIP-890 check that refuses a transactional write the coordinator was not told about.
 */
@Timeout(value = 180, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class TransactionsTest {
    @TempDir
    Path dir;

    final List<SluiceNode> nodes = new ArrayList<>();
    String bootstrap;

    @AfterEach
    void stop() {
        nodes.forEach(SluiceNode::close);
    }

    @Test
    void committedRecordsAreReadCommittedAndAbortedOnesOnlyUncommitted() throws Exception {
        bootstrap = InProcessCluster.start(dir, 3, Map.of(), nodes);
        createTopic("orders", 3);
        try (KafkaProducer<String, String> producer = producer("tx-1")) {
            producer.initTransactions();
            for (int t = 0; t < 6; t++) {
                producer.beginTransaction();
                for (int p = 0; p < 3; p++) {
                    producer.send(new ProducerRecord<>("orders", p, "k", "t" + t + "-p" + p));
                }
                if (t % 2 == 0) {
                    producer.commitTransaction();
                } else {
                    producer.flush(); // written, then aborted (unsent records would just be dropped)
                    producer.abortTransaction();
                }
            }
        }
        // EndTxn is answered before the markers are written: readers see the outcome a moment later
        Map<Integer, List<String>> committed =
                awaitRead("orders", 3, "read_committed", read -> read.get(0).size() == 3);
        Map<Integer, List<String>> uncommitted = readAll("orders", 3, "read_uncommitted");
        for (int p = 0; p < 3; p++) {
            assertThat(committed.get(p)).containsExactly("t0-p" + p, "t2-p" + p, "t4-p" + p);
            assertThat(uncommitted.get(p))
                    .containsExactly("t0-p" + p, "t1-p" + p, "t2-p" + p, "t3-p" + p, "t4-p" + p, "t5-p" + p);
        }
        try (Admin admin = admin()) {
            List<String> ids = admin.listTransactions().all().get(30, TimeUnit.SECONDS).stream()
                    .map(TransactionListing::transactionalId)
                    .toList();
            assertThat(ids).contains("tx-1");
            TransactionDescription description = admin.describeTransactions(List.of("tx-1"))
                    .description("tx-1")
                    .get(30, TimeUnit.SECONDS);
            assertThat(description.state().toString()).isIn("COMPLETE_ABORT", "CompleteAbort");
        }
    }

    @Test
    void aSecondProducerWithTheSameIdFencesTheFirst() throws Exception {
        bootstrap = InProcessCluster.start(dir, 3, Map.of(), nodes);
        createTopic("ledger", 1);
        KafkaProducer<String, String> zombie = producer("same-id");
        zombie.initTransactions();
        zombie.beginTransaction();
        zombie.send(new ProducerRecord<>("ledger", 0, "k", "zombie")).get(30, TimeUnit.SECONDS);
        try (KafkaProducer<String, String> fresh = producer("same-id")) {
            fresh.initTransactions();
            fresh.beginTransaction();
            fresh.send(new ProducerRecord<>("ledger", 0, "k", "fresh"));
            fresh.commitTransaction();
            assertThatThrownBy(() -> {
                        zombie.send(new ProducerRecord<>("ledger", 0, "k", "zombie-2"))
                                .get(30, TimeUnit.SECONDS);
                        zombie.commitTransaction();
                    })
                    .isInstanceOf(Exception.class);
        } finally {
            zombie.close(Duration.ZERO);
        }
        assertThat(awaitRead("ledger", 1, "read_committed", read -> !read.get(0).isEmpty())
                        .get(0))
                .containsExactly("fresh");
    }

    private KafkaProducer<String, String> producer(String transactionalId) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        props.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 20_000);
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 60_000);
        return new KafkaProducer<>(props);
    }

    private Admin admin() {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        return Admin.create(props);
    }

    private void createTopic(String name, int partitions) throws Exception {
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) 3)))
                    .all()
                    .get(30, TimeUnit.SECONDS);
        }
    }

    /** Reads until {@code done} holds for what was read (or 30 s pass), then returns the last read. */
    private Map<Integer, List<String>> awaitRead(
            String topic, int partitions, String isolation, Predicate<Map<Integer, List<String>>> done)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        Map<Integer, List<String>> read = readAll(topic, partitions, isolation);
        while (!done.test(read) && System.nanoTime() < deadline) {
            Thread.sleep(200);
            read = readAll(topic, partitions, isolation);
        }
        return read;
    }

    private Map<Integer, List<String>> readAll(String topic, int partitions, String isolation) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        Map<Integer, List<String>> values = new HashMap<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props)) {
            List<TopicPartition> tps = new ArrayList<>();
            for (int p = 0; p < partitions; p++) {
                tps.add(new TopicPartition(topic, p));
                values.put(p, new ArrayList<>());
            }
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            Map<TopicPartition, Long> end = consumer.endOffsets(tps);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (System.nanoTime() < deadline) {
                boolean done = true;
                for (TopicPartition tp : tps) {
                    done &= consumer.position(tp) >= end.get(tp);
                }
                if (done) {
                    break;
                }
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
                    values.get(record.partition()).add(record.value());
                }
            }
        } catch (KafkaException e) {
            throw e;
        }
        return values;
    }
}
