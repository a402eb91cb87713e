package dev.sluice.coordinator.group;

import dev.sluice.coordinator.group.GroupRecord.GroupMetadata;
import dev.sluice.coordinator.group.GroupRecord.MemberMetadata;
import dev.sluice.coordinator.group.Member.Protocol;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.internals.ConsumerProtocol;
import org.apache.kafka.common.message.JoinGroupResponseData.JoinGroupResponseMember;

/**
 * One classic group: its persisted part (generation, protocol, leader, members and their assignments) and
 * its soft part (parked requests, members that owe a join or a sync, pending member ids).
 *
 * <p>Invariants, checked where they could break: the leader is a member (or null when there are none);
 * {@code awaitingJoinCount} is the number of members with a parked JoinGroup; every static member's
 * instance id maps to its member id; a non-empty group has a protocol type that all members share. Members
 * keep their join order, so leader succession and protocol ties are the same on every run. Not thread-safe.
 */
final class Group {
    private static final Map<GroupState, Set<GroupState>> VALID_PREVIOUS = Map.of(
            GroupState.EMPTY, EnumSet.of(GroupState.PREPARING_REBALANCE),
            GroupState.PREPARING_REBALANCE,
                    EnumSet.of(GroupState.STABLE, GroupState.COMPLETING_REBALANCE, GroupState.EMPTY),
            GroupState.COMPLETING_REBALANCE, EnumSet.of(GroupState.PREPARING_REBALANCE),
            GroupState.STABLE, EnumSet.of(GroupState.COMPLETING_REBALANCE),
            GroupState.DEAD, EnumSet.allOf(GroupState.class));

    private final String groupId;
    private GroupState state;
    private GroupState previousState;
    private long stateTimestampMs;
    private int generationId;
    private String protocolType;
    private String protocolName;
    private String leaderId;

    private final LinkedHashMap<String, Member> members = new LinkedHashMap<>();
    private final Map<String, String> staticMembers = new HashMap<>();
    private final Set<String> pendingMembers = new LinkedHashSet<>();
    private final Set<String> pendingSyncMembers = new LinkedHashSet<>();
    /** For each protocol name, how many members support it. */
    private final Map<String, Integer> protocolSupport = new HashMap<>();

    private int awaitingJoinCount;

    /** A member joined during the initial delay, which then waits once more. */
    private boolean newMemberAdded;
    /** The initial delay's next wait and what is left of the rebalance timeout after it. */
    private int initialDelayMs;

    private int initialRemainingMs;
    /** True while the join timer runs the initial delay rather than the rebalance timeout. */
    private boolean initialRebalance;
    /** The generation whose members owe a SyncGroup when the sync timer fires. */
    private int syncGenerationId;

    /** Topics the members subscribe to, from the "consumer" protocol metadata; null if not known. */
    private Set<String> subscribedTopics;
    /** The last group metadata record written (or replayed) for this group; null if none. */
    private GroupMetadata lastPersisted;

    Group(String groupId, long stateTimestampMs) {
        this.groupId = groupId;
        this.state = GroupState.EMPTY;
        this.previousState = GroupState.DEAD;
        this.stateTimestampMs = stateTimestampMs;
        this.subscribedTopics = null;
    }

