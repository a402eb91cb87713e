package dev.sluice.coordinator.txn;

import static dev.sluice.coordinator.txn.TxnTestDriver.TXN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.coordinator.txn.TxnResult.WriteMarkers;
import java.util.List;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.TransactionResult;
import org.junit.jupiter.api.Test;

class TxnReplayTest {
    private static final TopicPartition T0 = new TopicPartition("t", 0);
    private final TxnTestDriver driver = new TxnTestDriver();

    @Test
    void shouldResumeTheMarkersOfAPreparedTransactionAfterAFailover() {
        InitProducerIdResponseData p = driver.begin(T0);
        driver.endTxn(TXN, p.producerId(), p.producerEpoch(), true);

        driver.failOver();

        assertThat(driver.lastMarkers)
                .containsExactly(new WriteMarkers(
                        TXN, p.producerId(), p.producerEpoch(), TransactionResult.COMMIT, List.of(T0), 2));
        driver.markersWritten(TXN);
        assertThat(driver.stateOf(TXN)).isEqualTo(TxnState.COMPLETE_COMMIT);
    }

    @Test
    void shouldKeepEveryFieldAcrossAFailover() {
        InitProducerIdResponseData p = driver.initProducerId(TXN);
        driver.initProducerId(TXN, 30_000, p.producerId(), p.producerEpoch(), (short) 4);
        InitProducerIdResponseData other = driver.initProducerId("other");
        driver.addPartitions("other", other.producerId(), other.producerEpoch(), T0);
        var before = driver.state.persistedRecords();
        var describedBefore = driver.describe(TXN);
        var otherBefore = driver.describe("other");

        driver.failOver();

        assertThat(driver.state.persistedRecords()).isEqualTo(before);
        assertThat(driver.describe(TXN)).isEqualTo(describedBefore);
        assertThat(driver.describe("other")).isEqualTo(otherBefore);
        assertThat(driver.lastMarkers).isEmpty();
        // A KIP-360 retry still gets the same epoch back: lastProducerEpoch was persisted.
        InitProducerIdResponseData retry =
                driver.initProducerId(TXN, 30_000, p.producerId(), p.producerEpoch(), (short) 4);
        assertThat(Errors.forCode(retry.errorCode())).isEqualTo(Errors.NONE);
        assertThat(retry.producerEpoch()).isEqualTo((short) 1);
    }

    @Test
    void shouldAbortATimedOutTransactionLoadedByANewLeader() {
        driver.begin(T0);
        driver.failOver();

        driver.advance(TxnTestDriver.TIMEOUT_MS + 10_000);

        assertThat(driver.stateOf(TXN)).isEqualTo(TxnState.PREPARE_ABORT);
    }

    @Test
    void shouldRefuseReplayAfterActivateAndUseAfterUnload() {
        assertThatThrownBy(() -> driver.state.replay(new TxnRecord.TxnTombstone(TXN)))
                .isInstanceOf(IllegalStateException.class);
        driver.state.unload();
        assertThatThrownBy(() -> driver.state.tick(0)).isInstanceOf(IllegalStateException.class);
        TransactionCoordinatorState fresh = driver.newState();
        assertThatThrownBy(() -> fresh.tick(0))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("before activate");
    }
}
