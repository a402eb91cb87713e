package dev.sluice.raft;

import java.io.File;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.ValidString;
import org.apache.kafka.common.config.ConfigException;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.netty.NettyConfigKeys;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;

/**
 * The Raft layer's settings and the one place they become Ratis properties. Every key is validated; a
 * bad value fails with a message naming it. Defaults are chosen for many groups per node on a small
 * machine (see BENCHMARKS.md, "Raft layer").
 */
public final class RaftSettings extends AbstractConfig {
    public static final String RPC_TYPE = "raft.rpc.type";
    public static final String ELECTION_TIMEOUT_MIN_MS = "raft.election.timeout.min.ms";
    public static final String ELECTION_TIMEOUT_MAX_MS = "raft.election.timeout.max.ms";
    public static final String REQUEST_TIMEOUT_MS = "raft.request.timeout.ms";
    public static final String LOG_SEGMENT_BYTES = "raft.log.segment.bytes";
    public static final String LOG_WRITE_BUFFER_BYTES = "raft.log.write.buffer.bytes";
    public static final String APPENDER_BATCH_BYTES = "raft.appender.batch.bytes";
    public static final String APPENDER_BATCH_ENTRIES = "raft.appender.batch.entries";
    public static final String SNAPSHOT_THRESHOLD_ENTRIES = "raft.snapshot.threshold.entries";
    public static final String PURGE_GAP_ENTRIES = "raft.log.purge.gap.entries";
    public static final String SINGLE_WRITE = "raft.single.write";
    public static final String PENDING_WRITES_MAX = "raft.pending.writes.max";
    public static final String RETENTION_CHECK_INTERVAL_MS = "log.retention.check.interval.ms";
    public static final String REPLICA_LAG_TIME_MAX_MS = "replica.lag.time.max.ms";
    public static final String INSTALL_CHUNK_BYTES = "raft.install.chunk.bytes";
    public static final String FAULT_INJECTOR = "raft.fault.injector";
    public static final String SCRUB_BYTES_PER_SECOND = "log.scrub.bytes.per.second";
    public static final String SNAPSHOT_ON_STOP = "raft.snapshot.on.stop";
    public static final String FAULT_SEED = "raft.fault.seed";

    /** The transports {@link #RPC_TYPE} accepts; {@code faulty} is Netty behind the fault injector. */
    public static final List<String> RPC_TYPES = List.of("grpc", "netty", "faulty");

