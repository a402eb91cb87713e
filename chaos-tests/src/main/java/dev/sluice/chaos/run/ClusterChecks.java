package dev.sluice.chaos.run;

import dev.sluice.raft.ReplicaFiles;
import dev.sluice.tools.SluiceTool;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntFunction;
import org.apache.kafka.common.TopicPartition;

/**
 * The checks on the nodes' files once every node has stopped: the segment files of every partition are
 * byte-identical on all its replicas, and {@code sluice dump --verify --quiet} passes on every node's data
 * directory (CRCs, offset continuity, index entries).
 */
public final class ClusterChecks {
    private ClusterChecks() {}

    /**
     * @param replicas every partition's replica nodes
     * @param dataDirs each node's data directory
     * @param ends the offset every replica of each partition had reached when the writing stopped: batches from
     *     there on (written while the nodes shut down) are not compared; a partition without one is compared whole
     * @return a line per file that differs or is missing on a replica
     */
    public static List<String> compareReplicas(
            Map<TopicPartition, List<Integer>> replicas, IntFunction<Path> dataDirs, Map<TopicPartition, Long> ends) {
        List<String> problems = new ArrayList<>();
        List<TopicPartition> partitions = new ArrayList<>(replicas.keySet());
        partitions.sort(Comparator.comparing(TopicPartition::toString));
        for (TopicPartition tp : partitions) {
            Map<String, Path> dirs = new TreeMap<>();
            for (int node : replicas.get(tp)) {
                dirs.put(
                        "node " + node,
                        dataDirs.apply(node).resolve("partitions").resolve(tp.topic() + "-" + tp.partition()));
            }
            try {
                for (String difference : ReplicaFiles.differences(dirs, true, ends.getOrDefault(tp, Long.MAX_VALUE))) {
                    problems.add(tp + ": " + difference);
                }
            } catch (IOException ex) {
                problems.add(tp + ": cannot compare replicas: " + ex.getMessage());
            }
        }
        return problems;
    }

    /**
     * Runs {@code sluice dump --verify --quiet} on a node's data directory, keeping its output in
     * {@code report}; returns the problems it found (empty when it passed).
     */
    public static List<String> verify(int node, Path dataDir, Path report) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code;
        if (!Files.isDirectory(dataDir.resolve("partitions"))) {
            return List.of();
        }
        try (PrintWriter o = new PrintWriter(out);
                PrintWriter e = new PrintWriter(err)) {
            code = SluiceTool.commandLine()
                    .setOut(o)
                    .setErr(e)
                    .execute("dump", "--verify", "--quiet", dataDir.toString());
        }
        String text = out + err.toString();
        try {
            Files.writeString(report, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            // the report is a convenience; the verdict below is what counts
        }
        if (code == 0) {
            return List.of();
        }
        List<String> problems = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.startsWith("PROBLEM") || line.startsWith("sluice dump")) {
                problems.add("node " + node + ": " + line);
            }
        }
        if (problems.isEmpty()) {
            problems.add("node " + node + ": sluice dump --verify exited with " + code + "; see " + report);
        }
        return problems;
    }
}
