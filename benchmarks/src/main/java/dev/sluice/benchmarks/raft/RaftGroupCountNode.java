package dev.sluice.benchmarks.raft;

import dev.sluice.partitionstore.Clock;
import dev.sluice.partitionstore.LogConfig;
import dev.sluice.raft.RaftNode;
import dev.sluice.raft.RaftSettings;
import dev.sluice.raft.ReplicaStatus;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.TopicPartition;

/**
 * One node of {@link RaftGroupCountBench}, in its own JVM: a {@link RaftNode} driven by line commands on
 * stdin, answering on stdout with lines that start with {@code @} (logs go to stderr).
 *
 * <pre>
 * create FROM COUNT   add partitions bench-FROM .. bench-(FROM+COUNT-1)  -> @ok MS | @err DONE MESSAGE
 * mem                 GC, then memory and threads                        -> @mem k=v ...
 * cpu                 process CPU time and leader-change notifications   -> @cpu k=v ...
 * leaders             how many of its groups this node leads             -> @leaders N
 * quit                close the node and exit                            -> @bye
 * </pre>
 */
public final class RaftGroupCountNode {
    private RaftGroupCountNode() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> defaults = new LinkedHashMap<>();
        defaults.put("id", "n1");
        defaults.put("ids", "n1,n2,n3");
        defaults.put("ports", "");
        defaults.put("dir", "");
        defaults.put("rpc", "grpc");
        defaults.put("spread", "true");
        defaults.put("ratis-log-level", "WARN");
        BenchOptions options = BenchOptions.parse(args, defaults);
        RaftBenchSupport.requireProjectJvmFlags();
        RaftBenchSupport.ratisLogLevel(options.get("ratis-log-level"));
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, "UTF-8");
        System.setOut(System.err); // nothing else may write to the command channel

        List<String> ids = List.of(options.get("ids").split(","));
        List<Integer> ports = new ArrayList<>();
        for (String port : options.get("ports").split(",")) {
            ports.add(Integer.parseInt(port));
        }
        String id = options.get("id");
        boolean spread = options.getBoolean("spread");
        Map<String, Object> settings = new HashMap<>(options.raftSettings());
        settings.put(RaftSettings.RPC_TYPE, options.get("rpc"));
        LogConfig logConfig = LogConfig.parse(Map.of());
        RaftNode node = RaftNode.start(
                id,
                RaftBenchSupport.HOST,
                ports.get(ids.indexOf(id)),
                Path.of(options.get("dir")),
                RaftSettings.parse(settings),
                logConfig,
                Clock.SYSTEM);
        AtomicLong leaderEvents = new AtomicLong();
        Set<TopicPartition> changed = ConcurrentHashMap.newKeySet();
        node.addLeaderListener((tp, leader, term) -> {
            leaderEvents.incrementAndGet();
            changed.add(tp);
        });
        List<TopicPartition> created = new ArrayList<>();
        out.println("@ready");

        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            String[] words = line.trim().split("\\s+");
            switch (words[0]) {
                case "create" -> {
                    int from = Integer.parseInt(words[1]);
                    int count = Integer.parseInt(words[2]);
                    long start = System.nanoTime();
                    int done = 0;
                    String error = null;
                    for (int p = from; p < from + count && error == null; p++) {
                        TopicPartition tp = new TopicPartition("bench", p);
                        try {
                            node.addPartition(tp, RaftBenchSupport.replicas(p, ids, ports, spread), logConfig);
                            created.add(tp);
                            done++;
                        } catch (Throwable e) {
                            error = (e.toString() + (e.getCause() != null ? " / " + e.getCause() : ""))
                                    .replace('\n', ' ');
                        }
                    }
                    long ms = (System.nanoTime() - start) / 1_000_000;
                    out.println(error == null ? "@ok " + ms : "@err " + done + " " + error);
                }
                case "mem" -> out.println("@mem " + memory());
                case "cpu" -> {
                    long cpuNs = RaftBenchSupport.processCpuNs();
                    long events = leaderEvents.get();
                    int partitionsChanged = changed.size();
                    changed.clear();
                    out.println("@cpu cpuNs=" + cpuNs + " leaderEvents=" + events + " partitionsChanged="
                            + partitionsChanged + " threads="
                            + ManagementFactory.getThreadMXBean().getThreadCount()
                            + " fds=" + RaftBenchSupport.openFds());
                }
                case "leaders" -> {
                    int leading = 0;
                    for (TopicPartition tp : created) {
                        ReplicaStatus status = node.status(tp);
                        if (status != null && status.isLeader()) {
                            leading++;
                        }
                    }
                    out.println("@leaders " + leading);
                }
                case "quit" -> {
                    try {
                        node.close();
                    } catch (Exception e) {
                        System.err.println(id + ": close failed: " + e);
                    }
                    out.println("@bye");
                    System.exit(0);
                }
                default -> out.println("@err 0 unknown command " + Arrays.toString(words));
            }
        }
        node.close();
        System.exit(0);
    }

    private static String memory() throws InterruptedException {
        for (int i = 0; i < 2; i++) {
            System.gc();
            Thread.sleep(200);
        }
        MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        MemoryUsage nonHeap = ManagementFactory.getMemoryMXBean().getNonHeapMemoryUsage();
        long[] direct = RaftBenchSupport.directBuffers();
        return "heapUsed=" + heap.getUsed()
                + " heapCommitted=" + heap.getCommitted()
                + " nonHeapUsed=" + nonHeap.getUsed()
                + " direct=" + direct[0]
                + " directCount=" + direct[1]
                + " rssKb=" + RaftBenchSupport.procStatus("VmRSS")
                + " vmKb=" + RaftBenchSupport.procStatus("VmSize")
                + " threads=" + ManagementFactory.getThreadMXBean().getThreadCount()
                + " fds=" + RaftBenchSupport.openFds();
    }
}
