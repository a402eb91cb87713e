package dev.sluice.propertytests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.sluice.partitionstore.AppendResult;
import dev.sluice.partitionstore.BatchHeader;
import dev.sluice.partitionstore.BatchValidator;
import dev.sluice.partitionstore.BatchValidator.Origin;
import dev.sluice.partitionstore.LogConfig;
import dev.sluice.partitionstore.LogReadResult;
import dev.sluice.partitionstore.testing.Batches;
import dev.sluice.partitionstore.testing.LogFixture;
import dev.sluice.propertytests.RecordArbitraries.BatchSpec;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterProperty;
import net.jqwik.api.lifecycle.BeforeProperty;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;

/**
 * The batch path checked against Kafka's own record classes: whatever Kafka's {@code MemoryRecords}
 * builder makes, {@link BatchValidator} accepts and the log hands back record for record as Kafka decodes
 * it; and a damaged batch is rejected with a Kafka error, never accepted and never with an exception.
 */
class RecordBatchCodecProperties {
    private static final int MAX_MESSAGE_BYTES = LogConfig.defaults().maxMessageBytes();
    private static final Set<Errors> REJECTIONS =
            Set.of(Errors.CORRUPT_MESSAGE, Errors.INVALID_RECORD, Errors.UNSUPPORTED_COMPRESSION_TYPE);
    private static final int LEADER_EPOCH = 7;

    private Path dataDir;
    private LogFixture fixture;

    @BeforeProperty
    void openLog() {
        dataDir = TempDirs.create("sluice-codec-");
        fixture = new LogFixture(dataDir, LogConfig.defaults().with(LogConfig.SEGMENT_BYTES, 256 * 1024));
    }

    @AfterProperty
    void deleteLog() {
        try {
            fixture.close();
        } finally {
            TempDirs.delete(dataDir);
        }
    }

    @Provide
    Arbitrary<BatchSpec> batches() {
        Arbitrary<Long> timestamps = Arbitraries.frequencyOf(
                Tuple.of(90, Arbitraries.longs().between(0, 4_000_000_000_000L)),
                Tuple.of(10, Arbitraries.just(RecordBatch.NO_TIMESTAMP)));
        return RecordArbitraries.batches(200, timestamps, 100);
    }

    @Property(tries = 300)
    void appendedBatchesReadBackAsKafkaDecodesThem(@ForAll("batches") BatchSpec spec) {
        ByteBuffer sent = spec.build();
        List<RecordView> kafkaDecoded = RecordView.decode(Batches.copy(sent));

        AppendResult appended = fixture.log().append(sent, LEADER_EPOCH, Origin.CLIENT);
        assertThat(appended.error()).as(appended.errorMessage()).isEqualTo(Errors.NONE);
        assertThat(appended.lastOffset() - appended.firstOffset() + 1)
                .isEqualTo(spec.records().size());

        LogReadResult read = fixture.log().read(appended.firstOffset(), Integer.MAX_VALUE, Long.MAX_VALUE);
        assertThat(read.error()).as(read.errorMessage()).isEqualTo(Errors.NONE);
        List<RecordBatch> batches = new ArrayList<>();
        read.memoryRecords().batches().forEach(batches::add);
        assertThat(batches).as("the one batch appended").hasSize(1);
        RecordBatch batch = batches.get(0);
        assertThat(batch.isValid()).as("the batch read back passes its CRC").isTrue();
        assertThat(batch.compressionType()).isEqualTo(spec.compression());
        assertThat(batch.partitionLeaderEpoch()).isEqualTo(LEADER_EPOCH);
        assertThat(RecordView.of(batch))
                .isEqualTo(kafkaDecoded.stream()
                        .map(record -> record.shiftedBy(appended.firstOffset()))
                        .toList());
    }

    @Property(tries = 300)
    void validatorAcceptsEveryBatchKafkaBuilds(@ForAll("batches") BatchSpec spec) {
        ByteBuffer batch = spec.build();
        BatchValidator.Result result =
                BatchValidator.validate(batch, Origin.CLIENT, MAX_MESSAGE_BYTES, Integer.MAX_VALUE);
        assertThat(result.error()).as(result.message()).isEqualTo(Errors.NONE);
        assertThat(result.batches()).hasSize(1);
        assertThat(result.maxTimestampDeltas()).containsExactly(spec.maxTimestampDelta());
    }

