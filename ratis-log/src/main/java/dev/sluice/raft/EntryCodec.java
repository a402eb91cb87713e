package dev.sluice.raft;

import dev.sluice.partitionstore.BatchValidator;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.protocol.Errors;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;

/**
 * The bytes a partition group exchanges: the write request a broker submits, the header every Raft log
 * entry carries, and the reply. Integers are big-endian; every layout starts with a format version.
 *
 * <pre>
 * request   u8 version | u8 origin | record batches
 * header    u8 version | u8 origin | i64 appendTimeMs        (the Raft log entry's logData; under
 *           double write the record batches follow it, otherwise they travel as state-machine data)
 * reply     u8 version | i16 error | i64 firstOffset | i64 lastOffset | i64 logAppendTimeMs
 *           | i64 logStartOffset | u16 n | message (UTF-8, n bytes)
 * </pre>
 */
final class EntryCodec {
    static final byte VERSION = 1;
    static final int HEADER_BYTES = 10;
    private static final int REQUEST_HEADER_BYTES = 2;

    private EntryCodec() {}

    static ByteString encodeRequest(BatchValidator.Origin origin, ByteBuffer records) {
        ByteBuffer header =
                ByteBuffer.allocate(REQUEST_HEADER_BYTES).put(VERSION).put((byte) origin.ordinal());
        header.flip();
        return UnsafeByteOperations.unsafeWrap(header).concat(UnsafeByteOperations.unsafeWrap(records.slice()));
    }

    /** A parsed request: who sent it and the record batches it carries. */
    record Request(BatchValidator.Origin origin, ByteString records) {}

    static Request decodeRequest(ByteString content) {
        if (content.size() < REQUEST_HEADER_BYTES || content.byteAt(0) != VERSION) {
            throw new IllegalArgumentException("not a partition write request (" + content.size() + " bytes)");
        }
        return new Request(origin(content.byteAt(1)), content.substring(REQUEST_HEADER_BYTES));
    }

    static ByteString encodeHeader(BatchValidator.Origin origin, long appendTimeMs) {
        ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES)
                .put(VERSION)
                .put((byte) origin.ordinal())
                .putLong(appendTimeMs);
        header.flip();
        return UnsafeByteOperations.unsafeWrap(header);
    }

    /** A parsed entry header. */
    record Header(BatchValidator.Origin origin, long appendTimeMs) {}

    static Header decodeHeader(ByteString logData) {
        if (logData.size() < HEADER_BYTES || logData.byteAt(0) != VERSION) {
            throw new IllegalStateException("unreadable partition log entry header (" + logData.size() + " bytes)");
        }
        ByteBuffer buffer = logData.substring(0, HEADER_BYTES).asReadOnlyByteBuffer();
        buffer.get();
        BatchValidator.Origin origin = origin(buffer.get());
        return new Header(origin, buffer.getLong());
    }

    private static BatchValidator.Origin origin(byte code) {
        BatchValidator.Origin[] origins = BatchValidator.Origin.values();
        if (code < 0 || code >= origins.length) {
            throw new IllegalArgumentException("unknown append origin " + code);
        }
        return origins[code];
    }

    static ByteString encodeReply(AppendOutcome outcome) {
        byte[] message = outcome.errorMessage() == null
                ? new byte[0]
                : truncate(outcome.errorMessage()).getBytes(StandardCharsets.UTF_8);
        ByteBuffer buffer = ByteBuffer.allocate(1 + 2 + 32 + 2 + message.length)
                .put(VERSION)
                .putShort(outcome.error().code())
                .putLong(outcome.firstOffset())
                .putLong(outcome.lastOffset())
                .putLong(outcome.logAppendTimeMs())
                .putLong(outcome.logStartOffset())
                .putShort((short) message.length)
                .put(message);
        buffer.flip();
        return UnsafeByteOperations.unsafeWrap(buffer);
    }

    static AppendOutcome decodeReply(ByteString content) {
        ByteBuffer buffer = content.asReadOnlyByteBuffer();
        if (buffer.remaining() < 37 || buffer.get() != VERSION) {
            throw new IllegalStateException("unreadable partition write reply (" + content.size() + " bytes)");
        }
        Errors error = Errors.forCode(buffer.getShort());
        long first = buffer.getLong();
        long last = buffer.getLong();
        long appendTime = buffer.getLong();
        long logStart = buffer.getLong();
        byte[] message = new byte[Short.toUnsignedInt(buffer.getShort())];
        buffer.get(message);
        return new AppendOutcome(
                error,
                message.length == 0 ? null : new String(message, StandardCharsets.UTF_8),
                first,
                last,
                appendTime,
                logStart);
    }

    private static String truncate(String message) {
        return message.length() > 1000 ? message.substring(0, 1000) : message;
    }
}
