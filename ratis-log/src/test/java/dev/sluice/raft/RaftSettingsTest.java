package dev.sluice.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.raft.transport.FaultInjectingRpcFactory;
import java.nio.file.Path;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.junit.jupiter.api.Test;

class RaftSettingsTest {
    @Test
    void badValuesAreRejectedNamingTheKey() {
        assertThatThrownBy(() -> RaftSettings.parse(Map.of(RaftSettings.RPC_TYPE, "carrier-pigeon")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(RaftSettings.RPC_TYPE);
        assertThatThrownBy(() -> RaftSettings.parse(Map.of(RaftSettings.ELECTION_TIMEOUT_MIN_MS, "soon")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(RaftSettings.ELECTION_TIMEOUT_MIN_MS);
        assertThatThrownBy(() -> RaftSettings.parse(Map.of(
                        RaftSettings.ELECTION_TIMEOUT_MIN_MS, "5000", RaftSettings.ELECTION_TIMEOUT_MAX_MS, "1000")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(RaftSettings.ELECTION_TIMEOUT_MAX_MS);
        assertThatThrownBy(() -> RaftSettings.parse(Map.of(RaftSettings.RPC_TYPE, "faulty")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(RaftSettings.FAULT_INJECTOR);
    }

    @Test
    void settingsBecomeRatisProperties() {
        RaftSettings settings = RaftSettings.parse(Map.of(
                RaftSettings.ELECTION_TIMEOUT_MIN_MS, "1500",
                RaftSettings.ELECTION_TIMEOUT_MAX_MS, "2500",
                RaftSettings.SNAPSHOT_THRESHOLD_ENTRIES, "777"));
        RaftProperties props = settings.toRaftProperties(Path.of("/data/raft"), "127.0.0.1", 9300, 1024 * 1024);
        assertThat(RaftServerConfigKeys.Rpc.timeoutMin(props).toLong(java.util.concurrent.TimeUnit.MILLISECONDS))
                .isEqualTo(1500);
        assertThat(RaftServerConfigKeys.Rpc.timeoutMax(props).toLong(java.util.concurrent.TimeUnit.MILLISECONDS))
                .isEqualTo(2500);
        assertThat(RaftServerConfigKeys.Snapshot.autoTriggerThreshold(props)).isEqualTo(777);
        assertThat(RaftServerConfigKeys.Log.Appender.installSnapshotEnabled(props))
                .isFalse();
        assertThat(RaftServerConfigKeys.Log.StateMachineData.cachingEnabled(props))
                .isFalse();
        assertThat(props.get(RaftConfigKeys.Rpc.TYPE_KEY)).isEqualTo(GrpcTransport.class.getName());
        // Ratis requires every group's write buffer to hold the largest append request.
        long appender = RaftServerConfigKeys.Log.Appender.bufferByteLimit(props).getSize();
        assertThat(appender).isGreaterThanOrEqualTo(1024 * 1024);
        assertThat(RaftServerConfigKeys.Log.writeBufferSize(props).getSize()).isGreaterThanOrEqualTo(appender + 8);
    }

    @Test
    void faultySelectsTheFaultInjectingTransportUnderItsOwnKeys() {
        RaftSettings settings = RaftSettings.parse(Map.of(
                RaftSettings.RPC_TYPE, "faulty",
                RaftSettings.FAULT_INJECTOR, "chaos",
                RaftSettings.FAULT_SEED, "42"));
        RaftProperties props = settings.toRaftProperties(Path.of("/data/raft"), "127.0.0.1", 9300, 1024 * 1024);

        assertThat(settings.faulty()).isTrue();
        assertThat(settings.faultSeed()).isEqualTo(42);
        assertThat(RaftSettings.defaults().faultSeed()).isZero();
        assertThat(props.get(RaftConfigKeys.Rpc.TYPE_KEY)).isEqualTo(FaultInjectingRpcFactory.class.getName());
        assertThat(props.get(FaultInjectingRpcFactory.INJECTOR_NAME_KEY)).isEqualTo("chaos");
        assertThat(FaultInjection.FACTORY).isEqualTo(FaultInjectingRpcFactory.class.getName());
        assertThat(FaultInjection.INJECTOR_KEY).isEqualTo(FaultInjectingRpcFactory.INJECTOR_NAME_KEY);
        assertThat(FaultInjection.SELF_KEY).isEqualTo(FaultInjectingRpcFactory.SELF_KEY);
        assertThat(props.get(FaultInjectingRpcFactory.SELF_KEY))
                .as("RaftNode, which knows the node's id, names it")
                .isNull();
    }

    @Test
    void nettySelectsSluicesNettyTransport() {
        RaftProperties props = RaftSettings.parse(Map.of(RaftSettings.RPC_TYPE, "netty"))
                .toRaftProperties(Path.of("/data/raft"), "127.0.0.1", 9300, 1024 * 1024);
        assertThat(props.get(RaftConfigKeys.Rpc.TYPE_KEY)).isEqualTo(NettyTransport.class.getName());
    }
}
