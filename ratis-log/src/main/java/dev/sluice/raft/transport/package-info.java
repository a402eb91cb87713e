/**
 * A fault-injecting Raft transport for tests and simulations.
 *
 * <p>{@link dev.sluice.raft.transport.FaultInjectingRpcFactory} plugs into Ratis through
 * {@code raft.rpc.type} and wraps the Netty transport; {@link dev.sluice.raft.transport.FaultInjector} is
 * the seeded switchboard that decides, per directed link, which messages are lost, delayed, duplicated or
 * reordered, and which links are partitioned. {@code FaultInjector}, {@code LinkFaults}, {@code Delivery}
 * and {@code LinkStats} are pure (no Ratis, no I/O, no clock); only the factory and the server and client
 * RPC wrappers touch Ratis.
 */
package dev.sluice.raft.transport;
