package dev.sluice.tools;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.partitionstore.NodeStore;
import dev.sluice.partitionstore.OffsetPosition;
import dev.sluice.partitionstore.rocksdb.RocksDbNodeMetadata;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DumpCommandTest {
    private static final TopicPartition TP = new TopicPartition("sample", 0);

    @TempDir
    Path dataDir;

    private Path partitionDir;

    @BeforeEach
    void writeSample() {
        Result sample = run("sample", "--data-dir", dataDir.toString(), "--records", "3000");
        assertThat(sample.status).as(sample.output).isZero();
        assertThat(sample.output).contains("verify: OK");
        partitionDir = NodeStore.partitionDir(dataDir, TP);
    }

    @Test
    void shouldPrintEveryBatchAndRecord() {
        Result result = run("dump", "--print-data", partitionDir.toString());
        assertThat(result.status).isZero();
        assertThat(result.output)
                .contains("Dumping " + partitionDir.resolve("00000000000000000000.log"))
                .contains("baseOffset: 0 lastOffset: 99 count: 100")
                .contains("compresscodec: zstd")
                .contains("compresscodec: gzip")
                .contains("isvalid: true")
                .contains("| offset: 2999 CreateTime: ")
                .contains("key: customer-")
                .contains("headers: [source:sluice-sample]")
                .contains("30 batches, 3000 records");
    }

    @Test
    void shouldPrintJsonLines() throws IOException {
        Result result = run("dump", "--json", "--print-data", partitionDir.toString());
        ObjectMapper mapper = new ObjectMapper();
        List<JsonNode> lines = new ArrayList<>();
        for (String line : result.output.strip().split("\n")) {
            lines.add(mapper.readTree(line));
        }
        assertThat(lines)
                .filteredOn(n -> n.get("type").asText().equals("batch"))
                .hasSize(30);
        assertThat(lines)
                .filteredOn(n -> n.get("type").asText().equals("record"))
                .hasSize(3000);
        JsonNode summary = lines.get(lines.size() - 1);
        assertThat(summary.get("type").asText()).isEqualTo("summary");
        assertThat(summary.get("records").asLong()).isEqualTo(3000);
    }

    @Test
    void shouldReportAnIndexEntryThatPointsNowhere() {
        try (RocksDbNodeMetadata metadata = RocksDbNodeMetadata.open(NodeStore.rocksDbDir(dataDir))) {
            metadata.partition(TP).putOffsetIndex(new OffsetPosition(150, 0, 123));
        }
        Result result = run("dump", "--verify", partitionDir.toString());
        assertThat(result.status).isEqualTo(1);
        assertThat(result.output)
                .contains("index entry for offset 150 points at position 123")
                .contains("no batch starts");
    }

    @Test
    void shouldFailClearlyOnMissingAndForeignFiles() throws IOException {
        Result missing = run("dump", dataDir.resolve("nope.log").toString());
        assertThat(missing.status).isEqualTo(2);
        assertThat(missing.output).contains("no such file or directory").doesNotContain("Exception");

        Path foreign = Files.writeString(dataDir.resolve("notes.txt"), "hello");
        Result notSegment = run("dump", foreign.toString());
        assertThat(notSegment.status).isEqualTo(2);
        assertThat(notSegment.output).contains("not a segment file").doesNotContain("Exception");

        Path garbage = Files.writeString(dataDir.resolve("00000000000000000000.log"), "this is not a segment at all");
        Result bad = run("dump", "--verify", garbage.toString());
        assertThat(bad.status).isEqualTo(1);
        assertThat(bad.output).contains("PROBLEM").doesNotContain("Exception");

        Result emptyDir =
                run("dump", Files.createDirectories(dataDir.resolve("empty")).toString());
        assertThat(emptyDir.status).isEqualTo(2);
        assertThat(emptyDir.output).contains("not a partition directory");
    }

    @Test
    void shouldReportATruncatedSegment() throws IOException {
        Path segment = partitionDir.resolve("00000000000000000000.log");
        try (var file = new java.io.RandomAccessFile(segment.toFile(), "rw")) {
            file.setLength(file.length() - 10);
        }
        Result result = run("dump", "--verify", partitionDir.toString());
        assertThat(result.status).isEqualTo(1);
        assertThat(result.output).contains("truncated batch at position");
    }

    @Test
    void shouldListSubcommandsInHelp() {
        Result help = run("--help");
        assertThat(help.status).isZero();
        assertThat(help.output).contains("dump").contains("sample");
    }

    private record Result(int status, String output) {}

    private static Result run(String... args) {
        StringWriter output = new StringWriter();
        var commandLine = SluiceTool.commandLine();
        commandLine.setOut(new PrintWriter(output));
        commandLine.setErr(new PrintWriter(output));
        int status = commandLine.execute(args);
        return new Result(status, output.toString());
    }
}
