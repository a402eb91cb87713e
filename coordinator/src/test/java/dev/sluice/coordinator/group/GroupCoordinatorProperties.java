package dev.sluice.coordinator.group;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.coordinator.group.GroupRecord.GroupMetadata;
import dev.sluice.coordinator.group.GroupRecord.OffsetCommit;
import dev.sluice.coordinator.group.GroupResult.Completion;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Assignment;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Subscription;
import org.apache.kafka.clients.consumer.internals.ConsumerProtocol;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.HeartbeatResponseData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.JoinGroupRequestData.JoinGroupRequestProtocol;
import org.apache.kafka.common.message.JoinGroupRequestData.JoinGroupRequestProtocolCollection;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.JoinGroupResponseData.JoinGroupResponseMember;
import org.apache.kafka.common.message.LeaveGroupRequestData;
import org.apache.kafka.common.message.LeaveGroupRequestData.MemberIdentity;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetCommitRequestData.OffsetCommitRequestPartition;
import org.apache.kafka.common.message.OffsetCommitRequestData.OffsetCommitRequestTopic;
import org.apache.kafka.common.message.OffsetCommitResponseData;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.message.SyncGroupRequestData.SyncGroupRequestAssignment;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.utils.Utils;

/**
 * Properties of {@link GroupCoordinatorState} under random clients. Six clients share two groups ({@code g0}:
 * clients 0–2, {@code g1}: clients 3–5); clients 2 and 5 are static, client 0 joins with JoinGroup v3 (no
 * member id round trip), the others with v9. Mostly a client does what Kafka's consumer would do next (join,
 * sync, heartbeat, react to errors); now and then it misbehaves: joins out of turn (sometimes with changed
 * metadata), syncs or heartbeats with what it has, leaves, commits with a stale generation or as a simple
 * consumer, restarts without its member id. The leader assigns the six partitions of {@code t} with a range
 * assignor over the members its JoinGroup response lists. The clock advances and timers fire; records are
 * sometimes committed a few steps late; the coordinator fails over now and then, sometimes losing its
 * uncommitted records, whose waiting answers are then never delivered (what {@code awaitsCommit} promises).
 * Every run ends with a quiet stretch of well-behaved clients, then silence until every timer has fired.
 * Class invariants ({@code checkInvariants}) are checked after every step.
 */
class GroupCoordinatorProperties {
    private static final List<String> GROUPS = List.of("g0", "g1");
    private static final int CLIENTS = 6;
    private static final int PARTITIONS = 6;
    private static final int SESSION_MS = 10_000;
    private static final int REBALANCE_MS = 20_000;

    // ---- the properties ----

    @Property(tries = 100)
    void noPartitionIsHandedToTwoMembersInOneGeneration(@ForAll("scenarios") List<Action> actions) {
        Simulation sim = new Simulation();
        sim.checkAssignments = true;
        sim.run(actions);
        sim.drain();
        // Checked on every SyncGroup answer as it is delivered; here: the runs did hand out assignments.
        Statistics.label("assignments handed out").collect(sim.syncAnswers > 0);
        Statistics.label("assignments handed out").coverage(c -> c.check(true).percentage(p -> p > 80));
        Statistics.label("answers lost in a failover").collect(sim.lostAnswers > 0);
        Statistics.label("answers lost in a failover")
                .coverage(c -> c.check(true).percentage(p -> p > 5));
    }

    @Property(tries = 100)
    void generationsNeverDecrease(@ForAll("scenarios") List<Action> actions) {
        Simulation sim = new Simulation();
        sim.checkGenerations = true;
        sim.run(actions);
        sim.drain();
    }

    @Property(tries = 100)
    void commitsOfAnOlderGenerationAreNeverApplied(@ForAll("scenarios") List<Action> actions) {
        Simulation sim = new Simulation();
        sim.checkCommits = true;
        sim.run(actions);
        sim.drain();
        // Checked on every commit as it is answered; here: the runs did try stale commits.
        Statistics.label("stale commits tried").collect(sim.staleCommitsTried > 0);
        Statistics.label("stale commits tried").coverage(c -> c.check(true).percentage(p -> p > 80));
        Statistics.label("commits applied").collect(sim.commitsApplied > 0);
        Statistics.label("commits applied").coverage(c -> c.check(true).percentage(p -> p > 80));
    }

