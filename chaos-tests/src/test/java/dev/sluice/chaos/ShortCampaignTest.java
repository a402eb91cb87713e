package dev.sluice.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.chaos.nemesis.FaultKind;
import dev.sluice.chaos.nemesis.Nemesis;
import dev.sluice.chaos.run.ChaosRun;
import dev.sluice.chaos.run.RunConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The short chaos campaign of the default test suite: a few seeded runs against fresh 3-node clusters of real
 * node processes, each with its own mix of faults, each of which must end with a valid verdict (no anomaly,
 * identical replicas, {@code sluice dump --verify} passing on every node). The long campaign is
 * {@code sluice chaos}; see the README.
 */
class ShortCampaignTest {
    private static final Path OUT = Path.of("target", "chaos-runs").toAbsolutePath();

    record Scenario(String name, String workload, String faults, long seed) {
        @Override
        public String toString() {
            return name;
        }
    }

    static List<Scenario> scenarios() {
        return List.of(
                new Scenario("queue-process-faults", "queue", "kill,term,pause", 11),
                new Scenario("txn-network-faults", "txn", "partition,latency,loss", 12),
                new Scenario("queue-disk-and-membership", "queue", "disk,membership,restart", 13));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("scenarios")
    @Timeout(600)
    void runEndsWithAValidVerdict(Scenario scenario) throws Exception {
        RunConfig config = new RunConfig(
                scenario.name(),
                OUT,
                3,
                scenario.seed(),
                FaultKind.parse(scenario.faults()),
                40_000,
                scenario.workload(),
                new Nemesis.Timing(2_000, 4_000, 4_000, 8_000),
                120,
                Map.of(),
                ChaosCommand.nodeJavaCommand(),
                System.getProperty("java.class.path"),
                false);
        ChaosRun.Result result = ChaosRun.run(config, line -> System.out.println("chaos: " + line));
        Path summary = config.dir().resolve("summary.md");
        String report = Files.exists(summary) ? Files.readString(summary, StandardCharsets.UTF_8) : "(no summary)";
        assertThat(result.verdict().valid())
                .as("verdict of %s:%n%s", scenario, report)
                .isTrue();
        assertThat(config.dir().resolve("history.jsonl")).exists();
        assertThat(config.dir().resolve("verdict.json")).exists();
        assertThat(config.dir().resolve("timeline.png")).exists();
        assertThat(config.dir().resolve("nemesis.log")).exists();
    }
}
