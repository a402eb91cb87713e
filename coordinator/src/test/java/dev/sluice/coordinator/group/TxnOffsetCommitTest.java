package dev.sluice.coordinator.group;

import static dev.sluice.coordinator.group.GroupTestDriver.GROUP;
import static dev.sluice.coordinator.group.GroupTestDriver.joinRequest;
import static dev.sluice.coordinator.group.GroupTestDriver.txnCommitRequest;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.coordinator.group.GroupRecord.OffsetCommit;
import dev.sluice.coordinator.group.GroupRecord.OffsetTombstone;
import dev.sluice.coordinator.group.GroupRecord.TxnOffsetCommit;
import dev.sluice.coordinator.group.GroupTestDriver.StableGroup;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponsePartitions;
import org.apache.kafka.common.message.TxnOffsetCommitRequestData;
import org.apache.kafka.common.message.TxnOffsetCommitResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;

class TxnOffsetCommitTest {
    private static final long PID = 7;
    private static final long OTHER_PID = 8;

    private final GroupTestDriver driver = new GroupTestDriver();

    @Test
    void shouldKeepATransactionalOffsetPendingUntilItsTransactionCommits() {
        assertThat(driver.txnCommit(PID, "", -1, "t", 0, 42)).isEqualTo(Errors.NONE);

        assertThat(driver.lastRecords).singleElement().isInstanceOfSatisfying(TxnOffsetCommit.class, t -> {
            assertThat(t.producerId()).isEqualTo(PID);
            assertThat(t.offset().committedOffset()).isEqualTo(42);
            assertThat(t.offset().leaderEpoch()).isEqualTo(3);
            assertThat(t.offset().metadata()).isEqualTo("m");
            assertThat(t.offset().expireTimestampMs()).isEqualTo(-1);
        });
        assertThat(driver.committed("t", 0)).isEqualTo(-1);
        assertThat(driver.state.hasPendingTxnOffsets(GROUP, "t", 0)).isTrue();

        driver.endTxn(PID, (short) 0, true);

        assertThat(driver.committed("t", 0)).isEqualTo(42);
        assertThat(driver.state.hasPendingTxnOffsets(GROUP, "t", 0)).isFalse();
    }

    @Test
    void shouldDropTheOffsetsOfAnAbortedTransaction() {
        driver.commit("", -1, "t", 0, 5);
        driver.txnCommit(PID, "", -1, "t", 0, 42);

        driver.endTxn(PID, (short) 0, false);

        assertThat(driver.committed("t", 0)).isEqualTo(5);
        assertThat(driver.state.pendingTxnProducerIds()).isEmpty();
    }

    @Test
    void shouldHoldTheAnswerUntilTheRecordsAreCommitted() {
        long handle = driver.txnCommit(txnCommitRequest(PID, (short) 0, "", -1, "t", 0, 1), (short) 3);

        assertThat(driver.completion(handle).awaitsCommit()).isTrue();
    }

    @Test
    void shouldAnswerUnstableOffsetCommitToAStableFetchWhileATransactionHoldsAnOffset() {
        driver.commit("", -1, "t", 0, 5);
        driver.txnCommit(PID, "", -1, "t", 0, 42);

        OffsetFetchResponsePartitions pending = driver.fetchStable("t", 0);
        assertThat(Errors.forCode(pending.errorCode())).isEqualTo(Errors.UNSTABLE_OFFSET_COMMIT);
        assertThat(pending.committedOffset()).isEqualTo(-1);
        // without RequireStable the committed offset is answered; other partitions are stable
        assertThat(driver.committed("t", 0)).isEqualTo(5);
        assertThat(Errors.forCode(driver.fetchStable("t", 1).errorCode())).isEqualTo(Errors.NONE);

        driver.endTxn(PID, (short) 0, true);
        assertThat(driver.fetchStable("t", 0).committedOffset()).isEqualTo(42);
    }

    @Test
    void shouldCreateAnUnknownGroupForACommitWithoutGeneration() {
        assertThat(driver.txnCommit(PID, "", -1, "t", 0, 1)).isEqualTo(Errors.NONE);

        assertThat(driver.state.groupState(GROUP)).isEqualTo(GroupState.EMPTY);
    }

    @Test
    void shouldRefuseACommitWithAGenerationToAnUnknownGroup() {
        assertThat(driver.txnCommit(PID, "m-1", 1, "t", 0, 1)).isEqualTo(Errors.ILLEGAL_GENERATION);
        assertThat(driver.state.groupState(GROUP)).isEqualTo(GroupState.DEAD);
        assertThat(driver.lastRecords).isEmpty();
    }

    @Test
    void shouldRefuseAnEmptyGroupId() {
        TxnOffsetCommitRequestData request =
                txnCommitRequest(PID, (short) 0, "", -1, "t", 0, 1).setGroupId("");
        long handle = driver.txnCommit(request, (short) 3);

        assertThat(firstError(handle)).isEqualTo(Errors.INVALID_GROUP_ID);
    }

