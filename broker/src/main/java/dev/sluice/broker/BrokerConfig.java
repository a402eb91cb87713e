package dev.sluice.broker;

import dev.sluice.coordinator.CoordinatorService.Voter;
import dev.sluice.coordinator.group.GroupCoordinatorConfig;
import dev.sluice.coordinator.txn.TxnCoordinatorConfig;
import dev.sluice.partitionstore.LogConfig;
import dev.sluice.raft.RaftSettings;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;

/**
 * A node's configuration: Kafka-style keys read from a properties file, every key typed and
 * documented, checked at start. Unknown keys and bad values fail with a {@link ConfigException} naming
 * the key. The node's Raft settings ({@link RaftSettings}) are accepted in the same file; topic
 * defaults use Kafka's broker names ({@code log.retention.ms}, ...), which topic configs
 * ({@code retention.ms}, ...) override.
 */
public final class BrokerConfig extends AbstractConfig {
    public static final String NODE_ID = "node.id";
    public static final String LISTENERS = "listeners";
    public static final String ADVERTISED_LISTENERS = "advertised.listeners";
    public static final String RAFT_LISTENER = "raft.listener";
    public static final String HTTP_LISTENER = "http.listener";
    public static final String DATA_DIR = "data.dir";
    public static final String COORDINATOR_VOTERS = "coordinator.voters";
    public static final String RACK = "broker.rack";
    public static final String NUM_PARTITIONS = "num.partitions";
    public static final String DEFAULT_REPLICATION_FACTOR = "default.replication.factor";
    public static final String MIN_INSYNC_REPLICAS = "min.insync.replicas";
    public static final String AUTO_CREATE_TOPICS_ENABLE = "auto.create.topics.enable";
    public static final String LOG_RETENTION_MS = "log.retention.ms";
    public static final String LOG_RETENTION_BYTES = "log.retention.bytes";
    public static final String LOG_SEGMENT_BYTES = "log.segment.bytes";
    public static final String LOG_ROLL_MS = "log.roll.ms";
    public static final String LOG_INDEX_INTERVAL_BYTES = "log.index.interval.bytes";
    public static final String MESSAGE_MAX_BYTES = "message.max.bytes";
    public static final String LOG_MESSAGE_TIMESTAMP_TYPE = "log.message.timestamp.type";
    public static final String SOCKET_REQUEST_MAX_BYTES = "socket.request.max.bytes";
    public static final String MAX_IN_FLIGHT_PER_CONNECTION = "queued.max.requests.per.connection";
    public static final String NODE_HEARTBEAT_INTERVAL_MS = "node.heartbeat.interval.ms";
    public static final String NODE_FAILURE_TIMEOUT_MS = "node.failure.timeout.ms";
    public static final String SHUTDOWN_TIMEOUT_MS = "controlled.shutdown.timeout.ms";
    public static final String OFFSETS_TOPIC_NUM_PARTITIONS = "offsets.topic.num.partitions";
    public static final String OFFSETS_TOPIC_REPLICATION_FACTOR = "offsets.topic.replication.factor";

    /** The broker-level names of the topic settings, and the topic-level names they give defaults to. */
    static final Map<String, String> TOPIC_DEFAULTS = Map.of(
            LOG_RETENTION_MS, LogConfig.RETENTION_MS,
            LOG_RETENTION_BYTES, LogConfig.RETENTION_BYTES,
            LOG_SEGMENT_BYTES, LogConfig.SEGMENT_BYTES,
            LOG_ROLL_MS, LogConfig.SEGMENT_MS,
            LOG_INDEX_INTERVAL_BYTES, LogConfig.INDEX_INTERVAL_BYTES,
            MESSAGE_MAX_BYTES, LogConfig.MAX_MESSAGE_BYTES,
            LOG_MESSAGE_TIMESTAMP_TYPE, LogConfig.MESSAGE_TIMESTAMP_TYPE);

