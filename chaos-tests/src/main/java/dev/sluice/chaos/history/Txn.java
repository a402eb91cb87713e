package dev.sluice.chaos.history;

/**
 * One transaction of a transactional producer: {@code beginTransaction} to the end of
 * {@code commitTransaction} or {@code abortTransaction}. Its sends carry its {@link #id()}; so does the poll
 * that read its input in a consume-transform-produce loop.
 *
 * @param id unique in the run
 * @param process the producer instance that ran it
 * @param transactionalId the producer's {@code transactional.id}
 * @param beginNs when it began (ns since the run started)
 * @param endInvokeNs when commit or abort was called, or {@code -1} if neither was (the producer failed first)
 * @param completeNs when commit or abort returned (or failed)
 * @param commit whether the workload asked to commit (else it asked to abort, or never got that far)
 * @param outcome {@code OK} if the commit or abort was acknowledged, {@code FAIL} if the transaction certainly
 *     did not commit (an abort, a fenced producer before commit), {@code INFO} if a commit was asked and its
 *     result is unknown
 */
public record Txn(
        long id,
        int process,
        String transactionalId,
        long beginNs,
        long endInvokeNs,
        long completeNs,
        boolean commit,
        Outcome outcome) {

    /** @return whether this transaction certainly committed */
    public boolean committed() {
        return commit && outcome == Outcome.OK;
    }

    /** @return whether this transaction certainly did not commit */
    public boolean aborted() {
        return !commit || outcome == Outcome.FAIL;
    }
}
