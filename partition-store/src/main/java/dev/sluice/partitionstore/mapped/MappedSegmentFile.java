package dev.sluice.partitionstore.mapped;

import dev.sluice.partitionstore.SegmentFile;
import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import net.openhft.chronicle.bytes.MappedBytes;
import org.apache.kafka.common.errors.KafkaStorageException;

/**
 * A segment file written through chronicle-bytes {@link MappedBytes} and read through a read-only
 * memory mapping of the same file: both map the same page-cache pages, so a reader sees what the
 * writer appended without a copy and without a system call.
 *
 * <p>The active file grows in chunks of {@code chunkBytes} (chronicle maps one chunk at a time; a write
 * that crosses a chunk boundary is split at it), so its length on disk runs ahead of its data; {@link
 * #seal()} trims it to the data. Dropped data is zeroed, never cut off with {@code ftruncate}, while the
 * file is live: a reader may still hold a view of the region, and touching a mapping past the end of a
 * file kills the process with SIGBUS.
 *
 * <p>Threading: one writer thread; {@link #size()} and {@link #view} from any thread. {@code size} is
 * volatile and written after the bytes, so a reader that sees a size sees the bytes below it.
 */
public final class MappedSegmentFile implements SegmentFile {
    private final Path path;
    private final int chunkBytes;
    private volatile FileChannel channel;
    private volatile boolean closed;
    private MappedBytes writer;
    private volatile int size;
    private volatile int syncedSize;
    private volatile MappedByteBuffer readMap;

    private MappedSegmentFile(Path path, FileChannel channel, MappedBytes writer, int size, int chunkBytes) {
        this.path = path;
        this.channel = channel;
        this.writer = writer;
        this.size = size;
        this.syncedSize = size;
        this.chunkBytes = chunkBytes;
    }

