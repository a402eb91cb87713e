package org.apache.ratis.server.leader;

import dev.sluice.raft.LostLogTail;
import java.io.IOException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.ratis.proto.RaftProtos.AppendEntriesRequestProto;
import org.apache.ratis.proto.RaftProtos.InstallSnapshotReplyProto;
import org.apache.ratis.proto.RaftProtos.InstallSnapshotResult;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLogIOException;
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
 * <p>A follower's install can land behind the leader's log: it copies the snapshot the leader had when the
 * copy started, and while it copies the leader keeps taking writes, snapshots and purging its Raft log up
 * to its newest snapshot. The follower then needs an entry the leader no longer has. The default appender
 * would trust the installed index and read that entry: the read fails, the appender dies and Ratis restarts
 * it — but Ratis 3.3.0 re-creates an appender only for a peer of the current configuration, so the appender
 * of a peer that a membership change is still staging is simply gone, and the change never completes
 * (every retry of it answers "reconfiguration in progress"). This appender therefore accepts an install only
 * when the leader's log still continues from it, and otherwise notifies the follower again (it installs the
 * leader's newer snapshot); and it never reads entries the leader has purged (see {@link
 * #newAppendEntriesRequest}).
 *
 * <p>Ratis's leader judges whether a peer being added makes progress only when its event queue has stayed empty
 * for a whole {@code raft.server.rpc.timeout.max}; every write a follower acknowledges queues an event, so a
 * partition taking writes never gives up adding a peer that stopped answering (a node killed during the move),
 * and every other change of its replicas answers "reconfiguration in progress" for as long as the writes last.
 * A watchdog asks the leader to judge once a peer being added has been silent for {@code
 * raft.server.staging.timeout}, 10 s at least (see {@link #checkStaging}).
 *
 * <p>It lives in Ratis's package because the default appender is package-private there.
 */
public final class NotifyingLogAppender extends LogAppenderDefault {
    private static final Logger LOG = LoggerFactory.getLogger(NotifyingLogAppender.class);
    private static final long POLL_MS = 200;
    /** How long a notice may go unanswered by an install before the appender says so (then as often again). */
    private static final long WAITING_REPORT_MS = 30_000;

    /**
     * Ratis 3.3.0's follower refuses, with an assertion and for as long as it has not reported it, any notice
     * whose first available index lies below that of an install it has in progress — an install an earlier
     * leader, with a further purged log, asked for. Its message names that index.
     */
    private static final Pattern INSTALL_IN_PROGRESS =
            Pattern.compile("inProgressInstallSnapshotRequest: (\\d+) is not eligible");

    /** How often the watchdog looks at the appenders of peers being added. */
    private static final long WATCH_MS = 1_000;
    /**
     * The least silence after which the watchdog has the leader judge a peer being added, whatever {@code
     * raft.server.staging.timeout} says: a follower that installs a snapshot on a loaded machine can be slow to
     * answer, and giving the change up makes it start over.
     */
    private static final long MIN_SILENCE_MS = 10_000;

    private static final Set<NotifyingLogAppender> RUNNING = ConcurrentHashMap.newKeySet();
    private static final ScheduledExecutorService WATCHDOG = Executors.newSingleThreadScheduledExecutor(task -> {
        Thread thread = new Thread(task, "sluice-staging-watchdog");
        thread.setDaemon(true);
        return thread;
    });

    static {
        WATCHDOG.scheduleWithFixedDelay(NotifyingLogAppender::watch, WATCH_MS, WATCH_MS, TimeUnit.MILLISECONDS);
    }

    /** The index of an install the follower has in progress for an earlier leader (see {@link #notice}), or -1. */
    private long followerInstalling = -1;

    private final long stagingTimeoutMs;
    private volatile boolean reportedSilence;

    private NotifyingLogAppender(RaftServer.Division server, LeaderState leaderState, FollowerInfo follower) {
        super(server, leaderState, follower);
        this.stagingTimeoutMs = RaftServerConfigKeys.stagingTimeout(
                        server.getRaftServer().getProperties())
                .toLong(TimeUnit.MILLISECONDS);
    }

    @Override
    public void start() {
        super.start();
        RUNNING.add(this);
    }

    private static void watch() {
        for (NotifyingLogAppender appender : RUNNING) {
            try {
                if (!appender.isRunning()) {
                    RUNNING.remove(appender);
                } else {
                    appender.checkStaging();
                }
            } catch (RuntimeException e) {
                LOG.warn("{}: cannot check the progress of the peer being added", appender, e);
            }
        }
    }

    /**
     * When the follower is a peer being added and has not answered for {@code raft.server.staging.timeout} (and at
     * least {@link #MIN_SILENCE_MS}), has
     * the leader judge its progress now: Ratis queues that judgement after every acknowledged append of the peer
     * being added, so queuing it here changes nothing else. The leader then finds the peer silent, gives the
     * change up (its client is told it timed out) and stops this appender; the next change can start.
     */
    void checkStaging() {
        if (!getLeaderState().isFollowerBootstrapping(getFollower())) {
            return;
        }
        long silentMs = getFollower().getLastRpcResponseTime().elapsedTimeMs();
        if (silentMs <= Math.max(stagingTimeoutMs, MIN_SILENCE_MS)) {
            return;
        }
        if (!reportedSilence) {
            reportedSilence = true;
            LOG.info(
                    "{}: the peer being added has not answered for {} ms (raft.server.staging.timeout is {} ms);"
                            + " the leader gives up adding it (the next change of the replicas can start)",
                    this,
                    silentMs,
                    stagingTimeoutMs);
        }
        getLeaderState().onFollowerSuccessAppendEntries(getFollower());
    }

    public static LogAppender create(RaftServer.Division server, LeaderState leaderState, FollowerInfo follower) {
        return new NotifyingLogAppender(server, leaderState, follower);
    }

    /** Believes a follower whose Raft log lost entries it acknowledged; see {@link LostLogTail}. */
    @Override
    protected long getNextIndexForInconsistency(long requestFirstIndex, long replyNextIndex) {
        return LostLogTail.nextIndex(
                this, super.getNextIndexForInconsistency(requestFirstIndex, replyNextIndex), replyNextIndex);
    }

    /**
     * Sends nothing (the caller waits and asks again) when the follower needs entries this leader has purged,
     * instead of failing on the missing entry: the failure would stop this appender, and Ratis does not
     * re-create the appender of a peer that is being added (see the class comment). The next round notifies
     * the follower to install a snapshot. {@link #shouldInstallSnapshot} accepts only installs the log
     * continues from; this covers a purge that lands after that check, or while the entries are being read.
     */
    @Override
    public AppendEntriesRequestProto newAppendEntriesRequest(long callId, boolean heartbeat) throws RaftLogIOException {
        long next = getFollower().getNextIndex();
        long start = getRaftLog().getStartIndex();
        if (!heartbeat && next < start && next < getRaftLog().getNextIndex()) {
            LOG.info(
                    "{}: the follower needs Raft entries from {} on, but this leader's log starts at {} (purged"
                            + " behind a snapshot); notifying it to install the snapshot instead",
                    this,
                    next,
                    start);
            return null;
        }
        try {
            return super.newAppendEntriesRequest(callId, heartbeat);
        } catch (RaftLogIOException e) {
            // The leader purged its log between the check above and the read (a snapshot finished meanwhile).
            // Thrown, it would stop this appender for good when the follower is a peer being added, and the
            // added peer would never receive another entry (the chaos run with seed 4021: a replica moved back
            // to a restarted node stayed 900 offsets behind after the move completed).
            if (getFollower().getNextIndex() < getRaftLog().getStartIndex()) {
                LOG.info(
                        "{}: the entries the follower needs from {} on were purged while being read (the log now"
                                + " starts at {}); notifying it to install the snapshot instead",
                        this,
                        getFollower().getNextIndex(),
                        getRaftLog().getStartIndex());
                return null;
            }
            throw e;
        }
    }

    /** Never sends files: notifies the follower instead, until it has installed a snapshot. */
    @Override
    public SnapshotInfo shouldInstallSnapshot() {
        TermIndex first = shouldNotifyToInstallSnapshot();
        long sinceNs = System.nanoTime();
        long reportedNs = sinceNs;
        while (first != null && isRunning()) {
            if (System.nanoTime() - reportedNs > TimeUnit.MILLISECONDS.toNanos(WAITING_REPORT_MS)) {
                reportedNs = System.nanoTime();
                LOG.info(
                        "{}: the follower has not installed a snapshot for {} s of notices (first available entry"
                                + " {}, follower next index {}, match index {}, bootstrapping {})",
                        this,
                        TimeUnit.NANOSECONDS.toSeconds(reportedNs - sinceNs),
                        first,
                        getFollower().getNextIndex(),
                        getFollower().getMatchIndex(),
                        getLeaderState().isFollowerBootstrapping(getFollower()));
            }
            try {
                InstallSnapshotReplyProto reply =
                        getServerRpc().installSnapshot(newInstallSnapshotNotificationRequest(notice(first)));
                getFollower().updateLastRpcResponseTime();
                if (reply.getResult() != InstallSnapshotResult.IN_PROGRESS) {
                    followerInstalling = -1; // reported (or gone): later notices name the leader's own first entry
                }
                switch (reply.getResult()) {
                    case SNAPSHOT_INSTALLED, ALREADY_INSTALLED -> {
                        long index = reply.getSnapshotIndex();
                        getFollower().setSnapshotIndex(index);
                        getFollower().setAttemptedToInstallSnapshot();
                        getLeaderState().onFollowerCommitIndex(getFollower(), index);
                        long start = getRaftLog().getStartIndex();
                        if (index + 1 >= start) {
                            LOG.debug("{}: follower installed a snapshot at {}", this, index);
                            return null;
                        }
                        // The leader purged its log past it while the follower copied: the loop notifies the
                        // follower again, and it installs the leader's newer snapshot.
                        LOG.info(
                                "{}: the follower installed a snapshot at Raft index {}, but this leader's log now"
                                        + " starts at {} (it took a newer snapshot and purged its log meanwhile);"
                                        + " notifying the follower to install the newer one. If this repeats, the"
                                        + " leader snapshots faster than a follower copies a snapshot: raise"
                                        + " raft.snapshot.threshold.entries",
                                this,
                                index,
                                start);
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
                long installing = installInProgress(e);
                if (installing >= 0) {
                    getFollower().updateLastRpcResponseTime(); // a refusal, but the follower answered: it installs
                }
                if (installing > first.getIndex() && installing != followerInstalling) {
                    LOG.info(
                            "{}: the follower is installing a snapshot from Raft index {} on, which an earlier"
                                    + " leader asked for; this leader's log starts at {}: naming index {} in the"
                                    + " next notices so that the follower reports that install",
                            this,
                            installing,
                            first.getIndex(),
                            installing);
                    followerInstalling = installing;
                } else {
                    LOG.debug("{}: snapshot notice failed: {}", this, e.toString());
                    sleepQuietly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
            first = shouldNotifyToInstallSnapshot();
        }
        return null;
    }

    /**
     * The first available entry to name in a notice: the leader's, unless the follower has an install in
     * progress from a later index (an earlier leader's). Ratis's follower answers such an install — "in
     * progress", or installed with its index — only to a notice that names at least that index; this leader
     * holds every entry from its first one on, so it holds that one too. Without this, the follower never
     * reports the install, and a membership change that adds it never completes.
     */
    private TermIndex notice(TermIndex first) {
        long installing = followerInstalling;
        if (installing <= first.getIndex()) {
            return first;
        }
        TermIndex held = getRaftLog().getTermIndex(installing);
        return held != null ? held : TermIndex.valueOf(getServer().getInfo().getCurrentTerm(), installing);
    }

    /** The index of the follower's install in progress that refused a notice, or -1. */
    static long installInProgress(IOException failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            Matcher matcher = t.getMessage() == null ? null : INSTALL_IN_PROGRESS.matcher(t.getMessage());
            if (matcher != null && matcher.find()) {
                return Long.parseLong(matcher.group(1));
            }
        }
        return -1;
    }

    private static void sleepQuietly() {
        try {
            TimeUnit.MILLISECONDS.sleep(POLL_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
