package dev.sluice.tools.kafka;

import dev.sluice.tools.SluiceTool;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import picocli.CommandLine;

/** Runs {@code sluice ARGS...} in-process and keeps what it printed. */
public record CommandRun(int exitCode, String out, String err, long elapsedMs) {
    public static CommandRun of(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine commandLine = SluiceTool.commandLine();
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        long startNs = System.nanoTime();
        int exitCode = commandLine.execute(args);
        return new CommandRun(exitCode, out.toString(), err.toString(), (System.nanoTime() - startNs) / 1_000_000);
    }

    /** {@code 127.0.0.1:PORT} where nothing listens: a port that was free a moment ago. */
    public static String closedAddress() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return "127.0.0.1:" + socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
