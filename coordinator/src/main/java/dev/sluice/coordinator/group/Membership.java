package dev.sluice.coordinator.group;

import dev.sluice.coordinator.group.DeadlineQueue.Key;
import dev.sluice.coordinator.group.GroupCommand.Context;
import dev.sluice.coordinator.group.Member.Protocol;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.function.Supplier;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.HeartbeatResponseData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.LeaveGroupRequestData;
import org.apache.kafka.common.message.LeaveGroupRequestData.MemberIdentity;
import org.apache.kafka.common.message.LeaveGroupResponseData;
import org.apache.kafka.common.message.LeaveGroupResponseData.MemberResponse;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.message.SyncGroupRequestData.SyncGroupRequestAssignment;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.protocol.Errors;

/**
 * The classic group protocol: JoinGroup, SyncGroup, Heartbeat and LeaveGroup, and the timers that end a
 * join phase, a wait for syncs, or a session. Works on the groups and timers of {@link GroupCoordinatorState}.
 *
 * <p>A rebalance: a join (new member, changed metadata, the leader rejoining) or a departure moves a group
 * to PreparingRebalance; the join phase ends when every member has rejoined, or at the rebalance timeout
 * (the longest of the members'), or, for a group that was empty, after {@code group.initial.rebalance.delay.ms}
 * extended by each new member. Dynamic members that did not rejoin are dropped; the generation goes up; the
 * protocol all members support with the most votes is chosen; the parked JoinGroups are answered (the
 * leader's with every member's metadata) and the group waits in CompletingRebalance for the leader's
 * SyncGroup, whose assignment is persisted and handed to every member that has asked for it.
 */
final class Membership {
    private final GroupCoordinatorConfig config;
    private final Map<String, Group> groups;
    private final DeadlineQueue timers;
    private final Supplier<UUID> uuids;
    private final RecordLog log;

    /** A JoinGroup with its defaults applied. */
    private record Join(
            long requestHandle,
            short apiVersion,
            String clientId,
            String clientHost,
            String memberId,
            String groupInstanceId,
            String protocolType,
            List<Protocol> protocols,
            int sessionTimeoutMs,
            int rebalanceTimeoutMs) {}

    Membership(
            GroupCoordinatorConfig config,
            Map<String, Group> groups,
            DeadlineQueue timers,
            Supplier<UUID> uuids,
            RecordLog log) {
        this.config = config;
        this.groups = groups;
        this.timers = timers;
        this.uuids = uuids;
        this.log = log;
    }

    // ---- JoinGroup ----

    void join(GroupCommand.JoinGroup command, long nowMs, Effects fx) {
        JoinGroupRequestData request = command.request();
        Context context = command.context();
        String memberId = request.memberId() == null ? "" : request.memberId();
        long handle = context.requestHandle();
        if (request.groupId() == null || request.groupId().isEmpty()) {
            fx.reply(handle, joinError(memberId, Errors.INVALID_GROUP_ID));
            return;
        }
        if (request.sessionTimeoutMs() < config.minSessionTimeoutMs()
                || request.sessionTimeoutMs() > config.maxSessionTimeoutMs()) {
            fx.reply(handle, joinError(memberId, Errors.INVALID_SESSION_TIMEOUT));
            return;
        }
        Join join = new Join(
                handle,
                context.apiVersion(),
                context.clientId(),
                context.clientHost(),
                memberId,
                request.groupInstanceId(),
                request.protocolType(),
                Member.protocolsOf(request.protocols()),
                request.sessionTimeoutMs(),
                request.rebalanceTimeoutMs() < 0 ? request.sessionTimeoutMs() : request.rebalanceTimeoutMs());

        boolean unknownMember = memberId.isEmpty();
        Group group = groups.get(request.groupId());
        boolean created = false;
        if (group == null) {
            if (!unknownMember) {
                fx.reply(handle, joinError(memberId, Errors.UNKNOWN_MEMBER_ID));
                return;
            }
            group = new Group(request.groupId(), nowMs);
            groups.put(group.groupId(), group);
            created = true;
        }

        if (!acceptsJoiningMember(group, memberId)) {
            Member existing = group.member(memberId);
            if (existing != null) {
                removeMember(group, existing, Errors.GROUP_MAX_SIZE_REACHED, fx);
            }
            fx.reply(handle, joinError("", Errors.GROUP_MAX_SIZE_REACHED));
        } else if (unknownMember) {
            joinNewMember(group, join, nowMs, fx);
        } else {
            joinExistingMember(group, join, nowMs, fx);
        }

        if (created && group.size() == 0 && !group.hasPendingMembers()) {
            groups.remove(group.groupId());
        }
    }

