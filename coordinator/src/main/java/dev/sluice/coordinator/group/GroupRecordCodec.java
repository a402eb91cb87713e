package dev.sluice.coordinator.group;

import dev.sluice.coordinator.group.GroupRecord.GroupMetadata;
import dev.sluice.coordinator.group.GroupRecord.GroupTombstone;
import dev.sluice.coordinator.group.GroupRecord.MemberMetadata;
import dev.sluice.coordinator.group.GroupRecord.OffsetCommit;
import dev.sluice.coordinator.group.GroupRecord.OffsetTombstone;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The binary encoding of {@link GroupRecord}s: the body of a Raft entry of a {@code __consumer_offsets}
 * partition and the value of its materialized view. Integers are big-endian; {@code uvarint} is the
 * unsigned LEB128 varint of Kafka's protocol.
 *
 * <pre>
 * record          := version:int8 (= 1) type:int8 body
 *   type 1 GroupMetadata   := groupId:str generationId:int32 protocolType:nstr protocolName:nstr
 *                             leaderId:nstr currentStateTimestampMs:int64 memberCount:uvarint member*
 *     member               := memberId:str groupInstanceId:nstr clientId:str clientHost:str
 *                             rebalanceTimeoutMs:int32 sessionTimeoutMs:int32 subscription:bytes
 *                             assignment:bytes
 *   type 2 GroupTombstone  := groupId:str
 *   type 3 OffsetCommit    := groupId:str topic:str partition:int32 committedOffset:int64
 *                             leaderEpoch:int32 metadata:str commitTimestampMs:int64 expireTimestampMs:int64
 *   type 4 OffsetTombstone := groupId:str topic:str partition:int32
 * str             := length:uvarint utf8
 * nstr            := (length + 1):uvarint utf8      (0 = null)
 * bytes           := length:uvarint raw
 *
 * batch           := version:int8 (= 1) count:uvarint (length:uvarint record)*
 *
 * key             := kind:int8 groupId:str [topic:str partition:int32]
 *                    (kind 0 = group metadata and its tombstone, 1 = an offset and its tombstone)
 * </pre>
 *
 * A reader rejects an unknown version or type, a truncated record and trailing bytes, naming what it found.
 * A new field means a new version; readers keep decoding the old ones.
 */
public final class GroupRecordCodec {
    /** The record format version written by this codec. */
    public static final byte VERSION = 1;

    private static final byte TYPE_GROUP_METADATA = 1;
    private static final byte TYPE_GROUP_TOMBSTONE = 2;
    private static final byte TYPE_OFFSET_COMMIT = 3;
    private static final byte TYPE_OFFSET_TOMBSTONE = 4;

    private static final byte KEY_GROUP = 0;
    private static final byte KEY_OFFSET = 1;

    private GroupRecordCodec() {}

    /** The encoding of one record. */
    public static byte[] encode(GroupRecord record) {
        Writer out = new Writer(64);
        write(record, out);
        return out.toByteArray();
    }

    /**
     * Decodes one record.
     *
     * @throws IllegalArgumentException if the bytes are not a record of a known version
     */
    public static GroupRecord decode(byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        GroupRecord record = read(in);
        if (in.hasRemaining()) {
            throw new IllegalArgumentException("group record has " + in.remaining() + " trailing bytes after "
                    + record.getClass().getSimpleName());
        }
        return record;
    }

    /** The encoding of several records as one unit (one Raft entry for the records of one result). */
    public static byte[] encodeBatch(List<GroupRecord> records) {
        Writer out = new Writer(64 * Math.max(1, records.size()));
        out.int8(VERSION);
        out.uvarint(records.size());
        for (GroupRecord record : records) {
            byte[] bytes = encode(record);
            out.bytes(bytes);
        }
        return out.toByteArray();
    }

