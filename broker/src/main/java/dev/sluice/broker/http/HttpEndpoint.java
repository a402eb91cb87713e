package dev.sluice.broker.http;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's operations endpoint over HTTP/1.1 (Netty):
 *
 * <ul>
 *   <li>{@code GET /metrics}: the {@link MetricsRegistry} in the Prometheus text format 0.0.4;
 *   <li>{@code GET /health}: 200 {@code ok} while the process is up (liveness);
 *   <li>{@code GET /ready}: 200 {@code ready: <detail>} when {@link HealthReport#ready()}, else 503
 *       {@code not ready: <detail>} (readiness);
 *   <li>the paths of the {@link HttpRoute}s it was started with, answered by them;
 *   <li>any other path: 404; another method than GET or HEAD on the three paths above: 405.
 * </ul>
 *
 * <p>Requests are answered on one event-loop thread, so gauge suppliers, the health supplier and routes must
 * be fast.
 * Keep-alive is honoured. {@link #close()} is bounded and idempotent.
 */
public final class HttpEndpoint implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HttpEndpoint.class);
    private static final int MAX_REQUEST_BYTES = 16 * 1024;
    private static final long CLOSE_TIMEOUT_MS = 3_000;
    private static final String TEXT = "text/plain; charset=utf-8";

    private final EventLoopGroup group;
    private final Channel serverChannel;
    private final ChannelGroup connections = new DefaultChannelGroup("http-connections", GlobalEventExecutor.INSTANCE);
    private final AtomicBoolean closed = new AtomicBoolean();

    private HttpEndpoint(
            String host, int port, MetricsRegistry registry, Supplier<HealthReport> health, List<HttpRoute> routes)
            throws InterruptedException {
        this.group = new NioEventLoopGroup(1, new DefaultThreadFactory("sluice-http", true));
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        connections.add(channel);
                        channel.pipeline()
                                .addLast(new HttpServerCodec())
                                .addLast(new HttpServerKeepAliveHandler())
                                .addLast(new HttpObjectAggregator(MAX_REQUEST_BYTES))
                                .addLast(new RequestHandler(registry, health, routes));
                    }
                });
        try {
            this.serverChannel = bootstrap.bind(host, port).sync().channel();
        } catch (InterruptedException | RuntimeException e) {
            group.shutdownGracefully(0, CLOSE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            throw e;
        }
    }

    /**
     * Binds and starts serving.
     *
     * @param port 0 binds an ephemeral port
     * @param health asked at every {@code GET /ready}
     */
    public static HttpEndpoint start(String host, int port, MetricsRegistry registry, Supplier<HealthReport> health)
            throws InterruptedException {
        return start(host, port, registry, health, List.of());
    }

    /**
     * Binds and starts serving, with more paths answered by {@code routes} (the first that serves a path
     * answers it).
     *
     * @param port 0 binds an ephemeral port
     * @param health asked at every {@code GET /ready}
     */
    public static HttpEndpoint start(
            String host, int port, MetricsRegistry registry, Supplier<HealthReport> health, List<HttpRoute> routes)
            throws InterruptedException {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(registry, "registry");
        Objects.requireNonNull(health, "health");
        HttpEndpoint endpoint = new HttpEndpoint(host, port, registry, health, List.copyOf(routes));
        log.info("HTTP endpoint on {}", endpoint.serverChannel.localAddress());
        return endpoint;
    }

    /** The bound port. */
    public int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        serverChannel.close().awaitUninterruptibly(CLOSE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        connections.close().awaitUninterruptibly(CLOSE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        group.shutdownGracefully(0, CLOSE_TIMEOUT_MS, TimeUnit.MILLISECONDS)
                .awaitUninterruptibly(CLOSE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
    }

    /** Answers one connection's requests. Not thread-safe; called on its event loop. */
    private static final class RequestHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final MetricsRegistry registry;
        private final Supplier<HealthReport> health;
        private final List<HttpRoute> routes;

        RequestHandler(MetricsRegistry registry, Supplier<HealthReport> health, List<HttpRoute> routes) {
            this.registry = registry;
            this.health = health;
            this.routes = routes;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            if (request.decoderResult().isFailure()) {
                respond(ctx, request, HttpResponseStatus.BAD_REQUEST, TEXT, "bad request\n", true);
                return;
            }
            QueryStringDecoder uri = new QueryStringDecoder(request.uri());
            String path = uri.path();
            boolean known = path.equals("/metrics") || path.equals("/health") || path.equals("/ready");
            if (!known) {
                HttpRoute route = routeOf(path);
                if (route == null) {
                    respond(ctx, request, HttpResponseStatus.NOT_FOUND, TEXT, "not found\n", false);
                } else {
                    answer(ctx, request, route, path, uri.parameters());
                }
                return;
            }
            HttpMethod method = request.method();
            if (!method.equals(HttpMethod.GET) && !method.equals(HttpMethod.HEAD)) {
                respond(ctx, request, HttpResponseStatus.METHOD_NOT_ALLOWED, TEXT, "method not allowed\n", false);
                return;
            }
            switch (path) {
                case "/metrics" ->
                    respond(
                            ctx,
                            request,
                            HttpResponseStatus.OK,
                            MetricsRegistry.CONTENT_TYPE,
                            registry.scrape(),
                            false);
                case "/health" -> respond(ctx, request, HttpResponseStatus.OK, TEXT, "ok\n", false);
                default -> ready(ctx, request);
            }
        }

        private HttpRoute routeOf(String path) {
            for (HttpRoute route : routes) {
                if (route.serves(path)) {
                    return route;
                }
            }
            return null;
        }

        private static void answer(
                ChannelHandlerContext ctx,
                FullHttpRequest request,
                HttpRoute route,
                String path,
                Map<String, List<String>> parameters) {
            HttpAnswer answer;
            try {
                answer = Objects.requireNonNull(
                        route.answer(request.method().name(), path, parameters), "the answer of " + route);
            } catch (RuntimeException e) {
                log.warn("HTTP {} {} failed", request.method(), path, e);
                answer = HttpAnswer.text(500, "internal error: " + e);
            }
            HttpResponseStatus status = HttpResponseStatus.valueOf(answer.status());
            respond(ctx, request, status, answer.contentType(), answer.body(), false, answer.allow());
        }

        private void ready(ChannelHandlerContext ctx, FullHttpRequest request) {
            HealthReport report;
            try {
                report = Objects.requireNonNull(health.get(), "health report");
            } catch (RuntimeException e) {
                log.warn("Health check failed", e);
                report = new HealthReport(false, "health check failed: " + e);
            }
            if (report.ready()) {
                respond(ctx, request, HttpResponseStatus.OK, TEXT, "ready: " + report.detail() + "\n", false);
            } else {
                respond(
                        ctx,
                        request,
                        HttpResponseStatus.SERVICE_UNAVAILABLE,
                        TEXT,
                        "not ready: " + report.detail() + "\n",
                        false);
            }
        }

        private static void respond(
                ChannelHandlerContext ctx,
                FullHttpRequest request,
                HttpResponseStatus status,
                String contentType,
                String body,
                boolean close) {
            respond(ctx, request, status, contentType, body, close, "GET, HEAD");
        }

        private static void respond(
                ChannelHandlerContext ctx,
                FullHttpRequest request,
                HttpResponseStatus status,
                String contentType,
                String body,
                boolean close,
                String allow) {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            boolean head = request.method().equals(HttpMethod.HEAD);
            ByteBuf content = head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(bytes);
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
            response.headers()
                    .set(HttpHeaderNames.CONTENT_TYPE, contentType)
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length)
                    .set(HttpHeaderNames.CACHE_CONTROL, "no-store");
            if (status == HttpResponseStatus.METHOD_NOT_ALLOWED && allow != null) {
                response.headers().set(HttpHeaderNames.ALLOW, allow);
            }
            if (close) {
                HttpUtil.setKeepAlive(response, false);
            }
            ctx.writeAndFlush(response);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("Closing HTTP connection {}: {}", ctx.channel().remoteAddress(), cause.toString());
            ctx.close();
        }
    }
}