    public static final ConfigDef CONFIG_DEF = new ConfigDef()
            .define(
                    RPC_TYPE,
                    Type.STRING,
                    "grpc",
                    ValidString.in(RPC_TYPES.toArray(new String[0])),
                    Importance.MEDIUM,
                    "The transport between the nodes' Raft servers: grpc or netty; faulty is Netty behind a"
                            + " fault injector, for tests and simulations only.")
            .define(
                    ELECTION_TIMEOUT_MIN_MS,
                    Type.LONG,
                    2000L,
                    Range.atLeast(10),
                    Importance.MEDIUM,
                    "The shortest time a follower waits without hearing from its leader before it starts an"
                            + " election. Every group heartbeats on its own, so this must leave room for"
                            + " thousands of groups on a busy node.")
            .define(
                    ELECTION_TIMEOUT_MAX_MS,
                    Type.LONG,
                    4000L,
                    Range.atLeast(10),
                    Importance.MEDIUM,
                    "The longest election timeout; each wait is chosen at random between the minimum and"
                            + " this, so that two followers rarely start elections together.")
            .define(
                    REQUEST_TIMEOUT_MS,
                    Type.LONG,
                    5000L,
                    Range.atLeast(10),
                    Importance.LOW,
                    "How long one Raft RPC between nodes may take before it counts as failed.")
            .define(
                    LOG_SEGMENT_BYTES,
                    Type.LONG,
                    8L * 1024 * 1024,
                    Range.atLeast(8 * 1024),
                    Importance.LOW,
                    "The size of a Raft log segment file. Under single write an entry is a small header,"
                            + " so segments fill slowly.")
            .define(
                    LOG_WRITE_BUFFER_BYTES,
                    Type.LONG,
                    64L * 1024,
                    Range.atLeast(4 * 1024),
                    Importance.LOW,
                    "The Raft log's write buffer per group (allocated by every group, so it multiplies by"
                            + " the partition count); raised to what Ratis requires, the append request size.")
            .define(
                    APPENDER_BATCH_BYTES,
                    Type.LONG,
                    1024L * 1024,
                    Range.atLeast(64 * 1024),
                    Importance.LOW,
                    "The most data a leader sends a follower in one append request; raised to fit the"
                            + " largest batch (max.message.bytes). Ratis gives every group a write buffer"
                            + " this large, so it multiplies by the partition count.")
            .define(
                    APPENDER_BATCH_ENTRIES,
                    Type.INT,
                    1024,
                    Range.atLeast(1),
                    Importance.LOW,
                    "The most entries a leader sends a follower in one append request.")
            .define(
                    SNAPSHOT_THRESHOLD_ENTRIES,
                    Type.LONG,
                    10_000L,
                    Range.atLeast(1),
                    Importance.LOW,
                    "Applied entries after which a partition takes a snapshot (makes its log durable and"
                            + " records the Raft index), letting Ratis purge its log behind it.")
            .define(
                    PURGE_GAP_ENTRIES,
                    Type.INT,
                    1024,
                    Range.atLeast(1),
                    Importance.LOW,
                    "Ratis purges its log in steps of at least this many entries.")
            .define(
                    SINGLE_WRITE,
                    Type.BOOLEAN,
                    true,
                    Importance.LOW,
                    "true: record batches are written once, to the partition's segment, and the Raft log"
                            + " keeps a small header; false: the Raft log holds the batches too (double"
                            + " write), for comparison.")
            .define(
                    PENDING_WRITES_MAX,
                    Type.INT,
                    4096,
                    Range.atLeast(1),
                    Importance.LOW,
                    "Writes a partition leader accepts before they are committed; beyond it a write fails"
                            + " fast and the client retries.")
            .define(
                    RETENTION_CHECK_INTERVAL_MS,
                    Type.LONG,
                    5L * 60 * 1000,
                    Range.atLeast(1),
                    Importance.LOW,
                    "How often each partition applies retention.ms and retention.bytes.")
            .define(
                    REPLICA_LAG_TIME_MAX_MS,
                    Type.LONG,
                    30_000L,
                    Range.atLeast(1),
                    Importance.MEDIUM,
                    "A follower that has not caught up with the leader's log end for this long leaves the"
                            + " in-sync replicas.")
            .define(
                    INSTALL_CHUNK_BYTES,
                    Type.INT,
                    1024 * 1024,
                    Range.between(4 * 1024, 16 * 1024 * 1024),
                    Importance.LOW,
                    "The size of one chunk when a replica copies a partition's segments from the leader.")
            .define(
                    SCRUB_BYTES_PER_SECOND,
                    Type.LONG,
                    16L * 1024 * 1024,
                    Range.atLeast(0),
                    Importance.LOW,
                    "How many bytes of closed segments per second the background scrub checks (CRC-32C,"
                            + " framing, offsets, leader epochs) after a partition opens; damage it finds is"
                            + " repaired from another replica. 0 turns the scrub off (damage is then found"
                            + " when a read runs into it).")
            .define(
                    SNAPSHOT_ON_STOP,
                    Type.BOOLEAN,
                    true,
                    Importance.LOW,
                    "Whether a partition takes a snapshot when its node stops cleanly, so that a restart"
                            + " replays no entries. false leaves the applied entries to be replayed, as after"
                            + " a crash.")
            .define(
                    FAULT_INJECTOR,
                    Type.STRING,
                    "",
                    Importance.LOW,
                    "With raft.rpc.type=faulty, the name of the fault injector the transport uses: a node"
                            + " registers one under this name (nodes of one JVM naming the same one share it) and"
                            + " serves its switches at /faults on its HTTP listener.")
            .define(
                    FAULT_SEED,
                    Type.LONG,
                    0L,
                    Importance.LOW,
                    "With raft.rpc.type=faulty, the seed of the random draws of the fault injector a node"
                            + " registers (which messages a lossy link drops, delays, duplicates or reorders).");