    public static final ConfigDef CONFIG_DEF = new ConfigDef()
            .define(
                    NODE_ID,
                    Type.INT,
                    ConfigDef.NO_DEFAULT_VALUE,
                    Range.atLeast(0),
                    Importance.HIGH,
                    "This node's id, unique in the cluster and stable across restarts.")
            .define(
                    LISTENERS,
                    Type.STRING,
                    "127.0.0.1:9092",
                    Importance.HIGH,
                    "Where the Kafka protocol listens: host:port (a PLAINTEXT:// prefix is accepted).")
            .define(
                    ADVERTISED_LISTENERS,
                    Type.STRING,
                    "",
                    Importance.HIGH,
                    "The host:port clients are told to connect to; empty means the listener's.")
            .define(
                    RAFT_LISTENER,
                    Type.STRING,
                    "127.0.0.1:9192",
                    Importance.HIGH,
                    "The host:port of this node's Raft server, which other nodes replicate to.")
            .define(
                    HTTP_LISTENER,
                    Type.STRING,
                    "127.0.0.1:9644",
                    Importance.MEDIUM,
                    "The host:port of the HTTP endpoint: /metrics (Prometheus), /health, /ready, /status;"
                            + " /faults with raft.rpc.type=faulty.")
            .define(
                    DATA_DIR,
                    Type.STRING,
                    "./data",
                    Importance.HIGH,
                    "The directory of this node's segments, RocksDB and Raft logs.")
            .define(
                    COORDINATOR_VOTERS,
                    Type.STRING,
                    ConfigDef.NO_DEFAULT_VALUE,
                    Importance.HIGH,
                    "The nodes forming the coordinator group, as id@raft-host:raft-port separated by commas;"
                            + " the same on every node (3 voters, or 1 on a one-node cluster).")
            .define(RACK, Type.STRING, null, Importance.LOW, "The rack of this node, for clients; optional.")
            .define(
                    NUM_PARTITIONS,
                    Type.INT,
                    1,
                    Range.atLeast(1),
                    Importance.MEDIUM,
                    "Partitions of an automatically created topic and of CreateTopics without a count.")
            .define(
                    DEFAULT_REPLICATION_FACTOR,
                    Type.SHORT,
                    (short) 1,
                    Range.atLeast(1),
                    Importance.MEDIUM,
                    "Replicas of an automatically created topic and of CreateTopics without a factor.")
            .define(
                    MIN_INSYNC_REPLICAS,
                    Type.INT,
                    1,
                    Range.atLeast(1),
                    Importance.MEDIUM,
                    "An acks=all produce fails with NOT_ENOUGH_REPLICAS when fewer replicas are in sync;"
                            + " a topic's min.insync.replicas overrides it.")
            .define(
                    AUTO_CREATE_TOPICS_ENABLE,
                    Type.BOOLEAN,
                    true,
                    Importance.MEDIUM,
                    "Metadata requests for an unknown topic create it (when the client allows it).")
            .define(
                    LOG_RETENTION_MS,
                    Type.LONG,
                    7L * 24 * 60 * 60 * 1000,
                    Range.atLeast(-1),
                    Importance.MEDIUM,
                    "Default retention.ms of topics.")
            .define(
                    LOG_RETENTION_BYTES,
                    Type.LONG,
                    -1L,
                    Range.atLeast(-1),
                    Importance.MEDIUM,
                    "Default retention.bytes of topics.")
            .define(
                    LOG_SEGMENT_BYTES,
                    Type.INT,
                    1024 * 1024 * 1024,
                    Range.atLeast(LogConfig.MIN_SEGMENT_BYTES),
                    Importance.MEDIUM,
                    "Default segment.bytes of topics.")
            .define(
                    LOG_ROLL_MS,
                    Type.LONG,
                    7L * 24 * 60 * 60 * 1000,
                    Range.atLeast(1),
                    Importance.LOW,
                    "Default segment.ms of topics.")
            .define(
                    LOG_INDEX_INTERVAL_BYTES,
                    Type.INT,
                    4096,
                    Range.atLeast(0),
                    Importance.LOW,
                    "Default index.interval.bytes of topics.")
            .define(
                    MESSAGE_MAX_BYTES,
                    Type.INT,
                    1024 * 1024 + 12,
                    Range.atLeast(0),
                    Importance.MEDIUM,
                    "Default max.message.bytes of topics: the largest record batch accepted.")
            .define(
                    LOG_MESSAGE_TIMESTAMP_TYPE,
                    Type.STRING,
                    "CreateTime",
                    ConfigDef.ValidString.in("CreateTime", "LogAppendTime"),
                    Importance.LOW,
                    "Default message.timestamp.type of topics.")
            .define(
                    SOCKET_REQUEST_MAX_BYTES,
                    Type.INT,
                    100 * 1024 * 1024,
                    Range.atLeast(1024),
                    Importance.LOW,
                    "The largest request accepted; a bigger one closes the connection.")
            .define(
                    MAX_IN_FLIGHT_PER_CONNECTION,
                    Type.INT,
                    100,
                    Range.atLeast(1),
                    Importance.LOW,
                    "Requests of one connection being handled at once; beyond it the node stops reading"
                            + " from that connection until answers go out.")
            .define(
                    NODE_HEARTBEAT_INTERVAL_MS,
                    Type.LONG,
                    500L,
                    Range.atLeast(10),
                    Importance.LOW,
                    "How often a node tells the coordinator it is alive and which partitions it leads.")
            .define(
                    NODE_FAILURE_TIMEOUT_MS,
                    Type.LONG,
                    10_000L,
                    Range.atLeast(100),
                    Importance.MEDIUM,
                    "A node not heard from for this long is fenced and its replicas are moved to live nodes.")
            .define(
                    SHUTDOWN_TIMEOUT_MS,
                    Type.LONG,
                    15_000L,
                    Range.atLeast(0),
                    Importance.LOW,
                    "How long a stopping node spends moving leadership of its partitions away.")
            .define(
                    OFFSETS_TOPIC_NUM_PARTITIONS,
                    Type.INT,
                    16,
                    Range.between(1, 1000),
                    Importance.HIGH,
                    "Partitions of the internal __consumer_offsets topic, fixed when it is created (on the first"
                            + " FindCoordinator for a group). Each partition is a Raft group with its own threads on"
                            + " every replica, so the default is 16 rather than Kafka's 50; a group's coordinator is"
                            + " the leader of partition hash(group.id) mod this count.")
            .define(
                    OFFSETS_TOPIC_REPLICATION_FACTOR,
                    Type.SHORT,
                    (short) 3,
                    Range.atLeast(1),
                    Importance.HIGH,
                    "Replicas of each __consumer_offsets partition; fewer when fewer nodes are live at creation"
                            + " (the topic is created with min(this, live nodes)).");

