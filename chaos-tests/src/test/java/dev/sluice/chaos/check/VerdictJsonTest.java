package dev.sluice.chaos.check;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VerdictJsonTest {
    @TempDir
    Path dir;

    private static Verdict sample() {
        return Verdict.of(
                        Map.of(Anomaly.LOST_WRITE, 3L, Anomaly.WR_CYCLE, 1L),
                        Map.of(Anomaly.LOST_WRITE, List.of("chaos-0@1 value 101 \"quoted\"", "second")),
                        VerdictTest.STATS)
                .withClusterChecks(List.of("node-2 chaos-0 00000000.log differs"), List.of());
    }

    @Test
    void shouldReadBackWhatItWrote() throws IOException {
        Path file = dir.resolve("verdict.json");
        Verdict verdict = sample();

        VerdictJson.write(file, verdict);

        assertThat(VerdictJson.read(file)).isEqualTo(verdict);
    }

    @Test
    void shouldWriteEveryKindByItsKebabNameInAStableOrder() throws IOException {
        String json = VerdictJson.toJson(sample());
        JsonNode root = new ObjectMapper().readTree(json);

        List<String> keys = new ArrayList<>();
        root.fieldNames().forEachRemaining(keys::add);
        assertThat(keys)
                .containsExactly(
                        "valid", "counts", "examples", "replicaMismatches", "verifyFailures", "runProblems", "stats");
        List<String> kinds = new ArrayList<>();
        root.get("counts").fieldNames().forEachRemaining(kinds::add);
        assertThat(kinds)
                .containsExactly(java.util.Arrays.stream(Anomaly.values())
                        .map(Anomaly::jsonName)
                        .toArray(String[]::new));
        assertThat(root.get("valid").asBoolean()).isFalse();
        assertThat(root.get("counts").get("lost-write").asLong()).isEqualTo(3);
        assertThat(root.get("stats").get("finalReads").get(0).get("isolation").asText())
                .isEqualTo("READ_COMMITTED");
        assertThat(VerdictJson.toJson(sample())).isEqualTo(json);
    }

    @Test
    void shouldRejectAnUnknownKind() throws IOException {
        Path file = dir.resolve("verdict.json");
        VerdictJson.write(file, Verdict.of(Map.of(), Map.of(), VerdictTest.STATS));
        Files.writeString(file, Files.readString(file).replace("\"lost-write\"", "\"lost-writes\""));

        assertThatThrownBy(() -> VerdictJson.read(file))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("lost-writes");
    }

    @Test
    void shouldRejectAValidFlagThatContradictsTheCounts() throws IOException {
        String json = VerdictJson.toJson(sample()).replace("\"valid\" : false", "\"valid\" : true");

        assertThatThrownBy(() -> VerdictJson.fromJson(json)).isInstanceOf(IOException.class);
    }
}
