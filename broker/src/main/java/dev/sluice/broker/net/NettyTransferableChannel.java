package dev.sluice.broker.net;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.Objects;
import org.apache.kafka.common.network.Send;
import org.apache.kafka.common.network.TransferableChannel;

/**
 * Lets a kafka-clients {@link Send} write itself into a Netty pipeline without copying record bytes.
 *
 * <p>Each {@link ByteBuffer} written is queued as {@link Unpooled#wrappedBuffer(ByteBuffer)}, a view of the
 * same memory (a {@code MemoryRecords} over a memory-mapped segment is written straight from the mapping);
 * each buffer is queued on its own, never combined with others, because Netty's NIO transport copies a
 * buffer that is not entirely direct. A {@code FileRecords} transfer is queued as a {@link BorrowedFileRegion}
 * ({@code sendfile}). Every write is accepted in full, so {@link #hasPendingWrites()} is always false; the
 * socket-level buffering is Netty's.
 *
 * <p>Writes are queued, not flushed; the caller flushes. The source buffers' positions are advanced to their
 * limits, as a channel that consumed them would, but their memory is referenced until the returned write
 * future completes.
 *
 * <p>Not thread-safe; used on the connection's event loop.
 */
final class NettyTransferableChannel implements TransferableChannel {
    /** {@link Send#writeTo} calls in a row that may write nothing before the send is declared stuck. */
    static final int MAX_STALLED_WRITES = 16;

    private final ChannelHandlerContext ctx;
    private ChannelFuture lastWrite;

    NettyTransferableChannel(ChannelHandlerContext ctx) {
        this.ctx = Objects.requireNonNull(ctx, "ctx");
    }

    /**
     * Queues all of {@code send}. {@link Send#writeTo} writes only part of a send when the channel takes only
     * part (a {@code MultiRecordsSend} stops after a partial sub-send), so call it until the send is complete;
     * this channel takes everything, so that is normally one call.
     *
     * @return the future of the last queued write: when it completes, every byte of the send has been written
     *     (or the connection failed)
     * @throws IOException if the send fails, or makes no progress {@value #MAX_STALLED_WRITES} times in a row
     */
    ChannelFuture writeFully(Send send) throws IOException {
        lastWrite = null;
        int stalledWrites = 0;
        while (!send.completed()) {
            long written = send.writeTo(this);
            if (written > 0) {
                stalledWrites = 0;
            } else if (++stalledWrites >= MAX_STALLED_WRITES) {
                throw new IOException("Send made no progress in " + stalledWrites + " writes: " + send);
            }
        }
        return lastWrite != null ? lastWrite : ctx.newSucceededFuture();
    }

    @Override
    public int write(ByteBuffer src) {
        int length = src.remaining();
        if (length == 0) {
            return 0;
        }
        lastWrite = ctx.write(Unpooled.wrappedBuffer(src));
        src.position(src.limit());
        return length;
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, srcs.length);
        long written = 0;
        for (int i = offset; i < offset + length; i++) {
            written += write(srcs[i]);
        }
        return written;
    }

    @Override
    public long write(ByteBuffer[] srcs) {
        return write(srcs, 0, srcs.length);
    }

    @Override
    public long transferFrom(FileChannel fileChannel, long position, long count) {
        if (count <= 0) {
            return 0;
        }
        lastWrite = ctx.write(new BorrowedFileRegion(fileChannel, position, count));
        return count;
    }

    @Override
    public boolean hasPendingWrites() {
        return false;
    }

    @Override
    public boolean isOpen() {
        return ctx.channel().isOpen();
    }

    @Override
    public void close() {
        // The connection's lifetime is not the send's business.
    }
}
