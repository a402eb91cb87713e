package dev.sluice.raft;

/** The replication contract over Netty. */
class NettyReplicationTest extends ReplicationContract {
    @Override
    String rpcType() {
        return "netty";
    }
}
