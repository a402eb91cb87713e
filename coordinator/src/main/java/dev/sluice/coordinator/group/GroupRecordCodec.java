package dev.sluice.coordinator.group;

import dev.sluice.coordinator.codec.RecordReader;
import dev.sluice.coordinator.codec.RecordWriter;
import dev.sluice.coordinator.group.GroupRecord.GroupMetadata;
import dev.sluice.coordinator.group.GroupRecord.GroupTombstone;
import dev.sluice.coordinator.group.GroupRecord.MemberMetadata;
import dev.sluice.coordinator.group.GroupRecord.OffsetCommit;
import dev.sluice.coordinator.group.GroupRecord.OffsetTombstone;
import dev.sluice.coordinator.group.GroupRecord.TxnOffsetCommit;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
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
 *   type 5 TxnOffsetCommit := producerId:int64 producerEpoch:int16 groupId:str topic:str partition:int32
 *                             committedOffset:int64 leaderEpoch:int32 metadata:str commitTimestampMs:int64
 *                             expireTimestampMs:int64
 * str             := length:uvarint utf8
 * nstr            := (length + 1):uvarint utf8      (0 = null)
 * bytes           := length:uvarint raw
 *
 * batch           := version:int8 (= 1) count:uvarint (length:uvarint record)*
 *
 * key             := kind:int8 groupId:str [topic:str partition:int32 [producerId:int64]]
 *                    (kind 0 = group metadata and its tombstone, 1 = an offset and its tombstone,
 *                     2 = a transactional offset of one producer)
 *
 * pending         := version:int8 (= 1) count:uvarint (recordOffset:int64 superseded:int8 record:bytes)*
 *                    (one producer's {@link PendingTxnOffsets.Entry}s; each record a type 5 record)
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
    private static final byte TYPE_TXN_OFFSET_COMMIT = 5;

    private static final byte KEY_GROUP = 0;
    private static final byte KEY_OFFSET = 1;
    private static final byte KEY_TXN_OFFSET = 2;

    private GroupRecordCodec() {}

    /** The encoding of one record. */
    public static byte[] encode(GroupRecord record) {
        RecordWriter out = new RecordWriter(64);
        write(record, out);
        return out.toByteArray();
    }

    /**
     * Decodes one record.
     *
     * @throws IllegalArgumentException if the bytes are not a record of a known version
     */
    public static GroupRecord decode(byte[] bytes) {
        RecordReader in = new RecordReader(ByteBuffer.wrap(bytes), "group record");
        GroupRecord record = read(in);
        if (in.buffer().hasRemaining()) {
            throw new IllegalArgumentException("group record has " + in.buffer().remaining() + " trailing bytes after "
                    + record.getClass().getSimpleName());
        }
        return record;
    }

    /** The encoding of several records as one unit (one Raft entry for the records of one result). */
    public static byte[] encodeBatch(List<GroupRecord> records) {
        RecordWriter out = new RecordWriter(64 * Math.max(1, records.size()));
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
        RecordReader in = new RecordReader(ByteBuffer.wrap(bytes), "group record");
        try {
            byte version = in.int8();
            if (version != VERSION) {
                throw new IllegalArgumentException(
                        "group record batch has version " + version + ", expected " + VERSION);
            }
            int count = in.uvarint();
            List<GroupRecord> records = new ArrayList<>(Math.min(count, 1024));
            for (int i = 0; i < count; i++) {
                records.add(decode(in.bytes()));
            }
            if (in.buffer().hasRemaining()) {
                throw new IllegalArgumentException("group record batch has "
                        + in.buffer().remaining() + " trailing bytes after " + count + " records");
            }
            return records;
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException(
                    "group record batch is truncated at byte " + in.buffer().position(), e);
        }
    }

    /** The encoding of one producer's pending transactional offsets ({@code pending} in the class comment). */
    public static byte[] encodePending(List<PendingTxnOffsets.Entry> entries) {
        RecordWriter out = new RecordWriter(64 * Math.max(1, entries.size()));
        out.int8(VERSION);
        out.uvarint(entries.size());
        for (PendingTxnOffsets.Entry entry : entries) {
            out.int64(entry.recordOffset()).int8((byte) (entry.superseded() ? 1 : 0));
            out.bytes(encode(entry.record()));
        }
        return out.toByteArray();
    }

    /**
     * Decodes what {@link #encodePending} wrote.
     *
     * @throws IllegalArgumentException if the bytes are not pending offsets of a known version
     */
    public static List<PendingTxnOffsets.Entry> decodePending(byte[] bytes) {
        RecordReader in = new RecordReader(ByteBuffer.wrap(bytes), "pending transactional offsets");
        try {
            byte version = in.int8();
            if (version != VERSION) {
                throw new IllegalArgumentException(
                        "pending transactional offsets have version " + version + ", expected " + VERSION);
            }
            int count = in.uvarint();
            List<PendingTxnOffsets.Entry> entries = new ArrayList<>(Math.min(count, 1024));
            for (int i = 0; i < count; i++) {
                long recordOffset = in.int64();
                byte superseded = in.int8();
                if (superseded != 0 && superseded != 1) {
                    throw new IllegalArgumentException(
                            "pending transactional offset " + i + " has superseded flag " + superseded);
                }
                GroupRecord record = decode(in.bytes());
                if (!(record instanceof TxnOffsetCommit txn)) {
                    throw new IllegalArgumentException("pending transactional offset " + i + " holds "
                            + record.getClass().getSimpleName() + ", expected TxnOffsetCommit");
                }
                entries.add(new PendingTxnOffsets.Entry(txn, recordOffset, superseded == 1));
            }
            if (in.buffer().hasRemaining()) {
                throw new IllegalArgumentException("pending transactional offsets have "
                        + in.buffer().remaining() + " trailing bytes after " + count + " entries");
            }
            return entries;
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException(
                    "pending transactional offsets are truncated at byte "
                            + in.buffer().position(),
                    e);
        }
    }

    /** The compaction key of a record; see the class comment. */
    public static byte[] key(GroupRecord record) {
        RecordWriter out = new RecordWriter(32);
        if (record instanceof OffsetCommit c) {
            out.int8(KEY_OFFSET).str(c.groupId()).str(c.topic()).int32(c.partition());
        } else if (record instanceof OffsetTombstone t) {
            out.int8(KEY_OFFSET).str(t.groupId()).str(t.topic()).int32(t.partition());
        } else if (record instanceof TxnOffsetCommit t) {
            OffsetCommit c = t.offset();
            out.int8(KEY_TXN_OFFSET)
                    .str(c.groupId())
                    .str(c.topic())
                    .int32(c.partition())
                    .int64(t.producerId());
        } else {
            out.int8(KEY_GROUP).str(record.groupId());
        }
        return out.toByteArray();
    }

    private static void write(GroupRecord record, RecordWriter out) {
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
        } else if (record instanceof TxnOffsetCommit t) {
            OffsetCommit c = t.offset();
            out.int8(TYPE_TXN_OFFSET_COMMIT)
                    .int64(t.producerId())
                    .int16(t.producerEpoch())
                    .str(c.groupId())
                    .str(c.topic())
                    .int32(c.partition())
                    .int64(c.committedOffset())
                    .int32(c.leaderEpoch())
                    .str(c.metadata())
                    .int64(c.commitTimestampMs())
                    .int64(c.expireTimestampMs());
        } else {
            throw new IllegalArgumentException("unknown group record " + record);
        }
    }

    private static GroupRecord read(RecordReader in) {
        try {
            byte version = in.int8();
            if (version != VERSION) {
                throw new IllegalArgumentException("group record has version " + version + ", expected " + VERSION);
            }
            byte type = in.int8();
            switch (type) {
                case TYPE_GROUP_METADATA:
                    return readGroupMetadata(in);
                case TYPE_GROUP_TOMBSTONE:
                    return new GroupTombstone(in.str());
                case TYPE_OFFSET_COMMIT:
                    return new OffsetCommit(
                            in.str(), in.str(), in.int32(), in.int64(), in.int32(), in.str(), in.int64(), in.int64());
                case TYPE_OFFSET_TOMBSTONE:
                    return new OffsetTombstone(in.str(), in.str(), in.int32());
                case TYPE_TXN_OFFSET_COMMIT:
                    return new TxnOffsetCommit(
                            in.int64(),
                            in.int16(),
                            new OffsetCommit(
                                    in.str(),
                                    in.str(),
                                    in.int32(),
                                    in.int64(),
                                    in.int32(),
                                    in.str(),
                                    in.int64(),
                                    in.int64()));
                default:
                    throw new IllegalArgumentException("group record has unknown type " + type);
            }
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException(
                    "group record is truncated at byte " + in.buffer().position(), e);
        }
    }

    private static GroupMetadata readGroupMetadata(RecordReader in) {
        String groupId = in.str();
        int generationId = in.int32();
        String protocolType = in.nstr();
        String protocolName = in.nstr();
        String leaderId = in.nstr();
        long currentStateTimestampMs = in.int64();
        int count = in.uvarint();
        List<MemberMetadata> members = new ArrayList<>(Math.min(count, 1024));
        for (int i = 0; i < count; i++) {
            members.add(new MemberMetadata(
                    in.str(), in.nstr(), in.str(), in.str(), in.int32(), in.int32(), in.bytes(), in.bytes()));
        }
        return new GroupMetadata(
                groupId, generationId, protocolType, protocolName, leaderId, currentStateTimestampMs, members);
    }
}
