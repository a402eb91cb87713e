package dev.sluice.tools.kafka;

/**
 * An expected way for a cluster command to fail: a one-line message for the user (printed as
 * {@code sluice COMMAND: message}) and the exit code to end with. Never carries a stack trace to the
 * user.
 */
public final class ToolFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int exitCode;

    public ToolFailure(int exitCode, String message) {
        super(message, null, false, false);
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }
}
