package dev.sluice.raft.transport;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.netty.NettyConfigKeys;
import org.apache.ratis.netty.NettyRpcProxy;
import org.apache.ratis.proto.RaftProtos.AppendEntriesReplyProto;
import org.apache.ratis.proto.RaftProtos.AppendEntriesRequestProto;
import org.apache.ratis.proto.RaftProtos.InstallSnapshotReplyProto;
import org.apache.ratis.proto.RaftProtos.InstallSnapshotRequestProto;
import org.apache.ratis.proto.RaftProtos.RaftRpcRequestProto;
import org.apache.ratis.proto.RaftProtos.RequestVoteReplyProto;
import org.apache.ratis.proto.RaftProtos.RequestVoteRequestProto;
import org.apache.ratis.proto.RaftProtos.StartLeaderElectionReplyProto;
import org.apache.ratis.proto.RaftProtos.StartLeaderElectionRequestProto;
import org.apache.ratis.proto.netty.NettyProtos.RaftNettyServerReplyProto;
import org.apache.ratis.proto.netty.NettyProtos.RaftNettyServerRequestProto;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.rpc.CallId;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerRpcWithProxy;
import org.apache.ratis.thirdparty.io.netty.bootstrap.ServerBootstrap;
import org.apache.ratis.thirdparty.io.netty.channel.Channel;
import org.apache.ratis.thirdparty.io.netty.channel.ChannelFuture;
import org.apache.ratis.thirdparty.io.netty.channel.ChannelHandler;
import org.apache.ratis.thirdparty.io.netty.channel.ChannelHandlerContext;
import org.apache.ratis.thirdparty.io.netty.channel.ChannelInitializer;
import org.apache.ratis.thirdparty.io.netty.channel.ChannelPipeline;
import org.apache.ratis.thirdparty.io.netty.channel.EventLoopGroup;
import org.apache.ratis.thirdparty.io.netty.channel.SimpleChannelInboundHandler;
import org.apache.ratis.thirdparty.io.netty.channel.socket.SocketChannel;
import org.apache.ratis.thirdparty.io.netty.handler.codec.protobuf.ProtobufDecoder;
import org.apache.ratis.thirdparty.io.netty.handler.codec.protobuf.ProtobufEncoder;
import org.apache.ratis.thirdparty.io.netty.handler.codec.protobuf.ProtobufVarint32FrameDecoder;
import org.apache.ratis.thirdparty.io.netty.handler.codec.protobuf.ProtobufVarint32LengthFieldPrepender;
import org.apache.ratis.util.NettyUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Netty server side of a Ratis server as Sluice runs it: it speaks Ratis's Netty protocol (so Ratis's Netty
 * clients and peers talk to it unchanged), but never waits on Netty's event loop.
 *
 * <h2>Why not Ratis's {@code NettyRpcService}</h2>
 *
 * Ratis 3.3.0's Netty server answers each request synchronously on the event loop of the connection it arrived on:
 * an append waits there until the follower has written and flushed it ({@code RaftServerImpl.appendEntries} joins
 * {@code appendEntriesAsync}), a client write until it is committed. A peer sends the appends of all its groups over
 * one connection, and one event loop serves many connections; so one slow or stuck group — a log flush that takes
 * seconds, a state machine write that waits, a client write that cannot commit yet — holds up every group on that
 * connection and on the other connections of that event loop: the leaders' calls time out, Ratis resets the
 * connection (failing the other groups' calls in flight on it), and healthy followers fall behind. Ratis's gRPC
 * transport is not affected: each group's appends travel on a stream of their own and are served asynchronously.
 *
 * <h2>How requests are served here</h2>
 *
 * The event loop only decodes a request and hands it to a {@link RequestLanes lane}: requests of the same sender
 * for the same group start one after another, in arrival order (as Ratis relies on for a leader's appends and an
 * ordered client's writes), on a small executor, while different groups and senders never wait for each other.
 * Starting a request ({@link NettyRequests}) calls Ratis's asynchronous API where it has one (appends, client and
 * administration requests) and runs the few synchronous calls (votes, snapshot notices, start-election) in the lane.
 * The answer is written when it is ready: Ratis's Netty client ({@link NettyRpcProxy}) matches answers to calls by
 * call id, so they need not come back in order. Outgoing calls are Ratis's, through a {@link NettyRpcProxy} per
 * peer, exactly as with Ratis's own Netty server.
 *
 * <p>Thread-safe. The lanes' executor has a thread per busy lane at most, so its size follows the number of groups
 * and senders with a request being started, not the traffic.
 */
public final class NettyServerRpc extends RaftServerRpcWithProxy<NettyRpcProxy, NettyRpcProxy.PeerMap> {
    private static final Logger LOG = LoggerFactory.getLogger(NettyServerRpc.class);

    private final NettyRequests requests;
    private final ExecutorService executor;
    private final RequestLanes lanes;
    private final boolean epoll;
    private final InetSocketAddress configuredAddress;
    /** Set when started (the server's id, which names their threads, is not known before). */
    private volatile EventLoopGroup bossGroup;

    private volatile EventLoopGroup workerGroup;
    private volatile Channel channel;

    private NettyServerRpc(RaftServer server) {
        super(server::getId, id -> new NettyRpcProxy.PeerMap(id.toString(), server.getProperties()));
        RaftProperties properties = server.getProperties();
        this.requests = new NettyRequests(server);
        AtomicInteger threads = new AtomicInteger();
        this.executor = Executors.newCachedThreadPool(runnable -> {
            Thread thread = new Thread(runnable, getId() + "-netty-requests-" + threads.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        this.lanes = new RequestLanes(executor);
        this.epoll = NettyConfigKeys.Server.useEpoll(properties);
        String host = NettyConfigKeys.Server.host(properties);
        int port = NettyConfigKeys.Server.port(properties);
        this.configuredAddress =
                host == null || host.isEmpty() ? new InetSocketAddress(port) : new InetSocketAddress(host, port);
    }

    /** The transport of {@code server}; it listens once started. */
    public static NettyServerRpc of(RaftServer server) {
        return new NettyServerRpc(server);
    }

    @Override
    public SupportedRpcType getRpcType() {
        return SupportedRpcType.NETTY;
    }

    @Override
    protected void startImpl() throws IOException {
        bossGroup = NettyUtils.newEventLoopGroup(getId() + "-netty-boss", 1, epoll);
        workerGroup = NettyUtils.newEventLoopGroup(getId() + "-netty-worker", 0, epoll);
        ChannelFuture bound = new ServerBootstrap()
                .group(bossGroup, workerGroup)
                .channel(NettyUtils.getServerChannelClass(workerGroup))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ChannelPipeline pipeline = ch.pipeline();
                        pipeline.addLast(new ProtobufVarint32FrameDecoder());
                        pipeline.addLast(new ProtobufDecoder(RaftNettyServerRequestProto.getDefaultInstance()));
                        pipeline.addLast(new ProtobufVarint32LengthFieldPrepender());
                        pipeline.addLast(new ProtobufEncoder());
                        pipeline.addLast(new Inbound());
                    }
                })
                .bind(configuredAddress)
                .awaitUninterruptibly();
        if (!bound.isSuccess()) {
            throw new IOException(getId() + ": cannot listen on " + configuredAddress, bound.cause());
        }
        channel = bound.channel();
    }

    @Override
    public void closeImpl() throws IOException {
        Channel listening = channel;
        if (listening != null) {
            listening.close().syncUninterruptibly();
        }
        for (EventLoopGroup group : new EventLoopGroup[] {bossGroup, workerGroup}) {
            if (group != null) {
                group.shutdownGracefully(0, 100, TimeUnit.MILLISECONDS);
            }
        }
        executor.shutdownNow();
        try {
            for (EventLoopGroup group : new EventLoopGroup[] {bossGroup, workerGroup}) {
                if (group != null) {
                    group.awaitTermination(1, TimeUnit.SECONDS);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        super.closeImpl();
    }

    /** Where the server listens: the bound address once started, else the configured one if it names a port. */
    @Override
    public InetSocketAddress getInetSocketAddress() {
        Channel listening = channel;
        if (listening != null) {
            return (InetSocketAddress) listening.localAddress();
        }
        if (configuredAddress.getPort() != 0) {
            return configuredAddress;
        }
        throw new IllegalStateException(getId() + ": the Netty server is not started yet (port 0 is picked then)");
    }

    // ---- the calls this server makes to its peers ----------------------------------------------------------

    @Override
    public RequestVoteReplyProto requestVote(RequestVoteRequestProto request) throws IOException {
        return send(
                        request.getServerRequest(),
                        RaftNettyServerRequestProto.newBuilder()
                                .setRequestVoteRequest(request)
                                .build())
                .getRequestVoteReply();
    }

    @Override
    public AppendEntriesReplyProto appendEntries(AppendEntriesRequestProto request) throws IOException {
        return send(
                        request.getServerRequest(),
                        RaftNettyServerRequestProto.newBuilder()
                                .setAppendEntriesRequest(request)
                                .build())
                .getAppendEntriesReply();
    }

    @Override
    public InstallSnapshotReplyProto installSnapshot(InstallSnapshotRequestProto request) throws IOException {
        return send(
                        request.getServerRequest(),
                        RaftNettyServerRequestProto.newBuilder()
                                .setInstallSnapshotRequest(request)
                                .build())
                .getInstallSnapshotReply();
    }

    @Override
    public StartLeaderElectionReplyProto startLeaderElection(StartLeaderElectionRequestProto request)
            throws IOException {
        return send(
                        request.getServerRequest(),
                        RaftNettyServerRequestProto.newBuilder()
                                .setStartLeaderElectionRequest(request)
                                .build())
                .getStartLeaderElectionReply();
    }

    private RaftNettyServerReplyProto send(RaftRpcRequestProto header, RaftNettyServerRequestProto request)
            throws IOException {
        RaftPeerId target = RaftPeerId.valueOf(header.getReplyId());
        try {
            return getProxies()
                    .getProxy(target)
                    .send(header, NettyRequests.withOwnCallId(request, CallId.getAndIncrement()));
        } catch (IOException | RuntimeException e) {
            getProxies().handleException(target, e, false);
            throw e;
        }
    }

    @Override
    public String toString() {
        return "NettyServerRpc[" + getId() + "]";
    }

    // ---- the requests this server serves ------------------------------------------------------------------

    /** Hands each request to its lane and writes the answer back when it is ready; never blocks. */
    @ChannelHandler.Sharable
    private final class Inbound extends SimpleChannelInboundHandler<RaftNettyServerRequestProto> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, RaftNettyServerRequestProto request) {
            RaftRpcRequestProto header = NettyRequests.header(request);
            if (header == null) {
                LOG.warn(
                        "{}: dropping a request without a header: {}",
                        getId(),
                        request.getRaftNettyServerRequestCase());
                return;
            }
            lanes.start(RequestLanes.Lane.of(header), () -> requests.serve(request)
                    .whenComplete((reply, failure) -> ctx.writeAndFlush(
                            failure == null ? reply : NettyRequests.exceptionReply(header, failure))));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.debug(
                    "{}: closing the connection from {}: {}",
                    getId(),
                    ctx.channel().remoteAddress(),
                    cause.toString());
            ctx.close();
        }
    }

    /** Unwraps the {@link CompletionException} a future adds around a failure. */
    static Throwable cause(Throwable failure) {
        Throwable cause = failure;
        while (cause instanceof CompletionException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }
}
