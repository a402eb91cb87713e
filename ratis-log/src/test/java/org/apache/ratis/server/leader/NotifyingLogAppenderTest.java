package org.apache.ratis.server.leader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.io.IOException;
import org.apache.ratis.util.Preconditions;
import org.junit.jupiter.api.Test;

/** How the appender reads a follower's refusal of a notice that names an index below its install in progress. */
class NotifyingLogAppenderTest {
    @Test
    void readsTheIndexOfTheFollowersInstallFromItsRefusal() {
        // The check Ratis 3.3.0's follower makes, with its words, as a remote failure reaches the leader:
        // an IOException carrying the description of the follower's exception.
        Throwable refusal = catchThrowable(() -> Preconditions.assertTrue(
                1_200 <= 900,
                "inProgressInstallSnapshotRequest: %s is not eligible, firstAvailableLogIndex: %s",
                1_200L,
                900L));
        IOException remote = new IOException(refusal.toString());

        assertThat(NotifyingLogAppender.installInProgress(remote)).isEqualTo(1_200);
        assertThat(NotifyingLogAppender.installInProgress(new IOException("wrapped", remote)))
                .isEqualTo(1_200);
        assertThat(NotifyingLogAppender.installInProgress(new IOException("connection refused")))
                .isEqualTo(-1);
    }
}
