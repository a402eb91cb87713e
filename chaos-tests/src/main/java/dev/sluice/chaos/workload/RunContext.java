package dev.sluice.chaos.workload;

import dev.sluice.chaos.history.HistoryRecorder;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * What every client of a run shares: the history, the unique values, the numbering of client processes, the
 * cluster's current bootstrap servers (members change) and the run's log.
 */
public final class RunContext {
    private final HistoryRecorder history;
    private final Values values;
    private final Supplier<String> bootstrap;
    private final Consumer<String> log;
    private final AtomicInteger processes = new AtomicInteger();

    public RunContext(HistoryRecorder history, Values values, Supplier<String> bootstrap, Consumer<String> log) {
        this.history = history;
        this.values = values;
        this.bootstrap = bootstrap;
        this.log = log;
    }

    public HistoryRecorder history() {
        return history;
    }

    public Values values() {
        return values;
    }

    /** @return the bootstrap servers of the cluster's members now */
    public String bootstrap() {
        return bootstrap.get();
    }

    /** @return a process id no client of this run has had */
    public int newProcess() {
        return processes.incrementAndGet();
    }

    public void log(String line) {
        log.accept(line);
    }
}
