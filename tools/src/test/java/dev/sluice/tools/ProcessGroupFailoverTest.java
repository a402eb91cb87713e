package dev.sluice.tools;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A consumer group on three real {@code sluice node} processes, one of which is killed with SIGKILL: the one
 * coordinating the group. Its own cluster, so that no other test runs after the kill.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ProcessGroupFailoverTest {
    private static final String GROUP_FAILOVER_TOPIC = "group-failover";
    private static final int PARTITIONS = 6;

    private NodeProcesses cluster;
    private Admin admin;

    @BeforeAll
    void startCluster() throws Exception {
        // Under target/ rather than a temporary directory, so that the node logs outlive a failed run.
        Path dir = Path.of("target", "process-group-failover").toAbsolutePath();
        if (Files.exists(dir)) {
            try (Stream<Path> paths = Files.walk(dir)) {
                for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(path);
                }
            }
        }
        cluster = NodeProcesses.start(dir, 3);
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        admin = Admin.create(props);
        admin.createTopics(List.of(new NewTopic(GROUP_FAILOVER_TOPIC, PARTITIONS, (short) 3)))
                .all()
                .get(30, TimeUnit.SECONDS);
    }

    @AfterAll
    void stopCluster() {
        if (admin != null) {
            admin.close(Duration.ofSeconds(5));
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    /**
     * The node coordinating a consumer group (leader of its {@code __consumer_offsets} partition) is killed
     * with SIGKILL while a member consumes and commits after every poll: the member finds the new
     * coordinator, every record is consumed (at least once), and the offsets committed before the kill are
     * never lost nor rolled back. The killed node stays down.
     */
    @Test
    void aConsumerGroupSurvivesTheKillOfItsCoordinator() throws Exception {
        String group = "kill-the-coordinator";
        int records = 2_000;
        try (KafkaProducer<String, String> producer = producer()) {
            for (int i = 0; i < records; i++) {
                producer.send(new ProducerRecord<>(GROUP_FAILOVER_TOPIC, "key-" + i, "value-" + i));
            }
            producer.flush();
        }
        java.util.Set<String> consumed = new java.util.HashSet<>();
        int duplicates = 0;
        int killed = -1;
        Map<TopicPartition, Long> committedBeforeKill = Map.of();
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 50);
        props.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 10_000);
        props.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 1_000);
        try (KafkaConsumer<String, String> consumer =
                new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of(GROUP_FAILOVER_TOPIC));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
            while (consumed.size() < records) {
                assertThat(System.nanoTime())
                        .as("every record consumed within 180 s (consumed %d)", consumed.size())
                        .isLessThan(deadline);
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
                    if (!consumed.add(record.value())) {
                        duplicates++;
                    }
                }
                try {
                    consumer.commitSync(Duration.ofSeconds(10));
                } catch (org.apache.kafka.common.KafkaException e) {
                    // the coordinator is moving: the next commit carries these offsets too
                }
                if (killed < 0 && consumed.size() >= records / 2) {
                    committedBeforeKill = committedOffsets(admin, group);
                    killed = admin.describeConsumerGroups(List.of(group))
                            .describedGroups()
                            .get(group)
                            .get(30, TimeUnit.SECONDS)
                            .coordinator()
                            .id();
                    cluster.kill(killed);
                }
            }
            consumer.commitSync(Duration.ofSeconds(60));
        }
        assertThat(killed).as("the coordinator was killed").isPositive();
        assertThat(consumed).hasSize(records);
        StringBuilder survivors = new StringBuilder();
        for (int n = 1; n <= 3; n++) {
            if (n != killed) {
                survivors
                        .append(survivors.length() > 0 ? "," : "")
                        .append("127.0.0.1:")
                        .append(cluster.kafkaPort(n));
            }
        }
        Properties survivorProps = new Properties();
        survivorProps.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, survivors.toString());
        try (Admin survivorAdmin = Admin.create(survivorProps)) {
            Map<TopicPartition, Long> after = committedOffsets(survivorAdmin, group);
            committedBeforeKill.forEach((tp, offset) -> assertThat(after.get(tp))
                    .as("committed offset of %s after the kill", tp)
                    .isGreaterThanOrEqualTo(offset));
            assertThat(after.values().stream().mapToLong(Long::longValue).sum())
                    .as("every record committed")
                    .isEqualTo(records);
        }
        System.out.println("GROUP-COORDINATOR-KILL node=" + killed + " duplicates=" + duplicates);
    }

    private static Map<TopicPartition, Long> committedOffsets(Admin client, String group) throws Exception {
        Map<TopicPartition, Long> offsets = new HashMap<>();
        client.listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata()
                .get(60, TimeUnit.SECONDS)
                .forEach((tp, offset) -> offsets.put(tp, offset.offset()));
        return offsets;
    }

    private KafkaProducer<String, String> producer() {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 120_000);
        return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    }
}
