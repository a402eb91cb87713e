package dev.sluice.chaos.workload;

/** Spaces out operations to a rate: {@link #await()} returns when the next one is due. Not thread-safe. */
final class Pacer {
    private final long intervalNs;
    private long nextNs = System.nanoTime();

    Pacer(double perSecond) {
        this.intervalNs = (long) (1_000_000_000L / Math.max(0.001, perSecond));
    }

    /** Sleeps until the next operation is due; never lets a backlog build up (a stall is not made up for). */
    void await() throws InterruptedException {
        long now = System.nanoTime();
        if (nextNs > now) {
            long waitNs = nextNs - now;
            Thread.sleep(waitNs / 1_000_000, (int) (waitNs % 1_000_000));
        } else {
            nextNs = now;
        }
        nextNs += intervalNs;
    }
}
