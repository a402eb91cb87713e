package dev.sluice.broker.net;

import dev.sluice.broker.net.KafkaFrameDecoder.Frame;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.network.Send;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.ApiVersionsRequest;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.ResponseHeader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Kafka connection: parses request frames, hands them to the {@link RequestHandler}, and writes the
 * responses back in request order.
 *
 * <p>Protocol, as Kafka's {@code SocketServer} and {@code KafkaApis}: an unparseable header, an unknown api
 * key, an API or version not in {@link SupportedApis}, or a body that does not parse closes the connection
 * (ApiVersions excepted: any version is accepted and an unsupported one is answered with
 * {@code UNSUPPORTED_VERSION} at version 0). A handler failure is answered with the request's error response.
 *
 * <p>Ordering: every request gets a slot in {@link #responseQueue} when it is read; slots leave the queue from
 * the head only, once complete, so responses go out in request order whatever order handlers complete in.
 * A null response (acks=0) leaves its slot without writing anything.
 *
 * <p>Back-pressure: {@link #inFlight} counts requests read and not yet answered (response written to the
 * socket, or none needed). At {@code maxInFlightPerConnection} the socket stops being read (autoRead off) and
 * frames already decoded wait in {@link #heldFrames} undispatched, so the handler never has more than that
 * many requests of one connection outstanding.
 *
 * <p>Threading: all state is confined to the connection's event loop; handler completions hop onto it.
 * Invariant: {@code responseQueue.size() <= inFlight <= maxInFlightPerConnection}.
 */
final class KafkaConnectionHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(KafkaConnectionHandler.class);

    /** What the connection needs from its server. */
    interface Server {
        SupportedApis apis();

        RequestHandler handler();

        RequestObserver observer();

        int maxInFlightPerConnection();

        String newConnectionId(InetSocketAddress local, InetSocketAddress remote);

        void connectionOpened();

        void connectionClosed();
    }

    /** A request read from the socket whose response has not left the ordering queue yet. */
    private static final class Slot {
        final RequestContext context;
        final short responseVersion;
        final long requestBytes;
        final boolean fromHandler;
        boolean done;
        AbstractResponse response;

        Slot(RequestContext context, short responseVersion, long requestBytes, boolean fromHandler) {
            this.context = context;
            this.responseVersion = responseVersion;
            this.requestBytes = requestBytes;
            this.fromHandler = fromHandler;
        }
    }

    private final Server server;
    private final ArrayDeque<Slot> responseQueue = new ArrayDeque<>();
    private final ArrayDeque<Frame> heldFrames = new ArrayDeque<>();
    private ChannelHandlerContext ctx;
    private NettyTransferableChannel sendChannel;
    private InetSocketAddress clientAddress;
    private String connectionId = "unconnected";
    private int inFlight;
    private boolean closed;
    private boolean dispatchingHeldFrames;

    KafkaConnectionHandler(Server server) {
        this.server = server;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        this.ctx = ctx;
        this.sendChannel = new NettyTransferableChannel(ctx);
        this.clientAddress = (InetSocketAddress) ctx.channel().remoteAddress();
        this.connectionId =
                server.newConnectionId((InetSocketAddress) ctx.channel().localAddress(), clientAddress);
        server.connectionOpened();
        log.debug("Accepted connection {}", connectionId);
        super.channelActive(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        closed = true;
        heldFrames.clear();
        for (Slot slot : responseQueue) {
            if (slot.done) {
                releaseResponse(slot);
            }
        }
        responseQueue.clear();
        server.connectionClosed();
        log.debug("Connection {} closed", connectionId);
        super.channelInactive(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Frame frame = (Frame) msg;
        if (closed) {
            return;
        }
        if (inFlight >= server.maxInFlightPerConnection() || !heldFrames.isEmpty()) {
            heldFrames.add(frame);
            ctx.channel().config().setAutoRead(false);
            return;
        }
        dispatch(frame);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof IOException) {
            log.debug("Closing connection {}: {}", connectionId, cause.toString());
        } else {
            log.warn("Closing connection {} after an unexpected error", connectionId, cause);
        }
        closeConnection();
    }

    private void dispatch(Frame frame) {
        RequestHeader header;
        try {
            header = RequestHeader.parse(frame.payload());
        } catch (RuntimeException e) {
            closeConnection("unparseable request header", e);
            return;
        }
        ApiKeys api = header.apiKey();
        short version = header.apiVersion();
        RequestContext context = new RequestContext(header, clientAddress, connectionId, frame.receivedNs());
        if (api == ApiKeys.API_VERSIONS) {
            answerApiVersions(context, frame);
            return;
        }
        if (!server.apis().supports(api, version)) {
            closeConnection(api + " v" + version + " is not served", null);
            return;
        }
        AbstractRequest request;
        try {
            request = AbstractRequest.parseRequest(api, version, new ByteBufferAccessor(frame.payload())).request;
        } catch (RuntimeException e) {
            closeConnection("unparseable " + api + " v" + version + " request", e);
            return;
        }
        Slot slot = enqueue(context, version, frame, true);
        CompletableFuture<AbstractResponse> future;
        try {
            future = server.handler().handle(context, request);
            if (future == null) {
                future = CompletableFuture.failedFuture(new NullPointerException("handler returned no future"));
            }
        } catch (Throwable t) { // a handler bug must not take the connection's event loop down
            future = CompletableFuture.failedFuture(t);
        }
        future.whenComplete((response, error) -> onHandled(slot, request, response, error));
    }

    private Slot enqueue(RequestContext context, short responseVersion, Frame frame, boolean fromHandler) {
        Slot slot = new Slot(context, responseVersion, frame.sizeWithPrefix(), fromHandler);
        responseQueue.add(slot);
        inFlight++;
        return slot;
    }

    private void answerApiVersions(RequestContext context, Frame frame) {
        RequestHeader header = context.header();
        short version = header.apiVersion();
        SupportedApis apis = server.apis();
        if (!apis.supports(ApiKeys.API_VERSIONS, version)) {
            // Like Kafka (KIP-511): do not parse a version we do not serve; answer at v0 with our range.
            Slot slot = enqueue(context, (short) 0, frame, false);
            complete(slot, apis.apiVersionsResponse((short) 0, Errors.UNSUPPORTED_VERSION, 0));
            return;
        }
        ApiVersionsRequest request;
        try {
            request = (ApiVersionsRequest)
                    AbstractRequest.parseRequest(ApiKeys.API_VERSIONS, version, new ByteBufferAccessor(frame.payload()))
                            .request;
        } catch (RuntimeException e) {
            closeConnection("unparseable ApiVersions v" + version + " request", e);
            return;
        }
        Slot slot = enqueue(context, version, frame, false);
        if (request.isValid()) {
            complete(slot, apis.apiVersionsResponse(version, Errors.NONE, 0));
        } else {
            complete(slot, request.getErrorResponse(0, Errors.INVALID_REQUEST.exception()));
        }
    }

    private void onHandled(Slot slot, AbstractRequest request, AbstractResponse response, Throwable error) {
        if (ctx.executor().inEventLoop()) {
            completeHandled(slot, request, response, error);
            return;
        }
        try {
            ctx.executor().execute(() -> completeHandled(slot, request, response, error));
        } catch (RejectedExecutionException e) {
            // The server is shutting down and the connection with it; nothing left to answer.
            log.debug("Dropping the {} response of {}: event loop shut down", request.apiKey(), connectionId);
        }
    }

    private void completeHandled(Slot slot, AbstractRequest request, AbstractResponse response, Throwable error) {
        if (error == null) {
            complete(slot, response);
            return;
        }
        Throwable cause = unwrap(error);
        if (!(cause instanceof ApiException)) {
            log.warn(
                    "Error handling {} v{} request from {} (answered with {})",
                    request.apiKey(),
                    request.version(),
                    connectionId,
                    Errors.forException(cause),
                    cause);
        }
        AbstractResponse errorResponse;
        try {
            errorResponse = request.getErrorResponse(cause);
        } catch (RuntimeException e) {
            closeConnection("no error response for " + request.apiKey() + " v" + request.version(), e);
            return;
        }
        complete(slot, errorResponse);
    }

    private void complete(Slot slot, AbstractResponse response) {
        slot.done = true;
        slot.response = response;
        if (closed) {
            releaseResponse(slot);
            return;
        }
        drainResponses();
    }

    /** Writes every complete response at the head of the queue, in order. */
    private void drainResponses() {
        boolean wrote = false;
        while (!closed && !responseQueue.isEmpty() && responseQueue.peek().done) {
            Slot slot = responseQueue.poll();
            if (slot.response == null) {
                answered(slot, Map.of(), 0);
            } else {
                wrote |= write(slot);
            }
        }
        if (wrote) {
            ctx.flush();
        }
    }

    private boolean write(Slot slot) {
        RequestHeader header = slot.context.header();
        ApiKeys api = header.apiKey();
        Send send;
        ChannelFuture written;
        try {
            ResponseHeader responseHeader =
                    new ResponseHeader(header.correlationId(), api.responseHeaderVersion(slot.responseVersion));
            send = slot.response.toSend(responseHeader, slot.responseVersion);
            written = sendChannel.writeFully(send);
        } catch (IOException | RuntimeException e) {
            log.warn(
                    "Closing connection {}: cannot write the {} v{} response",
                    connectionId,
                    api,
                    slot.responseVersion,
                    e);
            releaseResponse(slot);
            closeConnection();
            return false;
        }
        long responseBytes = send.size();
        written.addListener(future -> {
            releaseResponse(slot);
            if (future.isSuccess()) {
                answered(slot, errorCounts(slot.response), responseBytes);
            } else {
                inFlight--;
            }
        });
        return true;
    }

    /** The request needs nothing more from this connection: count it, observe it, maybe read again. */
    private void answered(Slot slot, Map<Errors, Integer> errorCounts, long responseBytes) {
        inFlight--;
        RequestHeader header = slot.context.header();
        try {
            server.observer()
                    .completed(
                            header.apiKey(),
                            header.apiVersion(),
                            errorCounts,
                            slot.requestBytes,
                            responseBytes,
                            System.nanoTime() - slot.context.receivedNs());
        } catch (RuntimeException e) {
            log.warn("Request observer failed", e);
        }
        resumeReading();
    }

    private void resumeReading() {
        if (dispatchingHeldFrames) {
            return; // the loop below, further up this stack, will see the freed slot
        }
        dispatchingHeldFrames = true;
        try {
            int maxInFlight = server.maxInFlightPerConnection();
            while (!closed && inFlight < maxInFlight && !heldFrames.isEmpty()) {
                dispatch(heldFrames.poll());
            }
            if (!closed && inFlight < maxInFlight && heldFrames.isEmpty()) {
                if (!ctx.channel().config().isAutoRead()) {
                    ctx.channel().config().setAutoRead(true);
                }
            }
        } finally {
            dispatchingHeldFrames = false;
        }
    }

    private void releaseResponse(Slot slot) {
        if (slot.fromHandler && slot.response != null) {
            try {
                server.handler().responseReleased(slot.context, slot.response);
            } catch (RuntimeException e) {
                log.warn(
                        "Request handler failed to release a {} response",
                        slot.context.header().apiKey(),
                        e);
            }
        }
    }

    private static Map<Errors, Integer> errorCounts(AbstractResponse response) {
        try {
            return response.errorCounts();
        } catch (RuntimeException e) {
            return Map.of(Errors.UNKNOWN_SERVER_ERROR, 1);
        }
    }

    private static Throwable unwrap(Throwable error) {
        Throwable cause = error;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException)
                && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }

    private void closeConnection(String reason, Throwable cause) {
        if (log.isDebugEnabled()) {
            log.debug("Closing connection {}: {}{}", connectionId, reason, cause == null ? "" : ": " + cause);
        }
        closeConnection();
    }

    private void closeConnection() {
        if (!closed) {
            closed = true;
            heldFrames.clear();
            ctx.close();
        }
    }
}
