package dev.sluice.partitionstore;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.errors.CorruptRecordException;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.CompressionType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.utils.CloseableIterator;
import org.xerial.snappy.SnappyError;

/**
 * Checks the record batches of one append with Kafka's own record classes, as a broker does before it
 * writes anything: framing and sizes, magic, CRC-32C, compression codec, record count and the offset
 * deltas inside each batch (which means decompressing compressed batches). Pure; thread-safe.
 */
public final class BatchValidator {
    private BatchValidator() {}

    /** Who is appending: clients may not write control batches; the transaction coordinator may. */
    public enum Origin {
        CLIENT,
        COORDINATOR
    }

    /**
     * The outcome: either an error (with the Kafka code a broker answers) or the batches found.
     *
     * @param error {@link Errors#NONE} when every batch is valid
     * @param message why the batches were rejected, else null
     * @param batches the valid batches, views over the caller's buffer, in order
     * @param maxTimestampDeltas for each batch, the offset delta of its first record carrying the batch's
     *     max timestamp (what {@code ListOffsets} with the max-timestamp spec answers)
     */
    public record Result(Errors error, String message, List<MutableRecordBatch> batches, int[] maxTimestampDeltas) {
        static Result rejected(Errors error, String message) {
            return new Result(error, message, List.of(), new int[0]);
        }

        public boolean valid() {
            return error == Errors.NONE;
        }
    }

    /**
     * Validates the bytes between {@code records.position()} and its limit.
     *
     * @param maxMessageBytes the largest batch accepted ({@code max.message.bytes})
     * @param segmentBytes the largest append accepted as a whole ({@code segment.bytes})
     */
    public static Result validate(ByteBuffer records, Origin origin, int maxMessageBytes, int segmentBytes) {
        int total = records.remaining();
        if (total == 0) {
            return Result.rejected(Errors.INVALID_RECORD, "the append holds no record batch");
        }
        if (total > segmentBytes) {
            return Result.rejected(
                    Errors.RECORD_LIST_TOO_LARGE,
                    "the append is " + total + " bytes, larger than segment.bytes (" + segmentBytes + ")");
        }
        List<MutableRecordBatch> batches = new ArrayList<>();
        List<Integer> deltas = new ArrayList<>();
        int seen = 0;
        ByteBuffer all = records.slice();
        try {
            for (MutableRecordBatch batch :
                    MemoryRecords.readableRecords(all.duplicate()).batches()) {
                int[] maxTimestampDelta = new int[1];
                Result problem = check(all, seen, batch, origin, maxMessageBytes, maxTimestampDelta);
                if (problem != null) {
                    return problem;
                }
                batches.add(batch);
                deltas.add(maxTimestampDelta[0]);
                seen += batch.sizeInBytes();
            }
        } catch (CorruptRecordException e) {
            return Result.rejected(Errors.CORRUPT_MESSAGE, e.getMessage());
        } catch (InvalidRecordException e) {
            return Result.rejected(Errors.INVALID_RECORD, e.getMessage());
        }
        if (seen != total) {
            return Result.rejected(
                    Errors.CORRUPT_MESSAGE,
                    "the append is " + total + " bytes but its complete batches cover only " + seen
                            + " (a truncated batch at position " + seen + ")");
        }
        return new Result(
                Errors.NONE,
                null,
                batches,
                deltas.stream().mapToInt(Integer::intValue).toArray());
    }

    private static Result check(
            ByteBuffer all,
            int start,
            MutableRecordBatch batch,
            Origin origin,
            int maxMessageBytes,
            int[] maxTimestampDelta) {
        if (batch.magic() != RecordBatch.MAGIC_VALUE_V2) {
            return Result.rejected(
                    Errors.INVALID_RECORD,
                    "record batch magic " + batch.magic() + " is not supported; only magic 2 is");
        }
        if (batch.sizeInBytes() > maxMessageBytes) {
            return Result.rejected(
                    Errors.MESSAGE_TOO_LARGE,
                    "a record batch of " + batch.sizeInBytes() + " bytes is larger than max.message.bytes ("
                            + maxMessageBytes + ")");
        }
        if (!batch.isValid()) {
            return Result.rejected(
                    Errors.CORRUPT_MESSAGE,
                    "record batch at offset " + batch.baseOffset() + " fails its CRC check (stored " + batch.checksum()
                            + ")");
        }
        CompressionType compression;
        try {
            compression = batch.compressionType();
        } catch (IllegalArgumentException e) {
            return Result.rejected(Errors.UNSUPPORTED_COMPRESSION_TYPE, e.getMessage());
        }
        if (batch.isControlBatch() && origin == Origin.CLIENT) {
            return Result.rejected(Errors.INVALID_RECORD, "clients may not write control batches");
        }
        if (origin == Origin.CLIENT && batch.hasProducerId() && batch.baseSequence() < 0) {
            // Only the coordinators write a producer's batches without a sequence (transactional offset
            // commits); a client's would skip the duplicate and order checks.
            return Result.rejected(
                    Errors.INVALID_RECORD,
                    "a batch of producer " + batch.producerId() + " must carry a sequence number");
        }
        Integer count = batch.countOrNull();
        if (count == null || count <= 0) {
            return Result.rejected(Errors.INVALID_RECORD, "a record batch must hold at least one record");
        }
        if (batch.lastOffset() - batch.baseOffset() != count - 1) {
            return Result.rejected(
                    Errors.INVALID_RECORD,
                    "record batch claims " + count + " records but its last offset delta is "
                            + (batch.lastOffset() - batch.baseOffset()));
        }
        if (compression == CompressionType.SNAPPY) {
            String problem = SnappyFraming.problem(all, start + BatchHeader.HEADER_BYTES, start + batch.sizeInBytes());
            if (problem != null) {
                return Result.rejected(Errors.CORRUPT_MESSAGE, problem);
            }
        }
        return checkRecords(batch, compression, count, maxTimestampDelta);
    }

    private static Result checkRecords(
            MutableRecordBatch batch, CompressionType compression, int count, int[] maxTimestampDelta) {
        long expected = batch.baseOffset();
        long maxTimestamp = batch.maxTimestamp();
        boolean maxFound = false;
        int seen = 0;
        try (CloseableIterator<Record> it =
                batch.streamingIterator(org.apache.kafka.common.utils.BufferSupplier.NO_CACHING)) {
            while (it.hasNext()) {
                Record record = it.next();
                if (record.offset() != expected) {
                    return Result.rejected(
                            Errors.INVALID_RECORD,
                            "record " + seen + " of a " + compression.name + " batch has offset delta "
                                    + (record.offset() - batch.baseOffset()) + ", expected " + seen);
                }
                if (!maxFound && record.timestamp() == maxTimestamp) {
                    maxTimestampDelta[0] = seen;
                    maxFound = true;
                }
                expected++;
                seen++;
            }
        } catch (CorruptRecordException e) {
            return Result.rejected(Errors.CORRUPT_MESSAGE, e.getMessage());
        } catch (InvalidRecordException e) {
            return Result.rejected(Errors.INVALID_RECORD, e.getMessage());
        } catch (RuntimeException | SnappyError e) {
            // Decompression libraries signal garbage with their own exception types (snappy-java with an Error).
            return Result.rejected(
                    Errors.CORRUPT_MESSAGE,
                    "cannot read the records of a " + compression.name + " batch: " + e.getMessage());
        }
        if (seen != count) {
            return Result.rejected(
                    Errors.INVALID_RECORD, "record batch claims " + count + " records but holds " + seen);
        }
        return null;
    }
}
