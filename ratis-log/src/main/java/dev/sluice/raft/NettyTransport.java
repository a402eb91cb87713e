package dev.sluice.raft;

import org.apache.ratis.conf.Parameters;
import org.apache.ratis.netty.NettyFactory;
import org.apache.ratis.rpc.RpcFactory;
import org.apache.ratis.rpc.RpcType;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.leader.FollowerInfo;
import org.apache.ratis.server.leader.LeaderState;
import org.apache.ratis.server.leader.LogAppender;
import org.apache.ratis.server.leader.NotifyingLogAppender;

/**
 * The Netty transport as Sluice uses it: Ratis's Netty RPC with an appender that installs snapshots
 * state-machine driven (see {@link NotifyingLogAppender}). Selected by {@code raft.rpc.type=netty}.
 */
public final class NettyTransport implements RpcType {
    @Override
    public String name() {
        return NettyTransport.class.getName();
    }

    @Override
    public RpcFactory newFactory(Parameters parameters) {
        return new NettyFactory(parameters) {
            @Override
            public LogAppender newLogAppender(RaftServer.Division server, LeaderState state, FollowerInfo follower) {
                return NotifyingLogAppender.create(server, state, follower);
            }
        };
    }
}
