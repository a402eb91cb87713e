package dev.sluice.raft;

/** The replication contract over gRPC, the default transport. */
class GrpcReplicationTest extends ReplicationContract {
    @Override
    String rpcType() {
        return "grpc";
    }
}
