package dev.sluice.raft;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.partitionstore.LogConfig;
import dev.sluice.partitionstore.testing.Batches;
import dev.sluice.raft.testing.RaftTestCluster;
import dev.sluice.raft.transport.FaultInjector;
import dev.sluice.raft.transport.LinkFaults;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.CompressionType;
import org.apache.ratis.proto.RaftProtos.ServerRpcProto;
import org.apache.ratis.server.RaftServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The chaos run that "never settled": a follower catches up after a partition, but the answer to the append that
 * brought it up to date is lost; the leader's retry then meets a follower that already holds (and has committed)
 * those entries, which answers "inconsistent, I have them". Ratis moves the leader's next index for the follower but
 * not its match index, and heartbeats never move it either: on a partition nobody writes to any more (a
 * {@code __consumer_offsets} partition without groups), the leader's match index for the follower stays behind its
 * log for good, and an ISR built on the match index alone leaves the follower out forever although it has every
 * entry. Three real nodes on the faulty transport, one partition.
 */
@Timeout(value = 180, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class LostCatchUpReplyTest {
    private static final TopicPartition TP = new TopicPartition("quiet", 0);
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final long LAG_MAX_MS = 1_500;
    /** Longer than the heartbeat interval, so that a leader cut off from a follower only ever sends it heartbeats. */
    private static final long LOST_CALL_TIMEOUT_MS = 500;

    /** Each attempt loses the catch-up's answer with probability one half. */
    private static final int ATTEMPTS = 12;

    @TempDir
    Path dir;

    private FaultInjector injector;
    private RaftTestCluster cluster;

    @BeforeEach
    void start() throws IOException {
        injector = FaultInjector.register("lost-catch-up-" + UUID.randomUUID(), 7);
        injector.setLostCallTimeoutMs(LOST_CALL_TIMEOUT_MS);
        Map<String, Object> settings = new HashMap<>(RaftTestCluster.fastElections("faulty"));
        settings.put(RaftSettings.FAULT_INJECTOR, injector.name());
        settings.put(RaftSettings.REPLICA_LAG_TIME_MAX_MS, LAG_MAX_MS);
        cluster = new RaftTestCluster(dir, settings, LogConfig.parse(Map.of()));
        cluster.startAll("n1", "n2", "n3");
        cluster.createPartition(TP, "n1", "n2", "n3");
    }

    @AfterEach
    void stop() throws IOException {
        if (cluster != null) {
            injector.healAll();
            cluster.close();
        }
        injector.close();
    }

    @Test
    void shouldTakeBackIntoTheIsrAFollowerWhoseCatchUpReplyWasLostOnAPartitionNobodyWritesTo() throws Exception {
        RaftNode leader = cluster.awaitLeader(TP, TIMEOUT);
        List<String> others = new ArrayList<>(List.of("n1", "n2", "n3"));
        others.remove(leader.id());
        String follower = others.get(0);
        write();
        RaftTestCluster.await(
                TIMEOUT, "every replica in sync", () -> inSync(leader).size() == 3);

        boolean reproduced = false;
        for (int attempt = 1; attempt <= ATTEMPTS && !reproduced; attempt++) {
            reproduced = loseTheAnswerToACatchUp(leader, follower);
        }
        assertThat(reproduced)
                .as("the leader's match index for %s stayed behind a log %s holds in full", follower, follower)
                .isTrue();

        Thread.sleep(LAG_MAX_MS + 500); // past the lag time: only the follower's progress can keep it in sync
        RaftTestCluster.await(
                Duration.ofSeconds(10), follower + " back in the ISR with nothing written", () -> inSync(leader)
                        .contains(follower));
        assertThat(matchIndex(leader, follower))
                .as("still behind: the follower is in sync by the commit index it reports")
                .isLessThan(lastIndex(leader));
    }

    /**
     * Cuts the leader's appends to {@code follower} and writes a batch, which the others commit; then lets the
     * appends through again but loses half of the follower's answers, until it holds the leader's log; and heals.
     * The leader sends the catch-up only after a heartbeat got an answer (until then every heartbeat is overdue), so
     * the catch-up carries a commit index that covers it: if its answer is lost, every retry meets a follower that
     * has committed those entries already. Returns whether the leader ended up with a match index for the follower
     * below its last index while the follower holds it all (else the catch-up's own answer came through).
     */
    private boolean loseTheAnswerToACatchUp(RaftNode leader, String follower) throws Exception {
        String leaderId = leader.id();
        injector.cut(leaderId, follower);
        write();
        RaftTestCluster.await(TIMEOUT, "the leader to commit all it has", () -> committed(leader) == lastIndex(leader));
        injector.setFaults(follower, leaderId, LinkFaults.NONE.withDropProbability(0.5));
        injector.heal(leaderId, follower);
        long last = lastIndex(leader);
        RaftTestCluster.await(
                TIMEOUT, follower + " to hold the leader's log", () -> lastIndex(cluster.node(follower)) == last);
        Thread.sleep(4 * LOST_CALL_TIMEOUT_MS); // the leader's retries, if any, get an answer
        injector.clearFaults();
        Thread.sleep(1_000); // heartbeats go through again
        return lastIndex(cluster.node(follower)) == lastIndex(leader) && matchIndex(leader, follower) < last;
    }

    private void write() {
        assertThat(cluster.append(TP, Batches.batch(CompressionType.NONE, 3, System.currentTimeMillis()), TIMEOUT)
                        .error())
                .isEqualTo(Errors.NONE);
    }

    private static List<String> inSync(RaftNode leader) {
        ReplicaStatus status = leader.status(TP);
        return status == null ? List.of() : status.inSyncReplicas();
    }

    private static RaftServer.Division division(RaftNode node) {
        try {
            return node.division(TP);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long lastIndex(RaftNode node) {
        var last = division(node).getRaftLog().getLastEntryTermIndex();
        return last == null ? -1 : last.getIndex();
    }

    private static long committed(RaftNode node) {
        return division(node).getRaftLog().getLastCommittedIndex();
    }

    private static long matchIndex(RaftNode leader, String follower) {
        RaftServer.Division division = division(leader);
        long[] matchIndices = division.getInfo().getFollowerMatchIndices();
        List<ServerRpcProto> followers =
                division.getInfo().getRoleInfoProto().getLeaderInfo().getFollowerInfoList();
        for (int i = 0; i < followers.size(); i++) {
            if (followers.get(i).getId().getId().toStringUtf8().equals(follower)) {
                return matchIndices[i];
            }
        }
        throw new AssertionError(follower + " is not a follower of " + leader.id());
    }
}
