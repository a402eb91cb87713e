package dev.sluice.raft;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class InSyncFollowersTest {
    private static final long LAG_MAX_MS = 10_000;
    private static final long TERM = 3;

    private final InSyncFollowers followers = new InSyncFollowers(LAG_MAX_MS);

    private static InSyncFollowers.Follower at(String id, long progress) {
        return new InSyncFollowers.Follower(id, progress, 50);
    }

    @Test
    void shouldGiveEveryFollowerOfANewTermTheFullLagTime() {
        assertThat(followers.check(0, TERM, 100, List.of(at("b", 0), at("c", 100))))
                .containsExactly("b", "c");
        assertThat(followers.check(LAG_MAX_MS, TERM, 100, List.of(at("b", 0), at("c", 100))))
                .containsExactly("b", "c");
        assertThat(followers.check(LAG_MAX_MS + 1, TERM, 100, List.of(at("b", 0), at("c", 100))))
                .as("b never caught up within the lag time")
                .containsExactly("c");
    }

    @Test
    void shouldKeepAFollowerThatIsAlwaysALittleBehindALeaderThatKeepsGrowing() {
        // Under steady writes the follower never holds the leader's very last entry when asked, but it always
        // holds what the leader held half a second earlier.
        for (long t = 0; t <= 60_000; t += 500) {
            long lastIndex = t / 10; // 100 entries a second
            assertThat(followers.check(t, TERM, lastIndex, List.of(at("b", lastIndex - 3))))
                    .as("at %d ms", t)
                    .containsExactly("b");
        }
    }

    @Test
    void shouldDropAFollowerThatStopsMakingProgressOnceTheLagTimeHasPassed() {
        for (long t = 0; t <= 30_000; t += 500) {
            long lastIndex = t / 10;
            long progress = Math.min(lastIndex, 100); // stuck at 100 from t = 1 s on
            List<String> inSync = followers.check(t, TERM, lastIndex, List.of(at("b", progress)));
            if (t <= 1_000 + LAG_MAX_MS) {
                assertThat(inSync).as("at %d ms", t).containsExactly("b");
            } else {
                assertThat(inSync).as("at %d ms", t).isEmpty();
            }
        }
    }

    @Test
    void shouldTakeBackAFollowerAsSoonAsItHasCaughtUp() {
        assertThat(followers.check(0, TERM, 10, List.of(at("b", 10)))).containsExactly("b");
        assertThat(followers.check(20_000, TERM, 50, List.of(at("b", 10)))).isEmpty();
        assertThat(followers.check(20_100, TERM, 50, List.of(at("b", 50)))).containsExactly("b");
    }

    @Test
    void shouldDropAFollowerThatHasNotAnsweredWithinTheLagTime() {
        assertThat(followers.check(0, TERM, 10, List.of(new InSyncFollowers.Follower("b", 10, LAG_MAX_MS + 1))))
                .isEmpty();
    }

    @Test
    void shouldStartOverInANewTerm() {
        assertThat(followers.check(0, TERM, 10, List.of(at("b", 10)))).containsExactly("b");
        assertThat(followers.check(20_000, TERM, 50, List.of(at("b", 10)))).isEmpty();
        assertThat(followers.check(20_001, TERM + 1, 50, List.of(at("b", 10))))
                .as("a new leader gives the follower the full lag time again")
                .containsExactly("b");
    }

    @Test
    void shouldNotCountAFollowerCaughtUpWithALeaderIndexOlderThanTheLagTime() {
        assertThat(followers.check(0, TERM, 10, List.of(at("b", 10)))).containsExactly("b");
        // The leader grew to 20 at 1 s and stayed there; b reached 10 only.
        followers.check(1_000, TERM, 20, List.of(at("b", 10)));
        assertThat(followers.check(1_000 + LAG_MAX_MS + 1, TERM, 20, List.of(at("b", 10))))
                .isEmpty();
    }
}
