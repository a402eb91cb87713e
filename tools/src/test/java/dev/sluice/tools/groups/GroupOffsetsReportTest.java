package dev.sluice.tools.groups;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class GroupOffsetsReportTest {
    private static final TopicPartition T0 = new TopicPartition("t", 0);
    private static final TopicPartition T1 = new TopicPartition("t", 1);
    private static final TopicPartition T2 = new TopicPartition("t", 2);
    private static final GroupOffsetsReport.Member MEMBER =
            new GroupOffsetsReport.Member("consumer-1-abc", "/127.0.0.1", "consumer-1");

    @Test
    void shouldComputeLagAsLogEndMinusCommitted() {
        assertThat(GroupOffsetsReport.lag(3L, 10L)).isEqualTo(7);
        assertThat(GroupOffsetsReport.lag(10L, 10L)).isZero();
    }

    @Test
    void shouldNeverReportNegativeLagWhenTheCommittedOffsetIsAheadOfTheFetchedLogEnd() {
        assertThat(GroupOffsetsReport.lag(12L, 10L)).isZero();
    }

    @Test
    void shouldReportUnknownLagWithoutACommittedOffsetOrLogEnd() {
        assertThat(GroupOffsetsReport.lag(null, 10L)).isNull();
        assertThat(GroupOffsetsReport.lag(3L, null)).isNull();
    }

    @Test
    void lagIsNeverNegative() {
        Random random = new Random(7);
        for (int i = 0; i < 10_000; i++) {
            long committed = random.nextInt(1_000);
            long logEnd = random.nextInt(1_000);
            long lag = GroupOffsetsReport.lag(committed, logEnd);
            assertThat(lag).isEqualTo(logEnd >= committed ? logEnd - committed : 0);
        }
    }

    @Test
    void shouldShowAssignedAndCommittedPartitionsWithDashesForTheUnknown() {
        Map<GroupOffsetsReport.Member, Set<TopicPartition>> assignments = new LinkedHashMap<>();
        assignments.put(MEMBER, Set.of(T1, T0));
        GroupOffsetsReport report =
                GroupOffsetsReport.of("g", assignments, Map.of(T0, 4L, T2, 9L), Map.of(T0, 10L, T1, 5L, T2, 8L));

        assertThat(report.table().lines())
                .containsExactly(
                        "GROUP  TOPIC  PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG  CONSUMER-ID     HOST        CLIENT-ID",
                        "g      t      0          4               10              6    consumer-1-abc  /127.0.0.1  consumer-1",
                        "g      t      1          -               5               -    consumer-1-abc  /127.0.0.1  consumer-1",
                        "g      t      2          9               8               0    -               -           -");
        assertThat(report.totalLag()).isEqualTo(6);
    }

    @Test
    void shouldShowAnUnknownLogEndAsDash() {
        GroupOffsetsReport report = GroupOffsetsReport.of("g", Map.of(), Map.of(T0, 4L), Map.of());

        assertThat(report.rows()).singleElement().satisfies(row -> {
            assertThat(row.logEndOffset()).isNull();
            assertThat(row.lag()).isNull();
        });
        assertThat(report.totalLag()).isZero();
    }
}
