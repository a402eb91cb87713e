package dev.sluice.raft;

import dev.sluice.partitionstore.BatchValidator;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.protocol.Errors;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;

/**
 * The bytes a partition group exchanges: the write request a broker submits, the header every Raft log
 * entry carries, and the reply. Integers are big-endian; every layout starts with a kind, which also
 * versions it: {@value #RECORDS} for record batches (the only kind before DeleteRecords existed, so the
 * entries of older logs decode unchanged), {@value #DELETE_RECORDS} for Kafka's {@code DeleteRecords},
 * {@value #VERIFIED_RECORDS} for transactional record batches with their {@link VerificationGuard}.
 *
 * <pre>
 * records request   u8 1 | u8 origin | record batches
 * records header    u8 1 | u8 origin | i64 appendTimeMs        (the Raft log entry's logData; under
 *                   double write the record batches follow it, otherwise they travel as state-machine data)
 * records reply     u8 1 | i16 error | i64 firstOffset | i64 lastOffset | i64 logAppendTimeMs
 *                   | i64 logStartOffset | u16 n | message (UTF-8, n bytes)
 * delete request    u8 2 | i64 beforeOffset                    (-1: the high watermark at apply time)
 * delete header     the same bytes as the request; the entry carries no record batches
 * delete reply      u8 2 | i16 error | i64 lowWatermark | u16 n | message (UTF-8, n bytes)
 * verified request  u8 3 | u8 origin | i64 guardTerm | i64 guardLogEndOffset | record batches
 * verified header   u8 3 | u8 origin | i64 appendTimeMs | i64 guardTerm | i64 guardLogEndOffset
 *                   (the reply is a records reply)
 * </pre>
 */
final class EntryCodec {
    static final byte RECORDS = 1;
    static final byte DELETE_RECORDS = 2;
    static final byte VERIFIED_RECORDS = 3;
    /** The size of a records entry's header. */
    static final int HEADER_BYTES = 10;
    /** The size of a verified records entry's header. */
    static final int VERIFIED_HEADER_BYTES = HEADER_BYTES + 16;

    private static final int REQUEST_HEADER_BYTES = 2;
    private static final int VERIFIED_REQUEST_HEADER_BYTES = REQUEST_HEADER_BYTES + 16;
    private static final int DELETE_BYTES = 9;

    private EntryCodec() {}

    /** A parsed request or entry header: what the writer asked for. */
    sealed interface Request permits Append, DeleteRecords {}

    /** A parsed entry header. */
    sealed interface Header permits AppendHeader, DeleteRecords {
        /** Bytes of the header at the start of the entry's logData. */
        int sizeInBytes();
    }

    /**
     * A records request: who sent it, the record batches it carries, and the guard of their check with the
     * transaction coordinator (null for batches that were not checked).
     */
    record Append(BatchValidator.Origin origin, ByteString records, VerificationGuard guard) implements Request {
        Append(BatchValidator.Origin origin, ByteString records) {
            this(origin, records, null);
        }
    }

    /** The header of a records entry; {@code guard} is null for batches that were not checked. */
    record AppendHeader(BatchValidator.Origin origin, long appendTimeMs, VerificationGuard guard) implements Header {
        AppendHeader(BatchValidator.Origin origin, long appendTimeMs) {
            this(origin, appendTimeMs, null);
        }

        @Override
        public int sizeInBytes() {
            return guard == null ? HEADER_BYTES : VERIFIED_HEADER_BYTES;
        }
    }

    /**
     * Kafka's {@code DeleteRecords} for the partition: advance the log start offset to {@code beforeOffset}
     * ({@value #TO_HIGH_WATERMARK}: the high watermark). Request and entry header are the same bytes.
     */
    record DeleteRecords(long beforeOffset) implements Request, Header {
        static final long TO_HIGH_WATERMARK = -1;

        @Override
        public int sizeInBytes() {
            return DELETE_BYTES;
        }
    }

    static ByteString encodeRequest(BatchValidator.Origin origin, ByteBuffer records) {
        return encodeRequest(origin, records, null);
    }

    static ByteString encodeRequest(BatchValidator.Origin origin, ByteBuffer records, VerificationGuard guard) {
        ByteBuffer header;
        if (guard == null) {
            header = ByteBuffer.allocate(REQUEST_HEADER_BYTES).put(RECORDS).put((byte) origin.ordinal());
        } else {
            header = ByteBuffer.allocate(VERIFIED_REQUEST_HEADER_BYTES)
                    .put(VERIFIED_RECORDS)
                    .put((byte) origin.ordinal())
                    .putLong(guard.term())
                    .putLong(guard.logEndOffset());
        }
        header.flip();
        return UnsafeByteOperations.unsafeWrap(header).concat(UnsafeByteOperations.unsafeWrap(records.slice()));
    }

    /** The request, and the entry header, of a DeleteRecords. */
    static ByteString encodeDeleteRecords(long beforeOffset) {
        ByteBuffer buffer =
                ByteBuffer.allocate(DELETE_BYTES).put(DELETE_RECORDS).putLong(beforeOffset);
        buffer.flip();
        return UnsafeByteOperations.unsafeWrap(buffer);
    }

