package dev.sluice.tools.groups;

import java.util.List;
import java.util.TreeSet;

/**
 * One {@code --topic TOPIC[:PARTITION,PARTITION...]} of {@code sluice groups reset-offsets}: a topic and,
 * optionally, some of its partitions. Pure.
 *
 * @param topic the topic's name
 * @param partitions the chosen partitions, ascending and distinct; empty for all of the topic's
 */
public record TopicSelection(String topic, List<Integer> partitions) {
    public TopicSelection {
        partitions = List.copyOf(partitions);
    }

    /** Whether the whole topic is chosen. */
    public boolean allPartitions() {
        return partitions.isEmpty();
    }

    /**
     * Parses {@code TOPIC} or {@code TOPIC:P,P,...}; throws {@code IllegalArgumentException} naming
     * {@code --topic} on a bad one.
     */
    public static TopicSelection parse(String text) {
        int colon = text.lastIndexOf(':');
        String topic = colon < 0 ? text.trim() : text.substring(0, colon).trim();
        if (topic.isEmpty()) {
            throw new IllegalArgumentException("--topic '" + text + "' names no topic: give TOPIC or TOPIC:P,P,...");
        }
        if (colon < 0) {
            return new TopicSelection(topic, List.of());
        }
        TreeSet<Integer> partitions = new TreeSet<>();
        for (String part : text.substring(colon + 1).split(",", -1)) {
            String trimmed = part.trim();
            if (trimmed.isEmpty() || trimmed.length() > 9 || !trimmed.chars().allMatch(Character::isDigit)) {
                throw new IllegalArgumentException("--topic '" + text + "': '" + trimmed
                        + "' is not a partition number; give TOPIC or TOPIC:P,P,... (like orders:0,2)");
            }
            partitions.add(Integer.parseInt(trimmed));
        }
        return new TopicSelection(topic, List.copyOf(partitions));
    }
}
