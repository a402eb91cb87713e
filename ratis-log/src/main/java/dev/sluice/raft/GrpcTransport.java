package dev.sluice.raft;

import org.apache.ratis.conf.Parameters;
import org.apache.ratis.grpc.GrpcFactory;
import org.apache.ratis.grpc.server.GrpcLogAppender;
import org.apache.ratis.rpc.RpcFactory;
import org.apache.ratis.rpc.RpcType;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.leader.FollowerInfo;
import org.apache.ratis.server.leader.LeaderState;
import org.apache.ratis.server.leader.LogAppender;

/**
 * The gRPC transport as Sluice uses it: Ratis's gRPC RPC with an appender that believes a follower whose
 * Raft log ends before what it acknowledged (see {@link LostLogTail}). Selected by {@code
 * raft.rpc.type=grpc}, the default.
 */
public final class GrpcTransport implements RpcType {
    @Override
    public String name() {
        return GrpcTransport.class.getName();
    }

    @Override
    public RpcFactory newFactory(Parameters parameters) {
        return new GrpcFactory(parameters) {
            @Override
            public LogAppender newLogAppender(RaftServer.Division server, LeaderState state, FollowerInfo follower) {
                return new Appender(server, state, follower);
            }
        };
    }

    /** Ratis's gRPC appender, but for where a follower's log is said to end. */
    private static final class Appender extends GrpcLogAppender {
        Appender(RaftServer.Division server, LeaderState state, FollowerInfo follower) {
            super(server, state, follower);
        }

        @Override
        protected long getNextIndexForInconsistency(long requestFirstIndex, long replyNextIndex) {
            return LostLogTail.nextIndex(
                    this, super.getNextIndexForInconsistency(requestFirstIndex, replyNextIndex), replyNextIndex);
        }
    }
}