    /**
     * Any flip from the length field on (length, magic, CRC and everything the CRC covers) is caught;
     * only the base offset and the leader epoch, which the log overwrites, are outside the check.
     */
    @Property(tries = 300)
    void aFlippedByteAfterTheBaseOffsetIsRejected(
            @ForAll("batches") BatchSpec spec,
            @ForAll @IntRange(min = 0, max = 1_000_000) int where,
            @ForAll @IntRange(min = 1, max = 255) int mask) {
        ByteBuffer batch = spec.build();
        int position = checkedPosition(batch.remaining(), where);
        batch.put(position, (byte) (batch.get(position) ^ mask));
        BatchValidator.Result result = validateWithoutThrowing(batch, "byte " + position + " ^ " + mask);
        assertThat(result.error())
                .as("byte %d of %d flipped with %d: %s", position, batch.remaining(), mask, result.message())
                .isIn(REJECTIONS);
    }

    /** The base offset and leader epoch come from the log, so damage to them is not the producer's. */
    @Property(tries = 100)
    void fieldsTheLogOverwritesAreIgnored(
            @ForAll("batches") BatchSpec spec,
            @ForAll @IntRange(min = 0, max = 11) int where,
            @ForAll @IntRange(min = 1, max = 255) int mask) {
        ByteBuffer batch = spec.build();
        List<RecordView> kafkaDecoded = RecordView.decode(Batches.copy(batch));
        int position = where < 8 ? where : BatchHeader.PARTITION_LEADER_EPOCH_OFFSET + where - 8;
        batch.put(position, (byte) (batch.get(position) ^ mask));

        AppendResult appended = fixture.log().append(batch, LEADER_EPOCH, Origin.CLIENT);
        assertThat(appended.error()).as(appended.errorMessage()).isEqualTo(Errors.NONE);
        LogReadResult read = fixture.log().read(appended.firstOffset(), Integer.MAX_VALUE, Long.MAX_VALUE);
        assertThat(RecordView.decode(read.records()))
                .isEqualTo(kafkaDecoded.stream()
                        .map(record -> record.shiftedBy(appended.firstOffset()))
                        .toList());
    }

    /**
     * Damage that keeps a valid CRC (a buggy producer) is rejected with a Kafka error, or accepted only when
     * every record still decodes: the log never stores a batch a consumer cannot read.
     */
    @Property(tries = 300)
    void anAcceptedBatchAlwaysDecodesCompletely(
            @ForAll("batches") BatchSpec spec,
            @ForAll @IntRange(min = 0, max = 1_000_000) int where,
            @ForAll @IntRange(min = 1, max = 255) int mask) {
        ByteBuffer batch = spec.build();
        int covered = batch.remaining() - BatchHeader.ATTRIBUTES_OFFSET;
        int position = BatchHeader.ATTRIBUTES_OFFSET + (int) ((long) where * covered / 1_000_001);
        batch.put(position, (byte) (batch.get(position) ^ mask));
        batch.putInt(BatchHeader.CRC_OFFSET, (int) BatchHeader.computeCrc(batch, 0, batch.remaining()));
        String damage = "byte " + position + " ^ " + mask + " with the CRC rewritten";

        BatchValidator.Result result = validateWithoutThrowing(batch.duplicate(), damage);
        if (!result.valid()) {
            assertThat(result.error()).as("%s: %s", damage, result.message()).isIn(REJECTIONS);
            return;
        }
        for (RecordBatch accepted :
                MemoryRecords.readableRecords(batch.duplicate()).batches()) {
            int count = 0;
            try {
                for (Record record : accepted) {
                    RecordView.of(record);
                    count++;
                }
            } catch (RuntimeException e) {
                fail("validate accepted a batch (" + damage + ") that Kafka cannot decode: " + e, e);
            }
            assertThat(count).as(damage + ": records decoded").isEqualTo(accepted.countOrNull());
        }
    }

    /** A position from the length field to the end, skipping the leader epoch. */
    private static int checkedPosition(int size, int where) {
        int checked = size - BatchHeader.LENGTH_OFFSET - 4;
        int index = (int) ((long) where * checked / 1_000_001);
        return index < 4 ? BatchHeader.LENGTH_OFFSET + index : BatchHeader.MAGIC_OFFSET + index - 4;
    }

    private static BatchValidator.Result validateWithoutThrowing(ByteBuffer batch, String damage) {
        try {
            return BatchValidator.validate(batch, Origin.CLIENT, MAX_MESSAGE_BYTES, Integer.MAX_VALUE);
        } catch (RuntimeException e) {
            throw new AssertionError("validate threw instead of rejecting a batch with " + damage + ": " + e, e);
        }
    }
}