    @Property(tries = 100)
    void replayingTheRecordsRebuildsThePersistedView(@ForAll("scenarios") List<Action> actions) {
        Simulation sim = new Simulation();
        sim.checkReplay = true;
        sim.run(actions);
        sim.drain();
        GroupCoordinatorState fresh = sim.newState();
        for (GroupRecord record : sim.committed) {
            fresh.replay(record);
        }
        assertThat(fresh.persistedRecords()).isEqualTo(sim.state.persistedRecords());
    }

    @Property(tries = 100)
    void everyRequestIsAnsweredEventually(@ForAll("scenarios") List<Action> actions) {
        Simulation sim = new Simulation();
        sim.run(actions);
        sim.drain();
        assertThat(sim.unanswered()).isEmpty();
    }

    // ---- scenarios ----

    sealed interface Action permits Act, Join, Sync, Heartbeat, Leave, Commit, Restart, Advance, Pipeline, FailOver {}

    /**
     * The client does what Kafka's consumer would do next: join, sync, or heartbeat.
     *
     * @param thenFailOver the coordinator fails over right after, losing the records of this step
     */
    record Act(int client, boolean thenFailOver) implements Action {
        Act(int client) {
            this(client, false);
        }
    }

    /** @param changedMetadata subscribe to {@code t} and {@code u} instead of {@code t} alone */
    record Join(int client, boolean changedMetadata) implements Action {}

    record Sync(int client) implements Action {}

    record Heartbeat(int client) implements Action {}

    record Leave(int client) implements Action {}

    /** @param mode 0: own generation, 1: one generation older, 2: as a simple consumer (-1, no member id) */
    record Commit(int client, int partition, int mode) implements Action {}

    /** The client process restarts: it forgets its member id (a static member keeps its instance id). */
    record Restart(int client) implements Action {}

    record Advance(int ms) implements Action {}

    /** The records of the next {@code steps} steps stay uncommitted while the coordinator goes on serving. */
    record Pipeline(int steps) implements Action {}

    /** @param loseLastStep the records not yet committed never will be */
    record FailOver(boolean loseLastStep) implements Action {}

