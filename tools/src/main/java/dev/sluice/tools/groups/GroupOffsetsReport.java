package dev.sluice.tools.groups;

import dev.sluice.tools.kafka.TextTable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.TopicPartition;

/**
 * What {@code sluice groups describe} prints for one consumer group's offsets: one row per partition
 * that is assigned to a member or has a committed offset, like {@code kafka-consumer-groups --describe}.
 * Pure: built from what the Admin calls returned.
 *
 * <p>Lag is {@code logEndOffset - committedOffset}, never negative: a committed offset above the log end
 * just fetched (a new leader that has not caught up its high watermark yet) counts as no lag.
 *
 * @param group the group id
 * @param rows sorted by topic, then partition
 */
public record GroupOffsetsReport(String group, List<Row> rows) {
    /** The column headings of {@link #table}. */
    static final String[] HEADINGS = {
        "GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID"
    };

    /**
     * One partition.
     *
     * @param committedOffset the group's committed offset, or null when it has none
     * @param logEndOffset the partition's log end offset, or null when the cluster did not report it
     * @param member the member the partition is assigned to, or null
     */
    public record Row(String topic, int partition, Long committedOffset, Long logEndOffset, Member member) {
        /** {@link #lag(Long, Long)} of this row. */
        public Long lag() {
            return GroupOffsetsReport.lag(committedOffset, logEndOffset);
        }
    }

    /** A group member as DescribeGroups reports it. */
    public record Member(String memberId, String host, String clientId) {}

    public GroupOffsetsReport {
        rows = List.copyOf(rows);
    }

    /**
     * {@code logEndOffset - committedOffset}, at least 0; null when either is unknown.
     */
    public static Long lag(Long committedOffset, Long logEndOffset) {
        if (committedOffset == null || logEndOffset == null) {
            return null;
        }
        return Math.max(0, logEndOffset - committedOffset);
    }

    /**
     * The report of one group.
     *
     * @param assignments each member's assigned partitions
     * @param committed the group's committed offsets
     * @param logEndOffsets log end offsets, where known
     */
    public static GroupOffsetsReport of(
            String group,
            Map<Member, Set<TopicPartition>> assignments,
            Map<TopicPartition, Long> committed,
            Map<TopicPartition, Long> logEndOffsets) {
        List<Row> rows = new ArrayList<>();
        Set<TopicPartition> assigned = new HashSet<>();
        assignments.forEach((member, partitions) -> {
            for (TopicPartition tp : partitions) {
                if (assigned.add(tp)) {
                    rows.add(new Row(tp.topic(), tp.partition(), committed.get(tp), logEndOffsets.get(tp), member));
                }
            }
        });
        committed.forEach((tp, offset) -> {
            if (!assigned.contains(tp)) {
                rows.add(new Row(tp.topic(), tp.partition(), offset, logEndOffsets.get(tp), null));
            }
        });
        rows.sort(Comparator.comparing(Row::topic).thenComparingInt(Row::partition));
        return new GroupOffsetsReport(group, rows);
    }

    /** The sum of the known lags. */
    public long totalLag() {
        long total = 0;
        for (Row row : rows) {
            Long lag = row.lag();
            total += lag == null ? 0 : lag;
        }
        return total;
    }

    /** The rows as an aligned table; unknown values print as {@code -}. */
    public TextTable table() {
        TextTable table = new TextTable("", HEADINGS);
        for (Row row : rows) {
            Member member = row.member();
            table.add(
                    group,
                    row.topic(),
                    row.partition(),
                    row.committedOffset(),
                    row.logEndOffset(),
                    row.lag(),
                    member == null ? null : member.memberId(),
                    member == null ? null : member.host(),
                    member == null ? null : member.clientId());
        }
        return table;
    }
}
