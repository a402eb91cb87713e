/**
 * Kafka's transaction coordinator (transaction version 1, with KIP-360 epoch bumps on recovery and the
 * partition verification of KIP-890 part 1) as a pure state machine: {@link
 * dev.sluice.coordinator.txn.TransactionCoordinatorState} takes a request and the time, and answers with the
 * records to persist, the responses to send and the COMMIT/ABORT markers to write. No Raft, no network, no
 * clock of its own; the runtime around it makes the records Raft entries of the coordinator group, replays them
 * on every replica and writes the markers into the partition groups.
 */
package dev.sluice.coordinator.txn;
