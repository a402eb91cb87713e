package dev.sluice.chaos.workload;

import java.util.List;
import org.apache.kafka.clients.admin.Admin;

/**
 * A set of Kafka clients driving a chaos cluster and recording what they do in the run's history. The run
 * sets it up, starts it, lets the nemesis work, then stops the writers, heals, and stops the readers before
 * the final reads.
 *
 * <p>Lifecycle: {@link #setUp} once, {@link #start} once, {@link #stopWriters} then {@link #stopReaders},
 * then {@link #close}. Every thread it starts ends by {@link #close} at the latest.
 */
public interface Workload extends AutoCloseable {
    /** @return the workload's name in run names and reports */
    String name();

    /** @return every topic the workload writes, whose partitions the final phase reads */
    List<String> topics();

    /** @return the consumer groups it uses (the nemesis may aim at their coordinators) */
    List<String> groups();

    /** Creates its topics. */
    void setUp(Admin admin) throws Exception;

    /** Starts its client threads. */
    void start();

    /** Stops sending and waits (bounded) until every send has its outcome. */
    void stopWriters() throws InterruptedException;

    /**
     * Lets the readers catch up with what was written, for at most {@code timeoutMs}; returns whether they
     * did.
     */
    boolean awaitReadersCaughtUp(long timeoutMs) throws InterruptedException;

    /** Stops its consumers. */
    void stopReaders() throws InterruptedException;

    /** @return checks of the workload's own that the history checker cannot make, as failure lines */
    List<String> ownChecks();

    /** @return a one-line account of what it did (records sent, acknowledged, read) */
    String describe();

    @Override
    void close();
}
