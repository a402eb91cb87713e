package dev.sluice.coordinator.txn;

import static dev.sluice.coordinator.txn.TxnTestDriver.TIMEOUT_MS;
import static dev.sluice.coordinator.txn.TxnTestDriver.TXN;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.coordinator.txn.TxnRecord.TxnMetadata;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.TransactionResult;
import org.junit.jupiter.api.Test;

class InitProducerIdTest {
    private static final TopicPartition TP = new TopicPartition("t", 0);
    private final TxnTestDriver driver = new TxnTestDriver();

    private static Errors error(InitProducerIdResponseData response) {
        return Errors.forCode(response.errorCode());
    }

    @Test
    void shouldGiveANewTransactionalIdANewProducerIdWithEpochZero() {
        InitProducerIdResponseData response = driver.initProducerId(TXN);

        assertThat(error(response)).isEqualTo(Errors.NONE);
        assertThat(response.producerId()).isEqualTo(1000);
        assertThat(response.producerEpoch()).isZero();
        assertThat(driver.completion(1).awaitsCommit()).isTrue();
        assertThat(driver.lastRecords)
                .containsExactly(new TxnMetadata(
                        TXN,
                        1000,
                        -1,
                        -1,
                        (short) 0,
                        (short) -1,
                        TIMEOUT_MS,
                        TxnState.EMPTY,
                        List.of(),
                        -1,
                        driver.nowMs));
    }

    @Test
    void shouldBumpTheEpochOfAnExistingTransactionalId() {
        driver.initProducerId(TXN);
        driver.advance(5);

        InitProducerIdResponseData response = driver.initProducerId(TXN, 30_000, -1, (short) -1, (short) 5);

        assertThat(error(response)).isEqualTo(Errors.NONE);
        assertThat(response.producerId()).isEqualTo(1000);
        assertThat(response.producerEpoch()).isEqualTo((short) 1);
        TxnMetadata m = driver.state.transaction(TXN).orElseThrow();
        assertThat(m.txnTimeoutMs()).isEqualTo(30_000);
        assertThat(m.lastProducerEpoch()).isEqualTo((short) -1);
    }

    @Test
    void shouldAnswerAnIdempotentProducerWithoutRecords() {
        InitProducerIdResponseData response = driver.initProducerId(null);

        assertThat(error(response)).isEqualTo(Errors.NONE);
        assertThat(response.producerId()).isEqualTo(1000);
        assertThat(response.producerEpoch()).isZero();
        assertThat(driver.lastRecords).isEmpty();
        assertThat(driver.state.transactionalIds()).isEmpty();
    }

    @Test
    void shouldAnswerRetriablyWhenNoProducerIdIsAvailable() {
        driver.producerIdsAvailable = false;

        assertThat(error(driver.initProducerId(TXN))).isEqualTo(Errors.COORDINATOR_LOAD_IN_PROGRESS);
        assertThat(error(driver.initProducerId(null))).isEqualTo(Errors.COORDINATOR_LOAD_IN_PROGRESS);
        assertThat(driver.state.transactionalIds()).isEmpty();
    }

    @Test
    void shouldRejectATimeoutAboveTheMaximumOrNotPositive() {
        TxnTestDriver small =
                new TxnTestDriver(TxnCoordinatorConfig.parse(Map.of("transaction.max.timeout.ms", "1000")));

        assertThat(error(small.initProducerId(TXN, 1001, -1, (short) -1, (short) 5)))
                .isEqualTo(Errors.INVALID_TRANSACTION_TIMEOUT);
        assertThat(error(small.initProducerId(TXN, 0, -1, (short) -1, (short) 5)))
                .isEqualTo(Errors.INVALID_TRANSACTION_TIMEOUT);
        assertThat(error(small.initProducerId(TXN, 1000, -1, (short) -1, (short) 5)))
                .isEqualTo(Errors.NONE);
    }

    @Test
    void shouldRejectAnEmptyTransactionalIdOrHalfAProducerIdAndEpoch() {
        assertThat(error(driver.initProducerId("", TIMEOUT_MS, -1, (short) -1, (short) 5)))
                .isEqualTo(Errors.INVALID_REQUEST);
        assertThat(error(driver.initProducerId(TXN, TIMEOUT_MS, 7, (short) -1, (short) 5)))
                .isEqualTo(Errors.INVALID_REQUEST);
        assertThat(error(driver.initProducerId(TXN, TIMEOUT_MS, -1, (short) 3, (short) 5)))
                .isEqualTo(Errors.INVALID_REQUEST);
    }

    @Test
    void shouldAbortAnOngoingTransactionWithABumpedEpochAndAnswerConcurrentTransactions() {
        InitProducerIdResponseData first = driver.begin(TP);

        InitProducerIdResponseData second = driver.initProducerId(TXN);

        assertThat(error(second)).isEqualTo(Errors.CONCURRENT_TRANSACTIONS);
        assertThat(driver.stateOf(TXN)).isEqualTo(TxnState.PREPARE_ABORT);
        assertThat(driver.lastMarkers).singleElement().satisfies(w -> {
            assertThat(w.result()).isEqualTo(TransactionResult.ABORT);
            assertThat(w.producerEpoch()).isEqualTo((short) 1);
            assertThat(w.partitions()).containsExactly(TP);
        });
        // The old producer is fenced at once.
        assertThat(driver.addPartitions(TXN, first.producerId(), first.producerEpoch(), TP))
                .isEqualTo(Errors.PRODUCER_FENCED);
        // While the markers are written the new producer retries.
        assertThat(error(driver.initProducerId(TXN))).isEqualTo(Errors.CONCURRENT_TRANSACTIONS);

        driver.markersWritten(TXN);
        InitProducerIdResponseData third = driver.initProducerId(TXN);

        assertThat(error(third)).isEqualTo(Errors.NONE);
        assertThat(third.producerEpoch()).isEqualTo((short) 2);
        assertThat(driver.stateOf(TXN)).isEqualTo(TxnState.EMPTY);
    }

