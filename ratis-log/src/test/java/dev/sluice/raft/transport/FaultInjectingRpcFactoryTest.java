package dev.sluice.raft.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.ClientFactory;
import org.apache.ratis.client.RaftClientRpc;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.netty.NettyConfigKeys;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.rpc.RpcType;
import org.apache.ratis.server.ServerFactory;
import org.junit.jupiter.api.Test;

class FaultInjectingRpcFactoryTest {

    @Test
    void shouldBeSelectedByTheRaftRpcTypeThatConfigureWrites() {
        RaftProperties properties = new RaftProperties();
        FaultInjectingRpcFactory.configure(properties, "net-1", "127.0.0.1", 0);

        RpcType type = RaftConfigKeys.Rpc.type(properties, message -> {});

        assertThat(properties.get(RaftConfigKeys.Rpc.TYPE_KEY)).isEqualTo(FaultInjectingRpcFactory.class.getName());
        assertThat(properties.get(FaultInjectingRpcFactory.INJECTOR_NAME_KEY)).isEqualTo("net-1");
        assertThat(NettyConfigKeys.Server.host(properties)).isEqualTo("127.0.0.1");
        assertThat(type).isInstanceOf(FaultInjectingRpcFactory.class);
        assertThat(type.name()).isEqualTo(FaultInjectingRpcFactory.class.getName());
        assertThat(type.newFactory(new Parameters()))
                .isInstanceOf(ServerFactory.class)
                .isInstanceOf(ClientFactory.class);
    }

    @Test
    void shouldFindTheInjectorRegisteredUnderTheConfiguredName() {
        RaftProperties properties = new RaftProperties();
        String name = "factory-" + System.nanoTime();
        FaultInjectingRpcFactory.configure(properties, name);

        try (FaultInjector injector = FaultInjector.register(name, 1)) {
            assertThat(new FaultInjectingRpcFactory(new Parameters()).injectorFor(properties))
                    .isSameAs(injector);
        }
    }

    @Test
    void shouldPreferAnInjectorPassedInParameters() {
        FaultInjector passed = new FaultInjector("passed", 1);
        Parameters parameters = new Parameters();
        parameters.put(FaultInjectingRpcFactory.PARAMETERS_KEY, passed, FaultInjector.class);

        assertThat(new FaultInjectingRpcFactory(parameters).injectorFor(new RaftProperties()))
                .isSameAs(passed);
    }

    @Test
    void shouldFailWhenNoInjectorIsRegisteredUnderTheConfiguredName() {
        RaftProperties properties = new RaftProperties();
        FaultInjectingRpcFactory.configure(properties, "nobody-registered-this");

        assertThatThrownBy(() -> new FaultInjectingRpcFactory().injectorFor(properties))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("no FaultInjector is registered under 'nobody-registered-this'")
                .hasMessageContaining(FaultInjectingRpcFactory.INJECTOR_NAME_KEY);
    }

    @Test
    void shouldFailWhenNoInjectorIsConfigured() {
        assertThatThrownBy(() -> new FaultInjectingRpcFactory().injectorFor(new RaftProperties()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(FaultInjectingRpcFactory.INJECTOR_NAME_KEY + " is not set");
    }

    @Test
    void shouldFaultTheClientsOfTheNamedPeerOnly() throws Exception {
        String name = "clients-" + System.nanoTime();
        RaftProperties properties = new RaftProperties();
        FaultInjectingRpcFactory.configure(properties, name);
        FaultInjectingRpcFactory factory = new FaultInjectingRpcFactory(new Parameters());

        try (FaultInjector injector = FaultInjector.register(name, 1)) {
            try (RaftClientRpc plain = factory.newRaftClientRpc(ClientId.randomId(), properties)) {
                assertThat(plain).isNotInstanceOf(FaultInjectingClientRpc.class);
            }
            FaultInjectingRpcFactory.configureSelf(properties, "s1");
            try (RaftClientRpc faulted = factory.newRaftClientRpc(ClientId.randomId(), properties)) {
                assertThat(faulted).isInstanceOf(FaultInjectingClientRpc.class);
                assertThat(faulted.toString()).contains("self=s1").contains(injector.toString());
            }
        }
    }

    @Test
    void shouldFailToBuildAFaultedClientWithoutAnInjector() {
        RaftProperties properties = new RaftProperties();
        FaultInjectingRpcFactory.configure(properties, "nobody-registered-this-either");
        FaultInjectingRpcFactory.configureSelf(properties, "s1");

        assertThatThrownBy(() -> new FaultInjectingRpcFactory().newRaftClientRpc(ClientId.randomId(), properties))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("nobody-registered-this-either");
    }

    @Test
    void shouldRejectAnEmptyInjectorName() {
        assertThatThrownBy(() -> FaultInjectingRpcFactory.configure(new RaftProperties(), ""))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(FaultInjectingRpcFactory.INJECTOR_NAME_KEY);
    }
}
