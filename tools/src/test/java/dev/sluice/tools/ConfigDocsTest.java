package dev.sluice.tools;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ConfigDocsTest {
    @Test
    void shouldKeepTheCommittedReferenceEqualToTheGeneratedOne() throws IOException {
        Path committed = Path.of("..", "docs", "configuration.md");
        assertThat(Files.readString(committed))
                .as(
                        "docs/configuration.md is stale: regenerate it with `bin/sluice config-docs > docs/configuration.md`")
                .isEqualTo(ConfigDocsCommand.markdown());
    }
}
