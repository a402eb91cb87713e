package dev.sluice.raft;

import dev.sluice.raft.transport.NettyServerRpc;
import org.apache.ratis.client.ClientFactory;
import org.apache.ratis.client.RaftClientRpc;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.netty.NettyFactory;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.rpc.RpcFactory;
import org.apache.ratis.rpc.RpcType;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerRpc;
import org.apache.ratis.server.ServerFactory;
import org.apache.ratis.server.leader.FollowerInfo;
import org.apache.ratis.server.leader.LeaderState;
import org.apache.ratis.server.leader.LogAppender;
import org.apache.ratis.server.leader.NotifyingLogAppender;

/**
 * The Netty transport as Sluice uses it: Ratis's Netty protocol and clients, served by {@link NettyServerRpc} (which,
 * unlike Ratis's own Netty server, never waits on Netty's event loop, so one slow group cannot hold up the others on a
 * connection), with an appender that installs snapshots state-machine driven (see {@link NotifyingLogAppender}).
 * Selected by {@code raft.rpc.type=netty}.
 */
public final class NettyTransport implements RpcType {
    @Override
    public String name() {
        return NettyTransport.class.getName();
    }

    @Override
    public RpcFactory newFactory(Parameters parameters) {
        return new Factory(new NettyFactory(parameters));
    }

    /** Ratis's Netty client; Sluice's Netty server and appender. */
    private record Factory(NettyFactory netty) implements ServerFactory, ClientFactory {
        @Override
        public RpcType getRpcType() {
            return netty.getRpcType();
        }

        @Override
        public RaftServerRpc newRaftServerRpc(RaftServer server) {
            return NettyServerRpc.of(server);
        }

        @Override
        public LogAppender newLogAppender(RaftServer.Division server, LeaderState state, FollowerInfo follower) {
            return NotifyingLogAppender.create(server, state, follower);
        }

        @Override
        public RaftClientRpc newRaftClientRpc(ClientId clientId, RaftProperties properties) {
            return netty.newRaftClientRpc(clientId, properties);
        }
    }
}
