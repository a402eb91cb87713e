package dev.sluice.coordinator.txn;

import static dev.sluice.coordinator.txn.TxnTestDriver.TXN;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.coordinator.group.GroupCoordinatorState;
import dev.sluice.coordinator.txn.TxnRecord.TxnMetadata;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData.AddPartitionsToTxnTransaction;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData.AddPartitionsToTxnTransactionCollection;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData.AddPartitionsToTxnResult;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;

class AddPartitionsToTxnTest {
    private static final TopicPartition T0 = new TopicPartition("t", 0);
    private static final TopicPartition T1 = new TopicPartition("t", 1);
    private static final TopicPartition U0 = new TopicPartition("u", 0);
    private final TxnTestDriver driver = new TxnTestDriver();

    @Test
    void shouldStartATransactionWithTheFirstPartitions() {
        InitProducerIdResponseData p = driver.initProducerId(TXN);
        driver.advance(10);

        assertThat(driver.addPartitions(TXN, p.producerId(), p.producerEpoch(), T0, U0))
                .isEqualTo(Errors.NONE);

        TxnMetadata m = driver.state.transaction(TXN).orElseThrow();
        assertThat(m.state()).isEqualTo(TxnState.ONGOING);
        assertThat(m.partitions()).containsExactly(T0, U0);
        assertThat(m.txnStartTimestampMs()).isEqualTo(driver.nowMs);
        assertThat(driver.lastRecords).containsExactly(m);
    }

    @Test
    void shouldAddMorePartitionsKeepingTheStartTime() {
        InitProducerIdResponseData p = driver.begin(T0);
        long startMs = driver.nowMs;
        driver.advance(100);

        assertThat(driver.addPartitions(TXN, p.producerId(), p.producerEpoch(), T1))
                .isEqualTo(Errors.NONE);

        TxnMetadata m = driver.state.transaction(TXN).orElseThrow();
        assertThat(m.partitions()).containsExactly(T0, T1);
        assertThat(m.txnStartTimestampMs()).isEqualTo(startMs);
        assertThat(m.txnLastUpdateTimestampMs()).isEqualTo(driver.nowMs);
    }

    @Test
    void shouldAnswerPartitionsAlreadyInTheTransactionWithoutARecordButAfterTheCommit() {
        InitProducerIdResponseData p = driver.begin(T0, T1);

        assertThat(driver.addPartitions(TXN, p.producerId(), p.producerEpoch(), T1))
                .isEqualTo(Errors.NONE);

        assertThat(driver.lastRecords).isEmpty();
        assertThat(driver.completions.values())
                .allSatisfy(c -> assertThat(c.awaitsCommit()).isTrue());
    }

    @Test
    void shouldRejectAnUnknownTransactionalIdOrProducerId() {
        InitProducerIdResponseData p = driver.initProducerId(TXN);

        assertThat(driver.addPartitions("other", p.producerId(), p.producerEpoch(), T0))
                .isEqualTo(Errors.INVALID_PRODUCER_ID_MAPPING);
        assertThat(driver.addPartitions(TXN, p.producerId() + 1, p.producerEpoch(), T0))
                .isEqualTo(Errors.INVALID_PRODUCER_ID_MAPPING);
        assertThat(driver.addPartitions("", p.producerId(), p.producerEpoch(), T0))
                .isEqualTo(Errors.INVALID_REQUEST);
    }

    @Test
    void shouldFenceAnOlderEpochWithTheErrorItsVersionKnows() {
        InitProducerIdResponseData old = driver.initProducerId(TXN);
        driver.initProducerId(TXN);

        assertThat(driver.addPartitions((short) 2, TXN, old.producerId(), old.producerEpoch(), T0))
                .isEqualTo(Errors.PRODUCER_FENCED);
        assertThat(driver.addPartitions((short) 1, TXN, old.producerId(), old.producerEpoch(), T0))
                .isEqualTo(Errors.INVALID_PRODUCER_EPOCH);
        assertThat(driver.addOffsets(TXN, old.producerId(), old.producerEpoch(), "g", (short) 2))
                .isEqualTo(Errors.PRODUCER_FENCED);
        assertThat(driver.addOffsets(TXN, old.producerId(), old.producerEpoch(), "g", (short) 1))
                .isEqualTo(Errors.INVALID_PRODUCER_EPOCH);
        assertThat(driver.stateOf(TXN)).isEqualTo(TxnState.EMPTY);
    }

    @Test
    void shouldAnswerConcurrentTransactionsWhileTheMarkersAreWritten() {
        InitProducerIdResponseData p = driver.begin(T0);
        driver.endTxn(TXN, p.producerId(), p.producerEpoch(), true);

        assertThat(driver.addPartitions(TXN, p.producerId(), p.producerEpoch(), T1))
                .isEqualTo(Errors.CONCURRENT_TRANSACTIONS);

        driver.markersWritten(TXN);
        assertThat(driver.addPartitions(TXN, p.producerId(), p.producerEpoch(), T1))
                .isEqualTo(Errors.NONE);
        assertThat(driver.state.transaction(TXN).orElseThrow().partitions()).containsExactly(T1);
    }

