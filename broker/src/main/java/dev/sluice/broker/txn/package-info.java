/**
 * The transaction coordinator's runtime: the pure {@code dev.sluice.coordinator.txn} state machine run on the
 * coordinator group's leader, its records kept by the coordinator group, its COMMIT/ABORT markers written into
 * the partitions' Raft groups.
 */
package dev.sluice.broker.txn;
