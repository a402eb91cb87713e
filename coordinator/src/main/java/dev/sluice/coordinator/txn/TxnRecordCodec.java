package dev.sluice.coordinator.txn;

import dev.sluice.coordinator.txn.TxnRecord.TxnMetadata;
import dev.sluice.coordinator.txn.TxnRecord.TxnTombstone;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.kafka.common.TopicPartition;

/**
 * The binary encoding of {@link TxnRecord}s: the body of a coordinator-group Raft entry and the value of its
 * materialized view. Integers are big-endian; {@code uvarint} is the unsigned LEB128 varint of Kafka's
 * protocol.
 *
 * <pre>
 * record          := version:int8 (= 1) type:int8 body
 *   type 1 TxnMetadata  := transactionalId:str producerId:int64 previousProducerId:int64
 *                          nextProducerId:int64 producerEpoch:int16 lastProducerEpoch:int16
 *                          txnTimeoutMs:int32 state:int8 (TxnState code) txnStartTimestampMs:int64
 *                          txnLastUpdateTimestampMs:int64 topicCount:uvarint topic*
 *     topic             := name:str partitionCount:uvarint partition:int32*
 *   type 2 TxnTombstone := transactionalId:str
 * str             := length:uvarint utf8
 *
 * batch           := version:int8 (= 1) count:uvarint (length:uvarint record)*
 *
 * key             := transactionalId:str
 * </pre>
 *
 * Partitions are written grouped by topic in {@link TxnRecord#PARTITION_ORDER}. A reader rejects an unknown
 * version, type or state, a truncated record and trailing bytes, naming what it found. A new field means a new
 * version; readers keep decoding the old ones.
 */
public final class TxnRecordCodec {
    /** The record format version written by this codec. */
    public static final byte VERSION = 1;

    private static final byte TYPE_METADATA = 1;
    private static final byte TYPE_TOMBSTONE = 2;

    private TxnRecordCodec() {}

    /** The encoding of one record. */
    public static byte[] encode(TxnRecord record) {
        Writer out = new Writer(64);
        write(record, out);
        return out.toByteArray();
    }

    /**
     * Decodes one record.
     *
     * @throws IllegalArgumentException if the bytes are not a record of a known version
     */
    public static TxnRecord decode(byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        TxnRecord record = read(in);
        if (in.hasRemaining()) {
            throw new IllegalArgumentException("transaction record has " + in.remaining() + " trailing bytes after "
                    + record.getClass().getSimpleName());
        }
        return record;
    }

    /** The encoding of several records as one unit (one Raft entry for the records of one result). */
    public static byte[] encodeBatch(List<TxnRecord> records) {
        Writer out = new Writer(64 * Math.max(1, records.size()));
        out.int8(VERSION);
        out.uvarint(records.size());
        for (TxnRecord record : records) {
            out.bytes(encode(record));
        }
        return out.toByteArray();
    }

    /**
     * Decodes what {@link #encodeBatch} wrote.
     *
     * @throws IllegalArgumentException if the bytes are not a batch of a known version
     */
    public static List<TxnRecord> decodeBatch(byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        try {
            byte version = in.get();
            if (version != VERSION) {
                throw new IllegalArgumentException(
                        "transaction record batch has version " + version + ", expected " + VERSION);
            }
            int count = uvarint(in);
            List<TxnRecord> records = new ArrayList<>(Math.min(count, 1024));
            for (int i = 0; i < count; i++) {
                records.add(decode(bytesOf(in)));
            }
            if (in.hasRemaining()) {
                throw new IllegalArgumentException("transaction record batch has " + in.remaining()
                        + " trailing bytes after " + count + " records");
            }
            return records;
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("transaction record batch is truncated at byte " + in.position(), e);
        }
    }

    /** The compaction key of a record: its transactional id. */
    public static byte[] key(TxnRecord record) {
        return new Writer(32).str(record.transactionalId()).toByteArray();
    }

