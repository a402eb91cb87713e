package dev.sluice.raft;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.ratis.server.leader.LogAppender;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a leader resumes sending to a follower whose Raft log lost entries it had acknowledged (a torn or
 * cut log file after a crash or a bad disk).
 *
 * <p>Ratis never sets a follower's next index at or below the follower's match index: Raft assumes that
 * an acknowledged entry stays on the follower's disk. When it does not, the follower answers every append
 * with "inconsistent, next index N" for an N at or below its match index, and Ratis's leader keeps sending
 * from the match index on, which the follower can never accept — it is stuck until the leader changes.
 * Sluice's appenders believe the follower instead and send from N, as a new leader would.
 */
public final class LostLogTail {
    private static final Logger LOG = LoggerFactory.getLogger(LostLogTail.class);

    /** The index each follower was last reported at, so that a repeated answer is logged once. */
    private static final Map<String, Long> WARNED = new ConcurrentHashMap<>();

    private LostLogTail() {}

    /**
     * The next index to send from after an inconsistency reply.
     *
     * @param appender the leader's appender of the follower
     * @param ratisNext what Ratis would choose
     * @param replyNextIndex where the follower says its log ends (the index it needs next)
     */
    public static long nextIndex(LogAppender appender, long ratisNext, long replyNextIndex) {
        long matchIndex = appender.getFollower().getMatchIndex();
        if (replyNextIndex > matchIndex || replyNextIndex >= ratisNext || replyNextIndex < 0) {
            return ratisNext;
        }
        String follower = appender.getFollower().getName();
        Long warned = WARNED.put(follower, replyNextIndex);
        if (warned == null || warned != replyNextIndex) {
            LOG.warn(
                    "{}: the follower's Raft log ends before entry {}, although it acknowledged entries up to {}: it"
                            + " lost them (a torn or cut log); sending from {}",
                    follower,
                    replyNextIndex,
                    matchIndex,
                    replyNextIndex);
        }
        return replyNextIndex;
    }
}
