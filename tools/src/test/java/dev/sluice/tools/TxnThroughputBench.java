package dev.sluice.tools;

import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Produce throughput with and without transactions against a running cluster ({@code sluice local}): the same
 * number of 1 KiB records, no key, to a fresh topic each, (a) by an idempotent producer with {@code acks=all}
 * and (b) by a transactional producer committing a transaction every {@code --records-per-txn} records.
 * Producer settings are Kafka's defaults otherwise; {@code --max-in-flight} sets
 * {@code max.in.flight.requests.per.connection} (default 5) for both. Before measuring it waits until every
 * partition of the new topics is led by its preferred replica, so that the leader moves that follow a topic's
 * creation are not measured. Prints one line per mode with records/s and MB/s (MB =
 * 10^6 bytes of values); the time runs from the first send to the last acknowledgement (the last commit),
 * after a warm-up of one tenth of the records to a separate topic.
 *
 * <pre>
 * TxnThroughputBench BOOTSTRAP_SERVERS [--records N] [--partitions P] [--records-per-txn T] [--max-in-flight M]
 * </pre>
 */
public final class TxnThroughputBench {
    private static final int VALUE_BYTES = 1024;

    private TxnThroughputBench() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 1 || args[0].startsWith("-")) {
            System.err.println(
                    "usage: TxnThroughputBench BOOTSTRAP_SERVERS [--records N] [--partitions P] [--records-per-txn T]"
                            + " [--max-in-flight M]");
            System.exit(2);
        }
        String bootstrap = args[0];
        int records = 200_000;
        int partitions = 6;
        int recordsPerTxn = 100;
        int maxInFlight = 5;
        for (int i = 1; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--records" -> records = Integer.parseInt(args[i + 1]);
                case "--partitions" -> partitions = Integer.parseInt(args[i + 1]);
                case "--records-per-txn" -> recordsPerTxn = Integer.parseInt(args[i + 1]);
                case "--max-in-flight" -> maxInFlight = Integer.parseInt(args[i + 1]);
                default -> {
                    System.err.println("unknown option " + args[i]);
                    System.exit(2);
                }
            }
        }
        String run = Long.toString(System.currentTimeMillis(), 36);
        String idempotentTopic = "bench-idempotent-" + run;
        String transactionalTopic = "bench-transactional-" + run;
        String warmUpTopic = "bench-warm-up-" + run;
        Properties adminProps = new Properties();
        adminProps.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(adminProps)) {
            admin.createTopics(List.of(
                            new NewTopic(idempotentTopic, partitions, (short) 3),
                            new NewTopic(transactionalTopic, partitions, (short) 3),
                            new NewTopic(warmUpTopic, partitions, (short) 3)))
                    .all()
                    .get(60, TimeUnit.SECONDS);
            awaitPreferredLeaders(admin, List.of(idempotentTopic, transactionalTopic, warmUpTopic));
        }
        byte[] value = new byte[VALUE_BYTES];
        for (int i = 0; i < value.length; i++) {
            value[i] = (byte) ('a' + i % 26);
        }
        produceIdempotent(bootstrap, warmUpTopic, records / 10, value, maxInFlight);
        produceTransactional(
                bootstrap, warmUpTopic, records / 10, recordsPerTxn, value, "bench-warm-up-" + run, maxInFlight);

        long idempotentNs = produceIdempotent(bootstrap, idempotentTopic, records, value, maxInFlight);
        report("idempotent, acks=all", records, idempotentNs);
        long transactionalNs = produceTransactional(
                bootstrap,
                transactionalTopic,
                records,
                recordsPerTxn,
                value,
                "bench-transactional-" + run,
                maxInFlight);
        report("transactional, " + recordsPerTxn + " records per transaction", records, transactionalNs);
        System.out.printf("transactional / idempotent throughput: %.2f%n", (double) idempotentNs / transactionalNs);
    }

    private static long produceIdempotent(String bootstrap, String topic, int records, byte[] value, int maxInFlight)
            throws Exception {
        Properties props = producerProps(bootstrap, maxInFlight);
        AtomicReference<Exception> failure = new AtomicReference<>();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
            long startNs = System.nanoTime();
            for (int i = 0; i < records && failure.get() == null; i++) {
                producer.send(new ProducerRecord<>(topic, value), (metadata, e) -> {
                    if (e != null) {
                        failure.compareAndSet(null, e);
                    }
                });
            }
            producer.flush();
            long elapsedNs = System.nanoTime() - startNs;
            if (failure.get() != null) {
                throw failure.get();
            }
            return elapsedNs;
        }
    }

    private static long produceTransactional(
            String bootstrap,
            String topic,
            int records,
            int recordsPerTxn,
            byte[] value,
            String transactionalId,
            int maxInFlight) {
        Properties props = producerProps(bootstrap, maxInFlight);
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
            producer.initTransactions();
            long startNs = System.nanoTime();
            int sent = 0;
            while (sent < records) {
                producer.beginTransaction();
                int end = Math.min(records, sent + recordsPerTxn);
                for (; sent < end; sent++) {
                    producer.send(new ProducerRecord<>(topic, value));
                }
                producer.commitTransaction(); // throws if any send of the transaction failed
            }
            return System.nanoTime() - startNs;
        }
    }

    private static Properties producerProps(String bootstrap, int maxInFlight) {
        Properties props = new Properties();
        props.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, maxInFlight);
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 120_000);
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return props;
    }

    /** Waits (at most 60 s) until every partition of {@code topics} is led by its first replica. */
    private static void awaitPreferredLeaders(Admin admin, List<String> topics) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            boolean settled = admin.describeTopics(topics).allTopicNames().get(30, TimeUnit.SECONDS).values().stream()
                    .flatMap(topic -> topic.partitions().stream())
                    .allMatch(p -> p.leader() != null
                            && !p.replicas().isEmpty()
                            && p.leader().id() == p.replicas().get(0).id());
            if (settled) {
                return;
            }
            Thread.sleep(500);
        }
        System.err.println("warning: not every partition is led by its preferred replica after 60 s; measuring anyway");
    }

    private static void report(String mode, int records, long elapsedNs) {
        double seconds = elapsedNs / 1e9;
        System.out.printf(
                "%-45s %,d records in %.1f s: %,.0f records/s, %.2f MB/s%n",
                mode, records, seconds, records / seconds, records * (double) VALUE_BYTES / 1e6 / seconds);
        System.out.flush();
    }
}