    /** The group size limit: a member already in (and, while preparing, already rejoined) is always let in. */
    private boolean acceptsJoiningMember(Group group, String memberId) {
        switch (group.state()) {
            case EMPTY:
            case DEAD:
                return true;
            case PREPARING_REBALANCE:
                return (group.hasMember(memberId) && group.member(memberId).isAwaitingJoin())
                        || group.awaitingJoinCount() < config.maxSize();
            case COMPLETING_REBALANCE:
            case STABLE:
                return group.hasMember(memberId) || group.size() < config.maxSize();
            default:
                throw new IllegalStateException("unknown state " + group.state() + " of group " + group.groupId());
        }
    }

    private void joinNewMember(Group group, Join join, long nowMs, Effects fx) {
        if (!group.supportsProtocols(join.protocolType(), join.protocols())) {
            fx.reply(join.requestHandle(), joinError("", Errors.INCONSISTENT_GROUP_PROTOCOL));
            return;
        }
        String prefix = join.groupInstanceId() != null ? join.groupInstanceId() : join.clientId();
        String newMemberId = prefix + "-" + uuids.get();
        if (join.groupInstanceId() != null) {
            String existing = group.staticMemberId(join.groupInstanceId());
            if (existing != null) {
                replaceStaticMember(group, join, existing, newMemberId, nowMs, fx);
            } else {
                addMember(group, join, newMemberId, nowMs, fx);
            }
        } else if (join.apiVersion() >= 4) {
            // The client must come back with this id, so a retried join cannot leave a phantom member behind.
            group.addPending(newMemberId);
            timers.schedule(Key.heartbeat(group.groupId(), newMemberId), nowMs + join.sessionTimeoutMs());
            fx.reply(join.requestHandle(), joinError(newMemberId, Errors.MEMBER_ID_REQUIRED));
        } else {
            addMember(group, join, newMemberId, nowMs, fx);
        }
    }

    private void joinExistingMember(Group group, Join join, long nowMs, Effects fx) {
        String memberId = join.memberId();
        if (!group.supportsProtocols(join.protocolType(), join.protocols())) {
            fx.reply(join.requestHandle(), joinError(memberId, Errors.INCONSISTENT_GROUP_PROTOCOL));
            return;
        }
        if (group.isPending(memberId) && join.groupInstanceId() == null) {
            addMember(group, join, memberId, nowMs, fx);
            return;
        }
        Errors error = validateMember(group, memberId, join.groupInstanceId());
        if (error != Errors.NONE) {
            fx.reply(join.requestHandle(), joinError(memberId, error));
            return;
        }
        Member member = group.member(memberId);
        switch (group.state()) {
            case PREPARING_REBALANCE:
                updateMemberAndRebalance(group, member, join, nowMs, fx);
                break;
            case COMPLETING_REBALANCE:
                if (member.matches(join.protocols())) {
                    // Probably lost the first answer: send it again.
                    fx.reply(join.requestHandle(), joinSuccess(group, member, group.isLeader(memberId), false));
                } else {
                    updateMemberAndRebalance(group, member, join, nowMs, fx);
                }
                break;
            case STABLE:
                if (group.isLeader(memberId) || !member.matches(join.protocols())) {
                    // A rejoining leader asks for a new assignment (say, the topics' partitions changed).
                    updateMemberAndRebalance(group, member, join, nowMs, fx);
                } else {
                    fx.reply(join.requestHandle(), joinSuccess(group, member, false, false));
                }
                break;
            default:
                fx.reply(join.requestHandle(), joinError(memberId, Errors.UNKNOWN_MEMBER_ID));
                break;
        }
    }

