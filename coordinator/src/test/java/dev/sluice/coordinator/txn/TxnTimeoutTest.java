package dev.sluice.coordinator.txn;

import static dev.sluice.coordinator.txn.TxnTestDriver.TIMEOUT_MS;
import static dev.sluice.coordinator.txn.TxnTestDriver.TXN;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.coordinator.txn.TxnRecord.TxnTombstone;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.EndTxnResponseData;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.TransactionResult;
import org.junit.jupiter.api.Test;

class TxnTimeoutTest {
    private static final TopicPartition T0 = new TopicPartition("t", 0);

    @Test
    void shouldScheduleBothScansFromActivation() {
        TxnTestDriver driver = new TxnTestDriver();

        assertThat(driver.state.nextDeadlineMs()).isEqualTo(driver.nowMs + 10_000);
    }

    @Test
    void shouldAbortATimedOutTransactionWithABumpedEpochFencingTheProducer() {
        TxnTestDriver driver = new TxnTestDriver();
        InitProducerIdResponseData p = driver.begin(T0);

        driver.advance(TIMEOUT_MS);
        assertThat(driver.stateOf(TXN)).as("not older than its timeout yet").isEqualTo(TxnState.ONGOING);
        driver.advance(10_000);

        assertThat(driver.stateOf(TXN)).isEqualTo(TxnState.PREPARE_ABORT);
        assertThat(driver.markers).singleElement().satisfies(w -> {
            assertThat(w.result()).isEqualTo(TransactionResult.ABORT);
            assertThat(w.producerId()).isEqualTo(p.producerId());
            assertThat(w.producerEpoch()).isEqualTo((short) (p.producerEpoch() + 1));
            assertThat(w.partitions()).containsExactly(T0);
        });
        driver.markersWritten(TXN);
        assertThat(driver.stateOf(TXN)).isEqualTo(TxnState.COMPLETE_ABORT);

        EndTxnResponseData commit = driver.endTxn(TXN, p.producerId(), p.producerEpoch(), true);
        assertThat(Errors.forCode(commit.errorCode())).isEqualTo(Errors.PRODUCER_FENCED);
        assertThat(Errors.forCode(driver.initProducerId(TXN, TIMEOUT_MS, p.producerId(), p.producerEpoch(), (short) 4)
                        .errorCode()))
                .as("a KIP-360 recovery of the fenced producer")
                .isEqualTo(Errors.PRODUCER_FENCED);
    }

    @Test
    void shouldNotAbortATransactionThatIsAlreadyEnding() {
        TxnTestDriver driver = new TxnTestDriver();
        InitProducerIdResponseData p = driver.begin(T0);
        driver.endTxn(TXN, p.producerId(), p.producerEpoch(), true);

        driver.advance(10 * TIMEOUT_MS);

        assertThat(driver.stateOf(TXN)).isEqualTo(TxnState.PREPARE_COMMIT);
        assertThat(driver.markers).hasSize(1);
    }

    @Test
    void shouldRemoveATransactionalIdIdleForTheExpiration() {
        TxnTestDriver driver = new TxnTestDriver(TxnCoordinatorConfig.parse(Map.of(
                "transactional.id.expiration.ms", "100000",
                "transaction.remove.expired.transaction.cleanup.interval.ms", "50000")));
        driver.initProducerId(TXN);
        InitProducerIdResponseData q = driver.initProducerId("busy");
        driver.addPartitions("busy", q.producerId(), q.producerEpoch(), T0);

        driver.advance(99_999);
        assertThat(driver.state.transactionalIds()).contains(TXN);
        driver.advance(50_001);

        assertThat(driver.state.transactionalIds())
                .as("an ongoing transaction never expires")
                .containsExactly("busy");
        assertThat(driver.log).contains(new TxnTombstone(TXN));
        assertThat(driver.describe(TXN).errorCode()).isEqualTo(Errors.TRANSACTIONAL_ID_NOT_FOUND.code());
        // It comes back as a new id with a new producer id.
        assertThat(driver.initProducerId(TXN).producerId()).isNotEqualTo(1000);
    }
}
