package dev.sluice.raft.transport;

import java.io.IOException;
import java.util.Objects;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.ClientFactory;
import org.apache.ratis.client.RaftClientRpc;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.netty.NettyConfigKeys;
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
 * A Ratis transport for tests and simulations: the Netty transport as Sluice runs it (Ratis's Netty protocol and
 * clients, served by {@link NettyServerRpc}) with a {@link FaultInjector} on every server-to-server call, so
 * links between peers can drop, delay, duplicate, reorder and partition (one way or both) while the servers run.
 * Client-to-server traffic passes unchanged unless the properties a client is built with name the peer it runs in
 * ({@link #SELF_KEY}): then its requests go through the injector too, as the links from that peer (see {@link
 * FaultInjectingClientRpc}). A node's own clients (coordinator heartbeats, transaction markers, snapshot-install
 * reads, group administration) are built with the node's properties, which name the node when it runs this
 * transport; a test's clients built from properties without {@link #SELF_KEY} are not faulted.
 *
 * <h2>Enabling it</h2>
 *
 * <pre>{@code
 * FaultInjector injector = FaultInjector.register("sim-1", seed);        // once per simulated network
 * FaultInjectingRpcFactory.configure(properties, "sim-1", "127.0.0.1", 0); // each server's RaftProperties
 * FaultInjectingRpcFactory.configureSelf(properties, "s1");               // optional: fault its clients too
 * ... build and start the servers; then injector.partition("s1", "s2"), injector.healAll(), ...
 * injector.close();                                                       // unregisters it
 * }</pre>
 *
 * {@code configure} sets {@code raft.rpc.type} to this class's name. Ratis resolves that name with
 * {@code RpcType.valueOf}, which instantiates this class reflectively through its no-argument constructor
 * and then calls {@link #newFactory(Parameters)} with the server's (or client's) {@code Parameters}. Each
 * server's transport takes its injector from those {@code Parameters} under {@link #PARAMETERS_KEY} if
 * present, else from the registry under the name in {@link #INJECTOR_NAME_KEY}; if neither is there, building
 * the server fails with an {@link IllegalStateException} naming the key (after Ratis's own five attempts
 * at constructing the server, about two seconds).
 *
 * <h2>Why Netty and not gRPC underneath</h2>
 *
 * With Netty, every server-to-server message goes through the server's {@link RaftServerRpc}: the log
 * appender ({@code LogAppenderDefault}, the {@link ServerFactory#newLogAppender} default, which Netty's
 * factory keeps) calls {@code appendEntries} and {@code installSnapshot} on it, elections call
 * {@code requestVote}, leadership transfer calls {@code startLeaderElection}. Wrapping that one object
 * therefore intercepts every call, per directed link. gRPC does not fit: {@code GrpcFactory} installs its own
 * {@code GrpcLogAppender}, which casts the server's RPC to {@code GrpcServicesImpl} and streams appends and
 * snapshots over its own bidirectional gRPC streams, bypassing {@code RaftServerRpc} entirely (checked in
 * the Ratis 3.3 source). Note that Netty's {@code RaftServerRpc} does not offer the asynchronous protocol,
 * so a follower cannot serve linearizable reads via read-index under this transport either.
 *
 * <p>Thread-safe and stateless apart from the {@code Parameters} it was made with.
 */
public final class FaultInjectingRpcFactory implements RpcType, ServerFactory, ClientFactory {
    /** The {@code RaftProperties} key naming the registered {@link FaultInjector} a server uses. */
    public static final String INJECTOR_NAME_KEY = "sluice.fault.injector";

    /**
     * The {@code RaftProperties} key naming the peer whose Raft clients are built with those properties; when
     * set, those clients' requests are faulted as links from that peer.
     */
    public static final String SELF_KEY = "sluice.fault.self";

    /** The Ratis {@code Parameters} key under which a {@link FaultInjector} may be passed instead. */
    public static final String PARAMETERS_KEY = "sluice.raft.fault-injector";

    private final Parameters parameters;
    private final NettyFactory netty;

    /** The form Ratis instantiates from {@code raft.rpc.type}; acts as the {@link RpcType}. */
    public FaultInjectingRpcFactory() {
        this(null);
    }

    /** @param parameters the server's or client's Ratis parameters; may be {@code null} */
    public FaultInjectingRpcFactory(Parameters parameters) {
        this.parameters = parameters;
        this.netty = new NettyFactory(parameters);
    }

    /**
     * Makes servers and clients built with {@code properties} use this transport, with the injector
     * registered under {@code injectorName}. Netty's host and port stay as they are in {@code properties}.
     */
    public static void configure(RaftProperties properties, String injectorName) {
        Objects.requireNonNull(properties, "properties");
        if (injectorName == null || injectorName.isEmpty()) {
            throw new IllegalArgumentException(INJECTOR_NAME_KEY + " must be a non-empty name, got " + injectorName);
        }
        RaftConfigKeys.Rpc.setType(properties, new FaultInjectingRpcFactory());
        properties.set(INJECTOR_NAME_KEY, injectorName);
    }

    /**
     * As {@link #configure(RaftProperties, String)}, and makes the server listen on {@code host:port}
     * ({@code raft.netty.server.host} / {@code .port}); port 0 picks a free port when the server starts, which
     * {@code RaftServer.getPeer()} then reports.
     */
    public static void configure(RaftProperties properties, String injectorName, String host, int port) {
        configure(properties, injectorName);
        NettyConfigKeys.Server.setHost(properties, host);
        NettyConfigKeys.Server.setPort(properties, port);
    }

    /**
     * Makes Raft clients built with {@code properties} send their requests through the injector, as the links
     * from peer {@code selfId} to the servers they call.
     */
    public static void configureSelf(RaftProperties properties, String selfId) {
        Objects.requireNonNull(properties, "properties");
        if (selfId == null || selfId.isEmpty()) {
            throw new IllegalArgumentException(SELF_KEY + " must be a non-empty peer id, got " + selfId);
        }
        properties.set(SELF_KEY, selfId);
    }

    /** @return this class's name, the value of {@code raft.rpc.type} that selects it */
    @Override
    public String name() {
        return FaultInjectingRpcFactory.class.getName();
    }

    @Override
    public RpcFactory newFactory(Parameters serverOrClientParameters) {
        return new FaultInjectingRpcFactory(serverOrClientParameters);
    }

    @Override
    public RpcType getRpcType() {
        return this;
    }

    /** Sluice's non-blocking Netty server ({@link NettyServerRpc}) behind the injector. */
    @Override
    public RaftServerRpc newRaftServerRpc(RaftServer server) {
        FaultInjector injector = injectorFor(server.getProperties());
        return new FaultInjectingServerRpc(NettyServerRpc.of(server), injector, this, Sleeper.THREAD);
    }

    /** The same appender as Sluice's Netty transport: snapshots install state-machine driven. */
    @Override
    public LogAppender newLogAppender(RaftServer.Division server, LeaderState state, FollowerInfo follower) {
        return NotifyingLogAppender.create(server, state, follower);
    }

    /**
     * Netty's client transport, behind the injector when {@code properties} name the peer the client runs in
     * ({@link #SELF_KEY}); as it is otherwise.
     */
    @Override
    public RaftClientRpc newRaftClientRpc(ClientId clientId, RaftProperties properties) {
        RaftClientRpc rpc = netty.newRaftClientRpc(clientId, properties);
        String self = properties.get(SELF_KEY);
        if (self == null || self.isEmpty()) {
            return rpc;
        }
        try {
            return new FaultInjectingClientRpc(rpc, injectorFor(properties), self);
        } catch (RuntimeException e) {
            closeQuietly(rpc);
            throw e;
        }
    }

    private static void closeQuietly(RaftClientRpc rpc) {
        try {
            rpc.close();
        } catch (IOException | RuntimeException e) {
            // the client is not made; nothing else to do with it
        }
    }

    /**
     * @return the injector a server or client built with {@code properties} uses; fails naming the missing
     *     piece
     */
    FaultInjector injectorFor(RaftProperties properties) {
        FaultInjector passed = parameters == null ? null : parameters.get(PARAMETERS_KEY, FaultInjector.class);
        if (passed != null) {
            return passed;
        }
        String name = properties.get(INJECTOR_NAME_KEY);
        if (name == null || name.isEmpty()) {
            throw new IllegalStateException("raft.rpc.type is " + name() + " but " + INJECTOR_NAME_KEY
                    + " is not set and no FaultInjector was passed in Parameters under " + PARAMETERS_KEY
                    + "; use FaultInjectingRpcFactory.configure");
        }
        return FaultInjector.lookup(name)
                .orElseThrow(() -> new IllegalStateException("no FaultInjector is registered under '" + name + "' ("
                        + INJECTOR_NAME_KEY + "); registered: " + FaultInjector.registeredNames()
                        + "; call FaultInjector.register before building the server"));
    }

    @Override
    public String toString() {
        return name();
    }
}
