package dev.sluice.chaos.check;

import dev.sluice.chaos.history.FinalRead;
import dev.sluice.chaos.history.Isolation;
import dev.sluice.chaos.history.Outcome;
import dev.sluice.chaos.history.Poll;
import dev.sluice.chaos.history.Read;
import dev.sluice.chaos.history.Send;
import java.util.List;

/**
 * Walks every observation of a history in a fixed order: acknowledged sends (in completion order), then each
 * poll's records, then each final read's records. Stateless.
 */
final class Observations {
    /** The observation is an acknowledged send; its index is into {@code History.sends()}. */
    static final int ACK = 0;
    /** The observation is a record a poll returned; its index is into {@code History.polls()}. */
    static final int POLL = 1;
    /** The observation is a record a final read returned; its index is into {@code History.finalReads()}. */
    static final int FINAL = 2;

    /** Receives one observation; {@code isolation} is {@code null} for an ack. */
    @FunctionalInterface
    interface Visitor {
        void accept(int source, int index, int partitionId, long offset, long value, Isolation isolation);
    }

    private Observations() {}

    static void forEach(HistoryIndex index, Visitor visitor) {
        List<Send> sends = index.history.sends();
        for (int i = 0; i < sends.size(); i++) {
            Send send = sends.get(i);
            if (send.offset() >= 0 && send.outcome() == Outcome.OK) {
                visitor.accept(ACK, i, index.id(send.topic(), send.partition()), send.offset(), send.value(), null);
            }
        }
        forEachRead(index, visitor);
    }

    /** Walks only the reads: polls, then final reads. */
    static void forEachRead(HistoryIndex index, Visitor visitor) {
        List<Poll> polls = index.history.polls();
        for (int i = 0; i < polls.size(); i++) {
            Poll poll = polls.get(i);
            for (Read r : poll.records()) {
                visitor.accept(POLL, i, index.id(r), r.offset(), r.value(), poll.isolation());
            }
        }
        List<FinalRead> finals = index.history.finalReads();
        for (int i = 0; i < finals.size(); i++) {
            FinalRead read = finals.get(i);
            for (Read r : read.records()) {
                visitor.accept(FINAL, i, index.id(r), r.offset(), r.value(), read.isolation());
            }
        }
    }

    /** @return how an observation's source is named in examples */
    static String describe(HistoryIndex index, int source, int i) {
        return switch (source) {
            case ACK ->
                "ack to process " + index.history.sends().get(i).process() + " at "
                        + Describe.seconds(index.history.sends().get(i).completeNs());
            case POLL -> Describe.poll(index.history.polls().get(i));
            case FINAL -> "final " + index.history.finalReads().get(i).isolation() + " read";
            default -> throw new IllegalArgumentException("unknown observation source " + source);
        };
    }
}
