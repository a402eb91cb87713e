package dev.sluice.coordinator.txn;

import static dev.sluice.coordinator.txn.TxnTestDriver.TXN;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.coordinator.txn.TxnRecord.TxnMetadata;
import dev.sluice.coordinator.txn.TxnResult.WriteMarkers;
import java.util.List;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.EndTxnResponseData;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.TransactionResult;
import org.junit.jupiter.api.Test;

class EndTxnTest {
    private static final TopicPartition T0 = new TopicPartition("t", 0);
    private static final TopicPartition U3 = new TopicPartition("u", 3);
    private final TxnTestDriver driver = new TxnTestDriver();

    private static Errors error(EndTxnResponseData response) {
        return Errors.forCode(response.errorCode());
    }

    @Test
    void shouldPrepareTheCommitAnswerAfterTheRecordAndAskForCommitMarkers() {
        InitProducerIdResponseData p = driver.begin(T0, U3);

        EndTxnResponseData response = driver.endTxn(TXN, p.producerId(), p.producerEpoch(), true);

        assertThat(error(response)).isEqualTo(Errors.NONE);
        assertThat(response.producerId()).isEqualTo(p.producerId());
        assertThat(response.producerEpoch()).isEqualTo(p.producerEpoch());
        assertThat(driver.stateOf(TXN)).isEqualTo(TxnState.PREPARE_COMMIT);
        assertThat(driver.lastRecords).hasSize(1);
        assertThat(driver.lastMarkers)
                .containsExactly(new WriteMarkers(
                        TXN, p.producerId(), p.producerEpoch(), TransactionResult.COMMIT, List.of(T0, U3), 1));
    }

    @Test
    void shouldCompleteTheCommitWhenTheMarkersAreWritten() {
        InitProducerIdResponseData p = driver.begin(T0);
        driver.endTxn(TXN, p.producerId(), p.producerEpoch(), true);
        driver.advance(7);

        driver.markersWritten(TXN);

        TxnMetadata m = driver.state.transaction(TXN).orElseThrow();
        assertThat(m.state()).isEqualTo(TxnState.COMPLETE_COMMIT);
        assertThat(m.partitions()).isEmpty();
        assertThat(m.txnLastUpdateTimestampMs()).isEqualTo(driver.nowMs);
        assertThat(driver.lastRecords).containsExactly(m);
        assertThat(driver.lastMarkers).isEmpty();
    }

    @Test
    void shouldAbortWithAbortMarkers() {
        InitProducerIdResponseData p = driver.begin(T0);

        assertThat(error(driver.endTxn(TXN, p.producerId(), p.producerEpoch(), false)))
                .isEqualTo(Errors.NONE);
        assertThat(driver.lastMarkers).singleElement().satisfies(w -> assertThat(w.result())
                .isEqualTo(TransactionResult.ABORT));
        driver.markersWritten(TXN);

        assertThat(driver.stateOf(TXN)).isEqualTo(TxnState.COMPLETE_ABORT);
    }

    @Test
    void shouldIgnoreAStaleMarkerReport() {
        InitProducerIdResponseData p = driver.begin(T0);
        driver.endTxn(TXN, p.producerId(), p.producerEpoch(), true);

        TxnResult stale = driver.state.markersWritten(TXN, p.producerId(), (short) (p.producerEpoch() + 1), 0);
        TxnResult unknown = driver.state.markersWritten("nope", p.producerId(), p.producerEpoch(), 0);

        assertThat(stale.isEmpty()).isTrue();
        assertThat(unknown.isEmpty()).isTrue();
        assertThat(driver.stateOf(TXN)).isEqualTo(TxnState.PREPARE_COMMIT);
        driver.markersWritten(TXN);
        assertThat(driver.state
                        .markersWritten(TXN, p.producerId(), p.producerEpoch(), 0)
                        .isEmpty())
                .as("a duplicate report")
                .isTrue();
    }

