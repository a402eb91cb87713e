package dev.sluice.chaos;

import dev.sluice.tools.ToolExtension;

/** Adds {@code sluice chaos} to the {@code sluice} command line. */
public final class ChaosToolExtension implements ToolExtension {
    @Override
    public Object command() {
        return new ChaosCommand();
    }
}