    private final RaftSettings raftSettings;
    private final LogConfig topicDefaults;
    private final GroupCoordinatorConfig groupCoordinatorConfig;
    private final TxnCoordinatorConfig txnCoordinatorConfig;

    private BrokerConfig(
            Map<String, String> own,
            RaftSettings raftSettings,
            GroupCoordinatorConfig groupCoordinatorConfig,
            TxnCoordinatorConfig txnCoordinatorConfig) {
        super(CONFIG_DEF, own, false);
        this.raftSettings = raftSettings;
        this.groupCoordinatorConfig = groupCoordinatorConfig;
        this.txnCoordinatorConfig = txnCoordinatorConfig;
        Map<String, String> topic = new HashMap<>();
        TOPIC_DEFAULTS.forEach((broker, topicKey) -> topic.put(topicKey, String.valueOf(get(broker))));
        this.topicDefaults = LogConfig.parse(topic);
        coordinatorVoters();
        hostPort(LISTENERS, listener());
        hostPort(RAFT_LISTENER, getString(RAFT_LISTENER));
        hostPort(HTTP_LISTENER, getString(HTTP_LISTENER));
        if (!advertisedListener().isEmpty()) {
            hostPort(ADVERTISED_LISTENERS, advertisedListener());
        }
    }

    /** Parses settings; unknown keys and bad values throw a ConfigException naming the key. */
    public static BrokerConfig parse(Map<String, String> settings) {
        Map<String, String> own = new HashMap<>();
        Map<String, String> raft = new HashMap<>();
        Map<String, String> group = new HashMap<>();
        Map<String, String> txn = new HashMap<>();
        TreeSet<String> unknown = new TreeSet<>();
        settings.forEach((key, value) -> {
            if (CONFIG_DEF.configKeys().containsKey(key)) {
                own.put(key, value.trim());
            } else if (RaftSettings.CONFIG_DEF.configKeys().containsKey(key)) {
                raft.put(key, value.trim());
            } else if (GroupCoordinatorConfig.CONFIG_DEF.configKeys().containsKey(key)) {
                group.put(key, value.trim());
            } else if (TxnCoordinatorConfig.CONFIG_DEF.configKeys().containsKey(key)) {
                txn.put(key, value.trim());
            } else {
                unknown.add(key);
            }
        });
        if (!unknown.isEmpty()) {
            throw new ConfigException(
                    unknown.first(),
                    settings.get(unknown.first()),
                    "unknown setting"
                            + (unknown.size() > 1
                                    ? " (also unknown: " + String.join(", ", unknown.tailSet(unknown.first(), false))
                                            + ")"
                                    : ""));
        }
        return new BrokerConfig(
                own, RaftSettings.parse(raft), GroupCoordinatorConfig.parse(group), TxnCoordinatorConfig.parse(txn));
    }

