package dev.sluice.chaos.check;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.chaos.history.Isolation;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class VerdictTest {
    static final Statistics STATS = new Statistics(
            5,
            1,
            2,
            3,
            40,
            50,
            7,
            5,
            1,
            1,
            0,
            2,
            1,
            List.of(new Statistics.FinalReadStats("chaos", 0, Isolation.READ_COMMITTED, 0, 9, 7)));

    @Test
    void shouldBeValidWithoutAnomaliesAndFillEveryKind() {
        Verdict verdict = Verdict.of(Map.of(), Map.of(), STATS);

        assertThat(verdict.valid()).isTrue();
        assertThat(verdict.counts()).hasSize(Anomaly.values().length).allSatisfy((k, c) -> assertThat(c)
                .isZero());
        assertThat(verdict.examples()).hasSize(Anomaly.values().length);
        assertThat(verdict.anomalies()).isEmpty();
    }

    @Test
    void shouldBeInvalidWithAnyAnomaly() {
        Verdict verdict = Verdict.of(Map.of(Anomaly.UNSEEN, 2L), Map.of(Anomaly.UNSEEN, List.of("x", "y")), STATS);

        assertThat(verdict.valid()).isFalse();
        assertThat(verdict.anomalies()).containsExactly(Anomaly.UNSEEN);
        assertThat(verdict.count(Anomaly.UNSEEN)).isEqualTo(2);
    }

    @Test
    void shouldBecomeInvalidWhenClusterChecksFail() {
        Verdict clean = Verdict.of(Map.of(), Map.of(), STATS);

        assertThat(clean.withClusterChecks(List.of(), List.of()).valid()).isTrue();
        assertThat(clean.withClusterChecks(List.of("node-2/chaos-0/00000.log differs"), List.of())
                        .valid())
                .isFalse();
        Verdict failedVerify = clean.withClusterChecks(List.of(), List.of("node-1: bad CRC at 17"));
        assertThat(failedVerify.valid()).isFalse();
        assertThat(failedVerify.verifyFailures()).containsExactly("node-1: bad CRC at 17");
        assertThat(failedVerify.counts()).isEqualTo(clean.counts());
    }

    @Test
    void shouldBecomeInvalidWhenTheRunHadProblems() {
        Verdict clean = Verdict.of(Map.of(), Map.of(), STATS).withClusterChecks(List.of(), List.of());

        Verdict troubled = clean.withRunProblems(List.of("node 2 did not come back for the final phase"));
        assertThat(troubled.valid()).isFalse();
        assertThat(troubled.runProblems()).containsExactly("node 2 did not come back for the final phase");
        assertThat(troubled.withClusterChecks(List.of(), List.of()).valid())
                .as("cluster checks keep the run's problems")
                .isFalse();
        assertThat(clean.withRunProblems(List.of()).valid()).isTrue();
    }

    @Test
    void shouldStayInvalidWithAnomaliesWhateverTheClusterChecks() {
        Verdict verdict = Verdict.of(Map.of(Anomaly.G1A, 1L), Map.of(), STATS);

        assertThat(verdict.withClusterChecks(List.of(), List.of()).valid()).isFalse();
    }

    @Test
    void shouldRejectAValidFlagThatContradictsTheCounts() {
        assertThatThrownBy(() ->
                        new Verdict(true, Map.of(Anomaly.G1A, 1L), Map.of(), STATS, List.of(), List.of(), List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("valid=true");
        assertThatThrownBy(() -> new Verdict(false, Map.of(), Map.of(), STATS, List.of(), List.of(), List.of()))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shouldGiveEveryKindADistinctKebabCaseNameThatReadsBack() {
        Set<String> names =
                Arrays.stream(Anomaly.values()).map(Anomaly::jsonName).collect(Collectors.toSet());

        assertThat(names).hasSize(Anomaly.values().length).allMatch(n -> n.matches("[a-z0-9]+(-[a-z0-9]+)*"));
        for (Anomaly anomaly : Anomaly.values()) {
            assertThat(Anomaly.fromJsonName(anomaly.jsonName())).isSameAs(anomaly);
        }
        assertThat(Anomaly.LOST_WRITE.jsonName()).isEqualTo("lost-write");
        assertThat(Anomaly.WR_CYCLE.jsonName()).isEqualTo("wr-cycle");
        assertThatThrownBy(() -> Anomaly.fromJsonName("lost_write")).hasMessageContaining("lost-write");
    }
}
