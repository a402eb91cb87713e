package dev.sluice.chaos.history;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Collects a run's history while the clients run, and streams every entry to the run's {@code history.jsonl}
 * as it is recorded, so a run cut short still leaves what it saw. Thread-safe: every client thread records
 * through one recorder. Times come from {@link #nowNs()}, one monotonic clock whose zero is the recorder's
 * creation.
 */
public final class HistoryRecorder implements AutoCloseable {
    private final RunInfo info;
    private final long zeroNs = System.nanoTime();
    private final List<Send> sends = new ArrayList<>();
    private final List<Poll> polls = new ArrayList<>();
    private final List<Txn> txns = new ArrayList<>();
    private final List<FinalRead> finalReads = new ArrayList<>();
    private final List<NemesisEvent> nemesis = new ArrayList<>();
    private final HistoryFile.Writer file;

    /** @param file where to stream the history; {@code null} keeps it in memory only */
    public HistoryRecorder(RunInfo info, Path file) {
        this.info = info;
        try {
            this.file = file == null ? null : HistoryFile.writer(file, info);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the history to " + file, e);
        }
    }

    /** @return nanoseconds since the run's time zero */
    public long nowNs() {
        return System.nanoTime() - zeroNs;
    }

    public RunInfo info() {
        return info;
    }

    public synchronized void send(Send send) {
        sends.add(send);
        write(send);
    }

    public synchronized void poll(Poll poll) {
        polls.add(poll);
        write(poll);
    }

    public synchronized void txn(Txn txn) {
        txns.add(txn);
        write(txn);
    }

    public synchronized void finalRead(FinalRead read) {
        finalReads.add(read);
        write(read);
    }

    public synchronized void nemesis(NemesisEvent event) {
        nemesis.add(event);
        write(event);
    }

    /** @return everything recorded so far */
    public synchronized History snapshot() {
        return new History(info, sends, polls, txns, finalReads, nemesis);
    }

    private void write(Object entry) {
        if (file != null) {
            file.write(entry);
        }
    }

    @Override
    public synchronized void close() {
        if (file != null) {
            file.close();
        }
    }
}
