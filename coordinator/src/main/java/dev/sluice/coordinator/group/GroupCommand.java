package dev.sluice.coordinator.group;

import java.util.Objects;
import org.apache.kafka.common.message.DeleteGroupsRequestData;
import org.apache.kafka.common.message.DescribeGroupsRequestData;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.LeaveGroupRequestData;
import org.apache.kafka.common.message.ListGroupsRequestData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetDeleteRequestData;
import org.apache.kafka.common.message.OffsetFetchRequestData.OffsetFetchRequestGroup;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.message.TxnOffsetCommitRequestData;

/**
 * A client request for {@link GroupCoordinatorState#handle}: Kafka's generated request data plus the
 * {@link Context} it arrived with. Requests naming several groups (DescribeGroups, DeleteGroups) carry only
 * the groups of this {@code __consumer_offsets} partition; the caller splits and merges.
 *
 * <p>Topics are named, not identified: for OffsetCommit v10+ and OffsetFetch v10+ the caller resolves
 * topic ids into the {@code name} fields first (ids are echoed back in the responses).
 */
public sealed interface GroupCommand {

    Context context();

    /** The caller's handle of the request; every completion names it. */
    default long requestHandle() {
        return context().requestHandle();
    }

    /**
     * Where a request came from.
     *
     * @param requestHandle chosen by the caller; the completion of this request carries it back
     * @param apiVersion the request's API version (some answers differ by version, as in Kafka)
     * @param clientId the {@code client.id} of the request header (a prefix of new member ids)
     * @param clientHost the client's address as Kafka shows it ({@code /10.0.0.7})
     */
    record Context(long requestHandle, short apiVersion, String clientId, String clientHost) {
        public Context {
            clientId = clientId == null ? "" : clientId;
            clientHost = clientHost == null ? "" : clientHost;
        }
    }

    record JoinGroup(Context context, JoinGroupRequestData request) implements GroupCommand {
        public JoinGroup {
            Objects.requireNonNull(context, "context");
            Objects.requireNonNull(request, "request");
        }
    }

    record SyncGroup(Context context, SyncGroupRequestData request) implements GroupCommand {
        public SyncGroup {
            Objects.requireNonNull(context, "context");
            Objects.requireNonNull(request, "request");
        }
    }

    record Heartbeat(Context context, HeartbeatRequestData request) implements GroupCommand {
        public Heartbeat {
            Objects.requireNonNull(context, "context");
            Objects.requireNonNull(request, "request");
        }
    }

    /** LeaveGroup; before v3 the request names one member in {@code memberId}, from v3 a list in {@code members}. */
    record LeaveGroup(Context context, LeaveGroupRequestData request) implements GroupCommand {
        public LeaveGroup {
            Objects.requireNonNull(context, "context");
            Objects.requireNonNull(request, "request");
        }
    }

    record OffsetCommit(Context context, OffsetCommitRequestData request) implements GroupCommand {
        public OffsetCommit {
            Objects.requireNonNull(context, "context");
            Objects.requireNonNull(request, "request");
        }
    }

    /**
     * TxnOffsetCommit: offsets committed inside the transaction of {@code producerId}, pending until its COMMIT
     * or ABORT marker reaches the partition. Before v3 the request carries no member id, generation or
     * instance id (their defaults: {@code ""}, -1, null).
     */
    record TxnOffsetCommit(Context context, TxnOffsetCommitRequestData request) implements GroupCommand {
        public TxnOffsetCommit {
            Objects.requireNonNull(context, "context");
            Objects.requireNonNull(request, "request");
        }
    }

    /**
     * OffsetFetch for one group (the v8+ shape; the caller turns a v0–v7 request into one group).
     *
     * @param requireStable the request's {@code RequireStable}: a partition with an offset pending in an open
     *     transaction answers {@code UNSTABLE_OFFSET_COMMIT}
     */
    record OffsetFetch(Context context, OffsetFetchRequestGroup group, boolean requireStable) implements GroupCommand {
        public OffsetFetch {
            Objects.requireNonNull(context, "context");
            Objects.requireNonNull(group, "group");
        }
    }

    record DescribeGroups(Context context, DescribeGroupsRequestData request) implements GroupCommand {
        public DescribeGroups {
            Objects.requireNonNull(context, "context");
            Objects.requireNonNull(request, "request");
        }
    }

    record ListGroups(Context context, ListGroupsRequestData request) implements GroupCommand {
        public ListGroups {
            Objects.requireNonNull(context, "context");
            Objects.requireNonNull(request, "request");
        }
    }

    record DeleteGroups(Context context, DeleteGroupsRequestData request) implements GroupCommand {
        public DeleteGroups {
            Objects.requireNonNull(context, "context");
            Objects.requireNonNull(request, "request");
        }
    }

    record OffsetDelete(Context context, OffsetDeleteRequestData request) implements GroupCommand {
        public OffsetDelete {
            Objects.requireNonNull(context, "context");
            Objects.requireNonNull(request, "request");
        }
    }
}
