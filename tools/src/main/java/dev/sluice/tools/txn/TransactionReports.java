package dev.sluice.tools.txn;

import dev.sluice.tools.kafka.TextTable;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.ProducerState;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.common.TopicPartition;

/**
 * The tables {@code sluice transactions} prints. Pure: the current time comes in as {@code nowMs}. A value
 * that does not exist (no open transaction, no start time) prints as {@code -}.
 */
public final class TransactionReports {
    private TransactionReports() {}

    /** {@code list}: every transaction the coordinators know, by transactional id. */
    public static TextTable listing(Map<Integer, Collection<TransactionListing>> byCoordinator) {
        record Row(String transactionalId, int coordinator, long producerId, String state) {}
        List<Row> rows = new ArrayList<>();
        byCoordinator.forEach((coordinator, listings) -> listings.forEach(listing -> rows.add(new Row(
                listing.transactionalId(),
                coordinator,
                listing.producerId(),
                listing.state().toString()))));
        rows.sort(Comparator.comparing(Row::transactionalId));
        TextTable table = new TextTable("", "TRANSACTIONAL-ID", "COORDINATOR", "PRODUCER-ID", "STATE");
        rows.forEach(r -> table.add(r.transactionalId(), r.coordinator(), r.producerId(), r.state()));
        return table;
    }

    /** {@code describe}: one transactional id's current transaction. */
    public static TextTable description(String transactionalId, TransactionDescription description, long nowMs) {
        Long startTimeMs = description.transactionStartTimeMs().isPresent()
                ? description.transactionStartTimeMs().getAsLong()
                : null;
        return new TextTable(
                        "",
                        "COORDINATOR",
                        "TRANSACTIONAL-ID",
                        "PRODUCER-ID",
                        "PRODUCER-EPOCH",
                        "STATE",
                        "TIMEOUT-MS",
                        "START-TIME-MS",
                        "DURATION-MS",
                        "TOPIC-PARTITIONS")
                .add(
                        description.coordinatorId(),
                        transactionalId,
                        description.producerId(),
                        description.producerEpoch(),
                        description.state().toString(),
                        description.transactionTimeoutMs(),
                        startTimeMs,
                        startTimeMs == null ? null : Math.max(0, nowMs - startTimeMs),
                        partitions(description.topicPartitions()));
    }

    /** {@code describe-producers}: the active producers of one partition, by producer id. */
    public static TextTable producers(List<ProducerState> producers) {
        List<ProducerState> sorted = new ArrayList<>(producers);
        sorted.sort(Comparator.comparingLong(ProducerState::producerId));
        TextTable table = new TextTable(
                "",
                "PRODUCER-ID",
                "PRODUCER-EPOCH",
                "COORDINATOR-EPOCH",
                "LAST-SEQUENCE",
                "LAST-TIMESTAMP",
                "TXN-START-OFFSET");
        for (ProducerState p : sorted) {
            table.add(
                    p.producerId(),
                    p.producerEpoch(),
                    p.coordinatorEpoch().isPresent() ? p.coordinatorEpoch().getAsInt() : null,
                    p.lastSequence(),
                    p.lastTimestamp(),
                    p.currentTransactionStartOffset().isPresent()
                            ? p.currentTransactionStartOffset().getAsLong()
                            : null);
        }
        return table;
    }

    /** {@code find-hanging}: the hanging transactions, with how long ago each producer last wrote. */
    public static TextTable hanging(List<OpenTransaction> hanging, long nowMs) {
        TextTable table = new TextTable(
                "",
                "TOPIC",
                "PARTITION",
                "PRODUCER-ID",
                "PRODUCER-EPOCH",
                "COORDINATOR-EPOCH",
                "START-OFFSET",
                "LAST-TIMESTAMP",
                "DURATION-MIN");
        for (OpenTransaction t : hanging) {
            table.add(
                    t.partition().topic(),
                    t.partition().partition(),
                    t.producerId(),
                    t.producerEpoch(),
                    t.coordinatorEpoch() < 0 ? null : t.coordinatorEpoch(),
                    t.startOffset(),
                    t.lastTimestampMs(),
                    TimeUnit.MILLISECONDS.toMinutes(Math.max(0, nowMs - t.lastTimestampMs())));
        }
        return table;
    }

    /** {@code orders-0,orders-2,payments-1}: the partitions, sorted; {@code -} when none. */
    static String partitions(Collection<TopicPartition> partitions) {
        if (partitions.isEmpty()) {
            return null;
        }
        return partitions.stream()
                .sorted(Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition))
                .map(TopicPartition::toString)
                .collect(Collectors.joining(","));
    }
}
