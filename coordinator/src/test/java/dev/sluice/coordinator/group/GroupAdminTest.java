package dev.sluice.coordinator.group;

import static dev.sluice.coordinator.group.GroupTestDriver.GROUP;
import static dev.sluice.coordinator.group.GroupTestDriver.joinRequest;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.coordinator.group.GroupRecord.GroupTombstone;
import dev.sluice.coordinator.group.GroupRecord.OffsetTombstone;
import dev.sluice.coordinator.group.GroupTestDriver.StableGroup;
import java.util.List;
import org.apache.kafka.common.message.DeleteGroupsResponseData;
import org.apache.kafka.common.message.DeleteGroupsResponseData.DeletableGroupResult;
import org.apache.kafka.common.message.DescribeGroupsResponseData.DescribedGroup;
import org.apache.kafka.common.message.DescribeGroupsResponseData.DescribedGroupMember;
import org.apache.kafka.common.message.JoinGroupRequestData.JoinGroupRequestProtocol;
import org.apache.kafka.common.message.JoinGroupRequestData.JoinGroupRequestProtocolCollection;
import org.apache.kafka.common.message.ListGroupsResponseData.ListedGroup;
import org.apache.kafka.common.message.OffsetDeleteResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;

/** DescribeGroups, ListGroups, DeleteGroups and OffsetDelete. */
class GroupAdminTest {
    private final GroupTestDriver driver = new GroupTestDriver();

    // ---- placement ----

    @Test
    void shouldPlaceAGroupOnThePartitionKafkaWouldPlaceItOn() {
        // Kafka: Utils.abs(groupId.hashCode()) % offsets.topic.num.partitions
        assertThat(GroupCoordinatorState.partitionFor("my-group", 50)).isEqualTo(Math.abs("my-group".hashCode()) % 50);
        String minValueHash = "polygenelubricants"; // hashCode() == Integer.MIN_VALUE
        assertThat(minValueHash.hashCode()).isEqualTo(Integer.MIN_VALUE);
        assertThat(GroupCoordinatorState.partitionFor(minValueHash, 50)).isZero();
    }

    // ---- DescribeGroups ----

    @Test
    void shouldDescribeAStableGroupWithItsProtocolAndTheMembersMetadataAndAssignments() {
        StableGroup group = driver.stableGroup(2);

        DescribedGroup described = driver.describe((short) 5);

        assertThat(described.errorCode()).isEqualTo(Errors.NONE.code());
        assertThat(described.groupState()).isEqualTo("Stable");
        assertThat(described.protocolType()).isEqualTo("consumer");
        assertThat(described.protocolData()).isEqualTo("range");
        assertThat(described.members())
                .extracting(DescribedGroupMember::memberId)
                .containsExactlyElementsOf(group.memberIds());
        assertThat(described.members().get(0).memberMetadata()).isEqualTo(GroupTestDriver.subscription("t"));
        assertThat(described.members().get(0).memberAssignment()).isNotEmpty();
        assertThat(described.members().get(0).clientId()).isEqualTo("client");
        assertThat(described.members().get(0).clientHost()).isEqualTo("/127.0.0.1");
    }

    @Test
    void shouldDescribeARebalancingGroupWithoutProtocolOrMemberMetadata() {
        StableGroup group = driver.stableGroup(2);
        driver.join(joinRequest(group.leader()));

        DescribedGroup described = driver.describe((short) 5);

        assertThat(described.groupState()).isEqualTo("PreparingRebalance");
        assertThat(described.protocolData()).isEmpty();
        assertThat(described.members())
                .allSatisfy(m -> assertThat(m.memberMetadata()).isEmpty());
    }

    @Test
    void shouldDescribeAnUnknownGroupAsDeadAndFromVersion6WithGroupIdNotFound() {
        DescribedGroup v5 = driver.describe((short) 5);
        DescribedGroup v6 = driver.describe((short) 6);

        assertThat(v5.groupState()).isEqualTo("Dead");
        assertThat(v5.errorCode()).isEqualTo(Errors.NONE.code());
        assertThat(v6.groupState()).isEqualTo("Dead");
        assertThat(v6.errorCode()).isEqualTo(Errors.GROUP_ID_NOT_FOUND.code());
        assertThat(v6.errorMessage()).contains(GROUP);
    }

    // ---- ListGroups ----

    @Test
    void shouldListGroupsWithTheirStateTypeAndProtocolType() {
        driver.stableGroup(1);

        assertThat(driver.list(List.of(), List.of()).groups()).singleElement().satisfies(g -> {
            assertThat(g.groupId()).isEqualTo(GROUP);
            assertThat(g.groupState()).isEqualTo("Stable");
            assertThat(g.protocolType()).isEqualTo("consumer");
            assertThat(g.groupType()).isEqualTo("classic");
        });
    }

