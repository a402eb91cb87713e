package dev.sluice.chaos.workload;

/**
 * A client's thread: runs {@link #loop()} until {@link #halt()}; an exception out of the loop is logged and
 * the loop starts again after a pause (a client recreated after a fatal error is a new process).
 */
abstract class ClientThread implements Runnable {
    protected final RunContext run;
    protected final String name;
    private final Thread thread;
    protected volatile boolean running = true;

    ClientThread(RunContext run, String name) {
        this.run = run;
        this.name = name;
        this.thread = new Thread(this, "chaos-" + name);
        this.thread.setDaemon(true);
    }

    final void begin() {
        thread.start();
    }

    /** Asks the loop to end and waits up to {@code timeoutMs} for it. */
    final void halt(long timeoutMs) throws InterruptedException {
        running = false;
        thread.join(timeoutMs);
        if (thread.isAlive()) {
            thread.interrupt();
            thread.join(10_000);
        }
    }

    @Override
    public final void run() {
        try {
            while (running) {
                try {
                    loop();
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    run.log(name + ": " + e + "; starting over");
                    cleanUp();
                    try {
                        Thread.sleep(500);
                    } catch (InterruptedException interrupted) {
                        return;
                    }
                }
            }
        } finally {
            cleanUp();
        }
    }

    /** One life of the client: returns when {@link #running} turns false; throws to be recreated. */
    abstract void loop() throws InterruptedException;

    /** Closes whatever the loop held; must not throw. */
    abstract void cleanUp();
}
