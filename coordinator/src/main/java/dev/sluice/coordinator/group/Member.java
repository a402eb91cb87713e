package dev.sluice.coordinator.group;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.apache.kafka.common.message.JoinGroupRequestData.JoinGroupRequestProtocol;
import org.apache.kafka.common.message.JoinGroupRequestData.JoinGroupRequestProtocolCollection;

/**
 * One member of a {@link Group}: what it joined with, its assignment, and the requests it has parked (a
 * JoinGroup waiting for the join phase to end, a SyncGroup waiting for the leader's assignment). Not
 * thread-safe.
 */
final class Member {
    static final byte[] NO_ASSIGNMENT = new byte[0];

    /** A protocol the member supports, in its order of preference, with its metadata (the subscription). */
    record Protocol(String name, byte[] metadata) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Protocol p && name.equals(p.name) && Arrays.equals(metadata, p.metadata);
        }

        @Override
        public int hashCode() {
            return 31 * name.hashCode() + Arrays.hashCode(metadata);
        }

        @Override
        public String toString() {
            return name + "(" + metadata.length + " bytes)";
        }
    }

    private final String memberId;
    private final String groupInstanceId;
    private final String clientId;
    private final String clientHost;
    private final String protocolType;
    private int rebalanceTimeoutMs;
    private int sessionTimeoutMs;
    private List<Protocol> protocols;
    private byte[] assignment = NO_ASSIGNMENT;
    private boolean awaitingJoin;
    private long joinRequestHandle;
    private boolean awaitingSync;
    private long syncRequestHandle;
    /** Added by a JoinGroup whose join phase has not ended yet: its session does not run, a join timeout does. */
    private boolean isNew;

    Member(
            String memberId,
            String groupInstanceId,
            String clientId,
            String clientHost,
            String protocolType,
            int rebalanceTimeoutMs,
            int sessionTimeoutMs,
            List<Protocol> protocols) {
        this.memberId = Objects.requireNonNull(memberId);
        this.groupInstanceId = groupInstanceId;
        this.clientId = Objects.requireNonNull(clientId);
        this.clientHost = Objects.requireNonNull(clientHost);
        this.protocolType = protocolType;
        this.rebalanceTimeoutMs = rebalanceTimeoutMs;
        this.sessionTimeoutMs = sessionTimeoutMs;
        this.protocols = List.copyOf(protocols);
    }

    static List<Protocol> protocolsOf(JoinGroupRequestProtocolCollection collection) {
        List<Protocol> protocols = new ArrayList<>(collection.size());
        for (JoinGroupRequestProtocol p : collection) {
            protocols.add(new Protocol(p.name(), p.metadata() == null ? new byte[0] : p.metadata()));
        }
        return protocols;
    }

    /** The same member under a new id (a static member rejoining without its id); nothing parked. */
    Member withMemberId(String newMemberId) {
        Member copy = new Member(
                newMemberId,
                groupInstanceId,
                clientId,
                clientHost,
                protocolType,
                rebalanceTimeoutMs,
                sessionTimeoutMs,
                protocols);
        copy.assignment = assignment;
        return copy;
    }

    String memberId() {
        return memberId;
    }

    String groupInstanceId() {
        return groupInstanceId;
    }

    boolean isStatic() {
        return groupInstanceId != null;
    }

    String clientId() {
        return clientId;
    }

    String clientHost() {
        return clientHost;
    }

    String protocolType() {
        return protocolType;
    }

    int rebalanceTimeoutMs() {
        return rebalanceTimeoutMs;
    }

    int sessionTimeoutMs() {
        return sessionTimeoutMs;
    }

    List<Protocol> protocols() {
        return protocols;
    }

    void update(List<Protocol> protocols, int rebalanceTimeoutMs, int sessionTimeoutMs) {
        this.protocols = List.copyOf(protocols);
        this.rebalanceTimeoutMs = rebalanceTimeoutMs;
        this.sessionTimeoutMs = sessionTimeoutMs;
    }

    /** True if the member joins with exactly the protocols, in the order and with the metadata, it has. */
    boolean matches(List<Protocol> other) {
        return protocols.equals(other);
    }

    /** The member's metadata for a protocol; empty if it does not support it. */
    byte[] metadata(String protocolName) {
        for (Protocol p : protocols) {
            if (p.name().equals(protocolName)) {
                return p.metadata();
            }
        }
        return new byte[0];
    }

    /** The member's most preferred protocol among the candidates. */
    String vote(Set<String> candidates) {
        for (Protocol p : protocols) {
            if (candidates.contains(p.name())) {
                return p.name();
            }
        }
        throw new IllegalStateException("member " + memberId + " supports none of the candidate protocols " + candidates
                + "; it supports " + protocols);
    }

    byte[] assignment() {
        return assignment;
    }

    void setAssignment(byte[] assignment) {
        this.assignment = assignment == null ? NO_ASSIGNMENT : assignment;
    }

    boolean isAwaitingJoin() {
        return awaitingJoin;
    }

    long joinRequestHandle() {
        return joinRequestHandle;
    }

    void parkJoin(long requestHandle) {
        awaitingJoin = true;
        joinRequestHandle = requestHandle;
    }

    void clearJoin() {
        awaitingJoin = false;
    }

    boolean isAwaitingSync() {
        return awaitingSync;
    }

    long syncRequestHandle() {
        return syncRequestHandle;
    }

    void parkSync(long requestHandle) {
        awaitingSync = true;
        syncRequestHandle = requestHandle;
    }

    void clearSync() {
        awaitingSync = false;
    }

    boolean isNew() {
        return isNew;
    }

    void setNew(boolean isNew) {
        this.isNew = isNew;
    }

    /**
     * True if a missed session deadline must not remove the member: it is waiting in a JoinGroup or SyncGroup
     * (a parked request cannot heartbeat). A new member never has this excuse, so abandoned joins go away.
     */
    boolean hasSatisfiedHeartbeat() {
        return !isNew && (awaitingJoin || awaitingSync);
    }

    @Override
    public String toString() {
        return "Member[" + memberId + (groupInstanceId == null ? "" : ", instance " + groupInstanceId) + "]";
    }
}
