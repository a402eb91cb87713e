package dev.sluice.broker.net;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Kafka listener of a node: accepts TCP connections and serves the Kafka protocol on them, one
 * {@link KafkaConnectionHandler} per connection, with the request logic behind a {@link RequestHandler}.
 *
 * <p>Pipeline of a connection: {@link KafkaFrameDecoder} (size-prefixed frames, bounded by
 * {@code socket.request.max.bytes}) then {@link KafkaConnectionHandler} (parse, dispatch, ordered responses,
 * back-pressure). Responses are kafka-clients {@code Send}s written through
 * {@link NettyTransferableChannel}, without copying record bytes.
 *
 * <p>Threading: {@link #start} binds before returning; {@link #stopAccepting} and {@link #close} may be called
 * from any thread, more than once.
 */
public final class KafkaServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(KafkaServer.class);
    /** The longest {@link #close()} waits for connections to close and event loops to stop. */
    private static final long CLOSE_TIMEOUT_MS = 5_000;

    private final ServerSettings settings;
    private final EventLoopGroup acceptorGroup;
    private final EventLoopGroup ioGroup;
    private final ChannelGroup connections = new DefaultChannelGroup("kafka-connections", GlobalEventExecutor.INSTANCE);
    private final AtomicInteger connectionCount = new AtomicInteger();
    private final AtomicLong connectionIndex = new AtomicLong();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Channel serverChannel;

    private KafkaServer(ServerSettings settings, SupportedApis apis, RequestHandler handler, RequestObserver observer)
            throws InterruptedException {
        this.settings = settings;
        this.acceptorGroup = new NioEventLoopGroup(1, new DefaultThreadFactory("sluice-kafka-accept", true));
        this.ioGroup = new NioEventLoopGroup(settings.ioThreads(), new DefaultThreadFactory("sluice-kafka-io", true));
        KafkaConnectionHandler.Server connectionServer = new ConnectionServer(apis, handler, observer);
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(acceptorGroup, ioGroup)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        connections.add(channel);
                        channel.pipeline()
                                .addLast("frames", new KafkaFrameDecoder(settings.requestMaxBytes()))
                                .addLast("requests", new KafkaConnectionHandler(connectionServer));
                    }
                });
        try {
            this.serverChannel =
                    bootstrap.bind(settings.host(), settings.port()).sync().channel();
        } catch (InterruptedException | RuntimeException e) {
            shutdownEventLoops(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CLOSE_TIMEOUT_MS));
            throw e;
        }
    }

    /**
     * Binds the listener and starts serving.
     *
     * @param settings where to listen and the per-connection limits; port 0 binds an ephemeral port
     * @param apis the APIs and versions served; ApiVersions is answered from it
     * @param handler handles every other request
     * @param observer told about every answered request and every connection
     * @throws InterruptedException if interrupted while binding
     */
    public static KafkaServer start(
            ServerSettings settings, SupportedApis apis, RequestHandler handler, RequestObserver observer)
            throws InterruptedException {
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(apis, "apis");
        Objects.requireNonNull(handler, "handler");
        Objects.requireNonNull(observer, "observer");
        KafkaServer server = new KafkaServer(settings, apis, handler, observer);
        log.info("Kafka listener on {}", server.serverChannel.localAddress());
        return server;
    }

    /** The bound port (the ephemeral one when the settings asked for port 0). */
    public int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    /** The settings this server runs with. */
    public ServerSettings settings() {
        return settings;
    }

    /** Connections open right now. */
    public int connectionCount() {
        return connectionCount.get();
    }

    /** Closes the listening socket: no new connections; the open ones keep being served. */
    public void stopAccepting() {
        if (serverChannel.isOpen()) {
            serverChannel.close().awaitUninterruptibly(CLOSE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            log.debug("Kafka listener on port {} stopped accepting", port());
        }
    }

    /**
     * Closes the listener and every connection (responses not yet written are dropped) and stops the event
     * loops, waiting {@value #CLOSE_TIMEOUT_MS} ms at most in all.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CLOSE_TIMEOUT_MS);
        serverChannel.close().awaitUninterruptibly(remainingMs(deadlineNs));
        connections.close().awaitUninterruptibly(remainingMs(deadlineNs));
        shutdownEventLoops(deadlineNs);
        log.info("Kafka listener on port {} closed", port());
    }

    private void shutdownEventLoops(long deadlineNs) {
        Future<?> acceptor = acceptorGroup.shutdownGracefully(0, remainingMs(deadlineNs), TimeUnit.MILLISECONDS);
        Future<?> io = ioGroup.shutdownGracefully(0, remainingMs(deadlineNs), TimeUnit.MILLISECONDS);
        acceptor.awaitUninterruptibly(remainingMs(deadlineNs));
        io.awaitUninterruptibly(remainingMs(deadlineNs));
    }

    private static long remainingMs(long deadlineNs) {
        return Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadlineNs - System.nanoTime()));
    }

    private final class ConnectionServer implements KafkaConnectionHandler.Server {
        private final SupportedApis apis;
        private final RequestHandler handler;
        private final RequestObserver observer;

        ConnectionServer(SupportedApis apis, RequestHandler handler, RequestObserver observer) {
            this.apis = apis;
            this.handler = handler;
            this.observer = observer;
        }

        @Override
        public SupportedApis apis() {
            return apis;
        }

        @Override
        public RequestHandler handler() {
            return handler;
        }

        @Override
        public RequestObserver observer() {
            return observer;
        }

        @Override
        public int maxInFlightPerConnection() {
            return settings.maxInFlightPerConnection();
        }

        @Override
        public String newConnectionId(InetSocketAddress local, InetSocketAddress remote) {
            return local.getAddress().getHostAddress() + ":" + local.getPort() + "-"
                    + remote.getAddress().getHostAddress() + ":" + remote.getPort() + "-"
                    + connectionIndex.getAndIncrement();
        }

        @Override
        public void connectionOpened() {
            connectionCount.incrementAndGet();
            try {
                observer.connectionOpened();
            } catch (RuntimeException e) {
                log.warn("Request observer failed", e);
            }
        }

        @Override
        public void connectionClosed() {
            connectionCount.decrementAndGet();
            try {
                observer.connectionClosed();
            } catch (RuntimeException e) {
                log.warn("Request observer failed", e);
            }
        }
    }
}
