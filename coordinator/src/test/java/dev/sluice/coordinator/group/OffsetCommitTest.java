package dev.sluice.coordinator.group;

import static dev.sluice.coordinator.group.GroupTestDriver.GROUP;
import static dev.sluice.coordinator.group.GroupTestDriver.commitRequest;
import static dev.sluice.coordinator.group.GroupTestDriver.joinRequest;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.coordinator.group.GroupRecord.OffsetCommit;
import dev.sluice.coordinator.group.GroupTestDriver.StableGroup;
import java.util.List;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetCommitResponseData;
import org.apache.kafka.common.message.OffsetFetchRequestData.OffsetFetchRequestGroup;
import org.apache.kafka.common.message.OffsetFetchRequestData.OffsetFetchRequestTopics;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponseGroup;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponsePartitions;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponseTopics;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;

class OffsetCommitTest {
    private final GroupTestDriver driver = new GroupTestDriver();

    private Errors commitError(OffsetCommitRequestData request, short version) {
        long handle = driver.commit(request, version);
        return Errors.forCode(driver.response(handle, OffsetCommitResponseData.class)
                .topics()
                .get(0)
                .partitions()
                .get(0)
                .errorCode());
    }

    @Test
    void shouldLetASimpleConsumerCommitToAnUnknownGroupAndCreateIt() {
        assertThat(driver.commit("", -1, "t", 0, 42)).isEqualTo(Errors.NONE);

        assertThat(driver.lastRecords).singleElement().isInstanceOfSatisfying(OffsetCommit.class, c -> {
            assertThat(c.committedOffset()).isEqualTo(42);
            assertThat(c.leaderEpoch()).isEqualTo(3);
            assertThat(c.metadata()).isEqualTo("m");
            assertThat(c.commitTimestampMs()).isEqualTo(driver.nowMs);
            assertThat(c.expireTimestampMs()).isEqualTo(-1);
        });
        assertThat(driver.state.groupState(GROUP)).isEqualTo(GroupState.EMPTY);
        assertThat(driver.committed("t", 0)).isEqualTo(42);
    }

    @Test
    void shouldHoldTheAnswerToACommitUntilItsRecordIsCommitted() {
        long handle = driver.commit(commitRequest("", -1, "t", 0, 42), (short) 8);

        assertThat(driver.completion(handle).awaitsCommit()).isTrue();
    }

    @Test
    void shouldRefuseAGenerationlessCommitToAGroupWithMembers() {
        driver.stableGroup(1);

        assertThat(driver.commit("", -1, "t", 0, 42)).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
        assertThat(driver.committed("t", 0)).isEqualTo(-1);
    }

    @Test
    void shouldAcceptACommitOfTheCurrentGeneration() {
        StableGroup group = driver.stableGroup(2);

        assertThat(driver.commit(group.follower(), group.generationId(), "t", 1, 7))
                .isEqualTo(Errors.NONE);
        assertThat(driver.committed("t", 1)).isEqualTo(7);
    }

    @Test
    void shouldRefuseACommitOfAnOlderGenerationWithIllegalGeneration() {
        StableGroup group = driver.stableGroup(1);
        driver.join(joinRequest(group.leader()));
        int newGeneration = driver.state.generationId(GROUP);

        assertThat(newGeneration).isEqualTo(group.generationId() + 1);
        assertThat(driver.commit(group.leader(), group.generationId(), "t", 0, 9))
                .isEqualTo(Errors.ILLEGAL_GENERATION);
        assertThat(driver.committed("t", 0)).isEqualTo(-1);
    }

    @Test
    void shouldRefuseACommitWhileTheGroupWaitsForTheAssignmentWithRebalanceInProgress() {
        StableGroup group = driver.stableGroup(1);
        driver.join(joinRequest(group.leader()));
        assertThat(driver.state.groupState(GROUP)).isEqualTo(GroupState.COMPLETING_REBALANCE);

        assertThat(driver.commit(group.leader(), group.generationId() + 1, "t", 0, 9))
                .isEqualTo(Errors.REBALANCE_IN_PROGRESS);
    }

    @Test
    void shouldAcceptACommitOfTheCurrentGenerationWhileMembersRejoin() {
        StableGroup group = driver.stableGroup(2);
        driver.join(joinRequest(group.leader()));
        assertThat(driver.state.groupState(GROUP)).isEqualTo(GroupState.PREPARING_REBALANCE);

        // A member revoking its partitions commits their offsets before it rejoins.
        assertThat(driver.commit(group.follower(), group.generationId(), "t", 1, 11))
                .isEqualTo(Errors.NONE);
    }

    @Test
    void shouldRefuseACommitFromAStrangerWithUnknownMemberId() {
        StableGroup group = driver.stableGroup(1);

        assertThat(driver.commit("nobody", group.generationId(), "t", 0, 1)).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
    }

    @Test
    void shouldAnswerACommitWithAGenerationToAnUnknownGroupByVersion() {
        assertThat(commitError(commitRequest("m", 1, "t", 0, 1), (short) 8)).isEqualTo(Errors.ILLEGAL_GENERATION);
        assertThat(commitError(commitRequest("m", 1, "t", 0, 1), (short) 9)).isEqualTo(Errors.GROUP_ID_NOT_FOUND);
        assertThat(driver.state.groupIds()).isEmpty();
    }

