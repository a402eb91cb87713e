package dev.sluice.partitionstore;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.partitionstore.BatchValidator.Origin;
import dev.sluice.partitionstore.BatchValidator.Result;
import dev.sluice.partitionstore.testing.Batches;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.CompressionType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.junit.jupiter.api.Test;
import org.xerial.snappy.Snappy;

class BatchValidatorTest {
    private static final long T0 = 1_700_000_000_000L;
    private static final int MAX_MESSAGE_BYTES = 1 << 20;
    /** Where the first chunk length of a framed snappy payload sits in a batch. */
    private static final int FIRST_CHUNK_LENGTH = BatchHeader.HEADER_BYTES + 16;

    @Test
    void shouldAcceptSnappyBatchesFramedAsTheJavaClientWritesThem() {
        ByteBuffer batch = Batches.batch(CompressionType.SNAPPY, 20, T0);
        Result result = validate(batch);
        assertThat(result.valid()).as(result.message()).isTrue();
    }

    @Test
    void shouldAcceptSnappyBatchesThatAreOneBareBlockAsLibrdkafkaWritesThem() throws IOException {
        ByteBuffer plain = Batches.batch(CompressionType.NONE, 20, T0);
        byte[] records = new byte[plain.remaining() - BatchHeader.HEADER_BYTES];
        plain.get(BatchHeader.HEADER_BYTES, records);
        ByteBuffer batch = withPayload(plain, Snappy.compress(records), CompressionType.SNAPPY);

        Result result = validate(batch);

        assertThat(result.valid()).as(result.message()).isTrue();
        int count = 0;
        for (RecordBatch accepted :
                MemoryRecords.readableRecords(batch.duplicate()).batches()) {
            for (Record record : accepted) {
                assertThat(record.offset()).isEqualTo(count++);
            }
        }
        assertThat(count).isEqualTo(20);
    }

    /** A chunk length past what the decompressor allows made it throw an Error, out of every catch. */
    @Test
    void shouldRejectASnappyChunkClaimingMoreThanTheDecompressorAllows() {
        ByteBuffer batch = Batches.batch(CompressionType.SNAPPY, 20, T0);
        batch.putInt(FIRST_CHUNK_LENGTH, 1_157_636_678);
        rewriteCrc(batch);

        Result result = validate(batch);

        assertThat(result.error()).isEqualTo(Errors.CORRUPT_MESSAGE);
        assertThat(result.message()).contains("claims 1157636678 bytes");
    }

    /** One within its limit made it allocate that much for a batch of a few hundred bytes. */
    @Test
    void shouldRejectASnappyChunkClaimingMoreBytesThanTheBatchHolds() {
        for (int claim : new int[] {400 << 20, 1 << 16, -5, 0}) {
            ByteBuffer batch = Batches.batch(CompressionType.SNAPPY, 20, T0);
            batch.putInt(FIRST_CHUNK_LENGTH, claim);
            rewriteCrc(batch);

            Result result = validate(batch);

            assertThat(result.error()).as("claim %d", claim).isEqualTo(Errors.CORRUPT_MESSAGE);
            assertThat(result.message()).as("claim %d", claim).contains("snappy chunk");
        }
    }

    @Test
    void shouldRejectSnappyPayloadsThatAreNotValidBlocks() {
        ByteBuffer framed = Batches.batch(CompressionType.SNAPPY, 20, T0);
        framed.put(framed.limit() - 3, (byte) 0xff); // inside the block of the only chunk
        framed.put(FIRST_CHUNK_LENGTH + 4, (byte) 0xff); // its uncompressed length, now a huge varint
        rewriteCrc(framed);
        Result damaged = validate(framed);
        assertThat(damaged.error()).isEqualTo(Errors.CORRUPT_MESSAGE);

        byte[] garbage = new byte[64];
        Arrays.fill(garbage, (byte) 0xfd);
        Result bare =
                validate(withPayload(Batches.batch(CompressionType.NONE, 3, T0), garbage, CompressionType.SNAPPY));
        assertThat(bare.error()).isEqualTo(Errors.CORRUPT_MESSAGE);
        assertThat(bare.message()).contains("neither framed nor one valid snappy block");
    }

    private static Result validate(ByteBuffer batch) {
        return BatchValidator.validate(batch.duplicate(), Origin.CLIENT, MAX_MESSAGE_BYTES, Integer.MAX_VALUE);
    }

    /** The header of {@code template} around a new payload, with the codec, length and CRC made to fit. */
    private static ByteBuffer withPayload(ByteBuffer template, byte[] payload, CompressionType compression) {
        ByteBuffer batch = ByteBuffer.allocate(BatchHeader.HEADER_BYTES + payload.length);
        batch.put(template.duplicate().limit(template.position() + BatchHeader.HEADER_BYTES));
        batch.put(payload);
        batch.flip();
        batch.putInt(BatchHeader.LENGTH_OFFSET, batch.remaining() - BatchHeader.LOG_OVERHEAD);
        short attributes = batch.getShort(BatchHeader.ATTRIBUTES_OFFSET);
        batch.putShort(BatchHeader.ATTRIBUTES_OFFSET, (short) ((attributes & ~0x07) | compression.id));
        rewriteCrc(batch);
        return batch;
    }

    private static void rewriteCrc(ByteBuffer batch) {
        batch.putInt(BatchHeader.CRC_OFFSET, (int) BatchHeader.computeCrc(batch, 0, batch.remaining()));
    }
}
