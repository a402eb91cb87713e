/**
 * Consumer groups with Kafka's classic group protocol (JoinGroup, SyncGroup, Heartbeat, LeaveGroup) and
 * their committed offsets, as a pure state machine: {@link dev.sluice.coordinator.group.GroupCoordinatorState}
 * takes a request and the time, and answers with the records to persist and the responses to send. No Raft,
 * no network, no clock of its own; the service around it makes the records Raft entries of an internal
 * {@code __consumer_offsets} partition and replays them on every replica.
 */
package dev.sluice.coordinator.group;
