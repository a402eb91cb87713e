package dev.sluice.partitionstore.testing;

import dev.sluice.partitionstore.Clock;
import java.util.concurrent.atomic.AtomicLong;

/** A clock that moves only when a test says so. */
public final class ManualClock implements Clock {
    private final AtomicLong nowMs;

    public ManualClock(long startMs) {
        this.nowMs = new AtomicLong(startMs);
    }

    @Override
    public long nowMs() {
        return nowMs.get();
    }

    public void advance(long ms) {
        nowMs.addAndGet(ms);
    }

    public void set(long ms) {
        nowMs.set(ms);
    }
}
