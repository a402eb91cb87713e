package dev.sluice.propertytests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.partitionstore.CommittedOffset;
import dev.sluice.partitionstore.PartitionState;
import dev.sluice.partitionstore.ProducerStateEntry;
import dev.sluice.partitionstore.ProducerStateEntry.BatchMetadata;
import dev.sluice.partitionstore.rocksdb.MetadataCodec;
import java.nio.ByteBuffer;
import java.util.Arrays;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.apache.kafka.common.TopicPartition;

/**
 * {@link MetadataCodec}: every value decodes to what was encoded, and keys sort in RocksDB (bytewise,
 * unsigned) as their numbers do. Keys are composed as the codec's layout documents them, {@code
 * partitionPrefix(tp) | i64 offset}; the RocksDB-level ordering through the codec's own key builder is
 * covered by {@link SparseIndexProperties}.
 */
class MetadataCodecProperties {

    @Provide
    Arbitrary<ProducerStateEntry> producers() {
        Arbitrary<BatchMetadata> batch = Combinators.combine(
                        Arbitraries.integers(),
                        Arbitraries.integers(),
                        Arbitraries.longs(),
                        Arbitraries.longs(),
                        Arbitraries.longs())
                .as(BatchMetadata::new);
        return Combinators.combine(
                        Arbitraries.longs(),
                        Arbitraries.shorts(),
                        batch.list().ofMaxSize(ProducerStateEntry.MAX_BATCHES),
                        Arbitraries.longs(),
                        Arbitraries.longs())
                .as(ProducerStateEntry::new);
    }

    @Property
    void producerStateDecodesToWhatWasEncoded(@ForAll("producers") ProducerStateEntry entry) {
        byte[] encoded = MetadataCodec.encodeProducer(entry);
        assertThat(MetadataCodec.decodeProducer(entry.producerId(), encoded)).isEqualTo(entry);
    }

    /** Commit metadata is any text a client can send: well-formed UTF-16, so no lone surrogates. */
    static Arbitrary<String> text(int maxCodePoints) {
        Arbitrary<Integer> codePoint = Arbitraries.oneOf(
                Arbitraries.integers().between(0, 0x7F),
                Arbitraries.integers().between(0x80, 0xD7FF),
                Arbitraries.integers().between(0xE000, 0x10FFFF));
        return codePoint.list().ofMaxSize(maxCodePoints).map(points -> {
            StringBuilder text = new StringBuilder();
            points.forEach(text::appendCodePoint);
            return text.toString();
        });
    }

    @Provide
    Arbitrary<CommittedOffset> committedOffsets() {
        return Combinators.combine(
                        Arbitraries.longs(),
                        Arbitraries.integers(),
                        text(300),
                        Arbitraries.longs(),
                        Arbitraries.longs())
                .as(CommittedOffset::new);
    }

    @Property
    void committedOffsetDecodesToWhatWasEncoded(@ForAll("committedOffsets") CommittedOffset offset) {
        assertThat(MetadataCodec.decodeCommittedOffset(MetadataCodec.encodeCommittedOffset(offset)))
                .isEqualTo(offset);
    }

