package dev.sluice.tools;

import dev.sluice.partitionstore.AppendResult;
import dev.sluice.partitionstore.BatchValidator;
import dev.sluice.partitionstore.Clock;
import dev.sluice.partitionstore.LogConfig;
import dev.sluice.partitionstore.LogSegmentInfo;
import dev.sluice.partitionstore.NodeStore;
import dev.sluice.partitionstore.PartitionLog;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.internal.CompressionType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sluice sample}: writes a sample partition into a node data directory through the real
 * partition store (all compression codecs, several segments) and verifies it with {@code sluice dump}.
 */
@Command(
        name = "sample",
        mixinStandardHelpOptions = true,
        description = "Write a sample partition (records in every compression codec, several segments) into a"
                + " data directory through the partition store, then verify it as `sluice dump --verify` does.")
final class SampleCommand implements Callable<Integer> {
    private static final CompressionType[] CODECS = CompressionType.values();

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Option(
            names = "--data-dir",
            paramLabel = "DIR",
            defaultValue = "data/sample",
            description = "Data directory (default: ${DEFAULT-VALUE}).")
    Path dataDir;

    @Option(
            names = "--records",
            paramLabel = "N",
            defaultValue = "10000",
            description = "Records to write (default: ${DEFAULT-VALUE}).")
    int recordCount;

    @Option(names = "--topic", defaultValue = "sample", description = "Topic name (default: ${DEFAULT-VALUE}).")
    String topic;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        TopicPartition tp = new TopicPartition(topic, 0);
        LogConfig config = LogConfig.defaults().with(LogConfig.SEGMENT_BYTES, 256 * 1024);
        Path partitionDir = NodeStore.partitionDir(dataDir, tp);
        try (NodeStore store = NodeStore.open(dataDir, Clock.SYSTEM)) {
            PartitionLog log = store.openPartition(tp, config);
            long start = log.logEndOffset();
            int written = 0;
            int batch = 0;
            while (written < recordCount) {
                int size = Math.min(100, recordCount - written);
                AppendResult result = log.append(
                        MemoryRecords.withRecords(
                                        Compression.of(CODECS[batch % CODECS.length])
                                                .build(),
                                        records(start + written, size))
                                .buffer(),
                        0,
                        BatchValidator.Origin.CLIENT);
                if (!result.succeeded()) {
                    spec.commandLine().getErr().println("sluice sample: append failed: " + result.errorMessage());
                    return 2;
                }
                written += size;
                batch++;
            }
            log.flush();
            out.printf(
                    "Wrote %d records in %d batches to %s (offsets %d..%d):%n",
                    written, batch, partitionDir, start, log.logEndOffset() - 1);
            for (LogSegmentInfo segment : log.segments()) {
                out.printf(
                        "  %s  offsets %d..%d  %d bytes%n",
                        segment.path().getFileName(),
                        segment.baseOffset(),
                        segment.nextOffset() - 1,
                        segment.sizeInBytes());
            }
        }
        StringWriter report = new StringWriter();
        CommandLine dump = SluiceTool.commandLine();
        dump.setOut(new PrintWriter(report));
        dump.setErr(new PrintWriter(report));
        int verified = dump.execute("dump", "--verify", partitionDir.toString());
        String[] lines = report.toString().strip().split("\n");
        out.println(lines[lines.length - 1]);
        out.println("Inspect it with: bin/sluice dump --print-data " + partitionDir);
        out.flush();
        return verified;
    }

    private static SimpleRecord[] records(long firstId, int count) {
        SimpleRecord[] records = new SimpleRecord[count];
        long now = System.currentTimeMillis();
        for (int i = 0; i < count; i++) {
            long id = firstId + i;
            String value =
                    "{\"order\":" + id + ",\"item\":\"widget-" + (id % 7) + "\",\"quantity\":" + (1 + id % 5) + "}";
            records[i] = new SimpleRecord(
                    now,
                    ("customer-" + (id % 13)).getBytes(StandardCharsets.UTF_8),
                    value.getBytes(StandardCharsets.UTF_8),
                    new Header[] {new RecordHeader("source", "sluice-sample".getBytes(StandardCharsets.UTF_8))});
        }
        return records;
    }
}