    @Override
    public Path path() {
        return path;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public int syncedSize() {
        return Math.min(syncedSize, size);
    }

    @Override
    public boolean writable() {
        return writer != null;
    }

    @Override
    public void append(ByteBuffer source) {
        MappedBytes out = requireWriter();
        int length = source.remaining();
        long position = size;
        if (position + length > Integer.MAX_VALUE) {
            throw new KafkaStorageException("segment " + path + " cannot grow past 2 GiB");
        }
        int done = 0;
        while (done < length) {
            long at = position + done;
            int roomInChunk = (int) (chunkBytes - (at % chunkBytes));
            int piece = Math.min(roomInChunk, length - done);
            if (source.hasArray()) {
                // chronicle's ByteBuffer variant reads a heap buffer's array without its array offset (a slice's
                // bytes would come from the start of the array): hand it the array and the true offset.
                out.write(at, source.array(), source.arrayOffset() + source.position() + done, piece);
            } else {
                out.write(at, source, source.position() + done, piece);
            }
            done += piece;
        }
        size = (int) (position + length);
    }

    @Override
    public ByteBuffer view(int position, int length) {
        if (position < 0 || length < 0 || position + length > size) {
            throw new IndexOutOfBoundsException("view [" + position + ", " + (position + length)
                    + ") outside the data of " + path + " (size " + size + ")");
        }
        MappedByteBuffer map = mappedAtLeast(position + length);
        ByteBuffer view = map.duplicate();
        view.limit(position + length).position(position);
        return view.slice().order(ByteOrder.BIG_ENDIAN).asReadOnlyBuffer();
    }

    private MappedByteBuffer mappedAtLeast(int end) {
        MappedByteBuffer map = readMap;
        if (map != null && map.capacity() >= end) {
            return map;
        }
        synchronized (this) {
            map = readMap;
            if (map == null || map.capacity() < end) {
                try {
                    map = uninterruptibly(c -> {
                        long length = Math.max(end, Math.min(c.size(), Integer.MAX_VALUE));
                        return c.map(FileChannel.MapMode.READ_ONLY, 0, length);
                    });
                    readMap = map;
                } catch (IOException e) {
                    throw new KafkaStorageException("cannot map segment " + path + ": " + e.getMessage(), e);
                }
            }
            return map;
        }
    }

    @Override
    public void truncate(int newSize) {
        if (newSize < 0 || newSize > size) {
            throw new IllegalArgumentException(
                    "cannot truncate " + path + " to " + newSize + " bytes: it holds " + size + " bytes");
        }
        MappedBytes out = requireWriter();
        int oldSize = size;
        size = newSize;
        syncedSize = Math.min(syncedSize, newSize);
        long at = newSize;
        while (at < oldSize) {
            int roomInChunk = (int) (chunkBytes - (at % chunkBytes));
            int piece = (int) Math.min(roomInChunk, oldSize - at);
            out.zeroOut(at, at + piece);
            at += piece;
        }
    }

    private interface ChannelCall<T> {
        T apply(FileChannel channel) throws IOException;
    }

    /**
     * Runs a channel operation so that an interrupt of the calling thread cannot break the file for
     * everyone: a {@link FileChannel} closes itself when a thread is interrupted in one of its calls, and
     * Raft threads are interrupted routinely (on leader changes and shutdown). The interrupt flag is set
     * aside during the call and restored after it; a channel closed by someone else's interrupt is
     * reopened.
     */
    private <T> T uninterruptibly(ChannelCall<T> call) throws IOException {
        boolean interrupted = Thread.interrupted();
        try {
            for (int attempt = 0; ; attempt++) {
                try {
                    return call.apply(openChannel());
                } catch (java.nio.channels.ClosedByInterruptException e) {
                    interrupted |= Thread.interrupted();
                    if (attempt >= 3) {
                        throw e;
                    }
                } catch (java.nio.channels.ClosedChannelException e) {
                    if (closed || attempt >= 3) {
                        throw e;
                    }
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private FileChannel openChannel() throws IOException {
        FileChannel current = channel;
        if (current.isOpen() || closed) {
            return current;
        }
        synchronized (this) {
            if (!channel.isOpen() && !closed) {
                channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
            }
            return channel;
        }
    }

    @Override
    public void flush() {
        int flushing = size;
        try {
            // On Linux fsync writes back the file's dirty pages whichever mapping dirtied them.
            uninterruptibly(c -> {
                c.force(false);
                return null;
            });
            syncedSize = Math.max(syncedSize, flushing);
        } catch (IOException e) {
            throw new KafkaStorageException("cannot flush segment " + path + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void seal() {
        if (writer == null) {
            return;
        }
        closeWriter();
        try {
            // No fsync here: the log flushes sealed segments on its next flush(), off the roll path.
            uninterruptibly(c -> c.truncate(size));
        } catch (IOException e) {
            throw new KafkaStorageException("cannot seal segment " + path + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        closed = true;
        closeWriter();
        try {
            channel.close();
        } catch (IOException e) {
            throw new KafkaStorageException("cannot close segment " + path + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void delete() {
        close();
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            throw new KafkaStorageException("cannot delete segment " + path + ": " + e.getMessage(), e);
        }
    }

    private void closeWriter() {
        if (writer != null) {
            writer.releaseLast();
            writer = null;
        }
    }

    private MappedBytes requireWriter() {
        if (writer == null) {
            throw new IllegalStateException("segment " + path + " is sealed; it accepts no more writes");
        }
        return writer;
    }

    @Override
    public String toString() {
        return "MappedSegmentFile[" + path + ", size=" + size + ", writable=" + writable() + "]";
    }

    /** Opens segment files memory-mapped, growing active ones {@code chunkBytes} at a time. */
    public static final class Factory implements SegmentFile.Factory {
        /** 16 MiB: small enough for thousands of active segments, large enough to remap rarely. */
        public static final int DEFAULT_CHUNK_BYTES = 16 * 1024 * 1024;

        private final int chunkBytes;

        public Factory() {
            this(DEFAULT_CHUNK_BYTES);
        }

        public Factory(int chunkBytes) {
            if (chunkBytes < 4096 || chunkBytes % 4096 != 0) {
                throw new IllegalArgumentException("chunk size must be a positive multiple of 4096: " + chunkBytes);
            }
            this.chunkBytes = chunkBytes;
        }

        @Override
        public SegmentFile create(Path path) {
            try {
                Files.createFile(path);
            } catch (IOException e) {
                throw new KafkaStorageException("cannot create segment " + path + ": " + e.getMessage(), e);
            }
            return open(path, 0, true);
        }

        @Override
        public SegmentFile open(Path path, int dataSize, boolean writable) {
            FileChannel channel = null;
            try {
                channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
                long length = channel.size();
                if (dataSize < 0 || dataSize > length) {
                    throw new KafkaStorageException("segment " + path + " has " + length + " bytes, fewer than its "
                            + dataSize + " bytes of data");
                }
                // Nobody can hold a view of a file being opened, so dropping its tail here is safe.
                if (length > dataSize) {
                    channel.truncate(dataSize);
                }
                MappedBytes writer = null;
                if (writable) {
                    writer = MappedBytes.mappedBytes(new File(path.toString()), chunkBytes, 0);
                    writer.singleThreadedCheckDisabled(true);
                }
                return new MappedSegmentFile(path, channel, writer, dataSize, chunkBytes);
            } catch (IOException e) {
                closeQuietly(channel);
                throw new KafkaStorageException("cannot open segment " + path + ": " + e.getMessage(), e);
            } catch (RuntimeException e) {
                closeQuietly(channel);
                throw e;
            }
        }

        @Override
        public ByteBuffer mapReadOnly(Path path) {
            try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
                long length = channel.size();
                if (length > Integer.MAX_VALUE) {
                    throw new KafkaStorageException("segment " + path + " is larger than 2 GiB");
                }
                return channel.map(FileChannel.MapMode.READ_ONLY, 0, length).order(ByteOrder.BIG_ENDIAN);
            } catch (IOException e) {
                throw new KafkaStorageException("cannot read segment " + path + ": " + e.getMessage(), e);
            }
        }

        @Override
        public void replace(Path source, Path target) {
            try {
                try (FileChannel channel = FileChannel.open(source, StandardOpenOption.WRITE)) {
                    channel.force(true);
                }
                Files.move(
                        source,
                        target,
                        java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                Path dir = target.toAbsolutePath().getParent();
                if (dir != null) {
                    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
                        channel.force(true);
                    }
                }
            } catch (IOException e) {
                throw new KafkaStorageException(
                        "cannot move " + source + " over segment " + target + ": " + e.getMessage(), e);
            }
        }

        private static void closeQuietly(FileChannel channel) {
            if (channel != null) {
                try {
                    channel.close();
                } catch (IOException ignored) {
                    // already failing; the first error is the one reported
                }
            }
        }
    }
}