    @Test
    void shouldCheckTheMemberAndGenerationOfAGroupWithMembers() {
        StableGroup group = driver.stableGroup(2);

        assertThat(driver.txnCommit(PID, "nobody", group.generationId(), "t", 0, 1))
                .isEqualTo(Errors.UNKNOWN_MEMBER_ID);
        assertThat(driver.txnCommit(PID, group.leader(), group.generationId() + 1, "t", 0, 1))
                .isEqualTo(Errors.ILLEGAL_GENERATION);
        assertThat(driver.txnCommit(PID, group.follower(), group.generationId(), "t", 0, 1))
                .isEqualTo(Errors.NONE);
    }

    @Test
    void shouldAcceptACommitWithoutMemberIdToAGroupWithMembersAsOldVersionsSendNone() {
        driver.stableGroup(1);
        long handle = driver.txnCommit(txnCommitRequest(PID, (short) 0, "", -1, "t", 0, 9), (short) 2);

        assertThat(firstError(handle)).isEqualTo(Errors.NONE);
        driver.endTxn(PID, (short) 0, true);
        assertThat(driver.committed("t", 0)).isEqualTo(9);
    }

    @Test
    void shouldAcceptACommitWhileTheGroupAwaitsTheLeadersAssignment() {
        long join = driver.joinNew(joinRequest(""));
        driver.passInitialDelay();
        String member = driver.joinResponse(join).memberId();
        int generation = driver.joinResponse(join).generationId();
        assertThat(driver.state.groupState(GROUP)).isEqualTo(GroupState.COMPLETING_REBALANCE);

        assertThat(driver.txnCommit(PID, member, generation, "t", 0, 1)).isEqualTo(Errors.NONE);
        // a plain commit is refused there
        assertThat(driver.commit(member, generation, "t", 0, 1)).isEqualTo(Errors.REBALANCE_IN_PROGRESS);
    }

    @Test
    void shouldFenceAStaticMemberWithAnotherMemberId() {
        long join = driver.join(joinRequest("").setGroupInstanceId("instance"));
        driver.passInitialDelay();
        String member = driver.joinResponse(join).memberId();
        int generation = driver.joinResponse(join).generationId();
        driver.sync(member, generation, Map.of(member, GroupTestDriver.assignment(new TopicPartition("t", 0))));

        TxnOffsetCommitRequestData request = txnCommitRequest(PID, (short) 0, "someone-else", generation, "t", 0, 1)
                .setGroupInstanceId("instance");
        assertThat(firstError(driver.txnCommit(request, (short) 3))).isEqualTo(Errors.FENCED_INSTANCE_ID);
        TxnOffsetCommitRequestData unknown =
                txnCommitRequest(PID, (short) 0, member, generation, "t", 0, 1).setGroupInstanceId("other");
        assertThat(firstError(driver.txnCommit(unknown, (short) 3))).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
        TxnOffsetCommitRequestData valid =
                txnCommitRequest(PID, (short) 0, member, generation, "t", 0, 1).setGroupInstanceId("instance");
        assertThat(firstError(driver.txnCommit(valid, (short) 3))).isEqualTo(Errors.NONE);
    }

    @Test
    void shouldRefuseMetadataThatIsTooLargeForThatPartitionOnly() {
        TxnOffsetCommitRequestData request = txnCommitRequest(PID, (short) 0, "", -1, "t", 0, 1);
        request.topics()
                .get(0)
                .partitions()
                .get(0)
                .setCommittedMetadata("x".repeat(driver.config.offsetMetadataMaxBytes() + 1));
        long handle = driver.txnCommit(request, (short) 3);

        assertThat(firstError(handle)).isEqualTo(Errors.OFFSET_METADATA_TOO_LARGE);
        assertThat(driver.lastRecords).isEmpty();
    }

    @Test
    void shouldRefuseAnEpochOlderThanOneSeenForTheProducer() {
        driver.txnCommit(PID, (short) 3, "", -1, "t", 0, 1);
        driver.endTxn(PID, (short) 4, false);

        assertThat(driver.txnCommit(PID, (short) 3, "", -1, "t", 0, 2)).isEqualTo(Errors.INVALID_PRODUCER_EPOCH);
        assertThat(driver.txnCommit(PID, (short) 4, "", -1, "t", 0, 2)).isEqualTo(Errors.NONE);
    }

    @Test
    void shouldLetAPlainCommitAfterTheTransactionalOneWinWhenTheTransactionCommits() {
        driver.txnCommit(PID, "", -1, "t", 0, 42);
        driver.commit("", -1, "t", 0, 5);

        driver.endTxn(PID, (short) 0, true);

        assertThat(driver.committed("t", 0)).isEqualTo(5);
    }

    @Test
    void shouldLetTheLaterOfTwoTransactionsWinWhicheverCommitsFirst() {
        driver.txnCommit(PID, "", -1, "t", 0, 1);
        driver.txnCommit(OTHER_PID, "", -1, "t", 0, 2);
        driver.txnCommit(PID, "", -1, "t", 1, 1);
        driver.txnCommit(OTHER_PID, "", -1, "t", 1, 2);

        driver.endTxn(OTHER_PID, (short) 0, true);
        driver.endTxn(PID, (short) 0, true);

        // both partitions: the other producer's records came later
        assertThat(driver.committed("t", 0)).isEqualTo(2);
        assertThat(driver.committed("t", 1)).isEqualTo(2);
    }

