package dev.sluice.propertytests;

import dev.sluice.partitionstore.testing.Batches;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.Tuple;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.internal.CompressionType;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.record.internal.SimpleRecord;

/**
 * Random record batches as producers build them (magic 2, CreateTime, offsets from 0), described by
 * plain values so that jqwik can shrink and print them: keys and values may be null or empty, records
 * carry headers, timestamps need not grow, and every Kafka codec is used.
 */
final class RecordArbitraries {
    /** The manual clock's start and the centre of most generated timestamps. */
    static final long T0 = 1_700_000_000_000L;

    static final List<CompressionType> CODECS = List.of(
            CompressionType.NONE,
            CompressionType.GZIP,
            CompressionType.SNAPPY,
            CompressionType.LZ4,
            CompressionType.ZSTD);

    private static final HexFormat HEX = HexFormat.of();

    private RecordArbitraries() {}

    /** One record header; the value may be null. */
    record HeaderSpec(String key, byte[] value) {
        Header toHeader() {
            return new RecordHeader(key, value);
        }

        @Override
        public String toString() {
            return key + "=" + hex(value);
        }
    }

    /** One record as a producer hands it to the batch builder. */
    record RecordSpec(byte[] key, byte[] value, long timestamp, List<HeaderSpec> headers) {
        SimpleRecord toSimpleRecord() {
            return new SimpleRecord(
                    timestamp,
                    key,
                    value,
                    headers.stream().map(HeaderSpec::toHeader).toArray(Header[]::new));
        }

        /** How the record must read back once the log gave it {@code offset}. */
        RecordView at(long offset) {
            return new RecordView(
                    offset,
                    hex(key),
                    hex(value),
                    timestamp,
                    headers.stream().map(HeaderSpec::toString).toList());
        }

        @Override
        public String toString() {
            return "Record[key=" + hex(key) + ", value=" + hex(value) + ", timestamp=" + timestamp + ", headers="
                    + headers + "]";
        }
    }

    /** One batch: a codec and its records, built with Kafka's {@code MemoryRecords} builder. */
    record BatchSpec(CompressionType compression, List<RecordSpec> records) {
        ByteBuffer build() {
            return Batches.of(
                    compression,
                    records.stream().map(RecordSpec::toSimpleRecord).toList());
        }

        /** The offset delta of the first record carrying the batch's max timestamp. */
        int maxTimestampDelta() {
            long max = RecordBatch.NO_TIMESTAMP;
            int delta = 0;
            for (int i = 0; i < records.size(); i++) {
                if (records.get(i).timestamp() > max) {
                    max = records.get(i).timestamp();
                    delta = i;
                }
            }
            return delta;
        }
    }

    /** Bytes as lower-case hex, or "null". */
    static String hex(byte[] bytes) {
        return bytes == null ? "null" : "0x" + HEX.formatHex(bytes);
    }

    static String hex(ByteBuffer bytes) {
        if (bytes == null) {
            return "null";
        }
        byte[] copy = new byte[bytes.remaining()];
        bytes.duplicate().get(copy);
        return hex(copy);
    }

    /** Timestamps as producers send them: mostly near {@link #T0} and unordered, some ancient, some -1. */
    static Arbitrary<Long> timestamps() {
        return Arbitraries.frequencyOf(
                Tuple.of(85, Arbitraries.longs().between(T0, T0 + 999)),
                Tuple.of(10, Arbitraries.longs().between(0, 999)),
                Tuple.of(5, Arbitraries.just(RecordBatch.NO_TIMESTAMP)));
    }

    /** Null, empty, random (incompressible) or repetitive (compressible) bytes. */
    static Arbitrary<byte[]> payloads(int maxBytes) {
        Arbitrary<byte[]> random = Arbitraries.bytes()
                .array(byte[].class)
                .ofMaxSize(maxBytes)
                .withSizeDistribution(RandomDistribution.uniform());
        Arbitrary<byte[]> repetitive = Combinators.combine(
                        Arbitraries.strings()
                                .withCharRange('a', 'd')
                                .ofMinLength(1)
                                .ofMaxLength(4),
                        Arbitraries.integers().between(0, maxBytes).withDistribution(RandomDistribution.uniform()))
                .as((unit, length) -> repeat(unit, length));
        return Arbitraries.frequencyOf(
                Tuple.of(10, Arbitraries.just((byte[]) null)),
                Tuple.of(10, Arbitraries.just(new byte[0])),
                Tuple.of(40, random),
                Tuple.of(40, repetitive));
    }

    private static byte[] repeat(String unit, int length) {
        byte[] pattern = unit.getBytes(StandardCharsets.US_ASCII);
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = pattern[i % pattern.length];
        }
        return bytes;
    }

    static Arbitrary<HeaderSpec> headers() {
        Arbitrary<String> keys = Arbitraries.strings()
                .withCharRange('a', 'z')
                .withChars('-', '.', 'é', '中')
                .ofMaxLength(8);
        Arbitrary<byte[]> values =
                Arbitraries.bytes().array(byte[].class).ofMaxSize(8).injectNull(0.2);
        return Combinators.combine(keys, values).as(HeaderSpec::new);
    }

    static Arbitrary<RecordSpec> records(Arbitrary<Long> timestamps, int maxValueBytes) {
        Arbitrary<byte[]> keys = payloads(16);
        return Combinators.combine(
                        keys,
                        payloads(maxValueBytes),
                        timestamps,
                        headers().list().ofMaxSize(3))
                .as(RecordSpec::new);
    }

    static Arbitrary<BatchSpec> batches(int maxRecords, Arbitrary<Long> timestamps, int maxValueBytes) {
        return Combinators.combine(
                        Arbitraries.of(CODECS),
                        records(timestamps, maxValueBytes)
                                .list()
                                .ofMinSize(1)
                                .ofMaxSize(maxRecords)
                                .withSizeDistribution(RandomDistribution.uniform()))
                .as(BatchSpec::new);
    }
}
