package org.apache.ratis.server.leader;

import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.proto.RaftProtos.InstallSnapshotReplyProto;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.statemachine.SnapshotInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sluice's log appender for the Netty transport: Ratis 3.3.0's default appender (which Netty uses) can
 * only install snapshots by sending files, ignoring {@code raft.server.log.appender.install.snapshot
 * .enabled=false}; Sluice's partitions install state-machine driven (the follower copies segments
 * itself). This appender tells a follower that needs a snapshot to fetch it — repeating the notice,
 * which also keeps the follower from timing out, until the follower reports the snapshot installed —
 * and otherwise replicates exactly as the default appender does.
 *
 * <p>It lives in Ratis's package because the default appender is package-private there.
 */
public final class NotifyingLogAppender extends LogAppenderDefault {
    private static final Logger LOG = LoggerFactory.getLogger(NotifyingLogAppender.class);
    private static final long POLL_MS = 200;

    private NotifyingLogAppender(RaftServer.Division server, LeaderState leaderState, FollowerInfo follower) {
        super(server, leaderState, follower);
    }

    public static LogAppender create(RaftServer.Division server, LeaderState leaderState, FollowerInfo follower) {
        return new NotifyingLogAppender(server, leaderState, follower);
    }

    /** Never sends files: notifies the follower instead, until it has installed a snapshot. */
    @Override
    public SnapshotInfo shouldInstallSnapshot() {
        TermIndex first = shouldNotifyToInstallSnapshot();
        while (first != null && isRunning()) {
            try {
                InstallSnapshotReplyProto reply =
                        getServerRpc().installSnapshot(newInstallSnapshotNotificationRequest(first));
                getFollower().updateLastRpcResponseTime();
                switch (reply.getResult()) {
                    case SNAPSHOT_INSTALLED, ALREADY_INSTALLED -> {
                        long index = reply.getSnapshotIndex();
                        getFollower().setSnapshotIndex(index);
                        getFollower().setAttemptedToInstallSnapshot();
                        getLeaderState().onFollowerCommitIndex(getFollower(), index);
                        LOG.debug("{}: follower installed a snapshot at {}", this, index);
                        return null;
                    }
                    case NOT_LEADER -> {
                        onFollowerTerm(reply.getTerm());
                        return null;
                    }
                    case SUCCESS, SNAPSHOT_UNAVAILABLE -> {
                        getFollower().setAttemptedToInstallSnapshot();
                        TimeUnit.MILLISECONDS.sleep(POLL_MS);
                    }
                    default -> TimeUnit.MILLISECONDS.sleep(POLL_MS); // in progress
                }
            } catch (IOException e) {
                LOG.debug("{}: snapshot notice failed: {}", this, e.toString());
                sleepQuietly();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
            first = shouldNotifyToInstallSnapshot();
        }
        return null;
    }

    private static void sleepQuietly() {
        try {
            TimeUnit.MILLISECONDS.sleep(POLL_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
