package dev.sluice.coordinator.group;

import java.util.List;
import java.util.Objects;
import org.apache.kafka.common.protocol.Message;

/**
 * What a step of {@link GroupCoordinatorState} produced.
 *
 * @param records to append, in order, to the {@code __consumer_offsets} partition (one Raft entry for all of
 *     them keeps them atomic: {@link GroupRecordCodec#encodeBatch}). The state already reflects them.
 * @param completions responses to send; they may answer requests parked by earlier steps
 */
public record GroupResult(List<GroupRecord> records, List<Completion> completions) {
    private static final GroupResult EMPTY = new GroupResult(List.of(), List.of());

    public GroupResult {
        records = List.copyOf(records);
        completions = List.copyOf(completions);
    }

    public static GroupResult empty() {
        return EMPTY;
    }

    public boolean isEmpty() {
        return records.isEmpty() && completions.isEmpty();
    }

    /**
     * The answer to one request.
     *
     * @param requestHandle the {@link GroupCommand.Context#requestHandle()} of the request answered
     * @param response the response data: {@code JoinGroupResponseData}, {@code SyncGroupResponseData},
     *     {@code HeartbeatResponseData}, {@code LeaveGroupResponseData}, {@code OffsetCommitResponseData},
     *     {@code OffsetFetchResponseData.OffsetFetchResponseGroup}, {@code DescribeGroupsResponseData},
     *     {@code ListGroupsResponseData}, {@code DeleteGroupsResponseData} or {@code OffsetDeleteResponseData}
     * @param awaitsCommit send it only once every record emitted so far, this result's included, is
     *     committed; if they never are (leadership lost), answer {@code NOT_COORDINATOR} instead
     */
    public record Completion(long requestHandle, Message response, boolean awaitsCommit) {
        public Completion {
            Objects.requireNonNull(response, "response");
        }
    }
}
