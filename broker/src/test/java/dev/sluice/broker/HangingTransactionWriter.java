package dev.sluice.broker;

import dev.sluice.broker.kafka.PartitionApis;
import dev.sluice.raft.ReplicaStatus;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.requests.InitProducerIdRequest;
import org.apache.kafka.common.requests.InitProducerIdResponse;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.ProduceResponse;

/**
 * Leaves a transaction open on a partition that no transaction coordinator knows of, the way a hanging
 * transaction arises in Kafka before KIP-890: the nodes stop checking transactional produces with the
 * coordinator, and one transactional batch of a fresh producer id is produced with a raw request and never
 * ended. For tests of the tools that find and abort hanging transactions (tools use the broker's test-jar).
 */
public final class HangingTransactionWriter {
    private HangingTransactionWriter() {}

    /**
     * Writes one transactional batch of {@code values}, stamped {@code timestampMs}, to {@code tp} as a new
     * producer of {@code transactionalId} that the coordinator never hears of; returns the producer id. The
     * nodes accept transactional produces unchecked from then on.
     */
    public static long write(
            List<SluiceNode> nodes, TopicPartition tp, String transactionalId, long timestampMs, String... values)
            throws Exception {
        nodes.forEach(n -> n.partitionApis().setTransactionVerifier(PartitionApis.TransactionVerifier.ALLOW));
        InitProducerIdResponse init = (InitProducerIdResponse) InProcessCluster.sendRaw(
                nodes.get(0).kafkaPort(),
                new InitProducerIdRequest.Builder(new InitProducerIdRequestData()
                                .setTransactionalId(null)
                                .setTransactionTimeoutMs(60_000)
                                .setProducerId(-1)
                                .setProducerEpoch((short) -1))
                        .build((short) 4));
        if (init.error() != Errors.NONE) {
            throw new AssertionError("InitProducerId failed: " + init.error());
        }
        long producerId = init.data().producerId();
        SimpleRecord[] records = new SimpleRecord[values.length];
        for (int i = 0; i < values.length; i++) {
            records[i] = new SimpleRecord(timestampMs, null, values[i].getBytes(StandardCharsets.UTF_8));
        }
        MemoryRecords batch =
                MemoryRecords.withTransactionalRecords(Compression.NONE, producerId, (short) 0, 0, records);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        Errors error = produce(leader(nodes, tp, deadline), tp, transactionalId, batch);
        while (error == Errors.NOT_LEADER_OR_FOLLOWER && System.nanoTime() < deadline) {
            Thread.sleep(100); // refused, so not appended: resending is safe
            error = produce(leader(nodes, tp, deadline), tp, transactionalId, batch);
        }
        if (error != Errors.NONE) {
            throw new AssertionError("the transactional batch to " + tp + " was refused: " + error);
        }
        return producerId;
    }

    private static Errors produce(SluiceNode leader, TopicPartition tp, String transactionalId, MemoryRecords batch)
            throws Exception {
        ProduceRequestData data = new ProduceRequestData()
                .setAcks((short) -1)
                .setTimeoutMs(30_000)
                .setTransactionalId(transactionalId);
        ProduceRequestData.TopicProduceData topic = new ProduceRequestData.TopicProduceData().setName(tp.topic());
        topic.partitionData()
                .add(new ProduceRequestData.PartitionProduceData()
                        .setIndex(tp.partition())
                        .setRecords(MemoryRecords.readableRecords(batch.buffer().duplicate())));
        data.topicData().add(topic);
        ProduceResponse response =
                (ProduceResponse) InProcessCluster.sendRaw(leader.kafkaPort(), new ProduceRequest(data, (short) 11));
        return Errors.forCode(response.data()
                .responses()
                .iterator()
                .next()
                .partitionResponses()
                .get(0)
                .errorCode());
    }

    private static SluiceNode leader(List<SluiceNode> nodes, TopicPartition tp, long deadlineNs)
            throws InterruptedException {
        while (System.nanoTime() < deadlineNs) {
            for (SluiceNode node : nodes) {
                ReplicaStatus status = node.raft().status(tp);
                if (status != null && status.isLeader()) {
                    return node;
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no leader of " + tp);
    }
}