    private void addMember(Group group, Join join, String memberId, long nowMs, Effects fx) {
        Member member = new Member(
                memberId,
                join.groupInstanceId(),
                join.clientId(),
                join.clientHost(),
                join.protocolType(),
                join.rebalanceTimeoutMs(),
                join.sessionTimeoutMs(),
                join.protocols());
        member.setNew(true);
        if (group.isInState(GroupState.PREPARING_REBALANCE) && group.previousState() == GroupState.EMPTY) {
            group.setNewMemberAdded(true);
        }
        group.add(member);
        group.parkJoin(member, join.requestHandle());
        // A parked join cannot heartbeat, and a client that gave up on it may retry with a fresh join: bound
        // the wait so abandoned new members leave.
        timers.schedule(Key.heartbeat(group.groupId(), memberId), nowMs + config.newMemberJoinTimeoutMs());
        rebalanceOrCompleteJoin(group, nowMs, fx);
    }

    private void updateMemberAndRebalance(Group group, Member member, Join join, long nowMs, Effects fx) {
        supersedeParkedJoin(group, member, fx);
        group.updateMember(member, join.protocols(), join.rebalanceTimeoutMs(), join.sessionTimeoutMs());
        group.parkJoin(member, join.requestHandle());
        rebalanceOrCompleteJoin(group, nowMs, fx);
    }

    /**
     * A static member rejoined without its member id (a restarted instance): it takes over the old member's
     * place and assignment under a new id, and the old id is fenced. A stable group whose chosen protocol
     * would not change keeps its generation; only the new member id is persisted.
     */
    private void replaceStaticMember(
            Group group, Join join, String oldMemberId, String newMemberId, long nowMs, Effects fx) {
        String leaderBefore = group.leaderId();
        Member old = group.member(oldMemberId);
        Long oldJoin = group.takeJoin(old);
        if (oldJoin != null) {
            fx.reply(
                    oldJoin,
                    new JoinGroupResponseData()
                            .setMemberId(oldMemberId)
                            .setErrorCode(Errors.FENCED_INSTANCE_ID.code()));
        }
        if (old.isAwaitingSync()) {
            old.clearSync();
            fx.reply(old.syncRequestHandle(), syncError(Errors.FENCED_INSTANCE_ID));
        }
        Member member = group.replaceStaticMember(join.groupInstanceId(), oldMemberId, newMemberId);
        timers.cancel(Key.heartbeat(group.groupId(), oldMemberId));
        rescheduleHeartbeat(group, member, nowMs);
        group.updateMember(member, join.protocols(), join.rebalanceTimeoutMs(), join.sessionTimeoutMs());
        group.parkJoin(member, join.requestHandle());

        switch (group.state()) {
            case STABLE:
                if (Objects.equals(group.protocolName(), group.selectProtocol())) {
                    group.refreshSubscribedTopics();
                    log.persist(group, fx);
                    long handle = group.takeJoin(member);
                    JoinGroupResponseData response;
                    if (join.apiVersion() >= 9) {
                        // The leader gets the members but need not compute an assignment again.
                        boolean leader = group.isLeader(newMemberId);
                        response = joinSuccess(group, member, leader, leader);
                    } else {
                        // Older leaders cannot skip the assignment: name the previous leader id so this
                        // instance acts as a follower and just fetches its assignment.
                        response = joinSuccess(group, member, false, false).setLeader(leaderBefore);
                    }
                    fx.replyAfterRecords(handle, response);
                } else {
                    rebalanceOrCompleteJoin(group, nowMs, fx);
                }
                break;
            case COMPLETING_REBALANCE:
                // The leader may be assigning to the old id: start over.
                prepareRebalance(group, nowMs, fx);
                break;
            case PREPARING_REBALANCE:
                completeJoinIfReady(group, nowMs, fx);
                break;
            default:
                throw new IllegalStateException(
                        "static member " + join.groupInstanceId() + " replaced in " + group.state() + " " + group);
        }
    }

    // ---- rebalance engine ----

    private void rebalanceOrCompleteJoin(Group group, long nowMs, Effects fx) {
        if (group.isInState(GroupState.STABLE)
                || group.isInState(GroupState.COMPLETING_REBALANCE)
                || group.isInState(GroupState.EMPTY)) {
            prepareRebalance(group, nowMs, fx);
        } else {
            completeJoinIfReady(group, nowMs, fx);
        }
    }

    /** Ends the join phase now if every member has rejoined, except during the initial delay of a new group. */
    private void completeJoinIfReady(Group group, long nowMs, Effects fx) {
        if (group.isInState(GroupState.PREPARING_REBALANCE)
                && group.previousState() != GroupState.EMPTY
                && group.hasAllMembersJoined()) {
            completeJoin(group, nowMs, fx);
        }
    }

