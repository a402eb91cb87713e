package dev.sluice.broker;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.CloseOptions.GroupMembershipOperation;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * One member of a consumer group in a churn test: a real {@link KafkaConsumer} polled by its own thread, which
 * records every record it processes and every ownership change (its {@link ConsumerRebalanceListener}'s
 * callbacks) into a {@link Timeline} shared by the group's members.
 *
 * <p>Processing and committing: after each poll the records are processed (recorded) and their offsets
 * committed synchronously; offsets whose commit failed with a retriable error stay pending and are committed
 * with the next poll's, or in {@code onPartitionsRevoked} before a partition moves away. Records are <em>abandoned</em>
 * (processed, never committed) only when the member crashes, loses its partitions, or a commit fails for good;
 * those are exactly the records another member may process again.
 *
 * <p>Threading: the consumer is touched only by the member's thread; the test thread asks it to
 * {@link #leave()}, {@link #crash()} or {@link #stop()} through volatile flags and reads the concurrent
 * collections.
 */
final class ChurnConsumer {
    /** What a timeline event records. */
    enum Kind {
        STARTED,
        ASSIGNED,
        REVOKED,
        LOST,
        PROCESSED,
        LEAVING,
        CRASHED
    }

    /** One event; {@code seq} orders the events of all members (an atomic counter taken when it happened). */
    record Event(long seq, long nanos, String member, Kind kind, Set<TopicPartition> partitions) {}

    /** One processed record. */
    record Processed(String member, TopicPartition tp, long offset, String value) {}

    /** The events of one group's members, in the order they happened. */
    static final class Timeline {
        private final AtomicLong seq = new AtomicLong();
        private final ConcurrentLinkedQueue<Event> events = new ConcurrentLinkedQueue<>();

        Event add(String member, Kind kind, Collection<TopicPartition> partitions) {
            // Take the sequence number and the time together so that both order the events the same way.
            synchronized (this) {
                Event event = new Event(seq.incrementAndGet(), System.nanoTime(), member, kind, Set.copyOf(partitions));
                events.add(event);
                return event;
            }
        }

        List<Event> events() {
            List<Event> sorted = new ArrayList<>(events);
            sorted.sort(Comparator.comparingLong(Event::seq));
            return sorted;
        }
    }

    private final String name;
    private final KafkaConsumer<String, String> consumer;
    private final String topic;
    private final Timeline timeline;
    private final Thread thread;
    private final Set<TopicPartition> owned = ConcurrentHashMap.newKeySet();
    private final Map<TopicPartition, OffsetAndMetadata> pending = new HashMap<>();
    private final Map<TopicPartition, Long> pendingFrom = new HashMap<>();
    final ConcurrentLinkedQueue<Processed> processed = new ConcurrentLinkedQueue<>();
    /** Processed and never committed, as (partition, offset): the only records others may process again. */
    final Set<Map.Entry<TopicPartition, Long>> abandoned = ConcurrentHashMap.newKeySet();

    final ConcurrentLinkedQueue<String> commitErrors = new ConcurrentLinkedQueue<>();
    private volatile boolean leaveRequested;
    private volatile boolean crashRequested;
    private volatile boolean crashed;
    private volatile String memberId = "";
    private volatile Set<TopicPartition> ownedAtCrash = Set.of();
    volatile Throwable failure;

    ChurnConsumer(String name, String bootstrap, String groupId, String topic, String assignor, Timeline timeline) {
        this.name = name;
        this.topic = topic;
        this.timeline = timeline;
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, name);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, assignor);
        props.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "6000");
        props.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "1000");
        // Also the rebalance timeout: long enough for a commit retried across a coordinator failover.
        props.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, "30000");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "200");
        this.consumer = new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
        this.thread = new Thread(this::run, "churn-" + name);
        this.thread.setDaemon(true);
    }

    String name() {
        return name;
    }

    ChurnConsumer start() {
        thread.start();
        return this;
    }

    /** The partitions this member owns now, by its listener (empty once it has left or crashed). */
    Set<TopicPartition> owned() {
        return crashed ? Set.of() : Set.copyOf(owned);
    }

    boolean isRunning() {
        return thread.isAlive();
    }

    boolean hasCrashed() {
        return crashed;
    }

    String memberId() {
        return memberId;
    }

    Set<TopicPartition> ownedAtCrash() {
        return ownedAtCrash;
    }

    /** Asks the member to close cleanly: its listener revokes, the consumer sends LeaveGroup. */
    void leave() {
        leaveRequested = true;
    }

    /** Asks the member to crash after its next non-empty poll, before committing it (see {@link #crashNow}). */
    void crash() {
        crashRequested = true;
    }

    void stop() {
        leave();
    }

    /** Waits for the member's thread to end; rethrows what ended it abnormally. */
    void join(Duration timeout) throws InterruptedException {
        thread.join(timeout.toMillis());
        if (thread.isAlive()) {
            throw new AssertionError(name + " did not stop within " + timeout);
        }
        if (failure != null) {
            throw new AssertionError(name + " failed: " + failure, failure);
        }
    }

    /** Closes the consumer from the test thread if its own thread never got to (only after {@link #join}). */
    void closeQuietly() {
        if (thread.isAlive()) {
            thread.interrupt();
            return;
        }
        try {
            consumer.close(CloseOptions.timeout(Duration.ZERO));
        } catch (Exception e) {
            // already closed
        }
    }

    private void run() {
        try {
            timeline.add(name, Kind.STARTED, Set.of());
            consumer.subscribe(List.of(topic), new Listener());
            long crashDeadlineNs = Long.MAX_VALUE;
            while (!leaveRequested) {
                ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(100));
                memberId = consumer.groupMetadata().memberId();
                if (!records.isEmpty()) {
                    timeline.add(name, Kind.PROCESSED, records.partitions());
                    for (ConsumerRecord<String, String> r : records) {
                        TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                        processed.add(new Processed(name, tp, r.offset(), r.value()));
                        pending.put(tp, new OffsetAndMetadata(r.offset() + 1));
                        pendingFrom.putIfAbsent(tp, r.offset());
                    }
                }
                if (crashRequested) {
                    if (crashDeadlineNs == Long.MAX_VALUE) {
                        crashDeadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                    }
                    if (!records.isEmpty() || System.nanoTime() > crashDeadlineNs) {
                        crashNow();
                        return;
                    }
                }
                commitPending(pending.keySet());
            }
            timeline.add(name, Kind.LEAVING, owned);
            // Revokes through the listener (which commits what is pending), then LeaveGroup.
            consumer.close(CloseOptions.timeout(Duration.ofSeconds(30)));
        } catch (Throwable t) {
            failure = t;
        }
    }

    /**
     * A crash as the group sees it: processed records stay uncommitted, and the member neither leaves nor
     * heartbeats again, so the coordinator only notices when its session ({@code session.timeout.ms}) expires.
     *
     * <p>Why this and not the alternatives: a consumer that merely stops polling keeps heartbeating from its
     * background thread and, at {@code max.poll.interval.ms}, sends a LeaveGroup itself; a plain {@code
     * close(Duration.ZERO)} of a dynamic member also sends LeaveGroup (fire and forget). Closing with {@link
     * GroupMembershipOperation#REMAIN_IN_GROUP} stops the heartbeat thread and closes the connections without a
     * LeaveGroup ({@code AbstractCoordinator.shouldSendLeaveGroupRequest} is false for it). The listener's
     * callbacks during that close are ignored, as a dead process would run none.
     */
    private void crashNow() {
        ownedAtCrash = Set.copyOf(owned);
        crashed = true;
        timeline.add(name, Kind.CRASHED, ownedAtCrash);
        abandon(pending.keySet());
        consumer.close(CloseOptions.groupMembershipOperation(GroupMembershipOperation.REMAIN_IN_GROUP)
                .withTimeout(Duration.ZERO));
    }

    /** Commits the pending offsets of these partitions; a retriable failure leaves them pending. */
    private void commitPending(Collection<TopicPartition> partitions) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (TopicPartition tp : partitions) {
            OffsetAndMetadata offset = pending.get(tp);
            if (offset != null) {
                offsets.put(tp, offset);
            }
        }
        if (offsets.isEmpty()) {
            return;
        }
        try {
            consumer.commitSync(offsets, Duration.ofSeconds(30));
            for (Map.Entry<TopicPartition, OffsetAndMetadata> e : offsets.entrySet()) {
                if (pending.get(e.getKey()) == e.getValue()) {
                    pending.remove(e.getKey());
                    pendingFrom.remove(e.getKey());
                }
            }
        } catch (RebalanceInProgressException | RetriableException e) {
            // A rebalance in flight (the client refuses to commit until it has rejoined) or a coordinator
            // moving: the offsets stay pending, the next commit or the revocation carries them.
            commitErrors.add("retried: " + e);
        } catch (KafkaException e) {
            // CommitFailedException and the like: this member is no longer in the generation.
            commitErrors.add("failed: " + e);
            abandon(offsets.keySet());
        }
    }

    /** The processed, uncommitted records of these partitions will never be committed by this member. */
    private void abandon(Collection<TopicPartition> partitions) {
        for (TopicPartition tp : new ArrayList<>(partitions)) {
            Long from = pendingFrom.remove(tp);
            OffsetAndMetadata upTo = pending.remove(tp);
            if (from != null && upTo != null) {
                for (long offset = from; offset < upTo.offset(); offset++) {
                    abandoned.add(Map.entry(tp, offset));
                }
            }
        }
    }

    private final class Listener implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            if (crashed) {
                return;
            }
            // The standard pattern: commit what was processed before the partitions move away.
            commitPending(partitions);
            abandon(new HashSet<>(partitions));
            owned.removeAll(partitions);
            timeline.add(name, Kind.REVOKED, partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            if (crashed) {
                return;
            }
            owned.addAll(partitions);
            timeline.add(name, Kind.ASSIGNED, partitions);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            if (crashed) {
                return;
            }
            abandon(new HashSet<>(partitions));
            owned.removeAll(partitions);
            timeline.add(name, Kind.LOST, partitions);
        }
    }
}
