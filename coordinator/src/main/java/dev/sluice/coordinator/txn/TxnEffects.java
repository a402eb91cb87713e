package dev.sluice.coordinator.txn;

import dev.sluice.coordinator.txn.TxnResult.Completion;
import dev.sluice.coordinator.txn.TxnResult.WriteMarkers;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.protocol.Message;

/** Collects the records, responses and marker work of one step. */
final class TxnEffects {
    private final List<TxnRecord> records = new ArrayList<>();
    private final List<Completion> completions = new ArrayList<>();
    private final List<WriteMarkers> markers = new ArrayList<>();

    void append(TxnRecord record) {
        records.add(record);
    }

    /** A response that depends on nothing persisted: a malformed request, a read. */
    void reply(long requestHandle, Message response) {
        completions.add(new Completion(requestHandle, response, false));
    }

    /**
     * A response derived from the transaction state, which may reflect records not yet committed: it must not
     * be seen before everything emitted so far is committed (Kafka answers only after its log append).
     */
    void replyAfterEverythingCommitted(long requestHandle, Message response) {
        completions.add(new Completion(requestHandle, response, true));
    }

    void writeMarkers(WriteMarkers work) {
        markers.add(work);
    }

    TxnResult build() {
        if (records.isEmpty() && completions.isEmpty() && markers.isEmpty()) {
            return TxnResult.empty();
        }
        return new TxnResult(records, completions, markers);
    }
}
