package dev.sluice.coordinator;

import static dev.sluice.coordinator.CoordinatorTestCluster.awaitImage;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.coordinator.CoordinatorQuery.TransactionReply;
import dev.sluice.coordinator.CoordinatorService.Timing;
import dev.sluice.coordinator.txn.TxnRecord;
import dev.sluice.coordinator.txn.TxnRecord.TxnMetadata;
import dev.sluice.coordinator.txn.TxnRecordCodec;
import dev.sluice.coordinator.txn.TxnState;
import dev.sluice.raft.testing.RaftTestCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The transactions the coordinator group keeps for the transaction coordinator: every member applies {@code
 * TxnRecords} entries, the leader answers a transactional id's committed record, and snapshots (and a restart
 * from one) keep them.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class CoordinatorTransactionsTest {
    // A failure timeout no slow machine trips: a node judged failed (or back) would change the image mid-test.
    private static final Timing TIMING = new Timing(100, 60_000);
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void everyMemberKeepsTheLatestRecordOfEachTransactionalIdAcrossSnapshotAndRestart() throws Exception {
        TxnMetadata ongoing = new TxnMetadata(
                "payments",
                7,
                -1,
                -1,
                (short) 2,
                (short) -1,
                60_000,
                TxnState.ONGOING,
                List.of(new TopicPartition("ledger", 1)),
                100,
                100);
        TxnMetadata empty =
                new TxnMetadata("audit", 8, -1, -1, (short) 0, (short) -1, 60_000, TxnState.EMPTY, List.of(), -1, 50);
        try (CoordinatorTestCluster cluster = new CoordinatorTestCluster(dir, List.of(1, 2, 3), TIMING)) {
            for (int id = 1; id <= 3; id++) {
                cluster.start(id);
            }
            int leader = cluster.awaitLeader(WAIT);
            CoordinatorService service = cluster.service(leader);
            // every node registered first: a late registration would change the image between the checks below
            awaitImage(service, WAIT, "three live nodes", image -> image.liveNodes()
                    .equals(Set.of(1, 2, 3)));
            assertThat(submit(service, List.of(ongoing, empty)).errorCode()).isZero();
            assertThat(submit(service, List.of(new TxnRecord.TxnTombstone("audit")))
                            .errorCode())
                    .isZero();
            long version = service.image().version();

            for (int id = 1; id <= 3; id++) {
                CoordinatorStateMachine member = cluster.service(id).stateMachine();
                RaftTestCluster.await(WAIT, "member " + id + " to apply the records", () -> member.transactions()
                        .equals(List.of(ongoing)));
            }
            // transaction records leave the image alone
            assertThat(service.image().version()).isEqualTo(version);

            TransactionReply reply = service.query(
                            CoordinatorQuery.transaction("payments"), TransactionReply.class, WAIT.toMillis())
                    .get(30, TimeUnit.SECONDS);
            assertThat(TxnRecordCodec.decode(reply.record())).isEqualTo(ongoing);
            TransactionReply unknown = service.query(
                            CoordinatorQuery.transaction("audit"), TransactionReply.class, WAIT.toMillis())
                    .get(30, TimeUnit.SECONDS);
            assertThat(unknown.record()).isNull();

            int follower = leader == 1 ? 2 : 1;
            CoordinatorStateMachine followerMachine = cluster.service(follower).stateMachine();
            RaftTestCluster.await(
                    WAIT,
                    "the follower to apply the image",
                    () -> followerMachine.image().version() == version);
            assertThat(followerMachine.takeSnapshot()).isPositive();
            Path snapshot = followerMachine
                    .getStateMachineStorage()
                    .getLatestSnapshot()
                    .getFile()
                    .getPath();
            CoordinatorStateMachine.Snapshot saved =
                    CoordinatorCodec.decode(Files.readAllBytes(snapshot), CoordinatorStateMachine.Snapshot.class);
            assertThat(TxnRecordCodec.decodeBatch(saved.transactions())).containsExactly(ongoing);
            assertThat(saved.image().version()).isEqualTo(version);

            cluster.stop(follower);
            cluster.start(follower);
            CoordinatorStateMachine restarted = cluster.service(follower).stateMachine();
            RaftTestCluster.await(WAIT, "the restarted member to hold the transactions", () -> restarted
                    .transactions()
                    .equals(List.of(ongoing)));
        }
    }

    private static CoordinatorResult submit(CoordinatorService service, List<TxnRecord> records) throws Exception {
        return service.submit(new CoordinatorCommand.TxnRecords(TxnRecordCodec.encodeBatch(records)))
                .get(30, TimeUnit.SECONDS);
    }
}
