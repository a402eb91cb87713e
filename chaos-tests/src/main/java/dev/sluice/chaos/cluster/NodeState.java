package dev.sluice.chaos.cluster;

/** Where a node of a chaos cluster stands, as the harness made it. */
public enum NodeState {
    /** Its process runs (it may still be starting). */
    RUNNING,
    /** Its process is stopped with SIGSTOP. */
    PAUSED,
    /** Its process is gone (SIGKILL or SIGTERM); it will be started again on its data. */
    STOPPED,
    /** Taken out of the cluster for good; its replicas are expected to move elsewhere. */
    REMOVED
}
