/** The coordinator group: cluster metadata as a Raft state machine, placement and the controller loop. */
package dev.sluice.coordinator;