    void prepareRebalance(Group group, long nowMs, Effects fx) {
        if (group.isInState(GroupState.COMPLETING_REBALANCE)) {
            for (Member m : group.members()) {
                m.setAssignment(Member.NO_ASSIGNMENT);
            }
            answerParkedSyncs(group, Errors.REBALANCE_IN_PROGRESS, nowMs, fx, false);
        }
        group.clearPendingSync();
        timers.cancel(Key.sync(group.groupId()));

        boolean initial = group.isInState(GroupState.EMPTY);
        if (initial) {
            int delayMs = config.initialRebalanceDelayMs();
            int remainingMs = Math.max(group.rebalanceTimeoutMs() - delayMs, 0);
            group.setNewMemberAdded(false);
            group.setInitialRebalance(true, delayMs, remainingMs);
            timers.schedule(Key.join(group.groupId()), nowMs + delayMs);
        }
        group.transitionTo(GroupState.PREPARING_REBALANCE, nowMs);
        if (!initial) {
            if (group.hasAllMembersJoined()) {
                completeJoin(group, nowMs, fx);
            } else {
                group.setInitialRebalance(false, 0, 0);
                timers.schedule(Key.join(group.groupId()), nowMs + group.rebalanceTimeoutMs());
            }
        }
    }

    /** The join timer fired: the initial delay (maybe extended) or the rebalance timeout ended. */
    void onJoinDeadline(String groupId, long nowMs, Effects fx) {
        Group group = groups.get(groupId);
        if (group == null || !group.isInState(GroupState.PREPARING_REBALANCE)) {
            return;
        }
        if (group.isInitialRebalance() && group.newMemberAdded() && group.initialRemainingMs() != 0) {
            group.setNewMemberAdded(false);
            int delayMs = Math.min(config.initialRebalanceDelayMs(), group.initialRemainingMs());
            int remainingMs = Math.max(group.initialRemainingMs() - group.initialDelayMs(), 0);
            group.setInitialRebalance(true, delayMs, remainingMs);
            timers.schedule(Key.join(groupId), nowMs + delayMs);
        } else {
            completeJoin(group, nowMs, fx);
        }
    }

    /**
     * Ends the join phase: drops dynamic members that did not rejoin, then starts the next generation and
     * answers the parked joins, or, if no member rejoined at all, waits another rebalance timeout.
     */
    private void completeJoin(Group group, long nowMs, Effects fx) {
        timers.cancel(Key.join(group.groupId()));
        group.setInitialRebalance(false, 0, 0);
        for (Member m : new ArrayList<>(group.members())) {
            if (!m.isAwaitingJoin() && !m.isStatic()) {
                removeMember(group, m, Errors.UNKNOWN_MEMBER_ID, fx);
            }
        }
        if (!group.electJoinedLeader() && group.size() > 0) {
            // Only static members are left and none rejoined: wait for them, or for their sessions to end.
            timers.schedule(Key.join(group.groupId()), nowMs + group.rebalanceTimeoutMs());
            return;
        }
        group.initNextGeneration(nowMs);
        if (group.isInState(GroupState.EMPTY)) {
            log.persist(group, fx);
            return;
        }
        for (Member m : group.members()) {
            Long handle = group.takeJoin(m);
            if (handle != null) {
                fx.reply(handle, joinSuccess(group, m, group.isLeader(m.memberId()), false));
            }
            rescheduleHeartbeat(group, m, nowMs);
            m.setNew(false);
            group.addPendingSync(m.memberId());
        }
        group.setSyncGenerationId(group.generationId());
        timers.schedule(Key.sync(group.groupId()), nowMs + group.rebalanceTimeoutMs());
    }

    /** The sync timer fired: members that never sent their SyncGroup leave and the group rebalances. */
    void onSyncDeadline(String groupId, long nowMs, Effects fx) {
        Group group = groups.get(groupId);
        if (group == null
                || group.syncGenerationId() != group.generationId()
                || !(group.isInState(GroupState.COMPLETING_REBALANCE) || group.isInState(GroupState.STABLE))
                || group.pendingSyncMembers().isEmpty()) {
            return;
        }
        for (String memberId : new ArrayList<>(group.pendingSyncMembers())) {
            Member m = group.member(memberId);
            if (m != null) {
                removeMember(group, m, Errors.UNKNOWN_MEMBER_ID, fx);
            }
        }
        prepareRebalance(group, nowMs, fx);
    }

