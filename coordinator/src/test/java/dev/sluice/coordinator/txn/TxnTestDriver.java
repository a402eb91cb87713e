package dev.sluice.coordinator.txn;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.coordinator.txn.TxnResult.Completion;
import dev.sluice.coordinator.txn.TxnResult.WriteMarkers;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.AddOffsetsToTxnRequestData;
import org.apache.kafka.common.message.AddOffsetsToTxnResponseData;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData.AddPartitionsToTxnTopic;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData.AddPartitionsToTxnTopicCollection;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData.AddPartitionsToTxnPartitionResult;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData.AddPartitionsToTxnTopicResult;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData.AddPartitionsToTxnTopicResultCollection;
import org.apache.kafka.common.message.DescribeTransactionsRequestData;
import org.apache.kafka.common.message.DescribeTransactionsResponseData;
import org.apache.kafka.common.message.EndTxnRequestData;
import org.apache.kafka.common.message.EndTxnResponseData;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.message.ListTransactionsRequestData;
import org.apache.kafka.common.message.ListTransactionsResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.protocol.Message;

/**
 * Drives a {@link TransactionCoordinatorState} in tests: a fake clock (a plain long), a counting producer-id
 * source that can run dry, request builders with the versions today's Java producer uses, every emitted record
 * kept (for replay checks), every completion kept by handle and every marker work kept in order.
 */
final class TxnTestDriver {
    static final String TXN = "txn";
    static final int TIMEOUT_MS = 60_000;
    static final int OFFSETS_PARTITIONS = 50;
    static final short INIT_VERSION = 5;
    static final short ADD_VERSION = 3;
    static final short END_VERSION = 4;

    long nowMs = 1_000_000L;
    final TxnCoordinatorConfig config;
    TransactionCoordinatorState state;
    int coordinatorEpoch = 1;
    final List<TxnRecord> log = new ArrayList<>();
    final Map<Long, Completion> completions = new HashMap<>();
    final List<WriteMarkers> markers = new ArrayList<>();
    List<TxnRecord> lastRecords = List.of();
    List<WriteMarkers> lastMarkers = List.of();
    long nextProducerId = 1000;
    boolean producerIdsAvailable = true;

    private long nextHandle = 1;

    TxnTestDriver() {
        this(TxnCoordinatorConfig.defaults());
    }

    TxnTestDriver(TxnCoordinatorConfig config) {
        this.config = config;
        this.state = newState();
        absorb(state.activate(coordinatorEpoch, nowMs));
    }

    TransactionCoordinatorState newState() {
        return new TransactionCoordinatorState(
                config,
                () -> producerIdsAvailable ? nextProducerId++ : ProducerIdSource.NONE_AVAILABLE,
                OFFSETS_PARTITIONS);
    }

    /** Replays every record emitted so far (through the codec) into a fresh state, activated now. */
    TransactionCoordinatorState failOver() {
        absorb(state.unload());
        TransactionCoordinatorState next = newState();
        for (TxnRecord record : log) {
            next.replay(TxnRecordCodec.decode(TxnRecordCodec.encode(record)));
        }
        state = next;
        coordinatorEpoch++;
        absorb(state.activate(coordinatorEpoch, nowMs));
        return next;
    }

    /** Moves the clock, running every scan that comes due on the way at its deadline. */
    void advance(long ms) {
        long target = nowMs + ms;
        while (state.nextDeadlineMs() <= target) {
            nowMs = Math.max(nowMs, state.nextDeadlineMs());
            absorb(state.tick(nowMs));
        }
        nowMs = target;
    }

    void absorb(TxnResult result) {
        lastRecords = result.records();
        lastMarkers = result.markers();
        log.addAll(result.records());
        markers.addAll(result.markers());
        for (Completion c : result.completions()) {
            assertThat(completions)
                    .as("request %d answered twice", c.requestHandle())
                    .doesNotContainKey(c.requestHandle());
            completions.put(c.requestHandle(), c);
        }
    }

    long send(TxnCommand command) {
        absorb(state.handle(command, nowMs));
        return command.requestHandle();
    }

    TxnCommand.Context context(short version) {
        return new TxnCommand.Context(nextHandle++, version, "producer");
    }

    Completion completion(long handle) {
        assertThat(completions).as("request %d answered", handle).containsKey(handle);
        return completions.get(handle);
    }

    <T extends Message> T response(long handle, Class<T> type) {
        return type.cast(completion(handle).response());
    }

    // ---- InitProducerId ----

    InitProducerIdResponseData initProducerId(String transactionalId) {
        return initProducerId(transactionalId, TIMEOUT_MS, -1L, (short) -1, INIT_VERSION);
    }

    InitProducerIdResponseData initProducerId(
            String transactionalId, int timeoutMs, long producerId, short producerEpoch, short version) {
        long handle = send(new TxnCommand.InitProducerId(
                context(version),
                new InitProducerIdRequestData()
                        .setTransactionalId(transactionalId)
                        .setTransactionTimeoutMs(timeoutMs)
                        .setProducerId(producerId)
                        .setProducerEpoch(producerEpoch)));
        return response(handle, InitProducerIdResponseData.class);
    }