    @Test
    void shouldFilterByStateCaseInsensitively() {
        driver.stableGroup(1);
        driver.send(new GroupCommand.OffsetCommit(
                driver.context((short) 8),
                GroupTestDriver.commitRequest("", -1, "t", 0, 1).setGroupId("simple")));

        assertThat(driver.list(List.of("EMPTY"), List.of()).groups())
                .extracting(ListedGroup::groupId)
                .containsExactly("simple");
        assertThat(driver.list(List.of("stable", "Empty"), List.of()).groups())
                .extracting(ListedGroup::groupId)
                .containsExactly(GROUP, "simple");
        assertThat(driver.list(List.of("Dead"), List.of()).groups()).isEmpty();
    }

    @Test
    void shouldListNothingWhenOnlyOtherGroupTypesAreAskedFor() {
        driver.stableGroup(1);

        assertThat(driver.list(List.of(), List.of("consumer")).groups()).isEmpty();
        assertThat(driver.list(List.of(), List.of("Classic")).groups()).hasSize(1);
    }

    // ---- DeleteGroups ----

    @Test
    void shouldRefuseToDeleteAGroupWithMembersWithNonEmptyGroup() {
        driver.stableGroup(1);

        DeleteGroupsResponseData response = driver.deleteGroups(GROUP, "unknown");

        assertThat(response.results())
                .extracting(DeletableGroupResult::groupId, DeletableGroupResult::errorCode)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple(GROUP, Errors.NON_EMPTY_GROUP.code()),
                        org.assertj.core.groups.Tuple.tuple("unknown", Errors.GROUP_ID_NOT_FOUND.code()));
        assertThat(driver.lastRecords).isEmpty();
    }

    @Test
    void shouldDeleteAnEmptyGroupWithItsOffsets() {
        driver.commit("", -1, "t", 0, 1);
        driver.commit("", -1, "t", 1, 2);

        DeleteGroupsResponseData response = driver.deleteGroups(GROUP);

        assertThat(response.results().find(GROUP).errorCode()).isEqualTo(Errors.NONE.code());
        assertThat(driver.lastRecords)
                .containsExactly(
                        new OffsetTombstone(GROUP, "t", 0),
                        new OffsetTombstone(GROUP, "t", 1),
                        new GroupTombstone(GROUP));
        assertThat(driver.state.groupIds()).isEmpty();
        assertThat(driver.committed("t", 0)).isEqualTo(-1);
        assertThat(driver.describe((short) 5).groupState()).isEqualTo("Dead");
    }

    // ---- OffsetDelete ----

    @Test
    void shouldDeleteOffsetsOfAnEmptyGroup() {
        driver.commit("", -1, "t", 0, 1);

        OffsetDeleteResponseData response = driver.deleteOffsets("t", 0, 5);

        assertThat(response.errorCode()).isEqualTo(Errors.NONE.code());
        assertThat(response.topics().find("t").partitions())
                .allSatisfy(p -> assertThat(p.errorCode()).isEqualTo(Errors.NONE.code()))
                .hasSize(2);
        assertThat(driver.lastRecords).containsExactly(new OffsetTombstone(GROUP, "t", 0));
        assertThat(driver.committed("t", 0)).isEqualTo(-1);
    }

    @Test
    void shouldRefuseToDeleteOffsetsOfATopicTheMembersSubscribeTo() {
        StableGroup group = driver.stableGroup(1);
        driver.commit(group.leader(), group.generationId(), "t", 0, 1);
        driver.commit(group.leader(), group.generationId(), "old", 0, 1);

        OffsetDeleteResponseData subscribed = driver.deleteOffsets("t", 0);
        OffsetDeleteResponseData unsubscribed = driver.deleteOffsets("old", 0);

        assertThat(subscribed.topics().find("t").partitions().find(0).errorCode())
                .isEqualTo(Errors.GROUP_SUBSCRIBED_TO_TOPIC.code());
        assertThat(unsubscribed.topics().find("old").partitions().find(0).errorCode())
                .isEqualTo(Errors.NONE.code());
        assertThat(driver.committed("t", 0)).isEqualTo(1);
        assertThat(driver.committed("old", 0)).isEqualTo(-1);
    }

    @Test
    void shouldRefuseToDeleteOffsetsOfANonEmptyGroupOfAnotherProtocolTypeWithNonEmptyGroup() {
        JoinGroupRequestProtocolCollection protocols = new JoinGroupRequestProtocolCollection();
        protocols.add(new JoinGroupRequestProtocol().setName("default").setMetadata(new byte[] {1}));
        driver.join(joinRequest("").setProtocolType("connect").setProtocols(protocols), (short) 3);

        OffsetDeleteResponseData response = driver.deleteOffsets("t", 0);

        assertThat(response.errorCode()).isEqualTo(Errors.NON_EMPTY_GROUP.code());
    }

    @Test
    void shouldAnswerGroupIdNotFoundForOffsetDeleteOfAnUnknownGroup() {
        assertThat(driver.deleteOffsets("t", 0).errorCode()).isEqualTo(Errors.GROUP_ID_NOT_FOUND.code());
    }
}