    /** A group as a record describes it: Stable with its members, or Empty. Sessions are the caller's business. */
    static Group fromRecord(GroupMetadata record) {
        Group group = new Group(record.groupId(), record.currentStateTimestampMs());
        group.generationId = record.generationId();
        group.protocolType =
                record.protocolType() == null || record.protocolType().isEmpty() ? null : record.protocolType();
        group.protocolName = record.protocolName();
        for (MemberMetadata m : record.members()) {
            List<Protocol> protocols = record.protocolName() == null
                    ? List.of()
                    : List.of(new Protocol(record.protocolName(), m.subscription()));
            Member member = new Member(
                    m.memberId(),
                    m.groupInstanceId(),
                    m.clientId(),
                    m.clientHost(),
                    group.protocolType,
                    m.rebalanceTimeoutMs(),
                    m.sessionTimeoutMs(),
                    protocols);
            member.setAssignment(m.assignment());
            group.add(member);
        }
        group.leaderId = record.members().isEmpty() ? null : record.leaderId();
        if (group.leaderId != null && !group.members.containsKey(group.leaderId)) {
            throw new IllegalStateException("group metadata record of " + record.groupId() + " names leader "
                    + record.leaderId() + ", which is not among its members");
        }
        group.state = record.members().isEmpty() ? GroupState.EMPTY : GroupState.STABLE;
        group.subscribedTopics = group.computeSubscribedTopics();
        group.lastPersisted = record;
        return group;
    }

    // ---- persisted part ----

    String groupId() {
        return groupId;
    }

    GroupState state() {
        return state;
    }

    GroupState previousState() {
        return previousState;
    }

    boolean isInState(GroupState s) {
        return state == s;
    }

    long stateTimestampMs() {
        return stateTimestampMs;
    }

    int generationId() {
        return generationId;
    }

    String protocolType() {
        return protocolType;
    }

    String protocolName() {
        return protocolName;
    }

    String leaderId() {
        return leaderId;
    }

    boolean isLeader(String memberId) {
        return memberId.equals(leaderId);
    }

    boolean usesConsumerProtocol() {
        return ConsumerProtocol.PROTOCOL_TYPE.equals(protocolType);
    }

    void transitionTo(GroupState target, long nowMs) {
        if (!VALID_PREVIOUS.get(target).contains(state)) {
            throw new IllegalStateException("group " + groupId + " cannot go from " + state + " to " + target
                    + "; it must be in one of " + VALID_PREVIOUS.get(target));
        }
        previousState = state;
        state = target;
        stateTimestampMs = nowMs;
    }

    /** The group as a metadata record now. */
    GroupMetadata toRecord() {
        List<MemberMetadata> list = new ArrayList<>(members.size());
        for (Member m : members.values()) {
            list.add(new MemberMetadata(
                    m.memberId(),
                    m.groupInstanceId(),
                    m.clientId(),
                    m.clientHost(),
                    m.rebalanceTimeoutMs(),
                    m.sessionTimeoutMs(),
                    protocolName == null ? new byte[0] : m.metadata(protocolName),
                    m.assignment()));
        }
        return new GroupMetadata(
                groupId,
                generationId,
                protocolType,
                members.isEmpty() ? null : protocolName,
                members.isEmpty() ? null : leaderId,
                stateTimestampMs,
                list);
    }

    GroupMetadata lastPersisted() {
        return lastPersisted;
    }

    void setLastPersisted(GroupMetadata record) {
        this.lastPersisted = record;
    }

    // ---- members ----

    boolean hasMember(String memberId) {
        return members.containsKey(memberId);
    }

    Member member(String memberId) {
        return members.get(memberId);
    }

    Collection<Member> members() {
        return members.values();
    }

    int size() {
        return members.size();
    }

    String staticMemberId(String groupInstanceId) {
        return staticMembers.get(groupInstanceId);
    }

    void add(Member member) {
        if (member.groupInstanceId() != null) {
            if (staticMembers.containsKey(member.groupInstanceId())) {
                throw new IllegalStateException(
                        "group " + groupId + " already has a member with instance id " + member.groupInstanceId());
            }
            staticMembers.put(member.groupInstanceId(), member.memberId());
        }
        if (members.isEmpty()) {
            protocolType = member.protocolType();
        }
        if (leaderId == null) {
            leaderId = member.memberId();
        }
        members.put(member.memberId(), member);
        count(member, +1);
        if (member.isAwaitingJoin()) {
            awaitingJoinCount++;
        }
        pendingMembers.remove(member.memberId());
    }

