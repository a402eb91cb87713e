package dev.sluice.partitionstore.rocksdb;

import dev.sluice.partitionstore.AbortedTxn;
import dev.sluice.partitionstore.CommittedOffset;
import dev.sluice.partitionstore.OffsetPosition;
import dev.sluice.partitionstore.PartitionState;
import dev.sluice.partitionstore.ProducerStateEntry;
import dev.sluice.partitionstore.ProducerStateEntry.BatchMetadata;
import dev.sluice.partitionstore.RaftEntryRange;
import dev.sluice.partitionstore.SegmentMetadata;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.kafka.common.TopicPartition;

/**
 * Key layouts and value encodings of the node's RocksDB. All integers are big-endian, so that RocksDB's
 * bytewise ordering is numeric ordering (timestamps have their sign bit flipped for the same reason).
 * Every value starts with a one-byte format version, currently 1.
 *
 * <pre>
 * partition prefix P  = u16 topicLength | topic (UTF-8) | i32 partition
 * group prefix G      = u16 groupLength | group id (UTF-8)
 *
 * column family        key                         value (after the version byte)
 * offset_index         P | i64 baseOffset           i64 segmentBaseOffset | i32 position
 * time_index           P | i64 timestamp^MIN        i64 offset
 * partition_state      P | 0x01                     i64 logStartOffset | i64 recoveryPoint
 *                                                   | i64 lastAppliedTerm | i64 lastAppliedIndex
 *                      P | 0x02 | i64 baseOffset    i32 size | i64 nextOffset | i64 maxTimestamp
 *                                                   | i64 offsetOfMaxTimestamp          (a closed segment)
 *                      P | 0x03 | i32 leaderEpoch   i64 startOffset
 *                      P | 0x04 | i64 raftIndex     i64 firstOffset | i64 nextOffset   (Raft entry → offsets)
 *                      P | 0x05                     i64 nextOffset (group records below it are in the
 *                                                   two group column families; __consumer_offsets only)
 * producer_state       P | i64 producerId           i16 epoch | i64 txnFirstOffset | i64 lastTimestamp
 *                                                   | u8 n | n × (i32 firstSeq | i32 lastSeq
 *                                                   | i64 firstOffset | i64 lastOffset | i64 timestamp)
 *                                                   [| i32 coordinatorEpoch]  (absent in older values: -1)
 *                                                   [| i64 lastMarkerOffset]  (absent in older values: -1)
 * aborted_txn          P | i64 firstOffset | i64 producerId
 *                                                   i64 lastOffset | i64 lastStableOffset
 * committed_offsets    G | P                        i64 offset | i32 leaderEpoch | i64 commitTimestamp
 *                                                   | i64 expireTimestamp | u16 n | metadata (UTF-8)
 * group_metadata       G                            opaque bytes owned by the group coordinator
 * </pre>
 */
public final class MetadataCodec {
    static final byte VERSION = 1;
    static final byte STATE_KIND_LOG = 1;
    static final byte STATE_KIND_SEGMENT = 2;
    static final byte STATE_KIND_LEADER_EPOCH = 3;
    static final byte STATE_KIND_RAFT_ENTRY = 4;
    static final byte STATE_KIND_GROUP_VIEW = 5;

    private MetadataCodec() {}

    public static byte[] partitionPrefix(TopicPartition tp) {
        byte[] topic = tp.topic().getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(2 + topic.length + 4)
                .putShort((short) topic.length)
                .put(topic)
                .putInt(tp.partition())
                .array();
    }

    public static byte[] groupPrefix(String groupId) {
        byte[] group = groupId.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(2 + group.length)
                .putShort((short) group.length)
                .put(group)
                .array();
    }

    /** Decodes the group id a key of a group-prefixed column family starts with. */
    public static String groupOf(byte[] key) {
        int length = Short.toUnsignedInt(ByteBuffer.wrap(key).getShort());
        return new String(key, 2, length, StandardCharsets.UTF_8);
    }

    /** Decodes the partition a key of a partition-prefixed column family belongs to. */
    public static TopicPartition partitionOf(byte[] key, int from) {
        ByteBuffer buffer = ByteBuffer.wrap(key, from, key.length - from);
        int length = Short.toUnsignedInt(buffer.getShort());
        byte[] topic = new byte[length];
        buffer.get(topic);
        return new TopicPartition(new String(topic, StandardCharsets.UTF_8), buffer.getInt());
    }

