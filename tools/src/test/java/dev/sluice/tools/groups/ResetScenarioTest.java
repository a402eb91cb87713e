package dev.sluice.tools.groups;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ResetScenarioTest {
    private static final ZoneId PARIS = ZoneId.of("Europe/Paris");

    @Test
    void shouldRequireAScenario() {
        assertThatThrownBy(() -> ResetScenario.parse(false, false, null, null, null, null, PARIS))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("no reset scenario: give exactly one of --to-earliest, --to-latest, --to-offset,"
                        + " --to-datetime, --by-duration, --shift-by");
    }

    @Test
    void shouldRejectTwoScenariosNamingBoth() {
        assertThatThrownBy(() -> ResetScenario.parse(true, false, 5L, null, null, null, PARIS))
                .hasMessageStartingWith("--to-earliest and --to-offset cannot be used together: give exactly one of");
        assertThatThrownBy(() -> ResetScenario.parse(false, true, null, null, "PT1M", -3L, PARIS))
                .hasMessageStartingWith("--to-latest and --by-duration and --shift-by cannot be used together");
    }

    @Test
    void shouldRejectANegativeTargetOffset() {
        assertThatThrownBy(() -> ResetScenario.parse(false, false, -1L, null, null, null, PARIS))
                .hasMessage("--to-offset must be at least 0, was -1");
    }

    @Test
    void shouldParseEachScenario() {
        assertThat(ResetScenario.parse(true, false, null, null, null, null, PARIS))
                .isEqualTo(new ResetScenario.ToEarliest());
        assertThat(ResetScenario.parse(false, true, null, null, null, null, PARIS))
                .isEqualTo(new ResetScenario.ToLatest());
        assertThat(ResetScenario.parse(false, false, 7L, null, null, null, PARIS))
                .isEqualTo(new ResetScenario.ToOffset(7));
        assertThat(ResetScenario.parse(false, false, null, null, "P1DT2H", null, PARIS))
                .isEqualTo(new ResetScenario.ByDuration(Duration.ofHours(26)));
        assertThat(ResetScenario.parse(false, false, null, null, null, -4L, PARIS))
                .isEqualTo(new ResetScenario.ShiftBy(-4));
    }

    @Test
    void shouldReadADatetimeWithAnOffsetOrInTheGivenZone() {
        long utc = Instant.parse("2024-05-01T10:00:00Z").toEpochMilli();

        assertThat(ResetScenario.parseDatetime("2024-05-01T10:00:00Z", PARIS)).isEqualTo(utc);
        assertThat(ResetScenario.parseDatetime("2024-05-01T12:00:00.000+02:00", PARIS))
                .isEqualTo(utc);
        assertThat(ResetScenario.parseDatetime("2024-05-01T12:00", PARIS)).isEqualTo(utc);
        assertThat(ResetScenario.parseDatetime("2024-05-01T12:00:00+02:00[Europe/Paris]", ZoneId.of("UTC")))
                .isEqualTo(utc);
    }

    @ParameterizedTest
    @ValueSource(strings = {"yesterday", "2024-05-01", "2024-13-01T00:00:00", "1714557600000", "2024-05-01 12:00"})
    void shouldRejectABadDatetimeNamingTheOption(String text) {
        assertThatThrownBy(() -> ResetScenario.parse(false, false, null, text, null, null, PARIS))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("--to-datetime '" + text + "' is not an ISO-8601 date-time");
    }

    @ParameterizedTest
    @ValueSource(strings = {"15m", "PT", "P1H", "-PT1H"})
    void shouldRejectABadDurationNamingTheOption(String text) {
        assertThatThrownBy(() -> ResetScenario.parse(false, false, null, null, text, null, PARIS))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("--by-duration '" + text + "'");
    }

    @Test
    void shouldLookUpByTimestampOnlyForDatetimeAndDuration() {
        long nowMs = 1_000_000;

        assertThat(new ResetScenario.ToDatetime(42).timestampMs(nowMs)).isEqualTo(42);
        assertThat(new ResetScenario.ByDuration(Duration.ofSeconds(10)).timestampMs(nowMs))
                .isEqualTo(990_000);
        assertThat(new ResetScenario.ByDuration(Duration.ofDays(365)).timestampMs(nowMs))
                .isZero();
        assertThat(new ResetScenario.ToLatest().timestampMs(nowMs)).isNull();
        assertThat(new ResetScenario.ShiftBy(1).timestampMs(nowMs)).isNull();
    }
}
