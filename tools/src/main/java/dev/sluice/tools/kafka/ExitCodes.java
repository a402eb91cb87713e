package dev.sluice.tools.kafka;

/** The exit codes shared by the cluster commands ({@code topics}, {@code cluster}, {@code produce}, {@code consume}). */
public final class ExitCodes {
    /** The command did what it was asked. */
    public static final int OK = 0;

    /** The cluster answered with an error (unknown topic, topic exists, a send failed, ...). */
    public static final int FAILED = 1;

    /** Invalid arguments, an unreadable {@code --command-config} file or an invalid client setting. */
    public static final int USAGE = 2;

    /** The cluster could not be reached, or did not answer in time. */
    public static final int UNREACHABLE = 3;

    /** Lines for a command's {@code exitCodeList}. */
    public static final String OK_LINE = "0:success";

    public static final String FAILED_LINE =
            "1:the cluster answered with an error (unknown topic, topic exists, a send failed, ...)";
    public static final String USAGE_LINE = "2:invalid arguments or client configuration";
    public static final String UNREACHABLE_LINE = "3:the cluster could not be reached or did not answer in time";

    private ExitCodes() {}
}