    @Test
    void shouldRefuseMetadataOverTheLimitWithOffsetMetadataTooLarge() {
        OffsetCommitRequestData request = commitRequest("", -1, "t", 0, 1);
        request.topics().get(0).partitions().get(0).setCommittedMetadata("x".repeat(4097));
        request.topics()
                .get(0)
                .partitions()
                .add(new OffsetCommitRequestData.OffsetCommitRequestPartition()
                        .setPartitionIndex(1)
                        .setCommittedOffset(5)
                        .setCommittedMetadata("x".repeat(4096)));

        long handle = driver.commit(request, (short) 8);

        var partitions = driver.response(handle, OffsetCommitResponseData.class)
                .topics()
                .get(0)
                .partitions();
        assertThat(partitions.get(0).errorCode()).isEqualTo(Errors.OFFSET_METADATA_TOO_LARGE.code());
        assertThat(partitions.get(1).errorCode()).isEqualTo(Errors.NONE.code());
        assertThat(driver.committed("t", 0)).isEqualTo(-1);
        assertThat(driver.fetch("t", 1).topics().get(0).partitions().get(0).metadata())
                .isEqualTo("x".repeat(4096));
    }

    @Test
    void shouldKeepTheMetadataStringAndLeaderEpoch() {
        driver.commit("", -1, "t", 0, 42);

        OffsetFetchResponsePartitions p =
                driver.fetch("t", 0).topics().get(0).partitions().get(0);

        assertThat(p.committedOffset()).isEqualTo(42);
        assertThat(p.committedLeaderEpoch()).isEqualTo(3);
        assertThat(p.metadata()).isEqualTo("m");
        assertThat(p.errorCode()).isEqualTo(Errors.NONE.code());
    }

    @Test
    void shouldFetchMinusOneForPartitionsWithoutOffsetsAndForUnknownGroups() {
        driver.commit("", -1, "t", 0, 42);

        OffsetFetchResponseGroup known = driver.fetch("t", 0, 1);
        long handle = driver.send(new GroupCommand.OffsetFetch(
                driver.context((short) 9),
                new OffsetFetchRequestGroup()
                        .setGroupId("unknown")
                        .setTopics(List.of(
                                new OffsetFetchRequestTopics().setName("t").setPartitionIndexes(List.of(0)))),
                false));
        OffsetFetchResponseGroup unknown = driver.response(handle, OffsetFetchResponseGroup.class);

        assertThat(known.topics().get(0).partitions())
                .extracting(OffsetFetchResponsePartitions::committedOffset)
                .containsExactly(42L, -1L);
        assertThat(unknown.errorCode()).isEqualTo(Errors.NONE.code());
        assertThat(unknown.topics().get(0).partitions().get(0).committedOffset())
                .isEqualTo(-1);
        assertThat(unknown.topics().get(0).partitions().get(0).committedLeaderEpoch())
                .isEqualTo(-1);
    }

    @Test
    void shouldFetchEveryOffsetOfTheGroupWhenTopicsAreNull() {
        driver.commit("", -1, "b", 1, 11);
        driver.commit("", -1, "a", 0, 10);
        driver.commit("", -1, "b", 0, 12);

        OffsetFetchResponseGroup all = driver.fetch(null);

        assertThat(all.topics()).extracting(OffsetFetchResponseTopics::name).containsExactly("a", "b");
        assertThat(all.topics().get(1).partitions())
                .extracting(OffsetFetchResponsePartitions::committedOffset)
                .containsExactly(12L, 11L);
    }

    @Test
    void shouldEchoTopicIdsOfVersion10Requests() {
        Uuid topicId = Uuid.randomUuid();
        OffsetCommitRequestData request = commitRequest("", -1, "t", 0, 1);
        request.topics().get(0).setTopicId(topicId);

        long handle = driver.commit(request, (short) 10);

        assertThat(driver.response(handle, OffsetCommitResponseData.class)
                        .topics()
                        .get(0)
                        .topicId())
                .isEqualTo(topicId);
    }

    @Test
    void shouldHoldEveryFetchUntilEverythingEmittedIsCommitted() {
        OffsetFetchRequestGroup group =
                new OffsetFetchRequestGroup().setGroupId(GROUP).setTopics(null);

        long stable = driver.send(new GroupCommand.OffsetFetch(driver.context((short) 9), group, true));
        long plain = driver.send(new GroupCommand.OffsetFetch(driver.context((short) 9), group, false));

        assertThat(driver.completion(stable).awaitsCommit()).isTrue();
        assertThat(driver.completion(plain).awaitsCommit())
                .as("a plain fetch sees no commit a failover could take back")
                .isTrue();
    }

    @Test
    void shouldSetAnExpiryForCommitsWithAnExplicitRetentionTime() {
        long handle = driver.commit(commitRequest("", -1, "t", 0, 1).setRetentionTimeMs(5_000), (short) 4);

        assertThat(driver.completion(handle)).isNotNull();
        assertThat(driver.lastRecords).singleElement().isInstanceOfSatisfying(OffsetCommit.class, c -> assertThat(
                        c.expireTimestampMs())
                .isEqualTo(driver.nowMs + 5_000));
    }
}
