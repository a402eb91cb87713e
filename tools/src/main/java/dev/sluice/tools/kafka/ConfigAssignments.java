package dev.sluice.tools.kafka;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses the {@code --config KEY=VALUE} arguments of {@code sluice topics}: the key is before the first
 * {@code =}, the value after it (so values may contain {@code =} and commas, like {@code
 * cleanup.policy=compact,delete}). Pure.
 */
public final class ConfigAssignments {
    private ConfigAssignments() {}

    /**
     * @return the assignments in the order given
     * @throws IllegalArgumentException naming the bad argument: no {@code =}, an empty key, or a key given twice
     */
    public static Map<String, String> parse(List<String> assignments) {
        Map<String, String> configs = new LinkedHashMap<>();
        if (assignments == null) {
            return configs;
        }
        for (String assignment : assignments) {
            int equals = assignment.indexOf('=');
            if (equals < 0) {
                throw new IllegalArgumentException(
                        "--config '" + assignment + "' is not KEY=VALUE (for example retention.ms=86400000)");
            }
            String key = assignment.substring(0, equals).trim();
            if (key.isEmpty()) {
                throw new IllegalArgumentException("--config '" + assignment + "' has an empty key");
            }
            if (configs.put(key, assignment.substring(equals + 1)) != null) {
                throw new IllegalArgumentException("--config " + key + " is given twice");
            }
        }
        return configs;
    }
}