    /** A session (or a pending member's wait, or a new member's join wait) ended. */
    void onHeartbeatDeadline(String groupId, String memberId, long nowMs, Effects fx) {
        Group group = groups.get(groupId);
        if (group == null) {
            return;
        }
        if (group.isPending(memberId)) {
            group.remove(memberId);
            if (group.isInState(GroupState.PREPARING_REBALANCE) && group.hasAllMembersJoined()) {
                completeJoin(group, nowMs, fx);
            }
            return;
        }
        Member member = group.member(memberId);
        if (member != null && !member.hasSatisfiedHeartbeat()) {
            removeMemberAndRebalance(group, member, nowMs, fx);
        }
    }

    private void removeMemberAndRebalance(Group group, Member member, long nowMs, Effects fx) {
        removeMember(group, member, Errors.UNKNOWN_MEMBER_ID, fx);
        if (group.isInState(GroupState.STABLE) || group.isInState(GroupState.COMPLETING_REBALANCE)) {
            rebalanceOrCompleteJoin(group, nowMs, fx);
        } else if (group.isInState(GroupState.PREPARING_REBALANCE) && group.hasAllMembersJoined()) {
            completeJoin(group, nowMs, fx);
        }
    }

    /** Takes a member out, answering what it has parked with {@code error} (a join with an empty member id). */
    private void removeMember(Group group, Member member, Errors error, Effects fx) {
        Long join = group.takeJoin(member);
        if (join != null) {
            fx.reply(join, joinError("", error));
        }
        if (member.isAwaitingSync()) {
            member.clearSync();
            fx.reply(member.syncRequestHandle(), syncError(error));
        }
        group.remove(member.memberId());
        timers.cancel(Key.heartbeat(group.groupId(), member.memberId()));
    }

    /** A member sent a second JoinGroup while its first was parked: the first one gets an answer now. */
    private void supersedeParkedJoin(Group group, Member member, Effects fx) {
        Long previous = group.takeJoin(member);
        if (previous != null) {
            fx.reply(previous, joinError(member.memberId(), Errors.REBALANCE_IN_PROGRESS));
        }
    }

    void rescheduleHeartbeat(Group group, Member member, long nowMs) {
        timers.schedule(Key.heartbeat(group.groupId(), member.memberId()), nowMs + member.sessionTimeoutMs());
    }

    // ---- SyncGroup ----

    void sync(GroupCommand.SyncGroup command, long nowMs, Effects fx) {
        SyncGroupRequestData request = command.request();
        long handle = command.requestHandle();
        if (request.groupId() == null || request.groupId().isEmpty()) {
            fx.reply(handle, syncError(Errors.INVALID_GROUP_ID));
            return;
        }
        Group group = groups.get(request.groupId());
        if (group == null || group.isInState(GroupState.EMPTY)) {
            fx.reply(handle, syncError(Errors.UNKNOWN_MEMBER_ID));
            return;
        }
        Errors error = validateMember(group, request.memberId(), request.groupInstanceId());
        if (error == Errors.NONE && request.generationId() != group.generationId()) {
            error = Errors.ILLEGAL_GENERATION;
        }
        if (error == Errors.NONE
                && (inconsistent(request.protocolType(), group.protocolType())
                        || inconsistent(request.protocolName(), group.protocolName()))) {
            error = Errors.INCONSISTENT_GROUP_PROTOCOL;
        }
        if (error != Errors.NONE) {
            fx.reply(handle, syncError(error));
            return;
        }
        Member member = group.member(request.memberId());
        switch (group.state()) {
            case PREPARING_REBALANCE:
                fx.reply(handle, syncError(Errors.REBALANCE_IN_PROGRESS));
                break;
            case COMPLETING_REBALANCE:
                if (member.isAwaitingSync()) {
                    member.clearSync();
                    fx.reply(member.syncRequestHandle(), syncError(Errors.REBALANCE_IN_PROGRESS));
                }
                member.parkSync(handle);
                removePendingSync(group, member.memberId());
                if (group.isLeader(member.memberId())) {
                    completeSync(group, request.assignments(), nowMs, fx);
                }
                break;
            case STABLE:
                removePendingSync(group, member.memberId());
                // The assignment may be in a record not yet committed: answer once it is.
                fx.replyAfterEverythingCommitted(handle, syncSuccess(group, member));
                break;
            default:
                throw new IllegalStateException("SyncGroup reached " + group);
        }
    }

