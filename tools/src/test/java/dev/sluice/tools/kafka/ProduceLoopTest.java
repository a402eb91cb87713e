package dev.sluice.tools.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.NotEnoughReplicasException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

class ProduceLoopTest {
    private final StringWriter errors = new StringWriter();

    /** Acknowledges every record except those whose value is "fail", which the cluster refuses. */
    static final class RefusingProducer extends MockProducer<byte[], byte[]> {
        RefusingProducer() {
            super(true, null, new ByteArraySerializer(), new ByteArraySerializer());
        }

        @Override
        public synchronized Future<RecordMetadata> send(ProducerRecord<byte[], byte[]> record, Callback callback) {
            if ("fail".equals(new String(record.value(), StandardCharsets.UTF_8))) {
                NotEnoughReplicasException refusal = new NotEnoughReplicasException("Not enough in-sync replicas");
                callback.onCompletion(null, refusal);
                return CompletableFuture.failedFuture(refusal);
            }
            return super.send(record, callback);
        }
    }

    @Test
    void shouldSendOneRecordPerLineWithKeysWhenAsked() throws IOException {
        RefusingProducer producer = new RefusingProducer();
        LineFormat format = LineFormat.of(Map.of("parse.key", "true", "key.separator", ":"), null);

        ProduceLoop.Outcome outcome = loop(producer, format).run(input("a:1\nb:2\n:empty-key\n"));

        assertThat(outcome).isEqualTo(new ProduceLoop.Outcome(3, 0));
        assertThat(producer.history())
                .extracting(r -> r.topic() + " " + text(r.key()) + "=" + text(r.value()))
                .containsExactly("t a=1", "t b=2", "t =empty-key");
        assertThat(errors.toString()).isEmpty();
    }

    @Test
    void shouldReportEachRefusedOrUnparsableLineByNumberAndCountThem() throws IOException {
        RefusingProducer producer = new RefusingProducer();
        LineFormat format = LineFormat.of(Map.of("parse.key", "true", "key.separator", ":"), null);

        ProduceLoop.Outcome outcome = loop(producer, format).run(input("a:1\nno separator\nb:fail\nc:3\n"));

        assertThat(outcome).isEqualTo(new ProduceLoop.Outcome(4, 2));
        assertThat(errors.toString().lines())
                .containsExactly(
                        "sluice produce: line 2 not sent: no key separator ':' in the line",
                        "sluice produce: line 3 not sent: Not enough in-sync replicas");
        assertThat(producer.history()).hasSize(2);
    }

    @Test
    void shouldShowOnlyTheFirstFailuresOfALongRun() throws IOException {
        String lines = IntStream.range(0, 50).mapToObj(i -> "fail").collect(Collectors.joining("\n"));

        ProduceLoop.Outcome outcome =
                loop(new RefusingProducer(), LineFormat.of(Map.of(), null)).run(input(lines));

        assertThat(outcome.failed()).isEqualTo(50);
        assertThat(errors.toString().lines()).hasSize(ProduceLoop.ERRORS_SHOWN_MAX + 1);
        assertThat(errors.toString()).contains("30 more failed line(s) not shown");
    }

    private ProduceLoop loop(RefusingProducer producer, LineFormat format) {
        return new ProduceLoop(producer, "t", format, new PrintWriter(errors, true), "sluice produce");
    }

    private static BufferedReader input(String text) {
        return new BufferedReader(new StringReader(text));
    }

    private static String text(byte[] bytes) {
        return bytes == null ? "null" : new String(bytes, StandardCharsets.UTF_8);
    }
}