    @Test
    void shouldDropPendingOffsetsOfAPartitionWhoseOffsetIsDeleted() {
        driver.txnCommit(PID, "", -1, "t", 0, 42);

        driver.deleteOffsets("t", 0);

        assertThat(driver.lastRecords).containsExactly(new OffsetTombstone(GROUP, "t", 0));
        driver.endTxn(PID, (short) 0, true);
        assertThat(driver.committed("t", 0)).isEqualTo(-1);
    }

    @Test
    void shouldWriteTombstonesForPendingOffsetsWhenTheGroupIsDeleted() {
        driver.commit("", -1, "t", 0, 1);
        driver.txnCommit(PID, "", -1, "t", 0, 2);
        driver.txnCommit(PID, "", -1, "u", 3, 2);

        driver.deleteGroups(GROUP);

        assertThat(driver.lastRecords)
                .containsExactly(
                        new OffsetTombstone(GROUP, "t", 0),
                        new OffsetTombstone(GROUP, "u", 3),
                        new GroupRecord.GroupTombstone(GROUP));
        assertThat(driver.state.pendingTxnProducerIds()).isEmpty();
    }

    @Test
    void shouldNotExpireAnOffsetNorDeleteTheGroupWhileATransactionHoldsOffsets() {
        driver.commit("", -1, "t", 0, 1);
        driver.txnCommit(PID, "", -1, "u", 0, 2);
        driver.txnCommit(PID, "", -1, "t", 0, 3);

        driver.advance(driver.config.offsetsRetentionMs() + driver.config.offsetsRetentionCheckIntervalMs());

        assertThat(driver.state.groupState(GROUP)).isEqualTo(GroupState.EMPTY);
        driver.endTxn(PID, (short) 0, true);
        assertThat(driver.committed("t", 0)).isEqualTo(3);
        assertThat(driver.committed("u", 0)).isEqualTo(2);
    }

    @Test
    void shouldKeepPendingOffsetsAcrossAFailoverAndCommitThemAfterwards() {
        driver.commit("", -1, "t", 0, 1);
        driver.txnCommit(PID, "", -1, "t", 0, 2);
        driver.txnCommit(OTHER_PID, "", -1, "t", 1, 3);
        driver.endTxn(OTHER_PID, (short) 0, true);

        driver.failOver();

        assertThat(driver.committed("t", 1)).isEqualTo(3);
        assertThat(driver.state.hasPendingTxnOffsets(GROUP, "t", 0)).isTrue();
        driver.endTxn(PID, (short) 0, true);
        assertThat(driver.committed("t", 0)).isEqualTo(2);
    }

    @Test
    void shouldRestorePendingOffsetsFromAViewWithTheirOrder() {
        driver.txnCommit(PID, "", -1, "t", 0, 2);
        driver.commit("", -1, "t", 0, 1);
        List<PendingTxnOffsets.Entry> entries = driver.state.pendingTxnOffsets(PID);
        assertThat(entries).singleElement().satisfies(e -> assertThat(e.superseded())
                .isTrue());

        GroupCoordinatorState restored = driver.newState();
        for (GroupRecord record : driver.state.persistedRecords()) {
            restored.replay(record);
        }
        entries.forEach(restored::replayPendingTxnOffset);
        restored.activate(driver.nowMs);
        restored.replayEndTransactionMarker(PID, (short) 0, true);

        assertThat(restored.persistedRecords())
                .filteredOn(OffsetCommit.class::isInstance)
                .singleElement()
                .satisfies(r -> assertThat(((OffsetCommit) r).committedOffset()).isEqualTo(1));
    }

    @Test
    void shouldEncodeTransactionalOffsetsAndPendingEntriesLosslessly() {
        TxnOffsetCommit record =
                new TxnOffsetCommit(PID, (short) 5, new OffsetCommit(GROUP, "t", 2, 99, 4, "meta", 1234L, -1L));
        assertThat(GroupRecordCodec.decode(GroupRecordCodec.encode(record))).isEqualTo(record);
        assertThat(GroupRecordCodec.key(record))
                .isNotEqualTo(GroupRecordCodec.key(new OffsetCommit(GROUP, "t", 2, 99, 4, "meta", 1234L, -1L)));

        List<PendingTxnOffsets.Entry> entries =
                List.of(new PendingTxnOffsets.Entry(record, 17, true), new PendingTxnOffsets.Entry(record, 3, false));
        assertThat(GroupRecordCodec.decodePending(GroupRecordCodec.encodePending(entries)))
                .isEqualTo(entries);
    }

    private Errors firstError(long handle) {
        TxnOffsetCommitResponseData response = driver.response(handle, TxnOffsetCommitResponseData.class);
        return Errors.forCode(response.topics().get(0).partitions().get(0).errorCode());
    }
}
