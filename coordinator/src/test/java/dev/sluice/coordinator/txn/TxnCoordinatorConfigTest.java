package dev.sluice.coordinator.txn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

class TxnCoordinatorConfigTest {
    @Test
    void shouldHaveKafkasDefaults() {
        TxnCoordinatorConfig config = TxnCoordinatorConfig.defaults();

        assertThat(config.transactionMaxTimeoutMs()).isEqualTo(900_000);
        assertThat(config.transactionalIdExpirationMs()).isEqualTo(604_800_000);
        assertThat(config.abortTimedOutTransactionCleanupIntervalMs()).isEqualTo(10_000);
        assertThat(config.removeExpiredTransactionalIdCleanupIntervalMs()).isEqualTo(3_600_000);
    }

    @Test
    void shouldRoundTripThroughItsStringForm() {
        TxnCoordinatorConfig config = TxnCoordinatorConfig.parse(Map.of("transaction.max.timeout.ms", "5000"));

        assertThat(config.transactionMaxTimeoutMs()).isEqualTo(5000);
        assertThat(TxnCoordinatorConfig.parse(config.toMap())).isEqualTo(config);
    }

    @Test
    void shouldNameAnUnknownOrInvalidKey() {
        assertThatThrownBy(() -> TxnCoordinatorConfig.parse(Map.of("transaction.max.timeout", "5")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("transaction.max.timeout");
        assertThatThrownBy(() -> TxnCoordinatorConfig.parse(Map.of("transactional.id.expiration.ms", "0")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("transactional.id.expiration.ms");
        assertThatThrownBy(() -> TxnCoordinatorConfig.parse(
                        Map.of("transaction.abort.timed.out.transaction.cleanup.interval.ms", "soon")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("transaction.abort.timed.out.transaction.cleanup.interval.ms");
        assertThatThrownBy(() -> new TxnCoordinatorConfig(1, 1, 1, 0))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("transaction.remove.expired.transaction.cleanup.interval.ms");
    }
}
