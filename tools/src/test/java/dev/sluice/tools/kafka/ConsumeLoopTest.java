package dev.sluice.tools.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class ConsumeLoopTest {
    private static final TopicPartition P0 = new TopicPartition("t", 0);
    private static final TopicPartition P1 = new TopicPartition("t", 1);

    private final MockConsumer<byte[], byte[]> consumer = new MockConsumer<>("earliest");
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();
    /** Advances 100 ms each time it is read, so idle time passes without sleeping. */
    private final AtomicLong nowNs = new AtomicLong();

    @Test
    void shouldPrintEveryRecordAndStopAfterTheIdleTimeout() {
        assign(P0, P1);
        add(P0, 0, "k0", "a");
        add(P1, 0, null, "b");
        add(P0, 1, "k1", "c");

        long printed = loop(true).run(new ConsumeLoop.Limits(-1, 1_000, false));

        assertThat(printed).isEqualTo(3);
        assertThat(out.toString().lines()).containsExactlyInAnyOrder("k0\ta", "null\tb", "k1\tc");
    }

    @Test
    void shouldStopAtMaxMessagesInTheMiddleOfABatch() {
        assign(P0);
        for (int i = 0; i < 5; i++) {
            add(P0, i, null, "v" + i);
        }

        long printed = loop(false).run(new ConsumeLoop.Limits(2, -1, false));

        assertThat(printed).isEqualTo(2);
        assertThat(out.toString().lines()).containsExactly("v0", "v1");
    }

    @Test
    void shouldCommitOnlyTheOffsetsOfPrintedRecordsInAGroup() {
        consumer.subscribe(List.of("t"));
        consumer.rebalance(List.of(P0));
        consumer.updateBeginningOffsets(Map.of(P0, 0L));
        for (int i = 0; i < 5; i++) {
            add(P0, i, null, "v" + i);
        }

        loop(false).run(new ConsumeLoop.Limits(3, -1, true));

        Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(Set.of(P0));
        assertThat(committed.get(P0).offset()).isEqualTo(3);
    }

    @Test
    void shouldStartTheIdleClockAgainWhenTheGroupAssignsPartitions() {
        consumer.subscribe(List.of("t"));
        consumer.updateBeginningOffsets(Map.of(P0, 0L));
        for (int i = 0; i < 3; i++) {
            consumer.scheduleNopPollTask(); // joining the group takes a while
        }
        consumer.schedulePollTask(() -> consumer.rebalance(List.of(P0)));
        for (int i = 0; i < 3; i++) {
            consumer.scheduleNopPollTask();
        }
        consumer.schedulePollTask(() -> add(P0, 0, null, "late"));

        long printed = loop(false).run(new ConsumeLoop.Limits(-1, 500, true));

        assertThat(nowNs.get()).as("more than the idle timeout passed in all").isGreaterThan(900_000_000L);
        assertThat(printed).isEqualTo(1);
        assertThat(out.toString()).isEqualTo("late" + System.lineSeparator());
    }

    @Test
    void shouldStopAfterTheIdleTimeoutWhenNoPartitionIsEverAssigned() {
        consumer.subscribe(List.of("t"));

        long printed = loop(false).run(new ConsumeLoop.Limits(-1, 500, true));

        assertThat(printed).isZero();
        assertThat(nowNs.get()).isLessThan(2_000_000_000L);
    }

    @Test
    void shouldStopWhenAskedFromAnotherThread() {
        assign(P0);
        ConsumeLoop loop = loop(false);
        consumer.schedulePollTask(() -> add(P0, 0, null, "before"));
        consumer.schedulePollTask(loop::stop);

        long printed = loop.run(new ConsumeLoop.Limits(-1, -1, false));

        assertThat(printed).isEqualTo(1);
    }

    private ConsumeLoop loop(boolean printKey) {
        RecordFormat format = new RecordFormat(printKey, false, false, "\t");
        return new ConsumeLoop(
                consumer,
                format,
                new PrintWriter(out, true),
                new PrintWriter(err, true),
                "sluice consume",
                () -> nowNs.addAndGet(100_000_000L));
    }

    private void assign(TopicPartition... partitions) {
        consumer.assign(List.of(partitions));
        for (TopicPartition tp : partitions) {
            consumer.updateBeginningOffsets(Map.of(tp, 0L));
            consumer.seekToBeginning(List.of(tp));
        }
    }

    private void add(TopicPartition tp, long offset, String key, String value) {
        consumer.addRecord(new ConsumerRecord<>(tp.topic(), tp.partition(), offset, bytes(key), bytes(value)));
    }

    private static byte[] bytes(String text) {
        return text == null ? null : text.getBytes(StandardCharsets.UTF_8);
    }
}