    /**
     * Decodes what {@link #encodeBatch} wrote.
     *
     * @throws IllegalArgumentException if the bytes are not a batch of a known version
     */
    public static List<GroupRecord> decodeBatch(byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        try {
            byte version = in.get();
            if (version != VERSION) {
                throw new IllegalArgumentException(
                        "group record batch has version " + version + ", expected " + VERSION);
            }
            int count = uvarint(in);
            List<GroupRecord> records = new ArrayList<>(Math.min(count, 1024));
            for (int i = 0; i < count; i++) {
                records.add(decode(bytesOf(in)));
            }
            if (in.hasRemaining()) {
                throw new IllegalArgumentException(
                        "group record batch has " + in.remaining() + " trailing bytes after " + count + " records");
            }
            return records;
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("group record batch is truncated at byte " + in.position(), e);
        }
    }

    /** The compaction key of a record; see the class comment. */
    public static byte[] key(GroupRecord record) {
        Writer out = new Writer(32);
        if (record instanceof OffsetCommit c) {
            out.int8(KEY_OFFSET).str(c.groupId()).str(c.topic()).int32(c.partition());
        } else if (record instanceof OffsetTombstone t) {
            out.int8(KEY_OFFSET).str(t.groupId()).str(t.topic()).int32(t.partition());
        } else {
            out.int8(KEY_GROUP).str(record.groupId());
        }
        return out.toByteArray();
    }

    private static void write(GroupRecord record, Writer out) {
        out.int8(VERSION);
        if (record instanceof GroupMetadata g) {
            out.int8(TYPE_GROUP_METADATA)
                    .str(g.groupId())
                    .int32(g.generationId())
                    .nstr(g.protocolType())
                    .nstr(g.protocolName())
                    .nstr(g.leaderId())
                    .int64(g.currentStateTimestampMs())
                    .uvarint(g.members().size());
            for (MemberMetadata m : g.members()) {
                out.str(m.memberId())
                        .nstr(m.groupInstanceId())
                        .str(m.clientId())
                        .str(m.clientHost())
                        .int32(m.rebalanceTimeoutMs())
                        .int32(m.sessionTimeoutMs())
                        .bytes(m.subscription())
                        .bytes(m.assignment());
            }
        } else if (record instanceof GroupTombstone t) {
            out.int8(TYPE_GROUP_TOMBSTONE).str(t.groupId());
        } else if (record instanceof OffsetCommit c) {
            out.int8(TYPE_OFFSET_COMMIT)
                    .str(c.groupId())
                    .str(c.topic())
                    .int32(c.partition())
                    .int64(c.committedOffset())
                    .int32(c.leaderEpoch())
                    .str(c.metadata())
                    .int64(c.commitTimestampMs())
                    .int64(c.expireTimestampMs());
        } else if (record instanceof OffsetTombstone t) {
            out.int8(TYPE_OFFSET_TOMBSTONE).str(t.groupId()).str(t.topic()).int32(t.partition());
        } else {
            throw new IllegalArgumentException("unknown group record " + record);
        }
    }

    private static GroupRecord read(ByteBuffer in) {
        try {
            byte version = in.get();
            if (version != VERSION) {
                throw new IllegalArgumentException("group record has version " + version + ", expected " + VERSION);
            }
            byte type = in.get();
            switch (type) {
                case TYPE_GROUP_METADATA:
                    return readGroupMetadata(in);
                case TYPE_GROUP_TOMBSTONE:
                    return new GroupTombstone(str(in));
                case TYPE_OFFSET_COMMIT:
                    return new OffsetCommit(
                            str(in),
                            str(in),
                            in.getInt(),
                            in.getLong(),
                            in.getInt(),
                            str(in),
                            in.getLong(),
                            in.getLong());
                case TYPE_OFFSET_TOMBSTONE:
                    return new OffsetTombstone(str(in), str(in), in.getInt());
                default:
                    throw new IllegalArgumentException("group record has unknown type " + type);
            }
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("group record is truncated at byte " + in.position(), e);
        }
    }

