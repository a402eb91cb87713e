package dev.sluice.benchmarks.raft;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The command line of a Raft benchmark: {@code --name value} pairs, each name one of the benchmark's
 * options (with its default) or a Raft setting ({@code --raft.election.timeout.min.ms 2000}, any key that
 * starts with {@code raft.}), which goes to {@link dev.sluice.raft.RaftSettings} unchanged. An unknown
 * name fails with the list of known ones.
 */
final class BenchOptions {
    private final Map<String, String> values;
    private final Map<String, String> raftSettings;

    private BenchOptions(Map<String, String> values, Map<String, String> raftSettings) {
        this.values = values;
        this.raftSettings = raftSettings;
    }

    static BenchOptions parse(String[] args, Map<String, String> defaults) {
        Map<String, String> values = new LinkedHashMap<>(defaults);
        Map<String, String> raft = new TreeMap<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("-h") || arg.equals("--help")) {
                throw new IllegalArgumentException(usage(defaults));
            }
            if (!arg.startsWith("--")) {
                throw new IllegalArgumentException("expected --name value, got '" + arg + "'\n" + usage(defaults));
            }
            String name;
            String value;
            int eq = arg.indexOf('=');
            if (eq > 0) {
                name = arg.substring(2, eq);
                value = arg.substring(eq + 1);
            } else {
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException("option " + arg + " needs a value");
                }
                name = arg.substring(2);
                value = args[++i];
            }
            if (name.startsWith("raft.")) {
                raft.put(name, value);
            } else if (defaults.containsKey(name)) {
                values.put(name, value);
            } else {
                throw new IllegalArgumentException("unknown option --" + name + "\n" + usage(defaults));
            }
        }
        return new BenchOptions(values, raft);
    }

    private static String usage(Map<String, String> defaults) {
        StringBuilder text = new StringBuilder("options (default):");
        defaults.forEach((k, v) -> text.append("\n  --").append(k).append(' ').append(v.isEmpty() ? "''" : v));
        text.append("\n  --raft.<key> <value>   any RaftSettings key");
        return text.toString();
    }

    String get(String name) {
        String value = values.get(name);
        if (value == null) {
            throw new IllegalArgumentException("no option " + name);
        }
        return value;
    }

    int getInt(String name) {
        return Integer.parseInt(get(name));
    }

    long getLong(String name) {
        return Long.parseLong(get(name));
    }

    boolean getBoolean(String name) {
        String value = get(name);
        if (!value.equals("true") && !value.equals("false")) {
            throw new IllegalArgumentException("--" + name + " must be true or false, got " + value);
        }
        return Boolean.parseBoolean(value);
    }

    /** The {@code raft.*} options as given. */
    Map<String, String> raftSettings() {
        return raftSettings;
    }
}