    private RaftSettings(Map<?, ?> values) {
        super(CONFIG_DEF, values, false);
        if (electionTimeoutMaxMs() < electionTimeoutMinMs()) {
            throw new ConfigException(
                    ELECTION_TIMEOUT_MAX_MS,
                    electionTimeoutMaxMs(),
                    "must be at least " + ELECTION_TIMEOUT_MIN_MS + " (" + electionTimeoutMinMs() + ")");
        }
        if (faulty() && getString(FAULT_INJECTOR).isEmpty()) {
            throw new ConfigException(FAULT_INJECTOR, "", "must name an injector when " + RPC_TYPE + "=faulty");
        }
    }

    /** Parses settings; absent keys take their defaults, keys of other layers are ignored. */
    public static RaftSettings parse(Map<?, ?> values) {
        return new RaftSettings(values);
    }

    public static RaftSettings defaults() {
        return parse(Map.of());
    }

    public String rpcType() {
        return getString(RPC_TYPE).toLowerCase(Locale.ROOT);
    }

    public long electionTimeoutMinMs() {
        return getLong(ELECTION_TIMEOUT_MIN_MS);
    }

    public long electionTimeoutMaxMs() {
        return getLong(ELECTION_TIMEOUT_MAX_MS);
    }

    public boolean singleWrite() {
        return getBoolean(SINGLE_WRITE);
    }

    public long retentionCheckIntervalMs() {
        return getLong(RETENTION_CHECK_INTERVAL_MS);
    }

    public long replicaLagTimeMaxMs() {
        return getLong(REPLICA_LAG_TIME_MAX_MS);
    }

    public int installChunkBytes() {
        return getInt(INSTALL_CHUNK_BYTES);
    }

    public String faultInjector() {
        return getString(FAULT_INJECTOR);
    }

    public long scrubBytesPerSecond() {
        return getLong(SCRUB_BYTES_PER_SECOND);
    }

    public long faultSeed() {
        return getLong(FAULT_SEED);
    }

    /** Whether the transport is the fault-injecting one ({@code raft.rpc.type=faulty}). */
    public boolean faulty() {
        return "faulty".equals(rpcType());
    }

