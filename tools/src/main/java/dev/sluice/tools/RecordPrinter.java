package dev.sluice.tools;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.partitionstore.SegmentScanner;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.utils.BufferSupplier;
import org.apache.kafka.common.utils.CloseableIterator;

/** Prints the records of one batch for {@code sluice dump --print-data}. */
final class RecordPrinter {
    private RecordPrinter() {}

    static void print(
            ByteBuffer data,
            SegmentScanner.Step step,
            boolean json,
            ObjectMapper mapper,
            PrintWriter out,
            PrintWriter err) {
        ByteBuffer bytes = data.duplicate();
        bytes.limit(step.end()).position(step.position());
        try {
            for (RecordBatch batch :
                    MemoryRecords.readableRecords(bytes.slice()).batches()) {
                try (CloseableIterator<Record> it = batch.streamingIterator(BufferSupplier.NO_CACHING)) {
                    while (it.hasNext()) {
                        printRecord(batch, it.next(), json, mapper, out);
                    }
                }
            }
        } catch (RuntimeException e) {
            String message =
                    "records of the batch at position " + step.position() + " are unreadable: " + e.getMessage();
            if (json) {
                out.println(mapper.createObjectNode().put("type", "error").put("description", message));
            } else {
                out.println("| " + message);
            }
        }
    }

    private static void printRecord(
            RecordBatch batch, Record record, boolean json, ObjectMapper mapper, PrintWriter out) {
        String key = render(record.key());
        String value = render(record.value());
        if (json) {
            ObjectNode node = mapper.createObjectNode()
                    .put("type", "record")
                    .put("offset", record.offset())
                    .put("timestamp", record.timestamp())
                    .put("timestampType", batch.timestampType().name)
                    .put("key", key)
                    .put("value", value);
            ArrayNode headers = node.putArray("headers");
            for (Header header : record.headers()) {
                headers.addObject().put("key", header.key()).put("value", render(header.value()));
            }
            out.println(node);
            return;
        }
        StringBuilder headers = new StringBuilder();
        for (Header header : record.headers()) {
            if (headers.length() > 0) {
                headers.append(',');
            }
            headers.append(header.key()).append(':').append(render(header.value()));
        }
        out.printf(
                "| offset: %d %s: %d keySize: %d valueSize: %d key: %s value: %s headers: [%s]%n",
                record.offset(),
                batch.timestampType().name,
                record.timestamp(),
                record.keySize(),
                record.valueSize(),
                key,
                value,
                headers);
    }

    /** UTF-8 text when the bytes are printable UTF-8, else {@code 0x} and hex; {@code null} for none. */
    static String render(ByteBuffer buffer) {
        if (buffer == null) {
            return null;
        }
        byte[] bytes = new byte[buffer.remaining()];
        buffer.duplicate().get(bytes);
        return render(bytes);
    }

    static String render(byte[] bytes) {
        if (bytes == null) {
            return null;
        }
        try {
            CharBuffer text = StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes));
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                if (Character.isISOControl(c) && c != '\t' && c != '\n' && c != '\r') {
                    return "0x" + HexFormat.of().formatHex(bytes);
                }
            }
            return text.toString();
        } catch (CharacterCodingException e) {
            return "0x" + HexFormat.of().formatHex(bytes);
        }
    }
}
