package dev.sluice.raft.transport;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.apache.ratis.client.impl.ClientProtoUtils;
import org.apache.ratis.proto.RaftProtos.InstallSnapshotReplyProto;
import org.apache.ratis.proto.RaftProtos.InstallSnapshotRequestProto;
import org.apache.ratis.proto.RaftProtos.RaftRpcReplyProto;
import org.apache.ratis.proto.RaftProtos.RaftRpcRequestProto;
import org.apache.ratis.proto.RaftProtos.RequestVoteReplyProto;
import org.apache.ratis.proto.RaftProtos.RequestVoteRequestProto;
import org.apache.ratis.proto.RaftProtos.StartLeaderElectionReplyProto;
import org.apache.ratis.proto.RaftProtos.StartLeaderElectionRequestProto;
import org.apache.ratis.proto.netty.NettyProtos.RaftNettyExceptionReplyProto;
import org.apache.ratis.proto.netty.NettyProtos.RaftNettyServerReplyProto;
import org.apache.ratis.proto.netty.NettyProtos.RaftNettyServerRequestProto;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.apache.ratis.protocol.exceptions.RaftException;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.util.ProtoUtils;

/**
 * Serves one request of Ratis's Netty protocol on a {@link RaftServer}, answering with a future: Ratis's asynchronous
 * API where it has one, its synchronous calls (votes, snapshot notices, start-election) run in the calling thread.
 * The answers are those of Ratis's own Netty server: for a client or administration request that fails with a
 * {@link NotLeaderException} or a {@link StateMachineException}, a client reply carrying it (what Ratis's synchronous
 * calls return, and what a Raft client acts on); for any other failure, the exception reply that Ratis's Netty
 * client turns back into the {@link IOException} (see {@link #exceptionReply}).
 *
 * <p>Stateless apart from the server; thread-safe.
 */
final class NettyRequests {
    private final RaftServer server;

    NettyRequests(RaftServer server) {
        this.server = server;
    }

