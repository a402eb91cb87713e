package dev.sluice.raft;

/**
 * Where a partition's log stood when a transactional produce was checked with the transaction coordinator
 * (Kafka's verification guard, KIP-890 part 1). The batch travels in its Raft entry with the guard, and every
 * replica refuses it at the same point of the log when the coordinator's answer may no longer hold:
 *
 * <ul>
 *   <li>a COMMIT or ABORT marker of the batch's producer was written at or after {@code logEndOffset}: the
 *       transaction the check was for ended before the batch reached the log, which would open a new one that
 *       no coordinator knows and nobody ends (a hanging transaction; {@code INVALID_TXN_STATE});
 *   <li>the entry's term is not {@code term}: leadership changed in between, so the log may have been
 *       truncated below {@code logEndOffset} ({@code NOT_LEADER_OR_FOLLOWER}, which the producer retries).
 * </ul>
 *
 * Any marker that ends the checked transaction is submitted after the coordinator answered, so it lands at or
 * after the log end offset taken before the question was asked.
 *
 * @param term the Raft term of the partition's division when the check began
 * @param logEndOffset the partition's log end offset (every written entry, committed or not) then
 */
public record VerificationGuard(long term, long logEndOffset) {}
