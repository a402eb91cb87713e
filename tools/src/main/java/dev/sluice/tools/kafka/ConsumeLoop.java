package dev.sluice.tools.kafka;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;

/**
 * The body of {@code sluice consume}: polls, prints each record on one line, and stops after
 * {@code maxMessages} records, after {@code idleTimeoutMs} without a record, when stdout is closed, or
 * when {@link #stop()} is called (Ctrl-C). With a group it commits, after each poll, the
 * offsets of exactly the records it printed, so a later run with the same group starts at the first
 * record not printed.
 *
 * <p>The idle clock starts again when the consumer first gets partitions assigned, so joining a group
 * (which may take seconds) does not count as idle time. Time comes from {@code nanoClock}.
 *
 * <p>Threading: not thread-safe; only {@link #stop()} may be called from another thread.
 */
public final class ConsumeLoop {
    /** The longest single poll, so the idle timeout is checked at least this often. */
    static final long POLL_MS_MAX = 500;

    /**
     * @param maxMessages stop after this many records; negative for no limit
     * @param idleTimeoutMs stop after this long without a record; negative for never
     * @param commit whether to commit the offsets of printed records (a consumer in a group)
     */
    public record Limits(long maxMessages, long idleTimeoutMs, boolean commit) {}

    private final Consumer<byte[], byte[]> consumer;
    private final RecordFormat format;
    private final PrintWriter out;
    private final PrintWriter err;
    private final String toolName;
    private final LongSupplier nanoClock;
    private final Map<TopicPartition, OffsetAndMetadata> uncommitted = new HashMap<>();
    private volatile boolean stopping;

    public ConsumeLoop(
            Consumer<byte[], byte[]> consumer,
            RecordFormat format,
            PrintWriter out,
            PrintWriter err,
            String toolName,
            LongSupplier nanoClock) {
        this.consumer = consumer;
        this.format = format;
        this.out = out;
        this.err = err;
        this.toolName = toolName;
        this.nanoClock = nanoClock;
    }

    /** Runs until a limit is reached; returns the number of records printed. */
    public long run(Limits limits) {
        long printed = 0;
        long lastActivityNs = nanoClock.getAsLong();
        boolean assigned = !consumer.assignment().isEmpty();
        try {
            while (!stopping && (limits.maxMessages() < 0 || printed < limits.maxMessages())) {
                long idleMs = (nanoClock.getAsLong() - lastActivityNs) / 1_000_000;
                if (limits.idleTimeoutMs() >= 0 && idleMs >= limits.idleTimeoutMs()) {
                    break;
                }
                long pollMs = limits.idleTimeoutMs() < 0
                        ? POLL_MS_MAX
                        : Math.max(1, Math.min(POLL_MS_MAX, limits.idleTimeoutMs() - idleMs));
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(pollMs));
                if (!assigned && !consumer.assignment().isEmpty()) {
                    assigned = true;
                    lastActivityNs = nanoClock.getAsLong();
                }
                if (records.isEmpty()) {
                    continue;
                }
                lastActivityNs = nanoClock.getAsLong();
                for (ConsumerRecord<byte[], byte[]> record : records) {
                    out.println(format.format(record));
                    uncommitted.put(
                            new TopicPartition(record.topic(), record.partition()),
                            new OffsetAndMetadata(record.offset() + 1));
                    printed++;
                    if (printed == limits.maxMessages()) {
                        break;
                    }
                }
                out.flush();
                if (out.checkError()) {
                    break; // stdout is closed, as with `| head`
                }
                if (limits.commit()) {
                    commit();
                }
            }
        } catch (WakeupException e) {
            // Ctrl-C: stop, and commit what was printed
        }
        if (limits.commit()) {
            commit();
        }
        return printed;
    }

    /** Asks {@link #run} to stop soon, from any thread: it commits what it printed and returns. */
    public void stop() {
        stopping = true;
        consumer.wakeup();
    }

    private void commit() {
        if (uncommitted.isEmpty()) {
            return;
        }
        try {
            consumer.commitSync(new HashMap<>(uncommitted));
            uncommitted.clear();
        } catch (WakeupException e) {
            commit(); // stop() interrupted the commit; the wakeup is used up, so this one runs
        } catch (KafkaException e) {
            err.println(toolName + ": could not commit the offsets of printed records: " + e.getMessage());
            uncommitted.clear();
        }
    }
}
