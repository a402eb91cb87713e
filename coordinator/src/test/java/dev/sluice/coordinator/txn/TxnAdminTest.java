package dev.sluice.coordinator.txn;

import static dev.sluice.coordinator.txn.TxnTestDriver.TIMEOUT_MS;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.DescribeTransactionsResponseData;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.message.ListTransactionsRequestData;
import org.apache.kafka.common.message.ListTransactionsResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;

class TxnAdminTest {
    private static final TopicPartition T0 = new TopicPartition("t", 0);
    private static final TopicPartition T2 = new TopicPartition("t", 2);
    private static final TopicPartition U1 = new TopicPartition("u", 1);
    private final TxnTestDriver driver = new TxnTestDriver();

    @Test
    void shouldDescribeATransactionAsKafkaDoes() {
        InitProducerIdResponseData p = driver.initProducerId("a");
        driver.addPartitions("a", p.producerId(), p.producerEpoch(), T2, U1, T0);
        long startMs = driver.nowMs;

        DescribeTransactionsResponseData.TransactionState a = driver.describe("a");

        assertThat(a.errorCode()).isEqualTo(Errors.NONE.code());
        assertThat(a.transactionState()).isEqualTo("Ongoing");
        assertThat(a.producerId()).isEqualTo(p.producerId());
        assertThat(a.producerEpoch()).isEqualTo(p.producerEpoch());
        assertThat(a.transactionTimeoutMs()).isEqualTo(TIMEOUT_MS);
        assertThat(a.transactionStartTimeMs()).isEqualTo(startMs);
        assertThat(a.topics().find("t").partitions()).containsExactly(0, 2);
        assertThat(a.topics().find("u").partitions()).containsExactly(1);
    }

    @Test
    void shouldDescribeAnUnknownOrEmptyIdWithAnError() {
        assertThat(driver.describe("nope").errorCode()).isEqualTo(Errors.TRANSACTIONAL_ID_NOT_FOUND.code());
        assertThat(driver.describe("").errorCode()).isEqualTo(Errors.INVALID_REQUEST.code());
    }

    @Test
    void shouldListWithKafkasFilters() {
        InitProducerIdResponseData a = driver.initProducerId("a");
        driver.addPartitions("a", a.producerId(), a.producerEpoch(), T0);
        driver.advance(5_000);
        InitProducerIdResponseData b = driver.initProducerId("b");
        driver.addPartitions("b", b.producerId(), b.producerEpoch(), T0);
        driver.initProducerId("c");
        driver.advance(1_000);

        assertThat(ids(driver.list(new ListTransactionsRequestData()))).containsExactly("a", "b", "c");
        assertThat(ids(driver.list(new ListTransactionsRequestData().setStateFilters(List.of("Ongoing")))))
                .containsExactly("a", "b");
        assertThat(ids(driver.list(new ListTransactionsRequestData().setProducerIdFilters(List.of(b.producerId())))))
                .containsExactly("b");
        assertThat(ids(driver.list(new ListTransactionsRequestData()
                        .setStateFilters(List.of("Ongoing"))
                        .setDurationFilter(3_000))))
                .as("running longer than 3 s")
                .containsExactly("a");
        assertThat(ids(driver.list(new ListTransactionsRequestData().setTransactionalIdPattern("[ab]"))))
                .containsExactly("a", "b");

        ListTransactionsResponseData unknown =
                driver.list(new ListTransactionsRequestData().setStateFilters(List.of("Ongoing", "Weird")));
        assertThat(unknown.unknownStateFilters()).containsExactly("Weird");
        assertThat(ids(unknown)).containsExactly("a", "b");
        assertThat(driver.list(new ListTransactionsRequestData().setTransactionalIdPattern("("))
                        .errorCode())
                .isEqualTo(Errors.INVALID_REGULAR_EXPRESSION.code());
    }

    private static List<String> ids(ListTransactionsResponseData response) {
        assertThat(response.errorCode()).isEqualTo(Errors.NONE.code());
        return response.transactionStates().stream()
                .map(ListTransactionsResponseData.TransactionState::transactionalId)
                .toList();
    }
}
