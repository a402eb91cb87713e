package dev.sluice.tools;

/**
 * A subcommand that lives in a module built on top of this one (so this module cannot name it): the module
 * lists its implementation in {@code META-INF/services/dev.sluice.tools.ToolExtension}, and
 * {@link SluiceTool#commandLine()} adds every one found on the classpath. {@code sluice chaos} comes this way
 * from the chaos-tests module.
 */
public interface ToolExtension {
    /** @return a new picocli command object (a class annotated with {@code @Command}) */
    Object command();
}