    /** The answer to {@code request}; never throws, fails the future instead. */
    CompletableFuture<RaftNettyServerReplyProto> serve(RaftNettyServerRequestProto request) {
        try {
            return dispatch(request);
        } catch (IOException | RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private CompletableFuture<RaftNettyServerReplyProto> dispatch(RaftNettyServerRequestProto request)
            throws IOException {
        RaftNettyServerReplyProto.Builder reply = RaftNettyServerReplyProto.newBuilder();
        return switch (request.getRaftNettyServerRequestCase()) {
            case APPENDENTRIESREQUEST ->
                server.appendEntriesAsync(request.getAppendEntriesRequest())
                        .thenApply(r -> reply.setAppendEntriesReply(r).build());
            case REQUESTVOTEREQUEST -> {
                RequestVoteRequestProto vote = request.getRequestVoteRequest();
                RequestVoteReplyProto answer = server.requestVote(vote);
                yield CompletableFuture.completedFuture(reply.setRequestVoteReply(answer.toBuilder()
                                .setServerReply(withCallId(answer.getServerReply(), vote.getServerRequest())))
                        .build());
            }
            case INSTALLSNAPSHOTREQUEST -> {
                InstallSnapshotRequestProto install = request.getInstallSnapshotRequest();
                requireLogLoaded(install.getServerRequest());
                InstallSnapshotReplyProto answer = server.installSnapshot(install);
                yield CompletableFuture.completedFuture(reply.setInstallSnapshotReply(answer.toBuilder()
                                .setServerReply(withCallId(answer.getServerReply(), install.getServerRequest())))
                        .build());
            }
            case STARTLEADERELECTIONREQUEST -> {
                StartLeaderElectionRequestProto start = request.getStartLeaderElectionRequest();
                StartLeaderElectionReplyProto answer = server.startLeaderElection(start);
                yield CompletableFuture.completedFuture(reply.setStartLeaderElectionReply(answer.toBuilder()
                                .setServerReply(withCallId(answer.getServerReply(), start.getServerRequest())))
                        .build());
            }
            case RAFTCLIENTREQUEST -> {
                RaftClientRequest client = ClientProtoUtils.toRaftClientRequest(request.getRaftClientRequest());
                yield clientReply(client, server.submitClientRequestAsync(client), reply);
            }
            case SETCONFIGURATIONREQUEST -> {
                var setConfiguration = ClientProtoUtils.toSetConfigurationRequest(request.getSetConfigurationRequest());
                yield clientReply(setConfiguration, server.setConfigurationAsync(setConfiguration), reply);
            }
            case TRANSFERLEADERSHIPREQUEST -> {
                var transfer = ClientProtoUtils.toTransferLeadershipRequest(request.getTransferLeadershipRequest());
                yield clientReply(transfer, server.transferLeadershipAsync(transfer), reply);
            }
            case GROUPMANAGEMENTREQUEST -> {
                var management = ClientProtoUtils.toGroupManagementRequest(request.getGroupManagementRequest());
                yield clientReply(management, server.groupManagementAsync(management), reply);
            }
            case SNAPSHOTMANAGEMENTREQUEST -> {
                var snapshot = ClientProtoUtils.toSnapshotManagementRequest(request.getSnapshotManagementRequest());
                yield clientReply(snapshot, server.snapshotManagementAsync(snapshot), reply);
            }
            case LEADERELECTIONMANAGEMENTREQUEST -> {
                var election = ClientProtoUtils.toLeaderElectionManagementRequest(
                        request.getLeaderElectionManagementRequest());
                yield clientReply(election, server.leaderElectionManagementAsync(election), reply);
            }
            case GROUPLISTREQUEST ->
                server.getGroupListAsync(ClientProtoUtils.toGroupListRequest(request.getGroupListRequest()))
                        .thenApply(r -> reply.setGroupListReply(ClientProtoUtils.toGroupListReplyProto(r))
                                .build());
            case GROUPINFOREQUEST ->
                server.getGroupInfoAsync(ClientProtoUtils.toGroupInfoRequest(request.getGroupInfoRequest()))
                        .thenApply(r -> reply.setGroupInfoReply(ClientProtoUtils.toGroupInfoReplyProto(r))
                                .build());
            case RAFTNETTYSERVERREQUEST_NOT_SET -> throw new IllegalArgumentException("a request without a body");
        };
    }

    /** A client reply; a not-leader or state machine failure is answered as a reply carrying it, as Ratis does. */
    private static CompletableFuture<RaftNettyServerReplyProto> clientReply(
            RaftClientRequest request,
            CompletableFuture<RaftClientReply> future,
            RaftNettyServerReplyProto.Builder reply) {
        return future.exceptionally(failure -> {
                    Throwable cause = NettyServerRpc.cause(failure);
                    if (cause instanceof NotLeaderException || cause instanceof StateMachineException) {
                        return RaftClientReply.newBuilder()
                                .setRequest(request)
                                .setException((RaftException) cause)
                                .build();
                    }
                    throw failure instanceof CompletionException c ? c : new CompletionException(cause);
                })
                .thenApply(r -> reply.setRaftClientReply(ClientProtoUtils.toRaftClientReplyProto(r))
                        .build());
    }

    /** The header of {@code request} (who sent it, to whom, about which group, its call id), or null if it has none. */
    static RaftRpcRequestProto header(RaftNettyServerRequestProto request) {
        return switch (request.getRaftNettyServerRequestCase()) {
            case REQUESTVOTEREQUEST -> request.getRequestVoteRequest().getServerRequest();
            case APPENDENTRIESREQUEST -> request.getAppendEntriesRequest().getServerRequest();
            case INSTALLSNAPSHOTREQUEST -> request.getInstallSnapshotRequest().getServerRequest();
            case STARTLEADERELECTIONREQUEST ->
                request.getStartLeaderElectionRequest().getServerRequest();
            case RAFTCLIENTREQUEST -> request.getRaftClientRequest().getRpcRequest();
            case SETCONFIGURATIONREQUEST -> request.getSetConfigurationRequest().getRpcRequest();
            case TRANSFERLEADERSHIPREQUEST ->
                request.getTransferLeadershipRequest().getRpcRequest();
            case GROUPMANAGEMENTREQUEST -> request.getGroupManagementRequest().getRpcRequest();
            case SNAPSHOTMANAGEMENTREQUEST ->
                request.getSnapshotManagementRequest().getRpcRequest();
            case LEADERELECTIONMANAGEMENTREQUEST ->
                request.getLeaderElectionManagementRequest().getRpcRequest();
            case GROUPLISTREQUEST -> request.getGroupListRequest().getRpcRequest();
            case GROUPINFOREQUEST -> request.getGroupInfoRequest().getRpcRequest();
            case RAFTNETTYSERVERREQUEST_NOT_SET -> null;
        };
    }

    /**
     * Fails an install request to a division that is still loading its Raft log (a group just added on this
     * node), before Ratis sees it. Ratis 3.3.0's follower marks an install notice "in progress" before it reads
     * the log, and a notice that reaches a division still loading fails right after ("log is uninitialized")
     * without clearing the mark: every later notice is answered "in progress" and the state machine is never
     * told, so the new replica never installs nor takes the leader's log, and the leader's membership change
     * never completes (the chaos run with seed 4003: a node added to the cluster got a replica of
     * __consumer_offsets-1 and never caught up). Failed here, the notice is simply sent again.
     */
    private void requireLogLoaded(RaftRpcRequestProto header) throws IOException {
        RaftServer.Division division =
                server.getDivision(RaftGroupId.valueOf(header.getRaftGroupId().getId()));
        try {
            division.getRaftLog();
        } catch (IllegalStateException e) {
            throw new IOException(division.getMemberId() + " is still loading its Raft log; the leader asks again", e);
        }
    }

    /**
     * An answer's header with the call id of its request. Ratis sends votes, install notices and chunks and
     * election starts as call 0, and answers them without a call id (0 too); but Ratis's Netty client matches
     * answers to calls by call id, one pending call per id on a connection. The calls of all groups between two
     * nodes share one connection, so such calls of two groups at once collided ("previous is expected to be
     * null"): a leader adding one new node to several groups at once failed the install notices of all but one
     * (the chaos run with seed 1001: queue-0's new replica never received an entry), and a node handing over the
     * leadership of all its groups at once (SIGTERM) failed most election starts (seed 3014). Sluice's Netty
     * transport sends each such call with a call id of its own ({@link #withOwnCallId}), and its answers carry it
     * back.
     */
    static RaftRpcReplyProto withCallId(RaftRpcReplyProto reply, RaftRpcRequestProto request) {
        return reply.getCallId() == request.getCallId()
                ? reply
                : reply.toBuilder().setCallId(request.getCallId()).build();
    }

    /**
     * {@code request} with the call id {@code callId} when it is one of the calls Ratis sends as call 0 (a vote,
     * an install notice or chunk, an election start); other calls unchanged. See {@link #withCallId}.
     */
    static RaftNettyServerRequestProto withOwnCallId(RaftNettyServerRequestProto request, long callId) {
        return switch (request.getRaftNettyServerRequestCase()) {
            case REQUESTVOTEREQUEST -> {
                RequestVoteRequestProto vote = request.getRequestVoteRequest();
                yield request.toBuilder()
                        .setRequestVoteRequest(
                                vote.toBuilder().setServerRequest(callId(vote.getServerRequest(), callId)))
                        .build();
            }
            case INSTALLSNAPSHOTREQUEST -> {
                InstallSnapshotRequestProto install = request.getInstallSnapshotRequest();
                yield request.toBuilder()
                        .setInstallSnapshotRequest(
                                install.toBuilder().setServerRequest(callId(install.getServerRequest(), callId)))
                        .build();
            }
            case STARTLEADERELECTIONREQUEST -> {
                StartLeaderElectionRequestProto start = request.getStartLeaderElectionRequest();
                yield request.toBuilder()
                        .setStartLeaderElectionRequest(
                                start.toBuilder().setServerRequest(callId(start.getServerRequest(), callId)))
                        .build();
            }
            default -> request;
        };
    }

    private static RaftRpcRequestProto callId(RaftRpcRequestProto header, long callId) {
        return header.toBuilder().setCallId(callId).build();
    }

    /**
     * The answer Ratis's Netty client turns into an {@link IOException} for the call {@code header} names: the
     * failure itself when it is one, else wrapped in one.
     */
    static RaftNettyServerReplyProto exceptionReply(RaftRpcRequestProto header, Throwable failure) {
        Throwable cause = NettyServerRpc.cause(failure);
        // Sent with Java serialization, as Ratis does: any other failure travels as its description only.
        IOException exception = cause instanceof IOException io ? io : new IOException(cause.toString());
        RaftRpcReplyProto.Builder rpcReply = RaftRpcReplyProto.newBuilder()
                .setRequestorId(header.getRequestorId())
                .setReplyId(header.getReplyId())
                .setCallId(header.getCallId())
                .setSuccess(false);
        return RaftNettyServerReplyProto.newBuilder()
                .setExceptionReply(RaftNettyExceptionReplyProto.newBuilder()
                        .setRpcReply(rpcReply)
                        .setException(ProtoUtils.writeObject2ByteString(exception)))
                .build();
    }
}