    /** The leader's assignment arrived: persist it, become Stable and answer every parked SyncGroup. */
    private void completeSync(Group group, List<SyncGroupRequestAssignment> assignments, long nowMs, Effects fx) {
        Map<String, byte[]> byMember = new HashMap<>();
        for (SyncGroupRequestAssignment a : assignments) {
            byMember.put(a.memberId(), a.assignment());
        }
        for (Member m : group.members()) {
            m.setAssignment(byMember.getOrDefault(m.memberId(), Member.NO_ASSIGNMENT));
        }
        group.transitionTo(GroupState.STABLE, nowMs);
        log.persist(group, fx);
        answerParkedSyncs(group, Errors.NONE, nowMs, fx, true);
    }

    private void answerParkedSyncs(Group group, Errors error, long nowMs, Effects fx, boolean afterRecords) {
        for (Member m : group.members()) {
            if (!m.isAwaitingSync()) {
                continue;
            }
            m.clearSync();
            SyncGroupResponseData response = error == Errors.NONE ? syncSuccess(group, m) : syncError(error);
            if (afterRecords) {
                fx.replyAfterRecords(m.syncRequestHandle(), response);
            } else {
                fx.reply(m.syncRequestHandle(), response);
            }
            // Its session did not run while it waited.
            rescheduleHeartbeat(group, m, nowMs);
        }
    }

    private void removePendingSync(Group group, String memberId) {
        group.removePendingSync(memberId);
        if (group.pendingSyncMembers().isEmpty()) {
            timers.cancel(Key.sync(group.groupId()));
        }
    }

    private static boolean inconsistent(String requested, String actual) {
        return requested != null && actual != null && !requested.equals(actual);
    }

    // ---- Heartbeat ----

    void heartbeat(GroupCommand.Heartbeat command, long nowMs, Effects fx) {
        HeartbeatRequestData request = command.request();
        long handle = command.requestHandle();
        Errors error;
        if (request.groupId() == null || request.groupId().isEmpty()) {
            error = Errors.INVALID_GROUP_ID;
        } else {
            Group group = groups.get(request.groupId());
            error = group == null ? Errors.UNKNOWN_MEMBER_ID : heartbeat(group, request, nowMs);
        }
        fx.reply(handle, new HeartbeatResponseData().setErrorCode(error.code()));
    }

    private Errors heartbeat(Group group, HeartbeatRequestData request, long nowMs) {
        Errors error = validateMember(group, request.memberId(), request.groupInstanceId());
        if (error != Errors.NONE) {
            return error;
        }
        if (request.generationId() != group.generationId()) {
            return Errors.ILLEGAL_GENERATION;
        }
        switch (group.state()) {
            case PREPARING_REBALANCE:
                rescheduleHeartbeat(group, group.member(request.memberId()), nowMs);
                return Errors.REBALANCE_IN_PROGRESS;
            case COMPLETING_REBALANCE:
            case STABLE:
                rescheduleHeartbeat(group, group.member(request.memberId()), nowMs);
                return Errors.NONE;
            default:
                return Errors.UNKNOWN_MEMBER_ID;
        }
    }

    // ---- LeaveGroup ----

