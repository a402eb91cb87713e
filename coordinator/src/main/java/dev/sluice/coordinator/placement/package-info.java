/**
 * Replica placement and preferred-leader balance as pure functions of a {@link
 * dev.sluice.coordinator.placement.ClusterLoad}: no I/O, no clock, same input, same output. The
 * controller loop decides when to call them and turns their answers into Raft membership changes.
 */
package dev.sluice.coordinator.placement;
