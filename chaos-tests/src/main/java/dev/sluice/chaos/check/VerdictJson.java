package dev.sluice.chaos.check;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * A {@link Verdict} as a stable, readable JSON document ({@code verdict.json}), pretty-printed, every key in a
 * fixed order:
 *
 * <pre>
 * {
 *   "valid" : false,
 *   "counts" : { "lost-write" : 1, "unseen" : 0, ... },          every kind, in Anomaly order
 *   "examples" : { "lost-write" : [ "chaos-0@17 value ..." ], "unseen" : [ ], ... },
 *   "replicaMismatches" : [ ],
 *   "verifyFailures" : [ ],
 *   "runProblems" : [ ],
 *   "stats" : { "sendsOk" : 120, ..., "finalReads" : [ { "topic" : "chaos", "partition" : 0, ... } ] }
 * }
 * </pre>
 *
 * Anomaly kinds are keyed by {@link Anomaly#jsonName()}. Reading accepts a document with kinds missing (zero,
 * no examples) but rejects an unknown kind or a {@code valid} that contradicts the rest. Stateless and
 * thread-safe.
 */
public final class VerdictJson {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private VerdictJson() {}

    /** Writes {@code verdict} to {@code path}, replacing it. */
    public static void write(Path path, Verdict verdict) throws IOException {
        Files.writeString(path, toJson(verdict) + System.lineSeparator(), StandardCharsets.UTF_8);
    }

    /** Reads a verdict written by {@link #write}. */
    public static Verdict read(Path path) throws IOException {
        try {
            return fromJson(Files.readString(path, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new IOException(path + ": not a verdict: " + e.getMessage(), e);
        }
    }

    /** @return {@code verdict} as the document described above */
    public static String toJson(Verdict verdict) {
        ObjectNode root = JSON.createObjectNode();
        root.put("valid", verdict.valid());
        ObjectNode counts = root.putObject("counts");
        verdict.counts().forEach((anomaly, count) -> counts.put(anomaly.jsonName(), count));
        ObjectNode examples = root.putObject("examples");
        verdict.examples().forEach((anomaly, list) -> strings(examples.putArray(anomaly.jsonName()), list));
        strings(root.putArray("replicaMismatches"), verdict.replicaMismatches());
        strings(root.putArray("verifyFailures"), verdict.verifyFailures());
        strings(root.putArray("runProblems"), verdict.runProblems());
        root.set("stats", JSON.valueToTree(verdict.stats()));
        try {
            return JSON.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a verdict tree must always serialize", e);
        }
    }

    /**
     * @return the verdict in {@code json}
     * @throws IOException if it is not JSON or not a verdict
     */
    public static Verdict fromJson(String json) throws IOException {
        JsonNode root = JSON.readTree(json);
        if (root == null || !root.isObject() || !root.path("valid").isBoolean()) {
            throw new IOException("not a verdict: no boolean 'valid'");
        }
        Map<Anomaly, Long> counts = new EnumMap<>(Anomaly.class);
        for (Map.Entry<String, JsonNode> e : root.path("counts").properties()) {
            counts.put(anomaly(e.getKey()), e.getValue().asLong());
        }
        Map<Anomaly, List<String>> examples = new EnumMap<>(Anomaly.class);
        for (Map.Entry<String, JsonNode> e : root.path("examples").properties()) {
            examples.put(anomaly(e.getKey()), strings(e.getValue()));
        }
        Statistics stats = JSON.treeToValue(root.path("stats"), Statistics.class);
        try {
            return new Verdict(
                    root.path("valid").asBoolean(),
                    counts,
                    examples,
                    stats,
                    strings(root.path("replicaMismatches")),
                    strings(root.path("verifyFailures")),
                    strings(root.path("runProblems")));
        } catch (IllegalArgumentException e) {
            throw new IOException("not a consistent verdict: " + e.getMessage(), e);
        }
    }

    private static Anomaly anomaly(String name) throws IOException {
        try {
            return Anomaly.fromJsonName(name);
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    private static void strings(ArrayNode array, List<String> values) {
        values.forEach(array::add);
    }

    private static List<String> strings(JsonNode array) {
        List<String> result = new ArrayList<>();
        array.forEach(node -> result.add(node.asText()));
        return result;
    }
}
