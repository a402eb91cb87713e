/**
 * The consumer-group coordinator of a node: the I/O shell around the pure {@code
 * dev.sluice.coordinator.group.GroupCoordinatorState}, one per {@code __consumer_offsets} partition this node
 * leads, loading it from the partition's log and writing its records as Raft entries.
 */
package dev.sluice.broker.group;
