package dev.sluice.raft;

import org.apache.ratis.conf.RaftProperties;

/**
 * Selects the fault-injecting transport (Netty behind an injector that tests control). The keys are those of
 * {@code dev.sluice.raft.transport.FaultInjectingRpcFactory}, which Ratis loads by name.
 */
final class FaultInjection {
    static final String FACTORY = "dev.sluice.raft.transport.FaultInjectingRpcFactory";
    static final String INJECTOR_KEY = "sluice.fault.injector";
    static final String SELF_KEY = "sluice.fault.self";

    private FaultInjection() {}

    static void enable(RaftProperties props, String injectorName) {
        props.set("raft.rpc.type", FACTORY);
        props.set(INJECTOR_KEY, injectorName);
    }

    /** Makes the Raft clients built with {@code props} faulted as links from peer {@code selfId}. */
    static void faultClientsOf(RaftProperties props, String selfId) {
        props.set(SELF_KEY, selfId);
    }
}
