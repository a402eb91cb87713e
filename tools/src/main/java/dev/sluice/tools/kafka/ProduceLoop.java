package dev.sluice.tools.kafka;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;

/**
 * The body of {@code sluice produce}: one record per input line, sent asynchronously, each failure
 * reported on stderr with its line number (the first {@link #ERRORS_SHOWN_MAX}; the rest are counted).
 * Returns when every send has been acknowledged or has failed.
 *
 * <p>Threading: {@link #run} is called on one thread; send callbacks run on the producer's I/O thread
 * and only touch the atomic counters and the (synchronized) error writer.
 */
public final class ProduceLoop {
    /** Failures past this many are counted but not printed one by one. */
    public static final int ERRORS_SHOWN_MAX = 20;

    /** How many lines were read and how many of their records failed. */
    public record Outcome(long lines, long failed) {}

    private final Producer<byte[], byte[]> producer;
    private final String topic;
    private final LineFormat format;
    private final PrintWriter err;
    private final String toolName;
    private final AtomicLong failed = new AtomicLong();

    public ProduceLoop(
            Producer<byte[], byte[]> producer, String topic, LineFormat format, PrintWriter err, String toolName) {
        this.producer = producer;
        this.topic = topic;
        this.format = format;
        this.err = err;
        this.toolName = toolName;
    }

    public Outcome run(BufferedReader in) throws IOException {
        long lineNumber = 0;
        String line;
        while ((line = in.readLine()) != null) {
            lineNumber++;
            long number = lineNumber;
            LineFormat.KeyValue keyValue;
            try {
                keyValue = format.parse(line);
            } catch (IllegalArgumentException e) {
                fail(number, e.getMessage());
                continue;
            }
            try {
                producer.send(new ProducerRecord<>(topic, keyValue.key(), keyValue.value()), (metadata, e) -> {
                    if (e != null) {
                        fail(number, describe(e));
                    }
                });
            } catch (KafkaException | IllegalStateException e) {
                fail(number, describe(e)); // IllegalStateException: closed by the Ctrl-C hook
            }
        }
        producer.flush();
        long failures = failed.get();
        if (failures > ERRORS_SHOWN_MAX) {
            err.println(toolName + ": " + (failures - ERRORS_SHOWN_MAX) + " more failed line(s) not shown");
        }
        return new Outcome(lineNumber, failures);
    }

    private void fail(long lineNumber, String reason) {
        if (failed.incrementAndGet() <= ERRORS_SHOWN_MAX) {
            err.println(toolName + ": line " + lineNumber + " not sent: " + reason);
        }
    }

    private static String describe(Throwable e) {
        Throwable cause = ClusterErrors.unwrap(e);
        return cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    }
}