    static byte[] key(byte[] prefix, long value) {
        return ByteBuffer.allocate(prefix.length + 8).put(prefix).putLong(value).array();
    }

    static byte[] key(byte[] prefix, long first, long second) {
        return ByteBuffer.allocate(prefix.length + 16)
                .put(prefix)
                .putLong(first)
                .putLong(second)
                .array();
    }

    static byte[] stateKey(byte[] prefix, byte kind) {
        return ByteBuffer.allocate(prefix.length + 1).put(prefix).put(kind).array();
    }

    static byte[] stateKey(byte[] prefix, byte kind, long value) {
        return ByteBuffer.allocate(prefix.length + 9)
                .put(prefix)
                .put(kind)
                .putLong(value)
                .array();
    }

    static byte[] stateKey(byte[] prefix, byte kind, int value) {
        return ByteBuffer.allocate(prefix.length + 5)
                .put(prefix)
                .put(kind)
                .putInt(value)
                .array();
    }

    static long timestampKey(long timestamp) {
        return timestamp ^ Long.MIN_VALUE;
    }

    static long longAt(byte[] key, int from) {
        return ByteBuffer.wrap(key, from, 8).getLong();
    }

    static int intAt(byte[] key, int from) {
        return ByteBuffer.wrap(key, from, 4).getInt();
    }

    /** The smallest key greater than every key starting with {@code prefix}. */
    static byte[] successor(byte[] prefix) {
        byte[] next = Arrays.copyOf(prefix, prefix.length);
        for (int i = next.length - 1; i >= 0; i--) {
            if (next[i] != (byte) 0xFF) {
                next[i]++;
                return Arrays.copyOf(next, i + 1);
            }
        }
        throw new IllegalArgumentException("a prefix of 0xFF bytes has no successor");
    }

    static boolean startsWith(byte[] key, byte[] prefix) {
        return key.length >= prefix.length && Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
    }

    // ---- values ----------------------------------------------------------------------------------------

    static byte[] encodeOffsetPosition(OffsetPosition entry) {
        return ByteBuffer.allocate(13)
                .put(VERSION)
                .putLong(entry.segmentBaseOffset())
                .putInt(entry.position())
                .array();
    }

    static OffsetPosition decodeOffsetPosition(long offset, byte[] value) {
        ByteBuffer buffer = versioned(value, "offset index entry");
        return new OffsetPosition(offset, buffer.getLong(), buffer.getInt());
    }

    static byte[] encodeLong(long value) {
        return ByteBuffer.allocate(9).put(VERSION).putLong(value).array();
    }

    static long decodeLong(byte[] value, String what) {
        return versioned(value, what).getLong();
    }

    public static byte[] encodeState(PartitionState state) {
        return ByteBuffer.allocate(33)
                .put(VERSION)
                .putLong(state.logStartOffset())
                .putLong(state.recoveryPoint())
                .putLong(state.lastAppliedTerm())
                .putLong(state.lastAppliedIndex())
                .array();
    }

    public static PartitionState decodeState(byte[] value) {
        ByteBuffer buffer = versioned(value, "partition state");
        return new PartitionState(buffer.getLong(), buffer.getLong(), buffer.getLong(), buffer.getLong());
    }

    static byte[] encodeSegment(SegmentMetadata segment) {
        return ByteBuffer.allocate(29)
                .put(VERSION)
                .putInt(segment.sizeInBytes())
                .putLong(segment.nextOffset())
                .putLong(segment.maxTimestamp())
                .putLong(segment.offsetOfMaxTimestamp())
                .array();
    }

    static SegmentMetadata decodeSegment(long baseOffset, byte[] value) {
        ByteBuffer buffer = versioned(value, "segment metadata");
        return new SegmentMetadata(baseOffset, buffer.getInt(), buffer.getLong(), buffer.getLong(), buffer.getLong());
    }

    public static byte[] encodeProducer(ProducerStateEntry entry) {
        ByteBuffer buffer = ByteBuffer.allocate(
                        1 + 2 + 8 + 8 + 1 + entry.batches().size() * 32 + 4 + 8)
                .put(VERSION)
                .putShort(entry.producerEpoch())
                .putLong(entry.currentTxnFirstOffset())
                .putLong(entry.lastTimestampMs())
                .put((byte) entry.batches().size());
        for (BatchMetadata batch : entry.batches()) {
            buffer.putInt(batch.firstSequence())
                    .putInt(batch.lastSequence())
                    .putLong(batch.firstOffset())
                    .putLong(batch.lastOffset())
                    .putLong(batch.timestampMs());
        }
        buffer.putInt(entry.coordinatorEpoch());
        buffer.putLong(entry.lastMarkerOffset());
        return buffer.array();
    }