    private static void write(TxnRecord record, Writer out) {
        out.int8(VERSION);
        if (record instanceof TxnMetadata m) {
            out.int8(TYPE_METADATA)
                    .str(m.transactionalId())
                    .int64(m.producerId())
                    .int64(m.previousProducerId())
                    .int64(m.nextProducerId())
                    .int16(m.producerEpoch())
                    .int16(m.lastProducerEpoch())
                    .int32(m.txnTimeoutMs())
                    .int8(m.state().code())
                    .int64(m.txnStartTimestampMs())
                    .int64(m.txnLastUpdateTimestampMs());
            writePartitions(m.partitions(), out);
        } else if (record instanceof TxnTombstone t) {
            out.int8(TYPE_TOMBSTONE).str(t.transactionalId());
        } else {
            throw new IllegalArgumentException("unknown transaction record " + record);
        }
    }

    /** Partitions are sorted, so each topic's partitions are adjacent. */
    private static void writePartitions(List<TopicPartition> partitions, Writer out) {
        List<List<TopicPartition>> byTopic = new ArrayList<>();
        for (TopicPartition tp : partitions) {
            if (byTopic.isEmpty()
                    || !byTopic.get(byTopic.size() - 1).get(0).topic().equals(tp.topic())) {
                byTopic.add(new ArrayList<>());
            }
            byTopic.get(byTopic.size() - 1).add(tp);
        }
        out.uvarint(byTopic.size());
        for (List<TopicPartition> topic : byTopic) {
            out.str(topic.get(0).topic()).uvarint(topic.size());
            for (TopicPartition tp : topic) {
                out.int32(tp.partition());
            }
        }
    }

    private static TxnRecord read(ByteBuffer in) {
        try {
            byte version = in.get();
            if (version != VERSION) {
                throw new IllegalArgumentException(
                        "transaction record has version " + version + ", expected " + VERSION);
            }
            byte type = in.get();
            switch (type) {
                case TYPE_METADATA:
                    return readMetadata(in);
                case TYPE_TOMBSTONE:
                    return new TxnTombstone(str(in));
                default:
                    throw new IllegalArgumentException("transaction record has unknown type " + type);
            }
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("transaction record is truncated at byte " + in.position(), e);
        }
    }

    private static TxnMetadata readMetadata(ByteBuffer in) {
        String transactionalId = str(in);
        long producerId = in.getLong();
        long previousProducerId = in.getLong();
        long nextProducerId = in.getLong();
        short producerEpoch = in.getShort();
        short lastProducerEpoch = in.getShort();
        int txnTimeoutMs = in.getInt();
        TxnState state = TxnState.fromCode(in.get());
        long txnStartTimestampMs = in.getLong();
        long txnLastUpdateTimestampMs = in.getLong();
        int topics = uvarint(in);
        List<TopicPartition> partitions = new ArrayList<>();
        for (int t = 0; t < topics; t++) {
            String topic = str(in);
            int count = uvarint(in);
            for (int p = 0; p < count; p++) {
                partitions.add(new TopicPartition(topic, in.getInt()));
            }
        }
        return new TxnMetadata(
                transactionalId,
                producerId,
                previousProducerId,
                nextProducerId,
                producerEpoch,
                lastProducerEpoch,
                txnTimeoutMs,
                state,
                partitions,
                txnStartTimestampMs,
                txnLastUpdateTimestampMs);
    }

    private static int uvarint(ByteBuffer in) {
        int value = 0;
        for (int shift = 0; shift < 35; shift += 7) {
            byte b = in.get();
            value |= (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                if (value < 0) {
                    throw new IllegalArgumentException("transaction record has a negative length " + value);
                }
                return value;
            }
        }
        throw new IllegalArgumentException(
                "transaction record has a varint longer than 5 bytes at byte " + in.position());
    }

    private static byte[] bytesOf(ByteBuffer in) {
        int length = uvarint(in);
        if (length > in.remaining()) {
            throw new IllegalArgumentException(
                    "transaction record field of " + length + " bytes overruns the " + in.remaining() + " bytes left");
        }
        byte[] bytes = new byte[length];
        in.get(bytes);
        return bytes;
    }

    private static String str(ByteBuffer in) {
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytesOf(in)))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("transaction record has a string that is not UTF-8", e);
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

        Writer int16(short v) {
            ensure(2);
            buf[size++] = (byte) (v >>> 8);
            buf[size++] = (byte) v;
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

        byte[] toByteArray() {
            return Arrays.copyOf(buf, size);
        }
    }
}