    void leave(GroupCommand.LeaveGroup command, long nowMs, Effects fx) {
        LeaveGroupRequestData request = command.request();
        long handle = command.requestHandle();
        boolean batch = command.context().apiVersion() >= 3;
        List<MemberIdentity> identities =
                batch ? request.members() : List.of(new MemberIdentity().setMemberId(request.memberId()));
        if (request.groupId() == null || request.groupId().isEmpty()) {
            fx.reply(handle, new LeaveGroupResponseData().setErrorCode(Errors.INVALID_GROUP_ID.code()));
            return;
        }
        Group group = groups.get(request.groupId());
        List<MemberResponse> responses = new ArrayList<>(identities.size());
        boolean anyLeft = false;
        for (MemberIdentity identity : identities) {
            Errors error = group == null ? Errors.UNKNOWN_MEMBER_ID : leaveOne(group, identity, fx);
            anyLeft |= error == Errors.NONE;
            responses.add(new MemberResponse()
                    .setMemberId(identity.memberId())
                    .setGroupInstanceId(identity.groupInstanceId())
                    .setErrorCode(error.code()));
        }
        if (anyLeft) {
            if (group.isInState(GroupState.STABLE) || group.isInState(GroupState.COMPLETING_REBALANCE)) {
                rebalanceOrCompleteJoin(group, nowMs, fx);
            } else if (group.isInState(GroupState.PREPARING_REBALANCE)) {
                completeJoinIfReady(group, nowMs, fx);
            }
        }
        LeaveGroupResponseData response = new LeaveGroupResponseData();
        if (batch) {
            response.setMembers(responses);
        } else {
            response.setErrorCode(responses.get(0).errorCode());
        }
        fx.replyAfterRecords(handle, response);
    }

    private Errors leaveOne(Group group, MemberIdentity identity, Effects fx) {
        String memberId = identity.memberId() == null ? "" : identity.memberId();
        String instanceId = identity.groupInstanceId();
        if (memberId.isEmpty()) {
            // An administrator removing a static member by its instance id alone.
            String staticMemberId = instanceId == null ? null : group.staticMemberId(instanceId);
            if (staticMemberId == null) {
                return Errors.UNKNOWN_MEMBER_ID;
            }
            removeMember(group, group.member(staticMemberId), Errors.UNKNOWN_MEMBER_ID, fx);
            return Errors.NONE;
        }
        if (group.isPending(memberId)) {
            group.remove(memberId);
            timers.cancel(Key.heartbeat(group.groupId(), memberId));
            return Errors.NONE;
        }
        Errors error = validateMember(group, memberId, instanceId);
        if (error == Errors.NONE) {
            removeMember(group, group.member(memberId), Errors.UNKNOWN_MEMBER_ID, fx);
        }
        return error;
    }

    // ---- shared ----

    /** FENCED_INSTANCE_ID for a stale member id of a static instance, UNKNOWN_MEMBER_ID for a stranger. */
    static Errors validateMember(Group group, String memberId, String groupInstanceId) {
        if (groupInstanceId != null) {
            String current = group.staticMemberId(groupInstanceId);
            if (current == null) {
                return Errors.UNKNOWN_MEMBER_ID;
            }
            if (!current.equals(memberId)) {
                return Errors.FENCED_INSTANCE_ID;
            }
        }
        return memberId != null && group.hasMember(memberId) ? Errors.NONE : Errors.UNKNOWN_MEMBER_ID;
    }

    /** Answers every parked request with NOT_COORDINATOR: this state is being dropped. */
    void answerAllParked(Effects fx) {
        for (Group group : groups.values()) {
            for (Member m : group.members()) {
                Long join = group.takeJoin(m);
                if (join != null) {
                    fx.reply(join, joinError(m.memberId(), Errors.NOT_COORDINATOR));
                }
                if (m.isAwaitingSync()) {
                    m.clearSync();
                    fx.reply(m.syncRequestHandle(), syncError(Errors.NOT_COORDINATOR));
                }
            }
        }
    }

    private static JoinGroupResponseData joinSuccess(
            Group group, Member member, boolean withMembers, boolean skipAssignment) {
        return new JoinGroupResponseData()
                .setErrorCode(Errors.NONE.code())
                .setGenerationId(group.generationId())
                .setProtocolType(group.protocolType())
                .setProtocolName(group.protocolName())
                .setLeader(group.leaderId())
                .setSkipAssignment(skipAssignment)
                .setMemberId(member.memberId())
                .setMembers(withMembers ? group.joinResponseMembers() : new ArrayList<>());
    }

    static JoinGroupResponseData joinError(String memberId, Errors error) {
        return new JoinGroupResponseData().setMemberId(memberId).setErrorCode(error.code());
    }

    private static SyncGroupResponseData syncSuccess(Group group, Member member) {
        return new SyncGroupResponseData()
                .setErrorCode(Errors.NONE.code())
                .setProtocolType(group.protocolType())
                .setProtocolName(group.protocolName())
                .setAssignment(member.assignment());
    }

    static SyncGroupResponseData syncError(Errors error) {
        return new SyncGroupResponseData().setErrorCode(error.code());
    }
}
