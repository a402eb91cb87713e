package dev.sluice.partitionstore.rocksdb;

import dev.sluice.partitionstore.CommittedOffset;
import dev.sluice.partitionstore.NodeMetadata;
import dev.sluice.partitionstore.PartitionMetadataStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.KafkaStorageException;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteOptions;

/**
 * The node's single RocksDB instance, shared by every partition and group on the node, with one
 * column family per kind of metadata. Key layouts and encodings are those of {@link MetadataCodec}.
 *
 * <p>Writes go to the write-ahead log without a sync; {@link #sync()} makes them durable. Opened
 * read-only, it never writes and takes no lock, so offline tools can inspect a running node.
 *
 * <p>Thread-safe (RocksDB is).
 */
public final class RocksDbNodeMetadata implements NodeMetadata {
    static final String OFFSET_INDEX = "offset_index";
    static final String TIME_INDEX = "time_index";
    static final String PARTITION_STATE = "partition_state";
    static final String PRODUCER_STATE = "producer_state";
    static final String ABORTED_TXN = "aborted_txn";
    static final String COMMITTED_OFFSETS = "committed_offsets";
    static final String GROUP_METADATA = "group_metadata";
    /** The partition-state kind of pending transactional offsets (after MetadataCodec's kinds 1 to 5). */
    static final byte STATE_KIND_PENDING_TXN_OFFSETS = 6;

    static final List<String> COLUMN_FAMILIES = List.of(
            OFFSET_INDEX, TIME_INDEX, PARTITION_STATE, PRODUCER_STATE, ABORTED_TXN, COMMITTED_OFFSETS, GROUP_METADATA);

    static {
        RocksDB.loadLibrary();
    }

    private final Path directory;
    private final boolean readOnly;
    private final DBOptions dbOptions;
    private final ColumnFamilyOptions cfOptions;
    private final RocksDB db;
    private final Map<String, ColumnFamilyHandle> handles = new LinkedHashMap<>();
    private final List<ColumnFamilyHandle> allHandles = new ArrayList<>();
    final WriteOptions writeOptions;