    @Test
    void shouldAnswerARetryWhileTheMarkersAreWrittenWithConcurrentTransactions() {
        InitProducerIdResponseData p = driver.begin(T0);
        driver.endTxn(TXN, p.producerId(), p.producerEpoch(), true);

        assertThat(error(driver.endTxn(TXN, p.producerId(), p.producerEpoch(), true)))
                .isEqualTo(Errors.CONCURRENT_TRANSACTIONS);
        assertThat(error(driver.endTxn(TXN, p.producerId(), p.producerEpoch(), false)))
                .isEqualTo(Errors.INVALID_TXN_STATE);
        assertThat(driver.lastMarkers).isEmpty();
    }

    @Test
    void shouldAnswerARetryAfterCompletionWithSuccessAndTheOppositeWithInvalidTxnState() {
        InitProducerIdResponseData p = driver.begin(T0);
        driver.endTxn(TXN, p.producerId(), p.producerEpoch(), false);
        driver.markersWritten(TXN);

        EndTxnResponseData retry = driver.endTxn(TXN, p.producerId(), p.producerEpoch(), false);
        assertThat(error(retry)).isEqualTo(Errors.NONE);
        assertThat(retry.producerId()).isEqualTo(p.producerId());
        assertThat(driver.lastRecords).isEmpty();
        assertThat(driver.lastMarkers).isEmpty();
        assertThat(error(driver.endTxn(TXN, p.producerId(), p.producerEpoch(), true)))
                .isEqualTo(Errors.INVALID_TXN_STATE);
    }

    @Test
    void shouldRejectEndTxnWithoutATransaction() {
        InitProducerIdResponseData p = driver.initProducerId(TXN);

        assertThat(error(driver.endTxn(TXN, p.producerId(), p.producerEpoch(), true)))
                .isEqualTo(Errors.INVALID_TXN_STATE);
    }

    @Test
    void shouldRejectAnUnknownIdOrProducerIdAndFenceAnOlderEpochByVersion() {
        InitProducerIdResponseData old = driver.initProducerId(TXN);
        InitProducerIdResponseData p = driver.begin(T0);

        EndTxnResponseData unknown = driver.endTxn("other", p.producerId(), p.producerEpoch(), true);
        assertThat(error(unknown)).isEqualTo(Errors.INVALID_PRODUCER_ID_MAPPING);
        assertThat(unknown.producerId()).isEqualTo(-1);
        assertThat(unknown.producerEpoch()).isEqualTo((short) -1);
        assertThat(error(driver.endTxn(TXN, p.producerId() + 1, p.producerEpoch(), true)))
                .isEqualTo(Errors.INVALID_PRODUCER_ID_MAPPING);
        assertThat(error(driver.endTxn(TXN, old.producerId(), old.producerEpoch(), true, (short) 2)))
                .isEqualTo(Errors.PRODUCER_FENCED);
        assertThat(error(driver.endTxn(TXN, old.producerId(), old.producerEpoch(), true, (short) 1)))
                .isEqualTo(Errors.INVALID_PRODUCER_EPOCH);
        assertThat(error(driver.endTxn(TXN, p.producerId(), (short) (p.producerEpoch() + 1), true)))
                .as("a newer epoch than the coordinator's")
                .isEqualTo(Errors.PRODUCER_FENCED);
        assertThat(error(driver.endTxn("", p.producerId(), p.producerEpoch(), true)))
                .isEqualTo(Errors.INVALID_REQUEST);
        assertThat(driver.stateOf(TXN)).isEqualTo(TxnState.ONGOING);
    }

    @Test
    void shouldLetTheProducerStartTheNextTransactionAfterCompletion() {
        InitProducerIdResponseData p = driver.begin(T0);
        driver.endTxn(TXN, p.producerId(), p.producerEpoch(), true);
        driver.markersWritten(TXN);
        driver.advance(1);

        assertThat(driver.addPartitions(TXN, p.producerId(), p.producerEpoch(), U3))
                .isEqualTo(Errors.NONE);

        TxnMetadata m = driver.state.transaction(TXN).orElseThrow();
        assertThat(m.state()).isEqualTo(TxnState.ONGOING);
        assertThat(m.partitions()).containsExactly(U3);
        assertThat(m.txnStartTimestampMs()).isEqualTo(driver.nowMs);
    }
}
