package dev.sluice.coordinator.txn;

import java.util.Optional;

/**
 * The state of a transactional id, with Kafka's stable codes (its transaction log's {@code TransactionStatus})
 * and names (what DescribeTransactions and ListTransactions show).
 *
 * <pre>
 *   EMPTY ──AddPartitions──▶ ONGOING ──EndTxn(commit)──▶ PREPARE_COMMIT ──markers──▶ COMPLETE_COMMIT
 *     ▲                        │  └──EndTxn(abort), timeout, InitProducerId──▶ PREPARE_ABORT ──markers──▶ COMPLETE_ABORT
 *     └──InitProducerId── COMPLETE_* / EMPTY;   COMPLETE_* ──AddPartitions──▶ ONGOING;   expired ──▶ removed
 * </pre>
 *
 * {@link #DEAD} and {@link #PREPARE_EPOCH_FENCE} are transient in Kafka (an expiring id; an epoch fence on its
 * way to PREPARE_ABORT). This state machine applies every transition at once, so it never holds them and never
 * persists them; they exist for their codes and names.
 */
public enum TxnState {
    EMPTY(0, "Empty", true),
    ONGOING(1, "Ongoing", false),
    PREPARE_COMMIT(2, "PrepareCommit", false),
    PREPARE_ABORT(3, "PrepareAbort", false),
    COMPLETE_COMMIT(4, "CompleteCommit", true),
    COMPLETE_ABORT(5, "CompleteAbort", true),
    DEAD(6, "Dead", false),
    PREPARE_EPOCH_FENCE(7, "PrepareEpochFence", false);

    private final byte code;
    private final String kafkaName;
    private final boolean expirationAllowed;

    TxnState(int code, String kafkaName, boolean expirationAllowed) {
        this.code = (byte) code;
        this.kafkaName = kafkaName;
        this.expirationAllowed = expirationAllowed;
    }

    /** Kafka's code of the state; stable, persisted. */
    public byte code() {
        return code;
    }

    /** Kafka's name of the state ({@code "Ongoing"}, …), as the admin APIs show it. */
    public String kafkaName() {
        return kafkaName;
    }

    /** Whether a transactional id in this state may expire ({@code transactional.id.expiration.ms}). */
    public boolean isExpirationAllowed() {
        return expirationAllowed;
    }

    /** PREPARE_COMMIT or PREPARE_ABORT: the markers are being written. */
    public boolean isPrepare() {
        return this == PREPARE_COMMIT || this == PREPARE_ABORT;
    }

    /**
     * The state of a code.
     *
     * @throws IllegalArgumentException for an unknown code
     */
    public static TxnState fromCode(byte code) {
        for (TxnState state : values()) {
            if (state.code == code) {
                return state;
            }
        }
        throw new IllegalArgumentException("unknown transaction state code " + code);
    }

    /** The state with Kafka's name {@code name}, if any. */
    public static Optional<TxnState> fromKafkaName(String name) {
        for (TxnState state : values()) {
            if (state.kafkaName.equals(name)) {
                return Optional.of(state);
            }
        }
        return Optional.empty();
    }
}
