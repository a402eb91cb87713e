package dev.sluice.partitionstore;

import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * One segment file's bytes: the storage behind a {@link LogSegment}, so the log's logic never touches
 * memory mapping or file channels itself.
 *
 * <p>Threading: {@link #append}, {@link #truncate}, {@link #seal}, {@link #flush} and {@link #close} are
 * called from the partition's single writer thread; {@link #size} and {@link #view} from any thread. A
 * view of bytes below {@link #size} stays readable while the file is appended to, sealed, or deleted.
 */
public interface SegmentFile extends AutoCloseable {
    Path path();

    /** Bytes of data in the file (its write position); the file itself may be preallocated beyond. */
    int size();

    /**
     * Bytes of data known to be on disk: the data size at the last {@link #flush()}, or when the file was
     * opened (what a power loss right now would leave of it). Never more than {@link #size()}.
     */
    int syncedSize();

    /** Whether the file still accepts appends (the active segment); false once sealed. */
    boolean writable();

    /** Appends the remaining bytes of {@code source} at {@link #size()} without moving its position. */
    void append(ByteBuffer source);

    /**
     * A read-only, zero-copy view of {@code length} bytes from {@code position}: a slice of the mapped
     * file, not a copy on the heap. Big-endian, position 0, limit {@code length}.
     */
    ByteBuffer view(int position, int length);

    /** Drops the data from {@code newSize} on (the bytes are zeroed so they can never be read back). */
    void truncate(int newSize);

    /** Makes every byte appended so far durable (msync/fsync). */
    void flush();

    /**
     * Stops appends for good and trims the file to its data: a closed segment is exactly its batches.
     * Does not sync; {@link #flush()} still works on a sealed file.
     */
    void seal();

    /** Releases the file's resources; views already handed out stay readable. */
    @Override
    void close();

    /** Closes and removes the file. */
    void delete();

    /** Opens segment files; the one place that chooses how segments are stored. */
    interface Factory {
        /** Creates a new, empty, writable segment file; fails if it exists. */
        SegmentFile create(Path path);

        /**
         * Opens an existing segment file. {@code dataSize} bytes are data; anything after is dropped.
         * A writable file accepts appends after {@code dataSize}; a read-only one is trimmed to it.
         */
        SegmentFile open(Path path, int dataSize, boolean writable);

        /** A read-only view of a whole existing file, for recovery scans and offline tools. */
        ByteBuffer mapReadOnly(Path path);

        /**
         * Moves {@code source} over {@code target} atomically and durably (both synced); a reader holding a
         * view of the old {@code target} keeps it. Both must be on the same file system.
         */
        void replace(Path source, Path target);
    }
}
