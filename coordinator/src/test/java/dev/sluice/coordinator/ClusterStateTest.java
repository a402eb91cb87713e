package dev.sluice.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.coordinator.CoordinatorCommand.AllocateProducerIds;
import dev.sluice.coordinator.CoordinatorCommand.AlterConfigs;
import dev.sluice.coordinator.CoordinatorCommand.CreatePartitions;
import dev.sluice.coordinator.CoordinatorCommand.CreateTopic;
import dev.sluice.coordinator.CoordinatorCommand.DeleteTopic;
import dev.sluice.coordinator.CoordinatorCommand.FenceNode;
import dev.sluice.coordinator.CoordinatorCommand.RegisterNode;
import dev.sluice.coordinator.CoordinatorCommand.SetReplicas;
import dev.sluice.coordinator.CoordinatorCommand.ShutdownNode;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;

class ClusterStateTest {
    private static ClusterState threeNodes() {
        ClusterState state = new ClusterState(ClusterImage.empty());
        for (int id = 1; id <= 3; id++) {
            assertThat(state.apply(new RegisterNode(
                                    id, "127.0.0.1", 9091 + id, "127.0.0.1", 9191 + id, null, "c-" + id))
                            .error())
                    .isEqualTo(Errors.NONE);
        }
        return state;
    }

    @Test
    void shouldKeepTheFirstClusterIdAndCountVersions() {
        ClusterState state = threeNodes();
        assertThat(state.image().clusterId()).isEqualTo("c-1");
        assertThat(state.image().version()).isEqualTo(3);
        assertThat(state.image().liveNodes()).containsExactly(1, 2, 3);
    }

    @Test
    void shouldPlaceEveryPartitionOnDistinctLiveNodes() {
        ClusterState state = threeNodes();
        assertThat(state.apply(new CreateTopic("events", "id-1", 6, 3, Map.of(), null))
                        .error())
                .isEqualTo(Errors.NONE);
        var topic = state.image().topic("events");
        assertThat(topic.partitionCount()).isEqualTo(6);
        topic.replicas().values().forEach(r -> assertThat(new HashSet<>(r)).hasSize(3));
        assertThat(state.apply(new CreateTopic("events", "id-2", 1, 1, Map.of(), null))
                        .error())
                .isEqualTo(Errors.TOPIC_ALREADY_EXISTS);
        assertThat(state.apply(new CreateTopic("big", "id-3", 1, 4, Map.of(), null))
                        .error())
                .isEqualTo(Errors.INVALID_REPLICATION_FACTOR);
        assertThat(state.apply(new CreateTopic("bad/name", "id-4", 1, 1, Map.of(), null))
                        .error())
                .isEqualTo(Errors.INVALID_TOPIC_EXCEPTION);
    }

    @Test
    void shouldApplyTheSameLogToTheSameImage() {
        List<CoordinatorCommand> log = List.of(
                new RegisterNode(1, "h", 1, "h", 2, null, "c"),
                new RegisterNode(2, "h", 3, "h", 4, null, "d"),
                new CreateTopic("a", "id-a", 4, 2, Map.of("retention.ms", "1000"), null),
                new CreatePartitions("a", 6),
                new AlterConfigs("a", Map.of("segment.bytes", "4096"), List.of("retention.ms")),
                new AllocateProducerIds(1, 1000),
                new FenceNode(2),
                new ShutdownNode(1),
                new DeleteTopic("missing"));
        ClusterState first = new ClusterState(ClusterImage.empty());
        ClusterState second = new ClusterState(ClusterImage.empty());
        log.forEach(first::apply);
        log.forEach(c -> second.apply(CoordinatorCodec.decode(CoordinatorCodec.encode(c), CoordinatorCommand.class)));
        assertThat(CoordinatorCodec.encode(first.image())).isEqualTo(CoordinatorCodec.encode(second.image()));
        ClusterImage decoded = CoordinatorCodec.decode(CoordinatorCodec.encode(first.image()), ClusterImage.class);
        assertThat(decoded).isEqualTo(first.image());
        assertThat(decoded.topic("a").partitionCount()).isEqualTo(6);
        assertThat(decoded.topic("a").configs()).containsExactly(Map.entry("segment.bytes", "4096"));
        assertThat(decoded.liveNodes()).containsExactly(1);
        assertThat(decoded.node(1).shuttingDown()).isTrue();
    }

    @Test
    void shouldMarkAStoppingNodeUntilItRegistersAgainWithoutMovingItsReplicas() {
        ClusterState state = threeNodes();
        state.apply(new CreateTopic("events", "id-1", 3, 3, Map.of(), null));
        ClusterImage before = state.image();

        assertThat(state.apply(new ShutdownNode(2)).error()).isEqualTo(Errors.NONE);
        assertThat(state.image().node(2).shuttingDown()).isTrue();
        assertThat(state.image().node(2).fenced()).isFalse();
        assertThat(state.image().liveNodes()).as("still holds its replicas").containsExactly(1, 2, 3);
        assertThat(state.image().topics()).isEqualTo(before.topics());
        assertThat(state.apply(new ShutdownNode(9)).error()).isEqualTo(Errors.BROKER_NOT_AVAILABLE);

        state.apply(new RegisterNode(2, "h", 3, "h", 4, null, "c"));
        assertThat(state.image().node(2).shuttingDown()).isFalse();
        state.apply(new ShutdownNode(2));
        state.apply(new FenceNode(2));
        assertThat(state.image().node(2).fenced()).isTrue();
        assertThat(state.image().node(2).shuttingDown()).isFalse();
    }

    @Test
    void shouldApplyAReorderOfTheSameReplicasAsANewImageVersion() {
        ClusterState state = threeNodes();
        state.apply(new CreateTopic("events", "id-1", 1, 3, Map.of(), null));
        List<Integer> placed = state.image().topic("events").replicas().get(0);
        List<Integer> reordered = List.of(placed.get(2), placed.get(0), placed.get(1));
        long version = state.image().version();

        assertThat(state.apply(new SetReplicas("events", 0, reordered)).error()).isEqualTo(Errors.NONE);

        assertThat(state.image().topic("events").replicas().get(0)).isEqualTo(reordered);
        assertThat(state.image().version()).isEqualTo(version + 1);
    }

    @Test
    void shouldRejectReplicasOnAnUnregisteredNodeOrOfAMissingPartition() {
        ClusterState state = threeNodes();
        state.apply(new CreateTopic("events", "id-1", 1, 3, Map.of(), null));
        long version = state.image().version();

        assertThat(state.apply(new SetReplicas("events", 0, List.of(1, 2, 7))).error())
                .isEqualTo(Errors.INVALID_REPLICA_ASSIGNMENT);
        assertThat(state.apply(new SetReplicas("events", 1, List.of(1, 2, 3))).error())
                .isEqualTo(Errors.UNKNOWN_TOPIC_OR_PARTITION);
        assertThat(state.image().version()).isEqualTo(version);
    }

    @Test
    void shouldHandOutDisjointProducerIdBlocks() {
        ClusterState state = threeNodes();
        long first = state.apply(new AllocateProducerIds(1, 1000)).value();
        long second = state.apply(new AllocateProducerIds(2, 1000)).value();
        assertThat(second).isEqualTo(first + 1000);
    }
}
