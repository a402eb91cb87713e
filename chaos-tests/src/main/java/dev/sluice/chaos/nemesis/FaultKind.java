package dev.sluice.chaos.nemesis;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;

/** The kinds of fault the nemesis chooses from; their names are what {@code sluice chaos --faults} takes. */
public enum FaultKind {
    /** SIGKILL a node, start it again after the fault window. */
    KILL,
    /** SIGTERM a node (graceful shutdown), start it again after the window. */
    TERM,
    /** SIGSTOP a node, SIGCONT after the window. */
    PAUSE,
    /** Network partitions between nodes: a node isolated (Raft and clients), a majority/minority split, a one-way cut. */
    PARTITION,
    /** Added latency on every Raft link and every client connection. */
    LATENCY,
    /** Lost messages on every Raft link. */
    LOSS,
    /** Damaged files on one stopped node: torn segment or Raft log tail, a flipped bit, lost unsynced writes. */
    DISK,
    /** A node added, then a node removed, while writing. */
    MEMBERSHIP,
    /** A rolling restart of every node, one at a time. */
    RESTART;

    /** @return the name on the command line */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses a comma-separated list of fault names ({@code all} for every kind).
     *
     * @throws IllegalArgumentException naming the unknown fault and the allowed ones
     */
    public static List<FaultKind> parse(String text) {
        List<FaultKind> kinds = new ArrayList<>();
        for (String part : text.split(",")) {
            String name = part.trim().toLowerCase(Locale.ROOT);
            if (name.isEmpty()) {
                continue;
            }
            if (name.equals("all")) {
                return List.copyOf(EnumSet.allOf(FaultKind.class));
            }
            boolean found = false;
            for (FaultKind kind : values()) {
                if (kind.cliName().equals(name)) {
                    if (!kinds.contains(kind)) {
                        kinds.add(kind);
                    }
                    found = true;
                }
            }
            if (!found) {
                throw new IllegalArgumentException("unknown fault '" + name + "'; allowed: " + allowed());
            }
        }
        if (kinds.isEmpty()) {
            throw new IllegalArgumentException("no fault given; allowed: " + allowed());
        }
        return List.copyOf(kinds);
    }

    /** @return every name {@link #parse} accepts */
    public static String allowed() {
        StringBuilder names = new StringBuilder("all");
        for (FaultKind kind : values()) {
            names.append(", ").append(kind.cliName());
        }
        return names.toString();
    }
}
