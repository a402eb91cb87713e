package dev.sluice.partitionstore;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.xerial.snappy.Snappy;

/**
 * Checks the payload of a snappy-compressed batch before anything decompresses it. Producers write either
 * the framed stream of snappy-java (a 16-byte header, then chunks, each a 4-byte length and a snappy block)
 * or, as librdkafka does, one bare snappy block. The decompressor trusts the lengths it reads: a chunk that
 * claims hundreds of megabytes makes it allocate them, and one past its limit throws an {@link Error}. So
 * every chunk length is checked against the bytes that remain, and every block is checked whole by snappy
 * itself without decompressing it; a valid block cannot expand more than about 22 times. Pure; thread-safe.
 */
final class SnappyFraming {
    private static final byte[] MAGIC = {(byte) 0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
    private static final int HEADER_BYTES = MAGIC.length + 8; // magic, version, compatible version

    private SnappyFraming() {}

    /**
     * Returns why the bytes from {@code from} to {@code to} of {@code buffer} are not a snappy payload a
     * consumer can read, or null when they are.
     */
    static String problem(ByteBuffer buffer, int from, int to) {
        int length = to - from;
        byte[] bytes = new byte[length];
        buffer.get(from, bytes);
        try {
            if (!framedAt(bytes, 0)) {
                return Snappy.isValidCompressedBuffer(bytes, 0, length)
                        ? null
                        : "the " + length + "-byte snappy payload is neither framed nor one valid snappy block";
            }
            int position = HEADER_BYTES;
            while (position < length) {
                if (framedAt(bytes, position)) { // streams may be concatenated
                    position += HEADER_BYTES;
                    continue;
                }
                if (length - position < 4) {
                    return "the snappy chunk at byte " + position + " is cut short";
                }
                int chunk = readInt(bytes, position);
                position += 4;
                if (chunk <= 0 || chunk > length - position) {
                    return "the snappy chunk at byte " + (position - 4) + " claims " + Integer.toUnsignedString(chunk)
                            + " bytes where " + (length - position) + " remain";
                }
                if (!Snappy.isValidCompressedBuffer(bytes, position, chunk)) {
                    return "the " + chunk + "-byte snappy chunk at byte " + (position - 4) + " is not a valid block";
                }
                position += chunk;
            }
            return null;
        } catch (IOException e) {
            return "cannot check the snappy payload: " + e.getMessage();
        }
    }

    private static boolean framedAt(byte[] bytes, int position) {
        if (bytes.length - position < HEADER_BYTES) {
            return false;
        }
        for (int i = 0; i < MAGIC.length; i++) {
            if (bytes[position + i] != MAGIC[i]) {
                return false;
            }
        }
        return true;
    }

    private static int readInt(byte[] bytes, int position) {
        return ((bytes[position] & 0xff) << 24)
                | ((bytes[position + 1] & 0xff) << 16)
                | ((bytes[position + 2] & 0xff) << 8)
                | (bytes[position + 3] & 0xff);
    }
}