    static Request decodeRequest(ByteString content) {
        if (content.size() == DELETE_BYTES && content.byteAt(0) == DELETE_RECORDS) {
            return decodeDeleteRecords(content);
        }
        if (content.size() >= VERIFIED_REQUEST_HEADER_BYTES && content.byteAt(0) == VERIFIED_RECORDS) {
            ByteBuffer buffer =
                    content.substring(2, VERIFIED_REQUEST_HEADER_BYTES).asReadOnlyByteBuffer();
            VerificationGuard guard = new VerificationGuard(buffer.getLong(), buffer.getLong());
            return new Append(origin(content.byteAt(1)), content.substring(VERIFIED_REQUEST_HEADER_BYTES), guard);
        }
        if (content.size() < REQUEST_HEADER_BYTES || content.byteAt(0) != RECORDS) {
            throw new IllegalArgumentException("not a partition write request (" + content.size() + " bytes)");
        }
        return new Append(origin(content.byteAt(1)), content.substring(REQUEST_HEADER_BYTES));
    }

    private static DeleteRecords decodeDeleteRecords(ByteString content) {
        ByteBuffer buffer = content.substring(0, DELETE_BYTES).asReadOnlyByteBuffer();
        buffer.get();
        return new DeleteRecords(buffer.getLong());
    }

    static ByteString encodeHeader(BatchValidator.Origin origin, long appendTimeMs) {
        return encodeHeader(origin, appendTimeMs, null);
    }

    static ByteString encodeHeader(BatchValidator.Origin origin, long appendTimeMs, VerificationGuard guard) {
        ByteBuffer header = ByteBuffer.allocate(guard == null ? HEADER_BYTES : VERIFIED_HEADER_BYTES)
                .put(guard == null ? RECORDS : VERIFIED_RECORDS)
                .put((byte) origin.ordinal())
                .putLong(appendTimeMs);
        if (guard != null) {
            header.putLong(guard.term()).putLong(guard.logEndOffset());
        }
        header.flip();
        return UnsafeByteOperations.unsafeWrap(header);
    }

    static Header decodeHeader(ByteString logData) {
        if (logData.size() >= DELETE_BYTES && logData.byteAt(0) == DELETE_RECORDS) {
            return decodeDeleteRecords(logData);
        }
        if (logData.size() >= VERIFIED_HEADER_BYTES && logData.byteAt(0) == VERIFIED_RECORDS) {
            ByteBuffer buffer = logData.substring(0, VERIFIED_HEADER_BYTES).asReadOnlyByteBuffer();
            buffer.get();
            BatchValidator.Origin origin = origin(buffer.get());
            long appendTimeMs = buffer.getLong();
            return new AppendHeader(origin, appendTimeMs, new VerificationGuard(buffer.getLong(), buffer.getLong()));
        }
        if (logData.size() < HEADER_BYTES || logData.byteAt(0) != RECORDS) {
            throw new IllegalStateException("unreadable partition log entry header (" + logData.size() + " bytes)");
        }
        ByteBuffer buffer = logData.substring(0, HEADER_BYTES).asReadOnlyByteBuffer();
        buffer.get();
        BatchValidator.Origin origin = origin(buffer.get());
        return new AppendHeader(origin, buffer.getLong());
    }

    private static BatchValidator.Origin origin(byte code) {
        BatchValidator.Origin[] origins = BatchValidator.Origin.values();
        if (code < 0 || code >= origins.length) {
            throw new IllegalArgumentException("unknown append origin " + code);
        }
        return origins[code];
    }

    static ByteString encodeReply(AppendOutcome outcome) {
        byte[] message = messageBytes(outcome.errorMessage());
        ByteBuffer buffer = ByteBuffer.allocate(1 + 2 + 32 + 2 + message.length)
                .put(RECORDS)
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
        if (buffer.remaining() < 37 || buffer.get() != RECORDS) {
            throw new IllegalStateException("unreadable partition write reply (" + content.size() + " bytes)");
        }
        Errors error = Errors.forCode(buffer.getShort());
        long first = buffer.getLong();
        long last = buffer.getLong();
        long appendTime = buffer.getLong();
        long logStart = buffer.getLong();
        return new AppendOutcome(error, message(buffer), first, last, appendTime, logStart);
    }

    static ByteString encodeDeleteReply(DeleteOutcome outcome) {
        byte[] message = messageBytes(outcome.errorMessage());
        ByteBuffer buffer = ByteBuffer.allocate(1 + 2 + 8 + 2 + message.length)
                .put(DELETE_RECORDS)
                .putShort(outcome.error().code())
                .putLong(outcome.lowWatermark())
                .putShort((short) message.length)
                .put(message);
        buffer.flip();
        return UnsafeByteOperations.unsafeWrap(buffer);
    }

    static DeleteOutcome decodeDeleteReply(ByteString content) {
        ByteBuffer buffer = content.asReadOnlyByteBuffer();
        if (buffer.remaining() < 13 || buffer.get() != DELETE_RECORDS) {
            throw new IllegalStateException("unreadable partition DeleteRecords reply (" + content.size() + " bytes)");
        }
        Errors error = Errors.forCode(buffer.getShort());
        long lowWatermark = buffer.getLong();
        return new DeleteOutcome(error, message(buffer), lowWatermark);
    }

    private static byte[] messageBytes(String message) {
        if (message == null) {
            return new byte[0];
        }
        String truncated = message.length() > 1000 ? message.substring(0, 1000) : message;
        return truncated.getBytes(StandardCharsets.UTF_8);
    }

    private static String message(ByteBuffer buffer) {
        byte[] message = new byte[Short.toUnsignedInt(buffer.getShort())];
        buffer.get(message);
        return message.length == 0 ? null : new String(message, StandardCharsets.UTF_8);
    }
}