    private RocksDbNodeMetadata(Path directory, boolean readOnly) {
        this.directory = directory;
        this.readOnly = readOnly;
        this.dbOptions = new DBOptions()
                .setCreateIfMissing(!readOnly)
                .setCreateMissingColumnFamilies(!readOnly)
                .setMaxBackgroundJobs(2)
                .setKeepLogFileNum(3)
                .setInfoLogLevel(org.rocksdb.InfoLogLevel.WARN_LEVEL);
        this.cfOptions = new ColumnFamilyOptions().optimizeLevelStyleCompaction();
        this.writeOptions = new WriteOptions().setSync(false);
        List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
        descriptors.add(new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, cfOptions));
        for (String name : COLUMN_FAMILIES) {
            descriptors.add(
                    new ColumnFamilyDescriptor(name.getBytes(java.nio.charset.StandardCharsets.UTF_8), cfOptions));
        }
        try {
            this.db = readOnly
                    ? RocksDB.openReadOnly(dbOptions, directory.toString(), descriptors, allHandles)
                    : RocksDB.open(dbOptions, directory.toString(), descriptors, allHandles);
        } catch (RocksDBException e) {
            closeOptions();
            throw new KafkaStorageException(
                    "cannot open the node metadata store (RocksDB) at " + directory + ": " + e.getMessage()
                            + (readOnly ? "" : "; is another process using this data directory?"),
                    e);
        }
        for (int i = 0; i < COLUMN_FAMILIES.size(); i++) {
            handles.put(COLUMN_FAMILIES.get(i), allHandles.get(i + 1));
        }
    }

    /** Opens (creating if needed) the store in {@code directory} for reading and writing. */
    public static RocksDbNodeMetadata open(Path directory) {
        try {
            Files.createDirectories(directory);
        } catch (IOException e) {
            throw new KafkaStorageException("cannot create " + directory + ": " + e.getMessage(), e);
        }
        return new RocksDbNodeMetadata(directory, false);
    }

    /** Opens an existing store read-only, for offline inspection. */
    public static RocksDbNodeMetadata openReadOnly(Path directory) {
        if (!Files.isDirectory(directory)) {
            throw new KafkaStorageException("no node metadata store (RocksDB) at " + directory);
        }
        return new RocksDbNodeMetadata(directory, true);
    }

    public Path directory() {
        return directory;
    }

    @Override
    public PartitionMetadataStore partition(TopicPartition tp) {
        return new RocksDbPartitionMetadataStore(this, tp);
    }

    @Override
    public List<TopicPartition> partitions() {
        List<TopicPartition> result = new ArrayList<>();
        try (RocksIterator it = db.newIterator(handle(PARTITION_STATE))) {
            it.seekToFirst();
            while (it.isValid()) {
                TopicPartition tp = MetadataCodec.partitionOf(it.key(), 0);
                result.add(tp);
                it.seek(MetadataCodec.successor(MetadataCodec.partitionPrefix(tp)));
            }
        }
        return result;
    }

    @Override
    public void putCommittedOffset(String groupId, TopicPartition tp, CommittedOffset offset) {
        put(COMMITTED_OFFSETS, committedKey(groupId, tp), MetadataCodec.encodeCommittedOffset(offset));
    }

    @Override
    public CommittedOffset committedOffset(String groupId, TopicPartition tp) {
        byte[] value = get(COMMITTED_OFFSETS, committedKey(groupId, tp));
        return value == null ? null : MetadataCodec.decodeCommittedOffset(value);
    }

    @Override
    public Map<TopicPartition, CommittedOffset> committedOffsets(String groupId) {
        byte[] prefix = MetadataCodec.groupPrefix(groupId);
        Map<TopicPartition, CommittedOffset> result = new LinkedHashMap<>();
        try (RocksIterator it = db.newIterator(handle(COMMITTED_OFFSETS))) {
            for (it.seek(prefix); it.isValid() && MetadataCodec.startsWith(it.key(), prefix); it.next()) {
                result.put(
                        MetadataCodec.partitionOf(it.key(), prefix.length),
                        MetadataCodec.decodeCommittedOffset(it.value()));
            }
        }
        return result;
    }

    @Override
    public void deleteCommittedOffset(String groupId, TopicPartition tp) {
        delete(COMMITTED_OFFSETS, committedKey(groupId, tp));
    }

    @Override
    public void putGroupMetadata(String groupId, byte[] metadata) {
        put(GROUP_METADATA, MetadataCodec.groupPrefix(groupId), metadata);
    }

    @Override
    public byte[] groupMetadata(String groupId) {
        return get(GROUP_METADATA, MetadataCodec.groupPrefix(groupId));
    }

    @Override
    public void deleteGroupMetadata(String groupId) {
        delete(GROUP_METADATA, MetadataCodec.groupPrefix(groupId));
    }

    @Override
    public List<String> groupIds() {
        java.util.TreeSet<String> ids = new java.util.TreeSet<>();
        for (String columnFamily : List.of(GROUP_METADATA, COMMITTED_OFFSETS)) {
            try (RocksIterator it = db.newIterator(handle(columnFamily))) {
                it.seekToFirst();
                while (it.isValid()) {
                    String groupId = MetadataCodec.groupOf(it.key());
                    ids.add(groupId);
                    it.seek(MetadataCodec.successor(MetadataCodec.groupPrefix(groupId)));
                }
            }
        }
        return new ArrayList<>(ids);
    }

    @Override
    public void deleteGroup(String groupId) {
        byte[] prefix = MetadataCodec.groupPrefix(groupId);
        delete(GROUP_METADATA, prefix);
        deleteRange(COMMITTED_OFFSETS, prefix, MetadataCodec.successor(prefix));
    }

    @Override
    public void putPendingTxnOffsets(TopicPartition offsetsPartition, long producerId, byte[] value) {
        put(PARTITION_STATE, pendingTxnKey(offsetsPartition, producerId), value);
    }

    @Override
    public void deletePendingTxnOffsets(TopicPartition offsetsPartition, long producerId) {
        delete(PARTITION_STATE, pendingTxnKey(offsetsPartition, producerId));
    }

    @Override
    public java.util.NavigableMap<Long, byte[]> pendingTxnOffsets(TopicPartition offsetsPartition) {
        byte[] prefix =
                MetadataCodec.stateKey(MetadataCodec.partitionPrefix(offsetsPartition), STATE_KIND_PENDING_TXN_OFFSETS);
        java.util.NavigableMap<Long, byte[]> result = new java.util.TreeMap<>();
        try (RocksIterator it = db.newIterator(handle(PARTITION_STATE))) {
            for (it.seek(prefix); it.isValid() && MetadataCodec.startsWith(it.key(), prefix); it.next()) {
                result.put(MetadataCodec.longAt(it.key(), prefix.length), it.value());
            }
        }
        return result;
    }

    /**
     * Pending transactional offsets live with the partition's state: {@code partition prefix, kind, producerId}
     * (a kind no other partition state uses).
     */
    private static byte[] pendingTxnKey(TopicPartition offsetsPartition, long producerId) {
        return MetadataCodec.stateKey(
                MetadataCodec.partitionPrefix(offsetsPartition), STATE_KIND_PENDING_TXN_OFFSETS, producerId);
    }

    private static byte[] committedKey(String groupId, TopicPartition tp) {
        byte[] group = MetadataCodec.groupPrefix(groupId);
        byte[] partition = MetadataCodec.partitionPrefix(tp);
        byte[] key = new byte[group.length + partition.length];
        System.arraycopy(group, 0, key, 0, group.length);
        System.arraycopy(partition, 0, key, group.length, partition.length);
        return key;
    }

    @Override
    public void sync() {
        if (readOnly) {
            return;
        }
        try {
            db.flushWal(true);
        } catch (RocksDBException e) {
            throw failure("sync", e);
        }
    }

    @Override
    public void close() {
        for (ColumnFamilyHandle handle : allHandles) {
            handle.close();
        }
        db.close();
        writeOptions.close();
        closeOptions();
    }

    private void closeOptions() {
        dbOptions.close();
        cfOptions.close();
    }

    // ---- primitives used by the partition views ------------------------------------------------------

    RocksDB db() {
        return db;
    }

    ColumnFamilyHandle handle(String columnFamily) {
        return handles.get(columnFamily);
    }

    void put(String columnFamily, byte[] key, byte[] value) {
        requireWritable();
        try {
            db.put(handle(columnFamily), writeOptions, key, value);
        } catch (RocksDBException e) {
            throw failure("write " + columnFamily, e);
        }
    }

    byte[] get(String columnFamily, byte[] key) {
        try {
            return db.get(handle(columnFamily), key);
        } catch (RocksDBException e) {
            throw failure("read " + columnFamily, e);
        }
    }

    void delete(String columnFamily, byte[] key) {
        requireWritable();
        try {
            db.delete(handle(columnFamily), writeOptions, key);
        } catch (RocksDBException e) {
            throw failure("delete from " + columnFamily, e);
        }
    }

    void deleteRange(String columnFamily, byte[] fromInclusive, byte[] toExclusive) {
        requireWritable();
        try {
            db.deleteRange(handle(columnFamily), writeOptions, fromInclusive, toExclusive);
        } catch (RocksDBException e) {
            throw failure("delete a range of " + columnFamily, e);
        }
    }

    private void requireWritable() {
        if (readOnly) {
            throw new IllegalStateException("the node metadata store at " + directory + " is open read-only");
        }
    }

    KafkaStorageException failure(String action, RocksDBException e) {
        return new KafkaStorageException(
                "node metadata store (RocksDB) at " + directory + " failed to " + action + ": " + e.getMessage(), e);
    }
}
