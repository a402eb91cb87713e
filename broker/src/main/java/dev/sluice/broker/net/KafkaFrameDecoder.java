package dev.sluice.broker.net;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.ByteBuffer;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Splits the byte stream of one connection into Kafka request frames.
 *
 * <pre>
 *  0        4                       4 + size
 *  +--------+-----------------------+
 *  | size   | request header + body |     size: int32, big-endian
 *  +--------+-----------------------+
 * </pre>
 *
 * <p>A size below 0 or above {@code socket.request.max.bytes} closes the connection, as Kafka's
 * {@code NetworkReceive} does ({@code InvalidReceiveException}); nothing after it is read. Each frame is
 * copied, as its bytes arrive, into its own heap buffer ({@link Frame#payload()}), which the request may keep referencing (Produce
 * record bytes) for as long as it likes: no pooled Netty memory escapes this decoder.
 *
 * <p>Not thread-safe; one instance per connection, called on its event loop.
 */
final class KafkaFrameDecoder extends ByteToMessageDecoder {
    private static final Logger log = LoggerFactory.getLogger(KafkaFrameDecoder.class);
    static final int SIZE_PREFIX_BYTES = 4;

    /** A complete request frame, without its size prefix. */
    record Frame(ByteBuffer payload, long receivedNs) {
        int sizeWithPrefix() {
            return payload.capacity() + SIZE_PREFIX_BYTES;
        }
    }

    private final int requestMaxBytes;
    private boolean failed;
    /** The payload of the frame being read, allocated once its size is known; null between frames. */
    private byte[] payload;

    private int payloadFilled;

    KafkaFrameDecoder(int requestMaxBytes) {
        this.requestMaxBytes = requestMaxBytes;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        if (payload == null) {
            if (in.readableBytes() < SIZE_PREFIX_BYTES) {
                return;
            }
            int size = in.readInt();
            if (size < 0 || size > requestMaxBytes) {
                failed = true;
                in.skipBytes(in.readableBytes());
                log.debug(
                        "Closing connection from {}: invalid request size {} (socket.request.max.bytes = {})",
                        ctx.channel().remoteAddress(),
                        size,
                        requestMaxBytes);
                ctx.close();
                return;
            }
            payload = new byte[size];
            payloadFilled = 0;
        }
        int chunk = Math.min(in.readableBytes(), payload.length - payloadFilled);
        in.readBytes(payload, payloadFilled, chunk);
        payloadFilled += chunk;
        if (payloadFilled == payload.length) {
            out.add(new Frame(ByteBuffer.wrap(payload), System.nanoTime()));
            payload = null;
        }
    }
}
