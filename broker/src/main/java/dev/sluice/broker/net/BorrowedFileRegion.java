package dev.sluice.broker.net;

import io.netty.channel.DefaultFileRegion;
import java.nio.channels.FileChannel;

/**
 * A {@link DefaultFileRegion} over a {@link FileChannel} that belongs to someone else (a segment's
 * {@code FileRecords}). {@code DefaultFileRegion} closes its channel when Netty releases it after the write;
 * this one leaves the channel open. It stays a {@code DefaultFileRegion} so that Netty's transports keep
 * using {@code sendfile} for it.
 */
final class BorrowedFileRegion extends DefaultFileRegion {
    BorrowedFileRegion(FileChannel file, long position, long count) {
        super(file, position, count);
    }

    @Override
    protected void deallocate() {
        // The channel is borrowed: its owner closes it.
    }
}
