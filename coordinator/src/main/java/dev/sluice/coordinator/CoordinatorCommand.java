package dev.sluice.coordinator;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.util.List;
import java.util.Map;

/**
 * A change to the cluster metadata: the body of a coordinator group's Raft entry. Applied by {@link
 * ClusterState#apply} identically on every member. Encoded as JSON by {@link CoordinatorCodec}.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
    @JsonSubTypes.Type(value = CoordinatorCommand.RegisterNode.class, name = "register-node"),
    @JsonSubTypes.Type(value = CoordinatorCommand.FenceNode.class, name = "fence-node"),
    @JsonSubTypes.Type(value = CoordinatorCommand.ShutdownNode.class, name = "shutdown-node"),
    @JsonSubTypes.Type(value = CoordinatorCommand.CreateTopic.class, name = "create-topic"),
    @JsonSubTypes.Type(value = CoordinatorCommand.DeleteTopic.class, name = "delete-topic"),
    @JsonSubTypes.Type(value = CoordinatorCommand.CreatePartitions.class, name = "create-partitions"),
    @JsonSubTypes.Type(value = CoordinatorCommand.AlterConfigs.class, name = "alter-configs"),
    @JsonSubTypes.Type(value = CoordinatorCommand.SetReplicas.class, name = "set-replicas"),
    @JsonSubTypes.Type(value = CoordinatorCommand.AllocateProducerIds.class, name = "allocate-producer-ids"),
    @JsonSubTypes.Type(value = CoordinatorCommand.TxnRecords.class, name = "txn-records"),
    @JsonSubTypes.Type(value = CoordinatorCommand.ReadTransaction.class, name = "read-transaction"),
})
public sealed interface CoordinatorCommand {

    /**
     * Registers a node or updates its addresses, and unfences it. The first registration also fixes the
     * cluster id to {@code clusterIdCandidate}.
     */
    record RegisterNode(
            int nodeId, String host, int port, String raftHost, int raftPort, String rack, String clusterIdCandidate)
            implements CoordinatorCommand {}

    /** Marks a node dead: its replicas get replaced, and it takes no new ones until it registers again. */
    record FenceNode(int nodeId) implements CoordinatorCommand {}

    /**
     * A node is stopping gracefully (a controlled shutdown): its replicas stay, but no node hands it the
     * leadership of a partition until it registers again.
     */
    record ShutdownNode(int nodeId) implements CoordinatorCommand {}

    /**
     * Creates a topic; its replicas are placed over the live nodes when applied (so every member places
     * them the same way), unless {@code assignment} names them.
     */
    record CreateTopic(
            String name,
            String topicId,
            int partitions,
            int replicationFactor,
            Map<String, String> configs,
            List<List<Integer>> assignment)
            implements CoordinatorCommand {}

    record DeleteTopic(String name) implements CoordinatorCommand {}

    /** Grows a topic to {@code totalCount} partitions. */
    record CreatePartitions(String name, int totalCount) implements CoordinatorCommand {}

    /** Sets and removes topic configs. */
    record AlterConfigs(String name, Map<String, String> set, List<String> delete) implements CoordinatorCommand {}

    /** Replaces a partition's replicas (a reassignment, or the replacement of a dead node's replica). */
    record SetReplicas(String topic, int partition, List<Integer> replicas) implements CoordinatorCommand {}

    /** Hands a node a block of {@code count} producer ids; the result's value is the first. */
    record AllocateProducerIds(int nodeId, int count) implements CoordinatorCommand {}

    /**
     * Records of the transaction coordinator ({@code TxnRecordCodec.encodeBatch}), applied together; they change
     * the transactions the group keeps, not the cluster image. An empty batch changes nothing: a new leader
     * writes one and waits for it, after which every record of earlier terms is applied.
     */
    record TxnRecords(byte[] batch) implements CoordinatorCommand {}

    /**
     * Reads a transactional id's record through the log: it changes nothing, and its answer is a {@link
     * CoordinatorQuery.TransactionReply} of the record as of the entry's place in the log. Only a leader that
     * a majority still follows can commit it, so the answer is never one a successor has moved past (Ratis's
     * read-only queries may be: a leader cut off from the others answers them from its own state).
     */
    record ReadTransaction(String transactionalId) implements CoordinatorCommand {}
}
