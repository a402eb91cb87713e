package dev.sluice.raft;

import org.apache.ratis.conf.RaftProperties;

/** Selects the fault-injecting transport (Netty behind an injector that tests control). */
final class FaultInjection {
    static final String FACTORY = "dev.sluice.raft.transport.FaultInjectingRpcFactory";
    static final String INJECTOR_KEY = "sluice.fault.injector";

    private FaultInjection() {}

    static void enable(RaftProperties props, String injectorName) {
        props.set("raft.rpc.type", FACTORY);
        props.set(INJECTOR_KEY, injectorName);
    }
}