    @Provide
    Arbitrary<List<Action>> scenarios() {
        Arbitrary<Integer> client = Arbitraries.integers().between(0, CLIENTS - 1);
        Arbitrary<Action> act = Combinators.combine(
                        client, Arbitraries.integers().between(0, 19).map(i -> i == 0))
                .as(Act::new);
        Arbitrary<Action> join = Combinators.combine(
                        client, Arbitraries.integers().between(0, 5).map(i -> i == 0))
                .as(Join::new);
        Arbitrary<Action> sync = client.map(Sync::new);
        Arbitrary<Action> heartbeat = client.map(Heartbeat::new);
        Arbitrary<Action> leave = client.map(Leave::new);
        Arbitrary<Action> commit = Combinators.combine(
                        client,
                        Arbitraries.integers().between(0, PARTITIONS - 1),
                        Arbitraries.integers().between(0, 4).map(i -> i <= 2 ? 0 : i - 2))
                .as(Commit::new);
        Arbitrary<Action> restart = client.map(Restart::new);
        Arbitrary<Action> advance = Arbitraries.oneOf(
                        Arbitraries.integers().between(0, 4_000),
                        Arbitraries.integers().between(0, 15_000))
                .map(Advance::new);
        Arbitrary<Action> failOver = Arbitraries.of(true, false).map(FailOver::new);
        Arbitrary<Action> pipeline = Arbitraries.integers().between(1, 4).map(Pipeline::new);
        Arbitrary<Action> action = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(40, act),
                net.jqwik.api.Tuple.of(2, join),
                net.jqwik.api.Tuple.of(2, sync),
                net.jqwik.api.Tuple.of(1, heartbeat),
                net.jqwik.api.Tuple.of(1, leave),
                net.jqwik.api.Tuple.of(6, commit),
                net.jqwik.api.Tuple.of(1, restart),
                net.jqwik.api.Tuple.of(8, advance),
                net.jqwik.api.Tuple.of(3, pipeline),
                net.jqwik.api.Tuple.of(3, failOver));
        return action.list().ofMinSize(60).ofMaxSize(200);
    }

    /** The simulation itself works: three well-behaved clients reach a stable group with every partition owned. */
    @Example
    void aQuietGroupOfThreeSettlesInOneGeneration() {
        Simulation sim = new Simulation();
        List<Action> actions = new ArrayList<>(List.of(
                new Join(0, false), // v3: joins at once
                new Join(1, false), // v9: gets a member id
                new Join(1, false), // and joins with it
                new Join(2, false), // static: joins at once
                new Advance(6_000), // the initial delay, extended once
                new Sync(0),
                new Sync(1),
                new Sync(2)));
        sim.run(actions);
        assertThat(sim.state.groupState("g0")).isEqualTo(GroupState.STABLE);
        assertThat(sim.handedOut).containsKey("g0/0/1");
        assertThat(sim.handedOut.get("g0/0/1")).hasSize(PARTITIONS);
    }

    // ---- the simulation ----

    /** A client of one group, as Kafka's consumer tracks itself. */
    static final class Client {
        final String groupId;
        final String instanceId;
        final short joinVersion;
        String memberId = "";
        int generation = -1;
        boolean leader;
        List<String> members = List.of();
        boolean needsJoin = true;
        boolean needsSync;
        int inFlight;

        Client(int index) {
            groupId = GROUPS.get(index / 3);
            instanceId = index % 3 == 2 ? "instance-" + index : null;
            joinVersion = (short) (index == 0 ? 3 : 9);
        }
    }

    private enum Kind {
        JOIN,
        SYNC,
        HEARTBEAT,
        OTHER
    }

    private record Sent(int client, Kind kind, int generation, String memberId) {}

    final class Simulation {
        final GroupCoordinatorConfig config = GroupCoordinatorConfig.parse(Map.of(
                        "group.max.size", "3",
                        "offsets.retention.minutes", "1",
                        "offsets.retention.check.interval.ms", "5000"))
                .withNewMemberJoinTimeoutMs(30_000);
        final List<Client> clients = new ArrayList<>();
        final List<GroupRecord> committed = new ArrayList<>();
        final Map<Long, Sent> sent = new HashMap<>();
        final Set<Long> answered = new HashSet<>();
        /** Per "group/incarnation/generation", which owner (instance id, else member id) got each partition. */
        final Map<String, Map<Integer, String>> handedOut = new HashMap<>();

        final Map<String, Integer> lastGeneration = new HashMap<>();
        /** How often each group was deleted: a group created again counts its generations from 0 again. */
        final Map<String, Integer> incarnation = new HashMap<>();

        GroupCoordinatorState state;
        GroupCoordinatorState follower;
        GroupResult pending = GroupResult.empty();
        long nowMs = 1_000_000;
        long nextHandle = 1;
        long nextUuid = 1;
        boolean checkAssignments;
        boolean checkGenerations;
        boolean checkCommits;
        boolean checkReplay;
        int syncAnswers;
        int staleCommitsTried;
        int commitsApplied;
        int lostAnswers;

        Simulation() {
            for (int i = 0; i < CLIENTS; i++) {
                clients.add(new Client(i));
            }
            state = newState();
            follower = newState();
            deliver(state.activate(nowMs));
        }

        GroupCoordinatorState newState() {
            return new GroupCoordinatorState(config, () -> new UUID(0, nextUuid++));
        }

        /**
         * Runs the actions. A step's records commit before the next step, unless a {@link Pipeline} holds them
         * back for a few steps or a failover loses them.
         */
        void run(List<Action> actions) {
            int uncommittedSteps = 0;
            for (int i = 0; i < actions.size(); i++) {
                Action action = actions.get(i);
                if (action instanceof Pipeline p) {
                    uncommittedSteps = p.steps();
                    continue;
                }
                if (action instanceof FailOver f) {
                    failOver(f.loseLastStep());
                    uncommittedSteps = 0;
                } else {
                    step(action);
                    if (action instanceof Act a && a.thenFailOver()) {
                        failOver(true);
                        uncommittedSteps = 0;
                    }
                }
                boolean nextLoses =
                        i + 1 < actions.size() && actions.get(i + 1) instanceof FailOver f && f.loseLastStep();
                if (uncommittedSteps > 0) {
                    uncommittedSteps--;
                } else if (!nextLoses) {
                    commitPending();
                }
                check();
            }
            commitPending();
            check();
        }

        /**
         * Ends a run: first every client behaves for a while (so groups settle and hand out assignments), then
         * no one sends anything and time passes until every timer has done its work.
         */
        void drain() {
            for (int round = 0; round < 15; round++) {
                for (int c = 0; c < CLIENTS; c++) {
                    step(new Act(c));
                    commitPending();
                    check();
                }
                step(new Commit(round % CLIENTS, round % PARTITIONS, 0));
                step(new Commit((round + 1) % CLIENTS, round % PARTITIONS, 1));
                advance(1_000 + (round % 3) * 1_000);
                commitPending();
                check();
            }
            for (int i = 0; i < 40; i++) {
                advance(15_000);
                commitPending();
                check();
            }
        }

        List<Long> unanswered() {
            List<Long> list = new ArrayList<>();
            for (long handle : sent.keySet()) {
                if (!answered.contains(handle)) {
                    list.add(handle);
                }
            }
            return list;
        }

        // ---- steps ----

        private void step(Action action) {
            if (action instanceof Act a) {
                Client c = clients.get(a.client());
                if (c.inFlight > 0) {
                    return; // waiting for its JoinGroup or SyncGroup, as the consumer does
                } else if (c.needsJoin) {
                    join(new Join(a.client(), false));
                } else if (c.needsSync) {
                    sync(a.client());
                } else {
                    heartbeat(a.client());
                }
            } else if (action instanceof Join j) {
                join(j);
            } else if (action instanceof Sync s) {
                sync(s.client());
            } else if (action instanceof Heartbeat h) {
                heartbeat(h.client());
            } else if (action instanceof Leave l) {
                Client c = clients.get(l.client());
                send(
                        l.client(),
                        Kind.OTHER,
                        new GroupCommand.LeaveGroup(
                                context((short) 5),
                                new LeaveGroupRequestData()
                                        .setGroupId(c.groupId)
                                        .setMembers(List.of(new MemberIdentity()
                                                .setMemberId(c.memberId)
                                                .setGroupInstanceId(c.instanceId)))));
                c.memberId = "";
                c.generation = -1;
                c.needsJoin = true;
            } else if (action instanceof Commit c) {
                commit(c);
            } else if (action instanceof Restart r) {
                Client c = clients.get(r.client());
                c.memberId = "";
                c.generation = -1;
                c.leader = false;
                c.needsJoin = true;
            } else if (action instanceof Advance a) {
                advance(a.ms());
            }
        }

        private void heartbeat(int index) {
            Client c = clients.get(index);
            send(
                    index,
                    Kind.HEARTBEAT,
                    new GroupCommand.Heartbeat(
                            context((short) 4),
                            new HeartbeatRequestData()
                                    .setGroupId(c.groupId)
                                    .setMemberId(c.memberId)
                                    .setGroupInstanceId(c.instanceId)
                                    .setGenerationId(c.generation)));
        }

        private void join(Join j) {
            Client c = clients.get(j.client());
            byte[] metadata = Utils.toArray(ConsumerProtocol.serializeSubscription(
                    new Subscription(j.changedMetadata() ? List.of("t", "u") : List.of("t"))));
            JoinGroupRequestProtocolCollection protocols = new JoinGroupRequestProtocolCollection();
            protocols.add(new JoinGroupRequestProtocol().setName("range").setMetadata(metadata));
            send(
                    j.client(),
                    Kind.JOIN,
                    new GroupCommand.JoinGroup(
                            context(c.joinVersion),
                            new JoinGroupRequestData()
                                    .setGroupId(c.groupId)
                                    .setMemberId(c.memberId)
                                    .setGroupInstanceId(c.instanceId)
                                    .setSessionTimeoutMs(SESSION_MS)
                                    .setRebalanceTimeoutMs(REBALANCE_MS)
                                    .setProtocolType("consumer")
                                    .setProtocols(protocols)));
        }

        /** The leader assigns ranges of the partitions over the members its JoinGroup answer listed. */
        private void sync(int index) {
            Client c = clients.get(index);
            List<SyncGroupRequestAssignment> assignments = new ArrayList<>();
            if (c.leader) {
                List<String> members = c.members;
                for (int m = 0; m < members.size(); m++) {
                    List<TopicPartition> partitions = new ArrayList<>();
                    for (int p = m * PARTITIONS / members.size(); p < (m + 1) * PARTITIONS / members.size(); p++) {
                        partitions.add(new TopicPartition("t", p));
                    }
                    assignments.add(new SyncGroupRequestAssignment()
                            .setMemberId(members.get(m))
                            .setAssignment(
                                    Utils.toArray(ConsumerProtocol.serializeAssignment(new Assignment(partitions)))));
                }
            }
            send(
                    index,
                    Kind.SYNC,
                    new GroupCommand.SyncGroup(
                            context((short) 5),
                            new SyncGroupRequestData()
                                    .setGroupId(c.groupId)
                                    .setMemberId(c.memberId)
                                    .setGroupInstanceId(c.instanceId)
                                    .setGenerationId(c.generation)
                                    .setAssignments(assignments)));
        }

        private void commit(Commit commit) {
            Client c = clients.get(commit.client());
            int generation = commit.mode() == 0 ? c.generation : commit.mode() == 1 ? c.generation - 1 : -1;
            String memberId = commit.mode() == 2 ? "" : c.memberId;
            int generationBefore = state.generationId(c.groupId);
            GroupState stateBefore = state.groupState(c.groupId);
            OffsetCommitRequestData request = new OffsetCommitRequestData()
                    .setGroupId(c.groupId)
                    .setMemberId(memberId)
                    .setGroupInstanceId(commit.mode() == 2 ? null : c.instanceId)
                    .setGenerationIdOrMemberEpoch(generation)
                    .setTopics(List.of(new OffsetCommitRequestTopic()
                            .setName("t")
                            .setPartitions(List.of(new OffsetCommitRequestPartition()
                                    .setPartitionIndex(commit.partition())
                                    .setCommittedOffset(nowMs)))));
            GroupCommand.OffsetCommit command = new GroupCommand.OffsetCommit(context((short) 9), request);
            GroupResult result = handle(commit.client(), Kind.OTHER, command);
            Completion completion = result.completions().get(0);
            short error = ((OffsetCommitResponseData) completion.response())
                    .topics()
                    .get(0)
                    .partitions()
                    .get(0)
                    .errorCode();
            boolean applied = result.records().stream().anyMatch(r -> r instanceof OffsetCommit);
            boolean stale = generation >= 0 && generation < generationBefore;
            boolean simpleCommitToEmpty =
                    generation < 0 && (stateBefore == GroupState.EMPTY || stateBefore == GroupState.DEAD);
            staleCommitsTried += stale ? 1 : 0;
            commitsApplied += applied ? 1 : 0;
            if (checkCommits) {
                assertThat(applied)
                        .as("a record exactly for an accepted commit")
                        .isEqualTo(error == Errors.NONE.code());
                assertThat(stale && applied)
                        .as("a commit of generation %d applied to generation %d", generation, generationBefore)
                        .isFalse();
                assertThat(!applied || generation == generationBefore || simpleCommitToEmpty)
                        .as(
                                "commit of generation %d applied to %s generation %d",
                                generation, stateBefore, generationBefore)
                        .isTrue();
            }
        }

        private void advance(long ms) {
            long target = nowMs + ms;
            while (state.nextDeadlineMs() <= target) {
                nowMs = Math.max(nowMs, state.nextDeadlineMs());
                commitPending();
                deliverNow(state.tick(nowMs));
            }
            nowMs = target;
        }

        private GroupCommand.Context context(short version) {
            return new GroupCommand.Context(nextHandle++, version, "client", "/127.0.0.1");
        }

        private void send(int client, Kind kind, GroupCommand command) {
            handle(client, kind, command);
        }

        private GroupResult handle(int client, Kind kind, GroupCommand command) {
            Client c = clients.get(client);
            sent.put(command.requestHandle(), new Sent(client, kind, c.generation, c.memberId));
            if (kind == Kind.JOIN || kind == Kind.SYNC) {
                c.inFlight++;
            }
            GroupResult result = state.handle(command, nowMs);
            deliverNow(result);
            return result;
        }

        // ---- commits, answers, failover ----

        /** Answers that need no commit go out now; the others wait for the step's records. */
        private void deliverNow(GroupResult result) {
            List<Completion> waiting = new ArrayList<>();
            for (Completion c : result.completions()) {
                if (c.awaitsCommit()) {
                    waiting.add(c);
                } else {
                    answer(c.requestHandle(), c.response());
                }
            }
            List<GroupRecord> records = new ArrayList<>(pending.records());
            records.addAll(result.records());
            List<Completion> held = new ArrayList<>(pending.completions());
            held.addAll(waiting);
            pending = new GroupResult(records, held);
        }

        private void deliver(GroupResult result) {
            deliverNow(result);
            commitPending();
        }

        private void commitPending() {
            for (GroupRecord record : pending.records()) {
                GroupRecord decoded = GroupRecordCodec.decode(GroupRecordCodec.encode(record));
                committed.add(decoded);
                follower.replay(decoded);
                if (decoded instanceof GroupRecord.GroupTombstone) {
                    incarnation.merge(decoded.groupId(), 1, Integer::sum);
                }
            }
            List<Completion> held = pending.completions();
            pending = GroupResult.empty();
            for (Completion c : held) {
                answer(c.requestHandle(), c.response());
            }
        }

        private void failOver(boolean loseLastStep) {
            if (!loseLastStep) {
                commitPending();
            }
            List<Completion> lost = pending.completions();
            pending = GroupResult.empty();
            for (Completion c : lost) {
                // The answer waited for records that never committed: the client gets NOT_COORDINATOR instead.
                assertThat(answered.add(c.requestHandle())).isTrue();
                Sent request = sent.get(c.requestHandle());
                if (request != null && (request.kind() == Kind.JOIN || request.kind() == Kind.SYNC)) {
                    Client client = clients.get(request.client());
                    client.inFlight--;
                    onError(client, Errors.NOT_COORDINATOR);
                }
                lostAnswers++;
            }
            for (Completion c : state.unload().completions()) {
                answer(c.requestHandle(), c.response());
            }
            state = newState();
            follower = newState();
            for (GroupRecord record : committed) {
                state.replay(record);
                follower.replay(record);
            }
            lastGeneration.clear();
            deliver(state.activate(nowMs));
        }

        private void answer(long handle, Object response) {
            assertThat(answered.add(handle))
                    .as("request %d answered twice", handle)
                    .isTrue();
            Sent request = sent.get(handle);
            if (request == null) {
                return;
            }
            Client c = clients.get(request.client());
            if (request.kind() == Kind.JOIN) {
                c.inFlight--;
                onJoinAnswer(c, (JoinGroupResponseData) response);
            } else if (request.kind() == Kind.SYNC) {
                c.inFlight--;
                onSyncAnswer(c, request, (SyncGroupResponseData) response);
            } else if (request.kind() == Kind.HEARTBEAT) {
                onError(c, Errors.forCode(((HeartbeatResponseData) response).errorCode()));
            }
        }

        /** What a consumer does on an error: rejoin, forgetting its member id if the group does not know it. */
        private void onError(Client c, Errors error) {
            if (error == Errors.NONE) {
                return;
            }
            c.needsJoin = true;
            c.needsSync = false;
            if (error == Errors.UNKNOWN_MEMBER_ID || error == Errors.FENCED_INSTANCE_ID) {
                c.memberId = "";
                c.generation = -1;
                c.leader = false;
            }
        }

        private void onJoinAnswer(Client c, JoinGroupResponseData response) {
            Errors error = Errors.forCode(response.errorCode());
            if (error == Errors.NONE) {
                c.memberId = response.memberId();
                c.generation = response.generationId();
                c.leader = response.leader().equals(response.memberId());
                List<String> members = new ArrayList<>();
                for (JoinGroupResponseMember m : response.members()) {
                    members.add(m.memberId());
                }
                c.members = members;
                c.needsJoin = false;
                c.needsSync = true;
            } else if (error == Errors.MEMBER_ID_REQUIRED) {
                c.memberId = response.memberId();
                c.needsJoin = true;
            } else if (error == Errors.GROUP_MAX_SIZE_REACHED) {
                c.memberId = "";
                c.needsJoin = true;
            } else {
                onError(c, error);
            }
        }

        private void onSyncAnswer(Client c, Sent request, SyncGroupResponseData response) {
            if (response.errorCode() != Errors.NONE.code()) {
                onError(c, Errors.forCode(response.errorCode()));
                return;
            }
            if (request.generation() == c.generation) {
                c.needsSync = false;
            }
            if (response.assignment().length == 0) {
                return;
            }
            syncAnswers++;
            String owner = c.instanceId != null ? c.instanceId : request.memberId();
            String generationKey =
                    c.groupId + "/" + incarnation.getOrDefault(c.groupId, 0) + "/" + request.generation();
            Map<Integer, String> owners = handedOut.computeIfAbsent(generationKey, k -> new HashMap<>());
            for (TopicPartition p : ConsumerProtocol.deserializeAssignment(ByteBuffer.wrap(response.assignment()))
                    .partitions()) {
                String previous = owners.putIfAbsent(p.partition(), owner);
                if (!checkAssignments) {
                    continue;
                }
                assertThat(previous == null || previous.equals(owner))
                        .as(
                                "partition %s of generation %d handed to %s and %s",
                                p, request.generation(), previous, owner)
                        .isTrue();
            }
        }

        // ---- invariants after every step ----

        private void check() {
            state.checkInvariants();
            if (checkGenerations) {
                for (String groupId : GROUPS) {
                    int generation = state.generationId(groupId);
                    if (generation < 0) {
                        lastGeneration.remove(groupId);
                    } else {
                        assertThat(generation).isGreaterThanOrEqualTo(lastGeneration.getOrDefault(groupId, 0));
                        lastGeneration.put(groupId, generation);
                    }
                    GroupMetadata persisted = state.lastPersisted(groupId);
                    if (persisted != null) {
                        assertThat(generation).isGreaterThanOrEqualTo(persisted.generationId());
                    }
                }
            }
            if (checkReplay && pending.records().isEmpty()) {
                assertThat(follower.persistedRecords()).isEqualTo(state.persistedRecords());
                for (String groupId : state.groupIds()) {
                    GroupState s = state.groupState(groupId);
                    GroupMetadata persisted = state.lastPersisted(groupId);
                    if (s == GroupState.STABLE) {
                        assertThat(persisted).as("a stable group was persisted").isNotNull();
                    }
                    if (persisted != null && (s == GroupState.STABLE || s == GroupState.EMPTY)) {
                        assertThat(state.currentMetadata(groupId))
                                .as("a settled group holds what it last persisted")
                                .isEqualTo(persisted);
                    }
                }
            }
        }
    }
}