    private static GroupMetadata readGroupMetadata(ByteBuffer in) {
        String groupId = str(in);
        int generationId = in.getInt();
        String protocolType = nstr(in);
        String protocolName = nstr(in);
        String leaderId = nstr(in);
        long currentStateTimestampMs = in.getLong();
        int count = uvarint(in);
        List<MemberMetadata> members = new ArrayList<>(Math.min(count, 1024));
        for (int i = 0; i < count; i++) {
            members.add(new MemberMetadata(
                    str(in), nstr(in), str(in), str(in), in.getInt(), in.getInt(), bytesOf(in), bytesOf(in)));
        }
        return new GroupMetadata(
                groupId, generationId, protocolType, protocolName, leaderId, currentStateTimestampMs, members);
    }

    private static int uvarint(ByteBuffer in) {
        int value = 0;
        for (int shift = 0; shift < 35; shift += 7) {
            byte b = in.get();
            value |= (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                if (value < 0) {
                    throw new IllegalArgumentException("group record has a negative length " + value);
                }
                return value;
            }
        }
        throw new IllegalArgumentException("group record has a varint longer than 5 bytes at byte " + in.position());
    }

    private static byte[] bytesOf(ByteBuffer in) {
        int length = uvarint(in);
        if (length > in.remaining()) {
            throw new IllegalArgumentException(
                    "group record field of " + length + " bytes overruns the " + in.remaining() + " bytes left");
        }
        byte[] bytes = new byte[length];
        in.get(bytes);
        return bytes;
    }

    private static String str(ByteBuffer in) {
        return utf8(bytesOf(in));
    }

    private static String nstr(ByteBuffer in) {
        int lengthPlusOne = uvarint(in);
        if (lengthPlusOne == 0) {
            return null;
        }
        int length = lengthPlusOne - 1;
        if (length > in.remaining()) {
            throw new IllegalArgumentException(
                    "group record string of " + length + " bytes overruns the " + in.remaining() + " bytes left");
        }
        byte[] bytes = new byte[length];
        in.get(bytes);
        return utf8(bytes);
    }

    private static String utf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("group record has a string that is not UTF-8", e);
        }
    }

    /** A growable big-endian buffer. */
    private static final class Writer {
        private byte[] buf;
        private int size;

        Writer(int capacity) {
            buf = new byte[Math.max(16, capacity)];
        }

        private void ensure(int more) {
            if (size + more > buf.length) {
                buf = Arrays.copyOf(buf, Math.max(buf.length * 2, size + more));
            }
        }

        Writer int8(byte v) {
            ensure(1);
            buf[size++] = v;
            return this;
        }

        Writer int32(int v) {
            ensure(4);
            for (int shift = 24; shift >= 0; shift -= 8) {
                buf[size++] = (byte) (v >>> shift);
            }
            return this;
        }

        Writer int64(long v) {
            ensure(8);
            for (int shift = 56; shift >= 0; shift -= 8) {
                buf[size++] = (byte) (v >>> shift);
            }
            return this;
        }

        Writer uvarint(int v) {
            ensure(5);
            while ((v & ~0x7f) != 0) {
                buf[size++] = (byte) ((v & 0x7f) | 0x80);
                v >>>= 7;
            }
            buf[size++] = (byte) v;
            return this;
        }

        Writer bytes(byte[] v) {
            uvarint(v.length);
            ensure(v.length);
            System.arraycopy(v, 0, buf, size, v.length);
            size += v.length;
            return this;
        }

        Writer str(String v) {
            return bytes(v.getBytes(StandardCharsets.UTF_8));
        }

        Writer nstr(String v) {
            if (v == null) {
                return uvarint(0);
            }
            byte[] bytes = v.getBytes(StandardCharsets.UTF_8);
            uvarint(bytes.length + 1);
            ensure(bytes.length);
            System.arraycopy(bytes, 0, buf, size, bytes.length);
            size += bytes.length;
            return this;
        }

        byte[] toByteArray() {
            return Arrays.copyOf(buf, size);
        }
    }
}