    @Test
    void shouldAddTheConsumerOffsetsPartitionOfTheGroup() {
        InitProducerIdResponseData p = driver.initProducerId(TXN);

        assertThat(driver.addOffsets(TXN, p.producerId(), p.producerEpoch(), "my-group", (short) 3))
                .isEqualTo(Errors.NONE);

        int partition = GroupCoordinatorState.partitionFor("my-group", TxnTestDriver.OFFSETS_PARTITIONS);
        assertThat(driver.state.transaction(TXN).orElseThrow().partitions())
                .containsExactly(new TopicPartition("__consumer_offsets", partition));
        assertThat(driver.stateOf(TXN)).isEqualTo(TxnState.ONGOING);
    }

    @Test
    void shouldHandleABatchOfTransactionsFromABroker() {
        InitProducerIdResponseData a = driver.initProducerId("a");
        InitProducerIdResponseData b = driver.initProducerId("b");
        driver.addPartitions("b", b.producerId(), b.producerEpoch(), T0);

        AddPartitionsToTxnTransactionCollection txns = new AddPartitionsToTxnTransactionCollection();
        txns.add(new AddPartitionsToTxnTransaction()
                .setTransactionalId("a")
                .setProducerId(a.producerId())
                .setProducerEpoch(a.producerEpoch())
                .setTopics(TxnTestDriver.topics(T0, T1)));
        txns.add(new AddPartitionsToTxnTransaction()
                .setTransactionalId("b")
                .setProducerId(b.producerId())
                .setProducerEpoch(b.producerEpoch())
                .setVerifyOnly(true)
                .setTopics(TxnTestDriver.topics(T0, T1)));
        txns.add(new AddPartitionsToTxnTransaction()
                .setTransactionalId("c")
                .setProducerId(5)
                .setProducerEpoch((short) 0)
                .setVerifyOnly(true)
                .setTopics(TxnTestDriver.topics(U0)));
        long handle = driver.send(new TxnCommand.AddPartitionsToTxn(
                driver.context((short) 4), new AddPartitionsToTxnRequestData().setTransactions(txns)));

        AddPartitionsToTxnResponseData response = driver.response(handle, AddPartitionsToTxnResponseData.class);
        assertThat(errorsOf(response, "a")).isEqualTo(Map.of(T0, Errors.NONE, T1, Errors.NONE));
        assertThat(errorsOf(response, "b")).isEqualTo(Map.of(T0, Errors.NONE, T1, Errors.TRANSACTION_ABORTABLE));
        assertThat(errorsOf(response, "c")).isEqualTo(Map.of(U0, Errors.INVALID_PRODUCER_ID_MAPPING));
        assertThat(driver.state.transaction("a").orElseThrow().partitions()).containsExactly(T0, T1);
        assertThat(driver.state.transaction("b").orElseThrow().partitions())
                .as("verification changes nothing")
                .containsExactly(T0);
    }

    @Test
    void shouldVerifyWithTheErrorsOfTheCoordinator() {
        InitProducerIdResponseData p = driver.begin(T0);

        assertThat(verify(p.producerId(), (short) (p.producerEpoch() + 1), T0)).isEqualTo(Errors.PRODUCER_FENCED);
        driver.endTxn(TXN, p.producerId(), p.producerEpoch(), false);
        assertThat(verify(p.producerId(), p.producerEpoch(), T0)).isEqualTo(Errors.CONCURRENT_TRANSACTIONS);
        driver.markersWritten(TXN);
        assertThat(verify(p.producerId(), p.producerEpoch(), T0))
                .as("the transaction is over")
                .isEqualTo(Errors.TRANSACTION_ABORTABLE);
    }

    private Errors verify(long producerId, short epoch, TopicPartition tp) {
        AddPartitionsToTxnTransactionCollection txns = new AddPartitionsToTxnTransactionCollection();
        txns.add(new AddPartitionsToTxnTransaction()
                .setTransactionalId(TXN)
                .setProducerId(producerId)
                .setProducerEpoch(epoch)
                .setVerifyOnly(true)
                .setTopics(TxnTestDriver.topics(tp)));
        long handle = driver.send(new TxnCommand.AddPartitionsToTxn(
                driver.context((short) 4), new AddPartitionsToTxnRequestData().setTransactions(txns)));
        return errorsOf(driver.response(handle, AddPartitionsToTxnResponseData.class), TXN)
                .get(tp);
    }

    private static Map<TopicPartition, Errors> errorsOf(AddPartitionsToTxnResponseData response, String id) {
        AddPartitionsToTxnResult result = response.resultsByTransaction().find(id);
        assertThat(result).as("result for %s", id).isNotNull();
        return TxnTestDriver.partitionErrors(result.topicResults());
    }
}