    /** Reads a properties file. */
    public static BrokerConfig load(Path file) throws IOException {
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(file)) {
            properties.load(reader);
        }
        Map<String, String> settings = new HashMap<>();
        properties.stringPropertyNames().forEach(k -> settings.put(k, properties.getProperty(k)));
        return parse(settings);
    }

    public int nodeId() {
        return getInt(NODE_ID);
    }

    /** The Kafka listener's host:port, without a security-protocol prefix. */
    public String listener() {
        return stripProtocol(getString(LISTENERS));
    }

    public String advertisedListener() {
        return stripProtocol(getString(ADVERTISED_LISTENERS));
    }

    private static String stripProtocol(String value) {
        String s = value.trim();
        int scheme = s.indexOf("://");
        return scheme >= 0 ? s.substring(scheme + 3) : s;
    }

    /** Host and port of a host:port setting. */
    public static HostPort hostPort(String key, String value) {
        int colon = value.lastIndexOf(':');
        if (colon <= 0) {
            throw new ConfigException(key, value, "expected host:port");
        }
        try {
            int port = Integer.parseInt(value.substring(colon + 1));
            if (port < 0 || port > 65535) {
                throw new ConfigException(key, value, "the port must be 0 to 65535");
            }
            return new HostPort(value.substring(0, colon), port);
        } catch (NumberFormatException e) {
            throw new ConfigException(key, value, "expected host:port");
        }
    }

    public record HostPort(String host, int port) {
        @Override
        public String toString() {
            return host + ":" + port;
        }
    }

    public HostPort kafkaAddress() {
        return hostPort(LISTENERS, listener());
    }

    public HostPort advertisedAddress() {
        return advertisedListener().isEmpty() ? kafkaAddress() : hostPort(ADVERTISED_LISTENERS, advertisedListener());
    }

    public HostPort raftAddress() {
        return hostPort(RAFT_LISTENER, getString(RAFT_LISTENER));
    }

    public HostPort httpAddress() {
        return hostPort(HTTP_LISTENER, getString(HTTP_LISTENER));
    }

    public Path dataDir() {
        return Path.of(getString(DATA_DIR));
    }

    public List<Voter> coordinatorVoters() {
        try {
            return Voter.parseList(getString(COORDINATOR_VOTERS));
        } catch (RuntimeException e) {
            throw new ConfigException(COORDINATOR_VOTERS, getString(COORDINATOR_VOTERS), e.getMessage());
        }
    }

    public RaftSettings raftSettings() {
        return raftSettings;
    }

    /** The consumer-group settings ({@code group.*}, {@code offsets.retention.*}), accepted in the same file. */
    public GroupCoordinatorConfig groupCoordinatorConfig() {
        return groupCoordinatorConfig;
    }

    /** The transaction coordinator's settings ({@code transaction.*}, {@code transactional.id.*}). */
    public TxnCoordinatorConfig txnCoordinatorConfig() {
        return txnCoordinatorConfig;
    }

    /** The topic settings a topic gets unless its own configs say otherwise. */
    public LogConfig topicDefaults() {
        return topicDefaults;
    }

    /** A topic's settings: the defaults overridden by the topic's configs. */
    public LogConfig topicConfig(Map<String, String> topicConfigs) {
        Map<String, String> merged = new HashMap<>(topicDefaults.toMap());
        topicConfigs.forEach((k, v) -> {
            if (LogConfig.CONFIG_DEF.configKeys().containsKey(k)) {
                merged.put(k, v);
            }
        });
        return LogConfig.parse(merged);
    }

    public int minInsyncReplicas(Map<String, String> topicConfigs) {
        String value = topicConfigs.get(MIN_INSYNC_REPLICAS);
        return value == null ? getInt(MIN_INSYNC_REPLICAS) : Integer.parseInt(value);
    }

    public String rack() {
        return getString(RACK);
    }
}
