package dev.sluice.coordinator.group;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.coordinator.group.GroupRecord.GroupMetadata;
import dev.sluice.coordinator.group.GroupRecord.GroupTombstone;
import dev.sluice.coordinator.group.GroupRecord.MemberMetadata;
import dev.sluice.coordinator.group.GroupRecord.OffsetCommit;
import dev.sluice.coordinator.group.GroupRecord.OffsetTombstone;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class GroupRecordCodecTest {
    private static final GroupMetadata METADATA = new GroupMetadata(
            "group-é",
            7,
            "consumer",
            "range",
            "m-1",
            123_456L,
            List.of(
                    new MemberMetadata(
                            "m-1", null, "client", "/10.0.0.1", 60_000, 10_000, new byte[] {1, 2}, new byte[] {3}),
                    new MemberMetadata("m-2", "instance-2", "client", "/10.0.0.2", 1, 2, new byte[0], new byte[0])));

    private static final List<GroupRecord> EXAMPLES = List.of(
            METADATA,
            new GroupMetadata("empty", 3, "consumer", null, null, -1L, List.of()),
            new GroupMetadata("never", 0, null, null, null, 5L, List.of()),
            new GroupTombstone("g"),
            new OffsetCommit("g", "topic", 4, 1L << 40, 17, "meta", 99L, -1L),
            new OffsetCommit("g", "", 0, -1, -1, "", Long.MIN_VALUE, Long.MAX_VALUE),
            new OffsetTombstone("g", "topic", Integer.MAX_VALUE));

    @Test
    void shouldRoundTripEveryRecordType() {
        for (GroupRecord record : EXAMPLES) {
            assertThat(GroupRecordCodec.decode(GroupRecordCodec.encode(record))).isEqualTo(record);
        }
    }

    @Test
    void shouldRoundTripABatch() {
        assertThat(GroupRecordCodec.decodeBatch(GroupRecordCodec.encodeBatch(EXAMPLES)))
                .isEqualTo(EXAMPLES);
        assertThat(GroupRecordCodec.decodeBatch(GroupRecordCodec.encodeBatch(List.of())))
                .isEmpty();
    }

    @Test
    void shouldGiveARecordAndItsTombstoneTheSameKey() {
        assertThat(new GroupTombstone("g").key())
                .isEqualTo(new GroupMetadata("g", 1, null, null, null, 0, List.of()).key());
        assertThat(new OffsetTombstone("g", "t", 1).key())
                .isEqualTo(new OffsetCommit("g", "t", 1, 5, -1, "", 0, -1).key());
        assertThat(new OffsetTombstone("g", "t", 1).key()).isNotEqualTo(new OffsetTombstone("g", "t", 2).key());
        assertThat(new GroupTombstone("g").key()).isNotEqualTo(new OffsetTombstone("g", "", 0).key());
    }

    @Test
    void shouldRejectAnUnknownVersionOrType() {
        byte[] bytes = GroupRecordCodec.encode(new GroupTombstone("g"));
        bytes[0] = 9;
        assertThatThrownBy(() -> GroupRecordCodec.decode(bytes)).hasMessageContaining("version 9");
        bytes[0] = GroupRecordCodec.VERSION;
        bytes[1] = 42;
        assertThatThrownBy(() -> GroupRecordCodec.decode(bytes)).hasMessageContaining("unknown type 42");
    }

    @Test
    void shouldRejectTruncatedRecordsAndTrailingBytes() {
        byte[] bytes = GroupRecordCodec.encode(METADATA);
        for (int length = 0; length < bytes.length; length++) {
            byte[] truncated = Arrays.copyOf(bytes, length);
            assertThatThrownBy(() -> GroupRecordCodec.decode(truncated)).isInstanceOf(IllegalArgumentException.class);
        }
        byte[] longer = Arrays.copyOf(bytes, bytes.length + 1);
        assertThatThrownBy(() -> GroupRecordCodec.decode(longer)).hasMessageContaining("trailing");
    }

    @Property(tries = 300)
    void recordsSurviveEncoding(@ForAll("records") GroupRecord record) {
        assertThat(GroupRecordCodec.decode(GroupRecordCodec.encode(record))).isEqualTo(record);
        assertThat(GroupRecordCodec.decodeBatch(GroupRecordCodec.encodeBatch(List.of(record, record))))
                .containsExactly(record, record);
    }

    @Provide
    Arbitrary<GroupRecord> records() {
        Arbitrary<String> strings =
                Arbitraries.strings().withCharRange(' ', '\u00ff').ofMaxLength(20);
        Arbitrary<String> nullable = strings.injectNull(0.3);
        Arbitrary<byte[]> bytes = Arbitraries.bytes().array(byte[].class).ofMaxSize(40);
        Arbitrary<MemberMetadata> member = Combinators.combine(
                        strings,
                        nullable,
                        strings,
                        strings,
                        Arbitraries.integers(),
                        Arbitraries.integers(),
                        bytes,
                        bytes)
                .as(MemberMetadata::new);
        Arbitrary<GroupRecord> metadata = Combinators.combine(
                        strings,
                        Arbitraries.integers(),
                        nullable,
                        nullable,
                        nullable,
                        Arbitraries.longs(),
                        member.list().ofMaxSize(5))
                .as((g, gen, type, name, leader, ts, members) ->
                        new GroupMetadata(g, gen, type, name, leader, ts, new ArrayList<>(members)));
        Arbitrary<GroupRecord> commit = Combinators.combine(
                        strings,
                        strings,
                        Arbitraries.integers(),
                        Arbitraries.longs(),
                        Arbitraries.integers(),
                        strings,
                        Arbitraries.longs(),
                        Arbitraries.longs())
                .as(OffsetCommit::new);
        Arbitrary<GroupRecord> groupTombstone = strings.map(GroupTombstone::new);
        Arbitrary<GroupRecord> offsetTombstone =
                Combinators.combine(strings, strings, Arbitraries.integers()).as(OffsetTombstone::new);
        return Arbitraries.oneOf(metadata, commit, groupTombstone, offsetTombstone);
    }
}
