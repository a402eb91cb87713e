package dev.sluice.tools.groups;

import java.time.DateTimeException;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.TemporalAccessor;
import java.util.ArrayList;
import java.util.List;

/**
 * Where {@code sluice groups reset-offsets} moves a group's offsets: exactly one of the {@code --to-*},
 * {@code --by-duration} and {@code --shift-by} options, checked and parsed. Pure: the clock and the time
 * zone come in as arguments.
 */
public sealed interface ResetScenario {
    /** The options, in the order the usage and the error messages list them. */
    List<String> OPTIONS =
            List.of("--to-earliest", "--to-latest", "--to-offset", "--to-datetime", "--by-duration", "--shift-by");

    /** Each partition to its log start offset. */
    record ToEarliest() implements ResetScenario {}

    /** Each partition to its log end offset. */
    record ToLatest() implements ResetScenario {}

    /** Each partition to {@code offset}, clamped to the partition's offsets. */
    record ToOffset(long offset) implements ResetScenario {}

    /** Each partition to its first offset with a timestamp at or after {@code timestampMs}, else its log end. */
    record ToDatetime(long timestampMs) implements ResetScenario {}

    /** Like {@link ToDatetime}, for the time {@code duration} before now. */
    record ByDuration(Duration duration) implements ResetScenario {}

    /** Each partition's committed offset moved by {@code delta} (negative: back), clamped. */
    record ShiftBy(long delta) implements ResetScenario {}

    /**
     * The timestamp to look offsets up by (ListOffsets by timestamp), or null when the scenario does not
     * need one.
     */
    default Long timestampMs(long nowMs) {
        if (this instanceof ToDatetime toDatetime) {
            return toDatetime.timestampMs();
        }
        if (this instanceof ByDuration byDuration) {
            long durationMs = byDuration.duration().toMillis();
            return durationMs >= nowMs ? 0L : nowMs - durationMs;
        }
        return null;
    }

    /**
     * Checks that exactly one scenario is given and parses its value.
     *
     * @param toOffset {@code --to-offset}, or null
     * @param toDatetime {@code --to-datetime}, or null; without a zone it is in {@code zone}
     * @param byDuration {@code --by-duration}, or null
     * @param shiftBy {@code --shift-by}, or null
     * @throws IllegalArgumentException naming the option when none, several or a bad value is given
     */
    static ResetScenario parse(
            boolean toEarliest,
            boolean toLatest,
            Long toOffset,
            String toDatetime,
            String byDuration,
            Long shiftBy,
            ZoneId zone) {
        List<String> given = new ArrayList<>();
        addIf(given, toEarliest, "--to-earliest");
        addIf(given, toLatest, "--to-latest");
        addIf(given, toOffset != null, "--to-offset");
        addIf(given, toDatetime != null, "--to-datetime");
        addIf(given, byDuration != null, "--by-duration");
        addIf(given, shiftBy != null, "--shift-by");
        String oneOf = "give exactly one of " + String.join(", ", OPTIONS);
        if (given.isEmpty()) {
            throw new IllegalArgumentException("no reset scenario: " + oneOf);
        }
        if (given.size() > 1) {
            throw new IllegalArgumentException(String.join(" and ", given) + " cannot be used together: " + oneOf);
        }
        if (toEarliest) {
            return new ToEarliest();
        }
        if (toLatest) {
            return new ToLatest();
        }
        if (toOffset != null) {
            if (toOffset < 0) {
                throw new IllegalArgumentException("--to-offset must be at least 0, was " + toOffset);
            }
            return new ToOffset(toOffset);
        }
        if (toDatetime != null) {
            return new ToDatetime(parseDatetime(toDatetime, zone));
        }
        if (byDuration != null) {
            return new ByDuration(parseDuration(byDuration));
        }
        return new ShiftBy(shiftBy);
    }

    /**
     * An ISO-8601 local date-time with an optional zone offset ({@code 2024-05-01T12:00},
     * {@code 2024-05-01T12:00:00.000}, {@code 2024-05-01T12:00:00Z}, {@code 2024-05-01T12:00:00+02:00}),
     * as epoch milliseconds; without an offset the time is in {@code zone}, as Kafka's tool takes it.
     */
    static long parseDatetime(String text, ZoneId zone) {
        try {
            TemporalAccessor parsed =
                    DateTimeFormatter.ISO_DATE_TIME.parseBest(text.trim(), ZonedDateTime::from, LocalDateTime::from);
            if (parsed instanceof ZonedDateTime zoned) {
                return zoned.toInstant().toEpochMilli();
            }
            return ((LocalDateTime) parsed).atZone(zone).toInstant().toEpochMilli();
        } catch (DateTimeException | ArithmeticException e) {
            throw new IllegalArgumentException("--to-datetime '" + text
                    + "' is not an ISO-8601 date-time like 2024-05-01T12:00:00Z, 2024-05-01T12:00:00.000+02:00 or"
                    + " 2024-05-01T12:00:00 (local time)");
        }
    }

    /** An ISO-8601 duration {@code PnDTnHnMnS}, not negative. */
    static Duration parseDuration(String text) {
        Duration duration;
        try {
            duration = Duration.parse(text.trim());
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("--by-duration '" + text
                    + "' is not an ISO-8601 duration PnDTnHnMnS, like PT15M (15 minutes) or P1DT12H (36 hours)");
        }
        if (duration.isNegative()) {
            throw new IllegalArgumentException("--by-duration '" + text + "' must not be negative");
        }
        return duration;
    }

    private static void addIf(List<String> given, boolean condition, String option) {
        if (condition) {
            given.add(option);
        }
    }
}
