package dev.sluice.coordinator.txn;

import dev.sluice.coordinator.codec.RecordReader;
import dev.sluice.coordinator.codec.RecordWriter;
import dev.sluice.coordinator.txn.TxnRecord.TxnMetadata;
import dev.sluice.coordinator.txn.TxnRecord.TxnTombstone;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
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
        RecordWriter out = new RecordWriter(64);
        write(record, out);
        return out.toByteArray();
    }

    /**
     * Decodes one record.
     *
     * @throws IllegalArgumentException if the bytes are not a record of a known version
     */
    public static TxnRecord decode(byte[] bytes) {
        RecordReader in = new RecordReader(ByteBuffer.wrap(bytes), "transaction record");
        TxnRecord record = read(in);
        if (in.buffer().hasRemaining()) {
            throw new IllegalArgumentException(
                    "transaction record has " + in.buffer().remaining() + " trailing bytes after "
                            + record.getClass().getSimpleName());
        }
        return record;
    }

    /** The encoding of several records as one unit (one Raft entry for the records of one result). */
    public static byte[] encodeBatch(List<TxnRecord> records) {
        RecordWriter out = new RecordWriter(64 * Math.max(1, records.size()));
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
        RecordReader in = new RecordReader(ByteBuffer.wrap(bytes), "transaction record");
        try {
            byte version = in.int8();
            if (version != VERSION) {
                throw new IllegalArgumentException(
                        "transaction record batch has version " + version + ", expected " + VERSION);
            }
            int count = in.uvarint();
            List<TxnRecord> records = new ArrayList<>(Math.min(count, 1024));
            for (int i = 0; i < count; i++) {
                records.add(decode(in.bytes()));
            }
            if (in.buffer().hasRemaining()) {
                throw new IllegalArgumentException("transaction record batch has "
                        + in.buffer().remaining() + " trailing bytes after " + count + " records");
            }
            return records;
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException(
                    "transaction record batch is truncated at byte "
                            + in.buffer().position(),
                    e);
        }
    }

    /** The compaction key of a record: its transactional id. */
    public static byte[] key(TxnRecord record) {
        return new RecordWriter(32).str(record.transactionalId()).toByteArray();
    }

    private static void write(TxnRecord record, RecordWriter out) {
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
    private static void writePartitions(List<TopicPartition> partitions, RecordWriter out) {
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

    private static TxnRecord read(RecordReader in) {
        try {
            byte version = in.int8();
            if (version != VERSION) {
                throw new IllegalArgumentException(
                        "transaction record has version " + version + ", expected " + VERSION);
            }
            byte type = in.int8();
            switch (type) {
                case TYPE_METADATA:
                    return readMetadata(in);
                case TYPE_TOMBSTONE:
                    return new TxnTombstone(in.str());
                default:
                    throw new IllegalArgumentException("transaction record has unknown type " + type);
            }
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException(
                    "transaction record is truncated at byte " + in.buffer().position(), e);
        }
    }

    private static TxnMetadata readMetadata(RecordReader in) {
        String transactionalId = in.str();
        long producerId = in.int64();
        long previousProducerId = in.int64();
        long nextProducerId = in.int64();
        short producerEpoch = in.int16();
        short lastProducerEpoch = in.int16();
        int txnTimeoutMs = in.int32();
        TxnState state = TxnState.fromCode(in.int8());
        long txnStartTimestampMs = in.int64();
        long txnLastUpdateTimestampMs = in.int64();
        int topics = in.uvarint();
        List<TopicPartition> partitions = new ArrayList<>();
        for (int t = 0; t < topics; t++) {
            String topic = in.str();
            int count = in.uvarint();
            for (int p = 0; p < count; p++) {
                partitions.add(new TopicPartition(topic, in.int32()));
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
}
