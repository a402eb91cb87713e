/** The Raft layer: one Ratis server per node hosting a Raft group per partition. */
package dev.sluice.raft;
