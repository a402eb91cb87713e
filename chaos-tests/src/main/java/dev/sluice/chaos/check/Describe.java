package dev.sluice.chaos.check;

import dev.sluice.chaos.history.Poll;
import dev.sluice.chaos.history.Send;
import dev.sluice.chaos.history.Txn;
import java.util.Locale;

/** How examples name times, sends and transactions. Stateless. */
final class Describe {
    private Describe() {}

    /** @return {@code ns} (since the run started) as seconds with millisecond precision */
    static String seconds(long ns) {
        return String.format(Locale.ROOT, "%.3fs", ns / 1e9);
    }

    static String send(Send send) {
        return "sent by process " + send.process() + " (" + send.outcome() + ", " + seconds(send.invokeNs()) + "-"
                + seconds(send.completeNs()) + (send.txn() >= 0 ? ", txn " + send.txn() : "") + ")";
    }

    static String poll(Poll poll) {
        return "poll of process " + poll.process() + " (" + poll.mode() + ", " + poll.isolation() + ", session "
                + poll.session() + ", " + seconds(poll.invokeNs()) + "-" + seconds(poll.completeNs()) + ")";
    }

    static String txn(Txn txn) {
        String end = txn.endInvokeNs() < 0
                ? "never ended"
                : (txn.commit() ? "commit" : "abort") + " invoked " + seconds(txn.endInvokeNs());
        return "txn " + txn.id() + " (process " + txn.process() + ", began " + seconds(txn.beginNs()) + ", " + end
                + ", " + txn.outcome() + ")";
    }
}