    // ---- AddPartitionsToTxn, AddOffsetsToTxn ----

    static AddPartitionsToTxnTopicCollection topics(TopicPartition... partitions) {
        AddPartitionsToTxnTopicCollection topics = new AddPartitionsToTxnTopicCollection();
        for (TopicPartition tp : partitions) {
            AddPartitionsToTxnTopic topic = topics.find(tp.topic());
            if (topic == null) {
                topic = new AddPartitionsToTxnTopic().setName(tp.topic());
                topics.add(topic);
            }
            topic.partitions().add(tp.partition());
        }
        return topics;
    }

    /** AddPartitionsToTxn v3 (one transaction); the error of every partition (all equal). */
    Errors addPartitions(String transactionalId, long producerId, short epoch, TopicPartition... partitions) {
        return addPartitions(ADD_VERSION, transactionalId, producerId, epoch, partitions);
    }

    Errors addPartitions(
            short version, String transactionalId, long producerId, short epoch, TopicPartition... partitions) {
        long handle = send(new TxnCommand.AddPartitionsToTxn(
                context(version),
                new AddPartitionsToTxnRequestData()
                        .setV3AndBelowTransactionalId(transactionalId)
                        .setV3AndBelowProducerId(producerId)
                        .setV3AndBelowProducerEpoch(epoch)
                        .setV3AndBelowTopics(topics(partitions))));
        Map<TopicPartition, Errors> errors = partitionErrors(
                response(handle, AddPartitionsToTxnResponseData.class).resultsByTopicV3AndBelow());
        assertThat(errors.keySet()).containsExactlyInAnyOrder(partitions);
        assertThat(errors.values())
                .as("one error for every partition")
                .hasSameElementsAs(List.of(errors.values().iterator().next()));
        return errors.values().iterator().next();
    }

    static Map<TopicPartition, Errors> partitionErrors(AddPartitionsToTxnTopicResultCollection topics) {
        Map<TopicPartition, Errors> errors = new HashMap<>();
        for (AddPartitionsToTxnTopicResult topic : topics) {
            for (AddPartitionsToTxnPartitionResult p : topic.resultsByPartition()) {
                errors.put(
                        new TopicPartition(topic.name(), p.partitionIndex()), Errors.forCode(p.partitionErrorCode()));
            }
        }
        return errors;
    }

    Errors addOffsets(String transactionalId, long producerId, short epoch, String groupId, short version) {
        long handle = send(new TxnCommand.AddOffsetsToTxn(
                context(version),
                new AddOffsetsToTxnRequestData()
                        .setTransactionalId(transactionalId)
                        .setProducerId(producerId)
                        .setProducerEpoch(epoch)
                        .setGroupId(groupId)));
        return Errors.forCode(
                response(handle, AddOffsetsToTxnResponseData.class).errorCode());
    }

    // ---- EndTxn ----

    EndTxnResponseData endTxn(String transactionalId, long producerId, short epoch, boolean commit) {
        return endTxn(transactionalId, producerId, epoch, commit, END_VERSION);
    }

    EndTxnResponseData endTxn(String transactionalId, long producerId, short epoch, boolean commit, short version) {
        long handle = send(new TxnCommand.EndTxn(
                context(version),
                new EndTxnRequestData()
                        .setTransactionalId(transactionalId)
                        .setProducerId(producerId)
                        .setProducerEpoch(epoch)
                        .setCommitted(commit)));
        return response(handle, EndTxnResponseData.class);
    }

    /** Reports the last marker work of the transactional id as done. */
    void markersWritten(String transactionalId) {
        WriteMarkers work = null;
        for (WriteMarkers w : markers) {
            if (w.transactionalId().equals(transactionalId)) {
                work = w;
            }
        }
        assertThat(work).as("marker work for %s", transactionalId).isNotNull();
        absorb(state.markersWritten(work.transactionalId(), work.producerId(), work.producerEpoch(), nowMs));
    }

    // ---- admin ----

    DescribeTransactionsResponseData.TransactionState describe(String transactionalId) {
        long handle = send(new TxnCommand.DescribeTransactions(
                context((short) 0),
                new DescribeTransactionsRequestData().setTransactionalIds(List.of(transactionalId))));
        return response(handle, DescribeTransactionsResponseData.class)
                .transactionStates()
                .get(0);
    }

    ListTransactionsResponseData list(ListTransactionsRequestData request) {
        long handle = send(new TxnCommand.ListTransactions(context((short) 1), request));
        return response(handle, ListTransactionsResponseData.class);
    }

    TxnState stateOf(String transactionalId) {
        return state.transaction(transactionalId).orElseThrow().state();
    }

    /** InitProducerId for {@link #TXN}, then an ONGOING transaction over the partitions; the producer's id. */
    InitProducerIdResponseData begin(TopicPartition... partitions) {
        InitProducerIdResponseData init = initProducerId(TXN);
        assertThat(Errors.forCode(init.errorCode())).isEqualTo(Errors.NONE);
        assertThat(addPartitions(TXN, init.producerId(), init.producerEpoch(), partitions))
                .isEqualTo(Errors.NONE);
        return init;
    }
}
