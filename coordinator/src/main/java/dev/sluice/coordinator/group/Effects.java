package dev.sluice.coordinator.group;

import dev.sluice.coordinator.group.GroupResult.Completion;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.protocol.Message;

/** Collects the records and responses of one step; {@link #build()} decides which responses wait for a commit. */
final class Effects {
    private enum Wait {
        NOTHING,
        RECORDS,
        EVERYTHING
    }

    private record Reply(long requestHandle, Message response, Wait until) {}

    private final List<GroupRecord> records = new ArrayList<>();
    private final List<Reply> replies = new ArrayList<>();

    void append(GroupRecord record) {
        records.add(record);
    }

    /** A response that depends on nothing persisted (reads, rejections). */
    void reply(long requestHandle, Message response) {
        replies.add(new Reply(requestHandle, response, Wait.NOTHING));
    }

    /** A response that must not be seen before this step's records are committed. */
    void replyAfterRecords(long requestHandle, Message response) {
        replies.add(new Reply(requestHandle, response, Wait.RECORDS));
    }

    /** A response that must wait until everything emitted so far is committed, records or not. */
    void replyAfterEverythingCommitted(long requestHandle, Message response) {
        replies.add(new Reply(requestHandle, response, Wait.EVERYTHING));
    }

    boolean hasRecords() {
        return !records.isEmpty();
    }

    GroupResult build() {
        if (records.isEmpty() && replies.isEmpty()) {
            return GroupResult.empty();
        }
        List<Completion> completions = new ArrayList<>(replies.size());
        for (Reply reply : replies) {
            boolean awaitsCommit =
                    reply.until() == Wait.EVERYTHING || (reply.until() == Wait.RECORDS && !records.isEmpty());
            completions.add(new Completion(reply.requestHandle(), reply.response(), awaitsCommit));
        }
        return new GroupResult(records, completions);
    }
}
