package dev.sluice.coordinator.txn;

import java.util.Objects;
import org.apache.kafka.common.message.AddOffsetsToTxnRequestData;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData;
import org.apache.kafka.common.message.DescribeTransactionsRequestData;
import org.apache.kafka.common.message.EndTxnRequestData;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.ListTransactionsRequestData;

/**
 * A client (or, for AddPartitionsToTxn v4+, a broker) request for {@link TransactionCoordinatorState#handle}:
 * Kafka's generated request data plus the {@link Context} it arrived with. Authorization and topic existence
 * are checked by the caller first, as Kafka's request handlers do (an AddPartitionsToTxn naming an unknown or
 * unauthorized partition never reaches the coordinator).
 *
 * <p>EndTxn is handled as transaction version 1 whatever its version: the cluster does not advertise
 * {@code transaction.version} 2, so a broker must not accept EndTxn v5+ (nor AddPartitionsToTxn v5+).
 */
public sealed interface TxnCommand {

    Context context();

    /** The caller's handle of the request; its completion names it. */
    default long requestHandle() {
        return context().requestHandle();
    }

    /**
     * Where a request came from.
     *
     * @param requestHandle chosen by the caller; the completion of this request carries it back
     * @param apiVersion the request's API version (some answers differ by version, as in Kafka)
     * @param clientId the {@code client.id} of the request header
     */
    record Context(long requestHandle, short apiVersion, String clientId) {
        public Context {
            clientId = clientId == null ? "" : clientId;
        }
    }

    /** InitProducerId, transactional or not (a null {@code transactionalId}: an idempotent producer). */
    record InitProducerId(Context context, InitProducerIdRequestData request) implements TxnCommand {
        public InitProducerId {
            Objects.requireNonNull(context, "context");
            Objects.requireNonNull(request, "request");
        }
    }

    /**
     * AddPartitionsToTxn: before v4 one transaction in the {@code v3AndBelow*} fields (from a producer), from v4
     * a batch of transactions (from a broker), each possibly {@code verifyOnly} (KIP-890 part 1).
     */
    record AddPartitionsToTxn(Context context, AddPartitionsToTxnRequestData request) implements TxnCommand {
        public AddPartitionsToTxn {
            Objects.requireNonNull(context, "context");
            Objects.requireNonNull(request, "request");
        }
    }

    record AddOffsetsToTxn(Context context, AddOffsetsToTxnRequestData request) implements TxnCommand {
        public AddOffsetsToTxn {
            Objects.requireNonNull(context, "context");
            Objects.requireNonNull(request, "request");
        }
    }

    record EndTxn(Context context, EndTxnRequestData request) implements TxnCommand {
        public EndTxn {
            Objects.requireNonNull(context, "context");
            Objects.requireNonNull(request, "request");
        }
    }

    record DescribeTransactions(Context context, DescribeTransactionsRequestData request) implements TxnCommand {
        public DescribeTransactions {
            Objects.requireNonNull(context, "context");
            Objects.requireNonNull(request, "request");
        }
    }

    record ListTransactions(Context context, ListTransactionsRequestData request) implements TxnCommand {
        public ListTransactions {
            Objects.requireNonNull(context, "context");
            Objects.requireNonNull(request, "request");
        }
    }
}
