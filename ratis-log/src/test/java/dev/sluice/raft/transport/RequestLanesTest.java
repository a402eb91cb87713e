package dev.sluice.raft.transport;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RequestLanesTest {
    private static final RequestLanes.Lane A = lane("leader-1", "group-a");
    private static final RequestLanes.Lane B = lane("leader-1", "group-b");

    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final RequestLanes lanes = new RequestLanes(executor);

    private static RequestLanes.Lane lane(String requestor, String group) {
        return new RequestLanes.Lane(ByteString.copyFromUtf8(requestor), ByteString.copyFromUtf8(group));
    }

    @AfterEach
    void stop() {
        executor.shutdownNow();
    }

    @Test
    void shouldRunTheTasksOfALaneOneAfterAnotherInTheOrderHandedIn() throws InterruptedException {
        List<Integer> ran = new CopyOnWriteArrayList<>();
        CountDownLatch done = new CountDownLatch(200);
        for (int i = 0; i < 200; i++) {
            int task = i;
            lanes.start(A, () -> {
                ran.add(task);
                done.countDown();
            });
        }

        assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(ran).isSorted().hasSize(200);
    }

    @Test
    void shouldRunAnotherLanesTasksWhileALaneIsBlocked() throws InterruptedException {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch blockedRan = new CountDownLatch(1);
        CountDownLatch otherRan = new CountDownLatch(1);
        lanes.start(A, () -> awaitQuietly(release));
        lanes.start(A, blockedRan::countDown);
        lanes.start(B, otherRan::countDown);

        assertThat(otherRan.await(5, TimeUnit.SECONDS))
                .as("B does not wait for A")
                .isTrue();
        assertThat(blockedRan.getCount())
                .as("A's second task waits for its first")
                .isEqualTo(1);

        release.countDown();
        assertThat(blockedRan.await(5, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void shouldGoOnWithALaneAfterATaskThrowsAndForgetIdleLanes() throws InterruptedException {
        CountDownLatch after = new CountDownLatch(1);
        lanes.start(A, () -> {
            throw new IllegalStateException("a task that fails");
        });
        lanes.start(A, after::countDown);

        assertThat(after.await(5, TimeUnit.SECONDS)).isTrue();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (lanes.busyLanes() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(lanes.busyLanes()).isZero();
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
