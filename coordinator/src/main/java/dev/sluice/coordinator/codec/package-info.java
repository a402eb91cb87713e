/** The binary encoding shared by the coordinators' persisted records: big-endian integers, varint lengths. */
package dev.sluice.coordinator.codec;
