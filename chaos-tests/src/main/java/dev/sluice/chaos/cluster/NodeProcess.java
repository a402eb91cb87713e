package dev.sluice.chaos.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One node of a chaos cluster: its ports, its directory, and the {@code sluice node} process running it (if
 * any). The signals go to that process only, by its PID. Not thread-safe: the cluster serialises calls.
 */
final class NodeProcess {
    final int id;
    final int kafkaPort;
    final int raftPort;
    final int httpPort;
    final Path dir;
    final TcpProxy proxy;
    private volatile Process process;
    private NodeState state = NodeState.STOPPED;

    NodeProcess(int id, Path dir, TcpProxy proxy, int kafkaPort, int raftPort, int httpPort) {
        this.id = id;
        this.dir = dir;
        this.proxy = proxy;
        this.kafkaPort = kafkaPort;
        this.raftPort = raftPort;
        this.httpPort = httpPort;
    }

    NodeState state() {
        return state;
    }

    Path dataDir() {
        return dir.resolve("data");
    }

    Path logFile() {
        return dir.resolve("node.log");
    }

    long pid() {
        return process == null ? -1 : process.pid();
    }

    /** Starts the process with {@code command} (the config file is written by the caller). */
    void start(List<String> command) throws IOException {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException("node " + id + " is already running (pid " + process.pid() + ")");
        }
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile().toFile()));
        builder.environment().put("SLUICE_LOG_LEVEL", "INFO");
        process = builder.start();
        state = NodeState.RUNNING;
    }

    /** Waits up to {@code timeoutMs} for the process to end by itself; its exit status, or -1 if it still runs. */
    int awaitExit(long timeoutMs) throws InterruptedException {
        if (process == null) {
            return -1;
        }
        if (!process.waitFor(timeoutMs, TimeUnit.MILLISECONDS)) {
            return -1;
        }
        state = NodeState.STOPPED;
        return process.exitValue();
    }

    /** SIGKILL without waiting, for a harness that is exiting. */
    void killQuietly() {
        Process p = process;
        if (p != null && p.isAlive()) {
            p.destroyForcibly();
        }
    }

    boolean alive() {
        return process != null && process.isAlive();
    }

    /** SIGKILL, then waits until the process is gone. */
    void kill() throws InterruptedException {
        if (process == null) {
            state = NodeState.STOPPED;
            return;
        }
        if (state == NodeState.PAUSED) {
            signal("CONT"); // a stopped process dies of SIGKILL too, but let it go at once
        }
        process.destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("node " + id + " (pid " + process.pid() + ") survived SIGKILL for 30 s");
        }
        state = NodeState.STOPPED;
    }

    /** SIGTERM (a graceful shutdown), then waits up to {@code timeoutMs}; SIGKILL if it takes longer. */
    boolean terminate(long timeoutMs) throws InterruptedException {
        if (process == null || !process.isAlive()) {
            state = NodeState.STOPPED;
            return true;
        }
        if (state == NodeState.PAUSED) {
            signal("CONT");
        }
        process.destroy();
        boolean graceful = process.waitFor(timeoutMs, TimeUnit.MILLISECONDS);
        if (!graceful) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
        state = NodeState.STOPPED;
        return graceful;
    }

    /** SIGSTOP: the process freezes, its sockets stay open. */
    void pause() throws InterruptedException {
        signal("STOP");
        state = NodeState.PAUSED;
    }

    /** SIGCONT after {@link #pause()}. */
    void resume() throws InterruptedException {
        signal("CONT");
        state = NodeState.RUNNING;
    }

    void markRemoved() {
        state = NodeState.REMOVED;
    }

    private void signal(String name) throws InterruptedException {
        if (process == null || !process.isAlive()) {
            throw new IllegalStateException("node " + id + " has no running process to send SIG" + name);
        }
        // The shell's own kill, so no procps package is needed.
        List<String> command = new ArrayList<>(List.of("sh", "-c", "kill -" + name + " " + process.pid()));
        try {
            Process kill = new ProcessBuilder(command).redirectErrorStream(true).start();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                String out = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                throw new IllegalStateException("kill -" + name + " " + process.pid() + " failed: " + out);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run kill -" + name + " for node " + id + ": " + e.getMessage(), e);
        }
    }

    /** The last {@code lines} lines of the node's log, for failure messages. */
    String logTail(int lines) {
        try {
            List<String> all = Files.readAllLines(logFile(), StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }
}