    @Test
    void shouldBumpAgainForAKip360ProducerPresentingItsCurrentEpoch() {
        InitProducerIdResponseData first = driver.initProducerId(TXN);

        InitProducerIdResponseData bumped =
                driver.initProducerId(TXN, TIMEOUT_MS, first.producerId(), (short) 0, (short) 5);

        assertThat(error(bumped)).isEqualTo(Errors.NONE);
        assertThat(bumped.producerEpoch()).isEqualTo((short) 1);
        assertThat(driver.state.transaction(TXN).orElseThrow().lastProducerEpoch())
                .isZero();
    }

    @Test
    void shouldReturnTheSameEpochForARetryOfAKip360Bump() {
        InitProducerIdResponseData first = driver.initProducerId(TXN);
        driver.initProducerId(TXN, TIMEOUT_MS, first.producerId(), (short) 0, (short) 5);

        InitProducerIdResponseData retry =
                driver.initProducerId(TXN, TIMEOUT_MS, first.producerId(), (short) 0, (short) 5);

        assertThat(error(retry)).isEqualTo(Errors.NONE);
        assertThat(retry.producerEpoch()).isEqualTo((short) 1);
    }

    @Test
    void shouldFenceAKip360ProducerWithAnOlderEpoch() {
        InitProducerIdResponseData first = driver.initProducerId(TXN);
        driver.initProducerId(TXN);
        driver.initProducerId(TXN);

        assertThat(error(driver.initProducerId(TXN, TIMEOUT_MS, first.producerId(), (short) 0, (short) 4)))
                .isEqualTo(Errors.PRODUCER_FENCED);
        assertThat(error(driver.initProducerId(TXN, TIMEOUT_MS, first.producerId(), (short) 0, (short) 3)))
                .isEqualTo(Errors.INVALID_PRODUCER_EPOCH);
        assertThat(error(driver.initProducerId(TXN, TIMEOUT_MS, 4242, (short) 2, (short) 4)))
                .as("an unknown producer id")
                .isEqualTo(Errors.PRODUCER_FENCED);
    }

    @Test
    void shouldRotateTheProducerIdWhenTheEpochIsExhausted() {
        TxnTestDriver d = exhaustedDriver();

        InitProducerIdResponseData rotated = d.initProducerId(TXN, TIMEOUT_MS, 77, (short) 32766, (short) 5);

        assertThat(error(rotated)).isEqualTo(Errors.NONE);
        assertThat(rotated.producerId()).isEqualTo(1000);
        assertThat(rotated.producerEpoch()).isZero();
        TxnMetadata m = d.state.transaction(TXN).orElseThrow();
        assertThat(m.previousProducerId()).isEqualTo(77);
        assertThat(m.lastProducerEpoch()).isEqualTo((short) 32766);

        // A retry with the exhausted id and epoch gets the new id again, without another bump.
        InitProducerIdResponseData retry = d.initProducerId(TXN, TIMEOUT_MS, 77, (short) 32766, (short) 5);
        assertThat(error(retry)).isEqualTo(Errors.NONE);
        assertThat(retry.producerId()).isEqualTo(1000);
        assertThat(retry.producerEpoch()).isZero();
    }

    @Test
    void shouldRotateTheProducerIdWhenANewProducerFindsTheEpochExhausted() {
        TxnTestDriver d = exhaustedDriver();

        InitProducerIdResponseData rotated = d.initProducerId(TXN);

        assertThat(error(rotated)).isEqualTo(Errors.NONE);
        assertThat(rotated.producerId()).isEqualTo(1000);
        assertThat(rotated.producerEpoch()).isZero();
        assertThat(d.state.transaction(TXN).orElseThrow().lastProducerEpoch()).isEqualTo((short) -1);
    }

    @Test
    void shouldFenceThePreviousProducerIdWithANonExhaustedEpoch() {
        TxnTestDriver d = exhaustedDriver();
        d.initProducerId(TXN);

        assertThat(error(d.initProducerId(TXN, TIMEOUT_MS, 77, (short) 5, (short) 5)))
                .isEqualTo(Errors.PRODUCER_FENCED);
    }

    /** A driver whose {@link TxnTestDriver#TXN} has producer id 77 at the exhausted epoch 32766, COMPLETE_COMMIT. */
    private static TxnTestDriver exhaustedDriver() {
        TxnTestDriver d = new TxnTestDriver();
        d.log.add(new TxnMetadata(
                TXN, 77, 77, -1, (short) 32766, (short) 32765, TIMEOUT_MS, TxnState.COMPLETE_COMMIT, List.of(), 5, 6));
        d.failOver();
        return d;
    }
}