    /**
     * The Ratis properties of a node's Raft server.
     *
     * @param raftDir where Ratis keeps every group's log (a directory per group)
     * @param host the address the Raft server binds to
     * @param port the port the Raft server listens on
     * @param maxEntryBytes the largest record batch a partition accepts (sizes buffers under double write)
     */
    public RaftProperties toRaftProperties(Path raftDir, String host, int port, int maxEntryBytes) {
        RaftProperties props = new RaftProperties();
        RaftServerConfigKeys.setStorageDir(props, List.of(raftDir.toFile()));
        RaftServerConfigKeys.setRemovedGroupsDir(props, new File(raftDir.toFile(), "removed-groups"));
        switch (rpcType()) {
            case "netty" -> {
                props.set(RaftConfigKeys.Rpc.TYPE_KEY, NettyTransport.class.getName());
                NettyConfigKeys.Server.setHost(props, host);
                NettyConfigKeys.Server.setPort(props, port);
            }
            case "faulty" -> {
                NettyConfigKeys.Server.setHost(props, host);
                NettyConfigKeys.Server.setPort(props, port);
                FaultInjection.enable(props, faultInjector());
            }
            default -> {
                props.set(RaftConfigKeys.Rpc.TYPE_KEY, GrpcTransport.class.getName());
                GrpcConfigKeys.Server.setPort(props, port);
                GrpcConfigKeys.Server.setHost(props, host);
            }
        }
        RaftServerConfigKeys.Rpc.setTimeoutMin(props, ms(electionTimeoutMinMs()));
        RaftServerConfigKeys.Rpc.setTimeoutMax(props, ms(electionTimeoutMaxMs()));
        RaftServerConfigKeys.Rpc.setRequestTimeout(props, ms(getLong(REQUEST_TIMEOUT_MS)));
        RaftServerConfigKeys.Rpc.setSlownessTimeout(props, ms(Math.max(60_000, replicaLagTimeMaxMs())));

        long appenderBytes = getLong(APPENDER_BATCH_BYTES);
        long writeBuffer = getLong(LOG_WRITE_BUFFER_BYTES);
        long segmentBytes = getLong(LOG_SEGMENT_BYTES);
        // An append request must fit the largest entry with its data (a whole batch, in both modes: under
        // single write the batch travels to followers as state-machine data), and Ratis requires every
        // group's write buffer — allocated up front, per group — to hold an append request.
        long entry = maxEntryBytes + 64L * 1024;
        appenderBytes = Math.max(appenderBytes, entry);
        writeBuffer = Math.max(writeBuffer, appenderBytes + 8);
        if (!singleWrite()) {
            segmentBytes = Math.max(segmentBytes, 4 * entry);
        }
        if (rpcType().equals("grpc")) {
            GrpcConfigKeys.setMessageSizeMax(props, SizeInBytes.valueOf(appenderBytes + 2L * 1024 * 1024));
        }
        RaftServerConfigKeys.Log.setSegmentSizeMax(props, SizeInBytes.valueOf(segmentBytes));
        RaftServerConfigKeys.Log.setWriteBufferSize(props, SizeInBytes.valueOf(writeBuffer));
        RaftServerConfigKeys.Log.setPreallocatedSize(
                props, SizeInBytes.valueOf(Math.min(writeBuffer * 4, segmentBytes)));
        RaftServerConfigKeys.Log.Appender.setBufferByteLimit(props, SizeInBytes.valueOf(appenderBytes));
        RaftServerConfigKeys.Log.Appender.setBufferElementLimit(props, getInt(APPENDER_BATCH_ENTRIES));
        RaftServerConfigKeys.Log.setPurgeGap(props, getInt(PURGE_GAP_ENTRIES));
        RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(props, true);
        RaftServerConfigKeys.Log.setSegmentCacheNumMax(props, 2);
        RaftServerConfigKeys.Log.setQueueElementLimit(props, getInt(PENDING_WRITES_MAX));
        RaftServerConfigKeys.Write.setElementLimit(props, getInt(PENDING_WRITES_MAX));

        // Single write: the state machine owns the batches. Ratis waits for write() before the log
        // append, and reads old entries back from the segment instead of caching them.
        RaftServerConfigKeys.Log.StateMachineData.setSync(props, true);
        RaftServerConfigKeys.Log.StateMachineData.setCachingEnabled(props, false);
        RaftServerConfigKeys.Log.StateMachineData.setSyncTimeout(props, ms(getLong(REQUEST_TIMEOUT_MS)));

        // A lagging or new replica copies the leader's segments itself (state-machine driven install).
        RaftServerConfigKeys.Log.Appender.setInstallSnapshotEnabled(props, false);
        RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(props, true);
        RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(props, getLong(SNAPSHOT_THRESHOLD_ENTRIES));
        RaftServerConfigKeys.Snapshot.setTriggerWhenStopEnabled(props, getBoolean(SNAPSHOT_ON_STOP));
        // A torn or damaged tail of a group's Raft log (a crash mid-write, a bad sector) loses the entries
        // from the damage on instead of keeping the group from starting: the leader sends them again, and the
        // partition state machine drops the data of entries its Raft log no longer holds.
        RaftServerConfigKeys.Log.setCorruptionPolicy(props, RaftServerConfigKeys.Log.CorruptionPolicy.WARN_AND_RETURN);
        RaftServerConfigKeys.Snapshot.setCreationGap(props, 1);
        return props;
    }

    private static TimeDuration ms(long millis) {
        return TimeDuration.valueOf(millis, TimeUnit.MILLISECONDS);
    }
}