    /** Removes a member (its parked requests must have been answered); a new leader is the oldest member. */
    Member remove(String memberId) {
        Member removed = members.remove(memberId);
        if (removed != null) {
            if (removed.isAwaitingJoin() || removed.isAwaitingSync()) {
                throw new IllegalStateException(
                        "member " + memberId + " of group " + groupId + " removed with a parked request");
            }
            count(removed, -1);
            if (removed.groupInstanceId() != null) {
                staticMembers.remove(removed.groupInstanceId());
            }
        }
        if (memberId.equals(leaderId)) {
            leaderId = members.isEmpty() ? null : members.keySet().iterator().next();
        }
        pendingMembers.remove(memberId);
        pendingSyncMembers.remove(memberId);
        return removed;
    }

    /** Puts a static member under its new id, keeping its place, leadership and assignment. */
    Member replaceStaticMember(String groupInstanceId, String oldMemberId, String newMemberId) {
        Member old = members.get(oldMemberId);
        if (old == null || !groupInstanceId.equals(old.groupInstanceId())) {
            throw new IllegalStateException("group " + groupId + " has no member " + oldMemberId + " with instance id "
                    + groupInstanceId + " to replace");
        }
        if (old.isAwaitingJoin() || old.isAwaitingSync()) {
            throw new IllegalStateException("member " + oldMemberId + " replaced with a parked request");
        }
        Member replacement = old.withMemberId(newMemberId);
        LinkedHashMap<String, Member> reordered = new LinkedHashMap<>();
        for (Map.Entry<String, Member> e : members.entrySet()) {
            if (e.getKey().equals(oldMemberId)) {
                reordered.put(newMemberId, replacement);
            } else {
                reordered.put(e.getKey(), e.getValue());
            }
        }
        members.clear();
        members.putAll(reordered);
        staticMembers.put(groupInstanceId, newMemberId);
        if (oldMemberId.equals(leaderId)) {
            leaderId = newMemberId;
        }
        if (pendingSyncMembers.remove(oldMemberId)) {
            pendingSyncMembers.add(newMemberId);
        }
        return replacement;
    }

    void updateMember(Member member, List<Protocol> protocols, int rebalanceTimeoutMs, int sessionTimeoutMs) {
        count(member, -1);
        member.update(protocols, rebalanceTimeoutMs, sessionTimeoutMs);
        count(member, +1);
    }

    void parkJoin(Member member, long requestHandle) {
        if (!member.isAwaitingJoin()) {
            awaitingJoinCount++;
        }
        member.parkJoin(requestHandle);
    }

    /** Clears a member's parked JoinGroup; returns its handle, or null if none was parked. */
    Long takeJoin(Member member) {
        if (!member.isAwaitingJoin()) {
            return null;
        }
        member.clearJoin();
        awaitingJoinCount--;
        return member.joinRequestHandle();
    }

    int awaitingJoinCount() {
        return awaitingJoinCount;
    }

    /** True when every member has a parked JoinGroup and no member id handed out is still unused. */
    boolean hasAllMembersJoined() {
        return members.size() == awaitingJoinCount && pendingMembers.isEmpty();
    }

    /**
     * Makes sure the leader is a member that rejoined; false if no member rejoined (or the group has no
     * leader).
     */
    boolean electJoinedLeader() {
        if (leaderId == null) {
            return false;
        }
        if (members.get(leaderId).isAwaitingJoin()) {
            return true;
        }
        for (Member m : members.values()) {
            if (m.isAwaitingJoin()) {
                leaderId = m.memberId();
                return true;
            }
        }
        return false;
    }

    /** The longest rebalance timeout of the members: how long a join phase may last. */
    int rebalanceTimeoutMs() {
        int max = 0;
        for (Member m : members.values()) {
            max = Math.max(max, m.rebalanceTimeoutMs());
        }
        return max;
    }

    // ---- pending members (ids handed out with MEMBER_ID_REQUIRED) ----

    boolean isPending(String memberId) {
        return pendingMembers.contains(memberId);
    }

