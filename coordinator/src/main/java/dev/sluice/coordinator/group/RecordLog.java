package dev.sluice.coordinator.group;

/** How the request handlers write: every record is applied to the live state exactly as a replay would apply it. */
interface RecordLog {
    /** Applies an offset record or a group tombstone to the live state and adds it to the step's records. */
    void emit(GroupRecord record, Effects fx);

    /** Adds the group's current metadata to the step's records and notes it as the group's last persisted one. */
    void persist(Group group, Effects fx);
}