    public static ProducerStateEntry decodeProducer(long producerId, byte[] value) {
        ByteBuffer buffer = versioned(value, "producer state");
        short epoch = buffer.getShort();
        long txnFirstOffset = buffer.getLong();
        long lastTimestamp = buffer.getLong();
        int count = Byte.toUnsignedInt(buffer.get());
        List<BatchMetadata> batches = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            batches.add(new BatchMetadata(
                    buffer.getInt(), buffer.getInt(), buffer.getLong(), buffer.getLong(), buffer.getLong()));
        }
        int coordinatorEpoch = buffer.remaining() >= 4 ? buffer.getInt() : ProducerStateEntry.NO_COORDINATOR_EPOCH;
        long lastMarkerOffset = buffer.remaining() >= 8 ? buffer.getLong() : ProducerStateEntry.NO_MARKER;
        return new ProducerStateEntry(
                producerId, epoch, batches, txnFirstOffset, lastTimestamp, coordinatorEpoch, lastMarkerOffset);
    }

    static byte[] encodeAbortedTxn(AbortedTxn txn) {
        return ByteBuffer.allocate(17)
                .put(VERSION)
                .putLong(txn.lastOffset())
                .putLong(txn.lastStableOffset())
                .array();
    }

    static AbortedTxn decodeAbortedTxn(long firstOffset, long producerId, byte[] value) {
        ByteBuffer buffer = versioned(value, "aborted transaction");
        return new AbortedTxn(producerId, firstOffset, buffer.getLong(), buffer.getLong());
    }

    public static byte[] encodeCommittedOffset(CommittedOffset offset) {
        byte[] metadata = offset.metadata().getBytes(StandardCharsets.UTF_8);
        if (metadata.length > 0xFFFF) {
            throw new IllegalArgumentException("commit metadata longer than 65535 bytes");
        }
        return ByteBuffer.allocate(1 + 8 + 4 + 8 + 8 + 2 + metadata.length)
                .put(VERSION)
                .putLong(offset.offset())
                .putInt(offset.leaderEpoch())
                .putLong(offset.commitTimestampMs())
                .putLong(offset.expireTimestampMs())
                .putShort((short) metadata.length)
                .put(metadata)
                .array();
    }

    public static CommittedOffset decodeCommittedOffset(byte[] value) {
        ByteBuffer buffer = versioned(value, "committed offset");
        long offset = buffer.getLong();
        int leaderEpoch = buffer.getInt();
        long commitTimestamp = buffer.getLong();
        long expireTimestamp = buffer.getLong();
        byte[] metadata = new byte[Short.toUnsignedInt(buffer.getShort())];
        buffer.get(metadata);
        return new CommittedOffset(
                offset, leaderEpoch, new String(metadata, StandardCharsets.UTF_8), commitTimestamp, expireTimestamp);
    }

    private static ByteBuffer versioned(byte[] value, String what) {
        if (value.length == 0 || value[0] != VERSION) {
            throw new IllegalStateException("unreadable " + what + " in RocksDB: format version "
                    + (value.length == 0 ? "missing" : Byte.toString(value[0])) + ", expected " + VERSION);
        }
        try {
            return ByteBuffer.wrap(value, 1, value.length - 1);
        } catch (BufferUnderflowException e) {
            throw new IllegalStateException("truncated " + what + " in RocksDB", e);
        }
    }

    static byte[] encodeRaftEntry(RaftEntryRange range) {
        return ByteBuffer.allocate(1 + 16)
                .put(VERSION)
                .putLong(range.firstOffset())
                .putLong(range.nextOffset())
                .array();
    }

    static RaftEntryRange decodeRaftEntry(long raftIndex, byte[] value) {
        ByteBuffer buffer = versioned(value, "Raft entry");
        try {
            return new RaftEntryRange(raftIndex, buffer.getLong(), buffer.getLong());
        } catch (BufferUnderflowException e) {
            throw new IllegalStateException("truncated Raft entry in RocksDB", e);
        }
    }
}