    void addPending(String memberId) {
        if (members.containsKey(memberId)) {
            throw new IllegalStateException("pending member " + memberId + " is already a member of " + groupId);
        }
        pendingMembers.add(memberId);
    }

    boolean hasPendingMembers() {
        return !pendingMembers.isEmpty();
    }

    // ---- pending syncs ----

    void addPendingSync(String memberId) {
        pendingSyncMembers.add(memberId);
    }

    void removePendingSync(String memberId) {
        pendingSyncMembers.remove(memberId);
    }

    Set<String> pendingSyncMembers() {
        return pendingSyncMembers;
    }

    void clearPendingSync() {
        pendingSyncMembers.clear();
    }

    int syncGenerationId() {
        return syncGenerationId;
    }

    void setSyncGenerationId(int generationId) {
        this.syncGenerationId = generationId;
    }

    // ---- initial rebalance delay ----

    boolean newMemberAdded() {
        return newMemberAdded;
    }

    void setNewMemberAdded(boolean value) {
        this.newMemberAdded = value;
    }

    boolean isInitialRebalance() {
        return initialRebalance;
    }

    int initialDelayMs() {
        return initialDelayMs;
    }

    int initialRemainingMs() {
        return initialRemainingMs;
    }

    void setInitialRebalance(boolean initial, int delayMs, int remainingMs) {
        this.initialRebalance = initial;
        this.initialDelayMs = delayMs;
        this.initialRemainingMs = remainingMs;
    }

    // ---- protocols ----

    private void count(Member member, int delta) {
        for (Protocol p : member.protocols()) {
            protocolSupport.merge(p.name(), delta, Integer::sum);
        }
    }

    /**
     * True if a member with this protocol type and these protocols may be in the group: any non-empty offer
     * for an empty group; otherwise the same type and at least one protocol every member supports.
     */
    boolean supportsProtocols(String memberProtocolType, List<Protocol> memberProtocols) {
        if (state == GroupState.EMPTY) {
            return memberProtocolType != null && !memberProtocolType.isEmpty() && !memberProtocols.isEmpty();
        }
        if (protocolType == null || !protocolType.equals(memberProtocolType)) {
            return false;
        }
        for (Protocol p : memberProtocols) {
            if (protocolSupport.getOrDefault(p.name(), 0) == members.size()) {
                return true;
            }
        }
        return false;
    }

    /**
     * The protocol every member supports that most members prefer; ties go to the protocol that got its
     * first vote from the oldest member.
     */
    String selectProtocol() {
        if (members.isEmpty()) {
            throw new IllegalStateException("group " + groupId + " has no members to select a protocol for");
        }
        Set<String> candidates = new HashSet<>();
        protocolSupport.forEach((name, count) -> {
            if (count == members.size()) {
                candidates.add(name);
            }
        });
        Map<String, Integer> votes = new LinkedHashMap<>();
        for (Member m : members.values()) {
            votes.merge(m.vote(candidates), 1, Integer::sum);
        }
        String best = null;
        int bestVotes = -1;
        for (Map.Entry<String, Integer> e : votes.entrySet()) {
            if (e.getValue() > bestVotes) {
                best = e.getKey();
                bestVotes = e.getValue();
            }
        }
        return best;
    }

    /** Moves to the next generation: CompletingRebalance with a protocol, or Empty without members. */
    void initNextGeneration(long nowMs) {
        generationId++;
        if (!members.isEmpty()) {
            protocolName = selectProtocol();
            subscribedTopics = computeSubscribedTopics();
            transitionTo(GroupState.COMPLETING_REBALANCE, nowMs);
        } else {
            protocolName = null;
            subscribedTopics = computeSubscribedTopics();
            transitionTo(GroupState.EMPTY, nowMs);
        }
        pendingSyncMembers.clear();
    }

