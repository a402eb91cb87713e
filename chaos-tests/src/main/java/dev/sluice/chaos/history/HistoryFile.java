package dev.sluice.chaos.history;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A history as JSON Lines: the first line is the {@link RunInfo}, each following line one entry, an object
 * with a {@code "type"} field ({@code run}, {@code send}, {@code poll}, {@code txn}, {@code final-read},
 * {@code nemesis}) and the record's components as fields. Entries of one type appear in the order they were
 * recorded. A torn last line (a run killed while writing) is ignored when reading.
 */
public final class HistoryFile {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<Class<?>, String> TYPES = Map.of(
            RunInfo.class, "run",
            Send.class, "send",
            Poll.class, "poll",
            Txn.class, "txn",
            FinalRead.class, "final-read",
            NemesisEvent.class, "nemesis");

    private HistoryFile() {}

    /** Streams entries to a file; each is flushed to the OS as written. Not thread-safe. */
    public static final class Writer implements AutoCloseable {
        private final Path path;
        private final BufferedWriter out;

        private Writer(Path path) throws IOException {
            this.path = path;
            this.out = Files.newBufferedWriter(path, StandardCharsets.UTF_8);
        }

        /** Writes one entry (a history record or the {@link RunInfo}). */
        public void write(Object entry) {
            String type = TYPES.get(entry.getClass());
            if (type == null) {
                throw new IllegalArgumentException(
                        "not a history entry: " + entry.getClass().getName());
            }
            ObjectNode node = JSON.createObjectNode().put("type", type);
            node.setAll((ObjectNode) JSON.valueToTree(entry));
            try {
                out.write(JSON.writeValueAsString(node));
                out.newLine();
                out.flush();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write the history to " + path, e);
            }
        }

        @Override
        public void close() {
            try {
                out.close();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot close " + path, e);
            }
        }
    }

    /** Opens {@code path} for writing (replacing it) and writes {@code info} as its first line. */
    public static Writer writer(Path path, RunInfo info) throws IOException {
        Writer writer = new Writer(path);
        writer.write(info);
        return writer;
    }

    /** Writes a whole history to {@code path}. */
    public static void write(Path path, History history) throws IOException {
        try (Writer writer = writer(path, history.info())) {
            history.sends().forEach(writer::write);
            history.polls().forEach(writer::write);
            history.txns().forEach(writer::write);
            history.finalReads().forEach(writer::write);
            history.nemesis().forEach(writer::write);
        }
    }

    /** Reads a history written by {@link #writer} or {@link #write}. */
    public static History read(Path path) throws IOException {
        RunInfo info = null;
        List<Send> sends = new ArrayList<>();
        List<Poll> polls = new ArrayList<>();
        List<Txn> txns = new ArrayList<>();
        List<FinalRead> finalReads = new ArrayList<>();
        List<NemesisEvent> nemesis = new ArrayList<>();
        try (BufferedReader in = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
            String line;
            int number = 0;
            while ((line = in.readLine()) != null) {
                number++;
                if (line.isBlank()) {
                    continue;
                }
                JsonNode node;
                try {
                    node = JSON.readTree(line);
                } catch (IOException e) {
                    if (in.readLine() == null) {
                        break; // a torn last line
                    }
                    throw new IOException(path + " line " + number + ": not JSON: " + e.getMessage(), e);
                }
                String type = node.path("type").asText();
                ((ObjectNode) node).remove("type");
                switch (type) {
                    case "run" -> info = JSON.treeToValue(node, RunInfo.class);
                    case "send" -> sends.add(JSON.treeToValue(node, Send.class));
                    case "poll" -> polls.add(JSON.treeToValue(node, Poll.class));
                    case "txn" -> txns.add(JSON.treeToValue(node, Txn.class));
                    case "final-read" -> finalReads.add(JSON.treeToValue(node, FinalRead.class));
                    case "nemesis" -> nemesis.add(JSON.treeToValue(node, NemesisEvent.class));
                    default -> throw new IOException(path + " line " + number + ": unknown entry type '" + type + "'");
                }
            }
        }
        if (info == null) {
            throw new IOException(path + ": no run line; not a chaos history");
        }
        return new History(info, sends, polls, txns, finalReads, nemesis);
    }
}
