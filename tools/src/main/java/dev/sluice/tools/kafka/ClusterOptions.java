package dev.sluice.tools.kafka;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import picocli.CommandLine.Option;

/**
 * The options every cluster command shares: where the cluster is ({@code --bootstrap-server}) and
 * extra client settings ({@code --command-config}), for security settings and other tuning.
 */
public final class ClusterOptions {
    public static final String DEFAULT_BOOTSTRAP_SERVERS = "127.0.0.1:9092";

    @Option(
            names = "--bootstrap-server",
            paramLabel = "HOST:PORT[,HOST:PORT...]",
            description = "Brokers to connect to (default: bootstrap.servers of --command-config, else "
                    + DEFAULT_BOOTSTRAP_SERVERS + ").")
    String bootstrapServers;

    @Option(
            names = "--command-config",
            paramLabel = "FILE",
            description = "A properties file of extra Kafka client settings (security.protocol, sasl.*, ssl.*, ...).")
    Path commandConfig;

    /** Reads {@code --command-config} and checks {@code --bootstrap-server}; fails with exit code 2. */
    public ClusterTarget target(int timeoutMs) {
        Map<String, String> extra = commandConfig == null ? Map.of() : readSettings(commandConfig);
        String servers = bootstrapServers != null
                ? bootstrapServers
                : extra.getOrDefault("bootstrap.servers", DEFAULT_BOOTSTRAP_SERVERS);
        String problem = checkBootstrapServers(servers);
        if (problem != null) {
            throw new ToolFailure(ExitCodes.USAGE, "invalid --bootstrap-server '" + servers + "': " + problem);
        }
        return new ClusterTarget(servers.replace(" ", ""), extra, timeoutMs);
    }

    /** The bootstrap servers the command will use, for messages; before {@link #target} is called. */
    public String bootstrapServersForMessages() {
        return bootstrapServers != null ? bootstrapServers : DEFAULT_BOOTSTRAP_SERVERS;
    }

    static Map<String, String> readSettings(Path file) {
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            properties.load(reader);
        } catch (IOException | IllegalArgumentException e) {
            throw new ToolFailure(ExitCodes.USAGE, "cannot read --command-config " + file + ": " + describe(e));
        }
        Map<String, String> settings = new TreeMap<>();
        for (String name : properties.stringPropertyNames()) {
            settings.put(name, properties.getProperty(name).trim());
        }
        return settings;
    }

    /**
     * Checks a {@code HOST:PORT[,HOST:PORT...]} list the way Kafka parses {@code bootstrap.servers}
     * (the port is after the last colon, so {@code [::1]:9092} works).
     *
     * @return null when valid, else what is wrong
     */
    public static String checkBootstrapServers(String servers) {
        List<String> entries = new ArrayList<>();
        for (String entry : servers.split(",", -1)) {
            entries.add(entry.trim());
        }
        for (String entry : entries) {
            int colon = entry.lastIndexOf(':');
            if (entry.isEmpty()) {
                return "an empty entry";
            }
            if (colon <= 0 || colon == entry.length() - 1) {
                return "'" + entry + "' is not HOST:PORT";
            }
            String port = entry.substring(colon + 1);
            if (!port.chars().allMatch(Character::isDigit)
                    || port.length() > 5
                    || Integer.parseInt(port) == 0
                    || Integer.parseInt(port) > 65535) {
                return "'" + port + "' in '" + entry + "' is not a port (1-65535)";
            }
        }
        return null;
    }

    private static String describe(Exception e) {
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "no such file";
        }
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied";
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
