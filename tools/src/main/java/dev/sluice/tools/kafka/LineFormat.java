package dev.sluice.tools.kafka;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * How {@code sluice produce} turns an input line into a record's key and value, as Kafka's console
 * producer does: with {@code parse.key=true} the key is before the first {@code key.separator} and the
 * value after it; otherwise the whole line is the value and the key is null. A key or value equal to
 * {@code null.marker} (when set) is null, which makes tombstones possible. Pure.
 *
 * @param parseKey whether lines carry a key
 * @param keySeparator what separates key and value (not empty)
 * @param nullMarker the text that stands for null, or null for none
 */
public record LineFormat(boolean parseKey, String keySeparator, String nullMarker) {
    /** Kafka's default {@code key.separator}: a tab. */
    public static final String DEFAULT_KEY_SEPARATOR = "\t";

    /** The {@code --property} names {@code sluice produce} knows. */
    public static final Set<String> PROPERTY_NAMES = Set.of("parse.key", "key.separator", "null.marker");

    /** A line's key and value; either may be null. */
    public record KeyValue(byte[] key, byte[] value) {}

    public LineFormat {
        if (keySeparator == null || keySeparator.isEmpty()) {
            throw new IllegalArgumentException("the key separator must not be empty");
        }
    }

    /**
     * Reads the {@code --property} settings; {@code keySeparatorOption}, when not null, wins over
     * {@code key.separator}.
     *
     * @throws IllegalArgumentException naming an unknown property (and the known ones) or a bad value
     */
    public static LineFormat of(Map<String, String> properties, String keySeparatorOption) {
        for (String name : properties.keySet()) {
            if (!PROPERTY_NAMES.contains(name)) {
                throw new IllegalArgumentException("unknown --property " + name + " (known: "
                        + String.join(", ", new TreeSet<>(PROPERTY_NAMES)) + ")");
            }
        }
        String parseKey = properties.getOrDefault("parse.key", "false").trim();
        if (!parseKey.equalsIgnoreCase("true") && !parseKey.equalsIgnoreCase("false")) {
            throw new IllegalArgumentException("--property parse.key=" + parseKey + ": expected true or false");
        }
        String separator = keySeparatorOption != null
                ? keySeparatorOption
                : properties.getOrDefault("key.separator", DEFAULT_KEY_SEPARATOR);
        if (separator.isEmpty()) {
            throw new IllegalArgumentException("the key separator must not be empty");
        }
        return new LineFormat(Boolean.parseBoolean(parseKey), separator, properties.get("null.marker"));
    }

    /**
     * @throws IllegalArgumentException when keys are parsed and the line holds no separator
     */
    public KeyValue parse(String line) {
        if (!parseKey) {
            return new KeyValue(null, bytes(line));
        }
        int at = line.indexOf(keySeparator);
        if (at < 0) {
            throw new IllegalArgumentException("no key separator '" + printable(keySeparator) + "' in the line");
        }
        return new KeyValue(bytes(line.substring(0, at)), bytes(line.substring(at + keySeparator.length())));
    }

    private byte[] bytes(String text) {
        return text.equals(nullMarker) ? null : text.getBytes(StandardCharsets.UTF_8);
    }

    static String printable(String text) {
        return text.replace("\t", "\\t").replace("\r", "\\r").replace("\n", "\\n");
    }
}
