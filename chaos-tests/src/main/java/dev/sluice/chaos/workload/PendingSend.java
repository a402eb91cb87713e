package dev.sluice.chaos.workload;

import dev.sluice.chaos.history.Outcome;
import dev.sluice.chaos.history.Send;
import dev.sluice.chaos.history.Txn;
import java.util.List;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * A send made inside a transaction, recorded once the transaction has ended: by then its future has its
 * answer ({@code OK} with the offset), or its error ({@code INFO}), or still none ({@code INFO}).
 */
record PendingSend(int partition, String key, long value, long invokeNs, Future<RecordMetadata> future) {

    /**
     * Records the end of transaction {@code txn}: every send made in it ({@link #recordAll}), then the
     * transaction itself, ended (or not) with {@code outcome}.
     */
    static void recordTransaction(
            RunContext run,
            int process,
            String topic,
            String transactionalId,
            long txn,
            long beginNs,
            long endInvokeNs,
            boolean commit,
            Outcome outcome,
            List<PendingSend> sends) {
        recordAll(run, process, topic, txn, sends);
        run.history()
                .txn(new Txn(
                        txn,
                        process,
                        transactionalId,
                        beginNs,
                        endInvokeNs,
                        run.history().nowNs(),
                        commit,
                        outcome));
    }

    /** Records every send of transaction {@code txn} in the history. */
    static void recordAll(RunContext run, int process, String topic, long txn, List<PendingSend> sends) {
        for (PendingSend p : sends) {
            long completeNs = run.history().nowNs();
            Outcome outcome = Outcome.INFO;
            long offset = -1;
            String error = "no answer before the transaction ended";
            if (p.future().isDone()) {
                try {
                    offset = p.future().get().offset();
                    outcome = Outcome.OK;
                    error = null;
                } catch (Exception e) {
                    error = e.getCause() == null ? e.toString() : e.getCause().toString();
                }
            }
            run.history()
                    .send(new Send(
                            process,
                            topic,
                            p.partition(),
                            p.key(),
                            p.value(),
                            p.invokeNs(),
                            completeNs,
                            outcome,
                            offset,
                            error,
                            txn));
        }
    }
}