    /** Up to 65535 bytes of metadata round-trip; more is refused, never cut short. */
    @Property(tries = 30)
    void commitMetadataUpTo65535BytesRoundTripsAndLongerIsRefused(
            @ForAll @IntRange(min = 65_530, max = 65_540) int metadataBytes,
            @ForAll @IntRange(min = 0, max = 2) int wide) {
        // Some two-byte characters, so that bytes and chars differ.
        String metadata = "é".repeat(wide) + "m".repeat(metadataBytes - 2 * wide);
        CommittedOffset offset = new CommittedOffset(42, 3, metadata, 1, -1);
        if (metadataBytes <= 0xFFFF) {
            assertThat(MetadataCodec.decodeCommittedOffset(MetadataCodec.encodeCommittedOffset(offset)))
                    .isEqualTo(offset);
        } else {
            assertThatThrownBy(() -> MetadataCodec.encodeCommittedOffset(offset))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Property
    void partitionStateDecodesToWhatWasEncoded(
            @ForAll long logStartOffset,
            @ForAll long recoveryPoint,
            @ForAll long lastAppliedTerm,
            @ForAll long lastAppliedIndex) {
        PartitionState state = new PartitionState(logStartOffset, recoveryPoint, lastAppliedTerm, lastAppliedIndex);
        assertThat(MetadataCodec.decodeState(MetadataCodec.encodeState(state))).isEqualTo(state);
    }

    // ---- key order ----------------------------------------------------------------------------------

    /** Topic names as Kafka allows them: 1 to 249 of [a-zA-Z0-9._-]. */
    @Provide
    Arbitrary<TopicPartition> partitions() {
        Arbitrary<String> topics = Arbitraries.strings()
                .withCharRange('a', 'z')
                .withCharRange('A', 'Z')
                .withCharRange('0', '9')
                .withChars('.', '_', '-')
                .ofMinLength(1)
                .ofMaxLength(249);
        Arbitrary<String> shortTopics =
                Arbitraries.strings().withChars('a', 'b').ofMinLength(1).ofMaxLength(3);
        return Combinators.combine(
                        Arbitraries.oneOf(topics, shortTopics),
                        Arbitraries.oneOf(
                                Arbitraries.integers().between(0, 3),
                                Arbitraries.integers().between(0, Integer.MAX_VALUE)))
                .as(TopicPartition::new);
    }

    /** {@code partitionPrefix(tp) | i64 offset}, the offset-index key layout. */
    private static byte[] offsetKey(TopicPartition tp, long offset) {
        byte[] prefix = MetadataCodec.partitionPrefix(tp);
        return ByteBuffer.allocate(prefix.length + 8)
                .put(prefix)
                .putLong(offset)
                .array();
    }

    @Property
    void keyByteOrderIsOffsetOrderWithinAPartition(
            @ForAll("partitions") TopicPartition tp,
            @ForAll @LongRange(min = 0, max = Long.MAX_VALUE) long first,
            @ForAll @LongRange(min = 0, max = Long.MAX_VALUE) long second) {
        assertThat(Integer.signum(Arrays.compareUnsigned(offsetKey(tp, first), offsetKey(tp, second))))
                .as("byte order of the keys of offsets %d and %d", first, second)
                .isEqualTo(Long.signum(Long.compare(first, second)));
    }

    @Property
    void keyByteOrderIsOffsetOrderForNeighbouringOffsets(
            @ForAll("partitions") TopicPartition tp,
            @ForAll @LongRange(min = 0, max = Long.MAX_VALUE - 1) long offset) {
        assertThat(Arrays.compareUnsigned(offsetKey(tp, offset), offsetKey(tp, offset + 1)))
                .isNegative();
    }

    /** A partition's keys form one contiguous range: no other partition's key sorts between two of them. */
    @Property
    void keysOfDifferentPartitionsNeverInterleave(
            @ForAll("partitions") TopicPartition tp,
            @ForAll("partitions") TopicPartition other,
            @ForAll @LongRange(min = 0, max = Long.MAX_VALUE) long first,
            @ForAll @LongRange(min = 0, max = Long.MAX_VALUE) long second,
            @ForAll @LongRange(min = 0, max = Long.MAX_VALUE) long otherOffset) {
        if (tp.equals(other)) {
            return;
        }
        byte[] otherKey = offsetKey(other, otherOffset);
        int firstSide = Integer.signum(Arrays.compareUnsigned(offsetKey(tp, first), otherKey));
        int secondSide = Integer.signum(Arrays.compareUnsigned(offsetKey(tp, second), otherKey));
        assertThat(firstSide).as("keys of %s and %s differ", tp, other).isNotZero();
        assertThat(secondSide)
                .as("%s's keys lie on one side of %s's", tp, other)
                .isEqualTo(firstSide);
        byte[] prefix = MetadataCodec.partitionPrefix(tp);
        assertThat(Arrays.equals(otherKey, 0, Math.min(prefix.length, otherKey.length), prefix, 0, prefix.length))
                .as("%s's key does not start with %s's prefix", other, tp)
                .isFalse();
    }

    @Property
    void theKeyPrefixDecodesToItsPartition(
            @ForAll("partitions") TopicPartition tp, @ForAll @LongRange(min = 0, max = Long.MAX_VALUE) long offset) {
        assertThat(MetadataCodec.partitionOf(offsetKey(tp, offset), 0)).isEqualTo(tp);
    }
}