    /** The members as the leader's JoinGroup response lists them, with their metadata for the chosen protocol. */
    List<JoinGroupResponseMember> joinResponseMembers() {
        List<JoinGroupResponseMember> list = new ArrayList<>(members.size());
        for (Member m : members.values()) {
            list.add(new JoinGroupResponseMember()
                    .setMemberId(m.memberId())
                    .setGroupInstanceId(m.groupInstanceId())
                    .setMetadata(m.metadata(protocolName)));
        }
        return list;
    }

    // ---- subscriptions (offset deletion and expiry) ----

    void refreshSubscribedTopics() {
        subscribedTopics = computeSubscribedTopics();
    }

    /**
     * The topics of the members' "consumer" subscriptions; empty for an empty consumer group; null when
     * unknown (another protocol type, or metadata that does not parse).
     */
    private Set<String> computeSubscribedTopics() {
        if (!usesConsumerProtocol()) {
            return null;
        }
        if (members.isEmpty()) {
            return Set.of();
        }
        if (protocolName == null) {
            return null;
        }
        Set<String> topics = new HashSet<>();
        for (Member m : members.values()) {
            try {
                topics.addAll(ConsumerProtocol.deserializeSubscription(ByteBuffer.wrap(m.metadata(protocolName)))
                        .topics());
            } catch (RuntimeException e) {
                return null;
            }
        }
        return topics;
    }

    /** Known subscriptions when the group uses the consumer protocol and its members' metadata parses. */
    boolean hasKnownSubscriptions() {
        return subscribedTopics != null;
    }

    /**
     * True if the group's members subscribe to the topic. A consumer group whose subscriptions cannot be read
     * counts as subscribed to everything; a group of another protocol type to nothing.
     */
    boolean isSubscribedTo(String topic) {
        if (subscribedTopics == null) {
            return usesConsumerProtocol();
        }
        return subscribedTopics.contains(topic);
    }

    /** Checks the class invariants; throws naming the group and what is wrong. */
    void checkInvariants() {
        int awaiting = 0;
        Map<String, Integer> support = new HashMap<>();
        for (Member m : members.values()) {
            awaiting += m.isAwaitingJoin() ? 1 : 0;
            for (Protocol p : m.protocols()) {
                support.merge(p.name(), 1, Integer::sum);
            }
            if (m.groupInstanceId() != null && !m.memberId().equals(staticMembers.get(m.groupInstanceId()))) {
                throw new IllegalStateException(
                        "group " + groupId + ": instance " + m.groupInstanceId() + " does not map to " + m.memberId());
            }
            if (pendingMembers.contains(m.memberId())) {
                throw new IllegalStateException("group " + groupId + ": member " + m.memberId() + " is also pending");
            }
        }
        if (awaiting != awaitingJoinCount) {
            throw new IllegalStateException(
                    "group " + groupId + ": " + awaiting + " members await a join, counted " + awaitingJoinCount);
        }
        protocolSupport.forEach((name, count) -> {
            if (count != 0 && !Integer.valueOf(count).equals(support.get(name))) {
                throw new IllegalStateException("group " + groupId + ": protocol " + name + " counted " + count
                        + " times, supported " + support.get(name) + " times");
            }
        });
        if (staticMembers.size()
                != members.values().stream().filter(Member::isStatic).count()) {
            throw new IllegalStateException(
                    "group " + groupId + ": static members " + staticMembers + " vs " + members);
        }
        if (members.isEmpty() != (leaderId == null) || (leaderId != null && !members.containsKey(leaderId))) {
            throw new IllegalStateException(
                    "group " + groupId + ": leader " + leaderId + " of members " + members.keySet());
        }
        boolean settled = state == GroupState.STABLE || state == GroupState.COMPLETING_REBALANCE;
        if (settled && members.isEmpty() || state == GroupState.EMPTY && !members.isEmpty()) {
            throw new IllegalStateException("group " + groupId + " is " + state + " with members " + members.keySet());
        }
    }

    @Override
    public String toString() {
        return "Group[" + groupId + ", " + state + ", generation " + generationId + ", members " + members.keySet()
                + "]";
    }
}
