package dev.sluice.coordinator;

import java.util.List;

/**
 * A read-only request to the coordinator group's leader: {@code heartbeat} (a node says it is alive and
 * reports the partitions it leads; the answer is a {@link HeartbeatReply}), {@code image} (the
 * answer is an {@link ImageReply}) or {@code transaction} (the answer is a {@link TransactionReply}).
 * Queries are not Raft entries.
 */
public record CoordinatorQuery(String kind, int nodeId, List<PartitionLeadership> leaders, String transactionalId) {
    public static final String HEARTBEAT = "heartbeat";
    public static final String IMAGE = "image";
    public static final String TRANSACTION = "transaction";

    /** Asks for the committed state of one transactional id: the answer is a {@link TransactionReply}. */
    public static CoordinatorQuery transaction(String transactionalId) {
        return new CoordinatorQuery(TRANSACTION, -1, null, transactionalId);
    }

    /** The answer to a heartbeat: the image version the leader has applied and every partition's leadership. */
    public record HeartbeatReply(long imageVersion, List<PartitionLeadership> leaders) {}

    /**
     * The leader's image and transactions (every transactional id's latest record, {@code
     * TxnRecordCodec.encodeBatch}) and the Raft entry they reflect.
     */
    public record ImageReply(long term, long index, ClusterImage image, byte[] transactions) {}

    /** A transactional id's committed record ({@code TxnRecordCodec.encode}), or null if the id is unknown. */
    public record TransactionReply(byte[] record) {}
}
