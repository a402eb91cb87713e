package dev.sluice.broker.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.errors.CoordinatorNotAvailableException;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData.ApiVersion;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.ListGroupsRequestData;
import org.apache.kafka.common.message.ListGroupsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.protocol.MessageUtil;
import org.apache.kafka.common.record.internal.FileRecords;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.Records;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.requests.ApiVersionsRequest;
import org.apache.kafka.common.requests.ApiVersionsResponse;
import org.apache.kafka.common.requests.FetchRequest;
import org.apache.kafka.common.requests.FetchResponse;
import org.apache.kafka.common.requests.ListGroupsRequest;
import org.apache.kafka.common.requests.ListGroupsResponse;
import org.apache.kafka.common.requests.MetadataRequest;
import org.apache.kafka.common.requests.MetadataResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(30)
class KafkaServerTest {
    private static final short METADATA_VERSION = ApiKeys.METADATA.latestVersion();
    private static final short LIST_GROUPS_VERSION = ApiKeys.LIST_GROUPS.latestVersion();

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final RecordingObserver observer = new RecordingObserver();

    @AfterEach
    void closeAll() throws Exception {
        Collections.reverse(closeables);
        for (AutoCloseable closeable : closeables) {
            closeable.close();
        }
    }

    static SupportedApis testApis() {
        Map<ApiKeys, short[]> ranges = new EnumMap<>(ApiKeys.class);
        for (ApiKeys key :
                List.of(ApiKeys.API_VERSIONS, ApiKeys.METADATA, ApiKeys.LIST_GROUPS, ApiKeys.PRODUCE, ApiKeys.FETCH)) {
            ranges.put(key, new short[] {key.oldestVersion(), key.latestVersion()});
        }
        return SupportedApis.of(ranges);
    }

    private KafkaServer start(RequestHandler handler) throws InterruptedException {
        return start(handler, testApis(), 100, 1024 * 1024);
    }

    private KafkaServer start(RequestHandler handler, SupportedApis apis, int maxInFlight, int requestMaxBytes)
            throws InterruptedException {
        KafkaServer server = KafkaServer.start(
                new ServerSettings("127.0.0.1", 0, requestMaxBytes, maxInFlight, 2), apis, handler, observer);
        closeables.add(server);
        return server;
    }

    private RawKafkaConnection connect(KafkaServer server) throws IOException {
        RawKafkaConnection connection = new RawKafkaConnection(server.port());
        closeables.add(connection);
        return connection;
    }

    private static RequestHeader metadataHeader(int correlationId) {
        return RawKafkaConnection.header(ApiKeys.METADATA, METADATA_VERSION, correlationId);
    }

    private static MetadataRequest metadataRequest() {
        return new MetadataRequest.Builder(List.of(), false).build(METADATA_VERSION);
    }

    @Test
    void shouldAnswerApiVersionsAtEveryVersionWithTheServedRanges() throws Exception {
        KafkaServer server = start(ScriptedHandler.answering(ScriptedHandler::metadataResponse));
        try (RawKafkaConnection connection = connect(server)) {
            for (short version = 0; version <= ApiKeys.API_VERSIONS.latestVersion(); version++) {
                ApiVersionsResponse response = connection.apiVersions(version, version, 100 + version);
                assertThat(Errors.forCode(response.data().errorCode())).isEqualTo(Errors.NONE);
                assertThat(response.data().apiKeys())
                        .extracting(ApiVersion::apiKey)
                        .containsExactlyInAnyOrder(
                                ApiKeys.API_VERSIONS.id,
                                ApiKeys.METADATA.id,
                                ApiKeys.LIST_GROUPS.id,
                                ApiKeys.PRODUCE.id,
                                ApiKeys.FETCH.id);
                ApiVersion metadata = response.apiVersion(ApiKeys.METADATA.id);
                assertThat(metadata.minVersion()).isEqualTo(ApiKeys.METADATA.oldestVersion());
                assertThat(metadata.maxVersion()).isEqualTo(ApiKeys.METADATA.latestVersion());
            }
        }
    }

    @Test
    void shouldAnswerAnUnknownApiVersionsVersionWithUnsupportedVersionAtVersionZero() throws Exception {
        KafkaServer server = start(ScriptedHandler.answering(ScriptedHandler::metadataResponse));
        RawKafkaConnection connection = connect(server);
        // A version from the future, with a body this server cannot know how to parse.
        RequestHeader header = RawKafkaConnection.header(ApiKeys.API_VERSIONS, (short) 99, 7);
        byte[] headerBytes =
                RawKafkaConnection.bytes(MessageUtil.toByteBufferAccessor(header.data(), header.headerVersion())
                        .buffer());
        byte[] payload = ByteBuffer.allocate(headerBytes.length + 5)
                .put(headerBytes)
                .put(new byte[] {1, 2, 3, 4, 5})
                .array();
        connection.sendRaw(RawKafkaConnection.sizePrefixed(payload));

        ApiVersionsResponse response = connection.receiveApiVersions(7, (short) 0);

        assertThat(Errors.forCode(response.data().errorCode())).isEqualTo(Errors.UNSUPPORTED_VERSION);
        assertThat(response.data().apiKeys()).hasSize(1);
        ApiVersion apiVersions = response.apiVersion(ApiKeys.API_VERSIONS.id);
        assertThat(apiVersions.maxVersion()).isEqualTo(ApiKeys.API_VERSIONS.latestVersion());
        // The connection stays usable: the client retries with a version it now knows is served.
        assertThat(connection.apiVersions((short) 3, (short) 3, 8).data().errorCode())
                .isEqualTo(Errors.NONE.code());
    }

    @Test
    void shouldAnswerAnApiVersionsVersionOutsideTheServedRangeWithUnsupportedVersion() throws Exception {
        Map<ApiKeys, short[]> ranges = new EnumMap<>(ApiKeys.class);
        ranges.put(ApiKeys.API_VERSIONS, new short[] {0, 2});
        KafkaServer server = start(ScriptedHandler.parking(), SupportedApis.of(ranges), 10, 1024);
        RawKafkaConnection connection = connect(server);

        ApiVersionsResponse response = connection.apiVersions((short) 3, (short) 0, 1);

        assertThat(Errors.forCode(response.data().errorCode())).isEqualTo(Errors.UNSUPPORTED_VERSION);
        assertThat(response.apiVersion(ApiKeys.API_VERSIONS.id).maxVersion()).isEqualTo((short) 2);
    }

    @Test
    void shouldAnswerApiVersionsWithAnInvalidClientSoftwareNameWithInvalidRequest() throws Exception {
        KafkaServer server = start(ScriptedHandler.parking());
        RawKafkaConnection connection = connect(server);
        short version = 3;
        ApiVersionsRequest request = new ApiVersionsRequest(
                new ApiVersionsRequestData()
                        .setClientSoftwareName("not a valid name!")
                        .setClientSoftwareVersion("1.0"),
                version);
        connection.send(RawKafkaConnection.header(ApiKeys.API_VERSIONS, version, 3), request);

        ApiVersionsResponse response = connection.receiveApiVersions(3, version);

        assertThat(Errors.forCode(response.data().errorCode())).isEqualTo(Errors.INVALID_REQUEST);
    }

    @Test
    void shouldAnswerPipelinedRequestsInRequestOrderWhenTheHandlerCompletesOutOfOrder() throws Exception {
        ScriptedHandler handler = ScriptedHandler.parking();
        KafkaServer server = start(handler);
        RawKafkaConnection connection = connect(server);
        int requests = 10;
        ByteBuffer pipelined = ByteBuffer.allocate(64 * 1024);
        for (int i = 0; i < requests; i++) {
            pipelined.put(RawKafkaConnection.frame(metadataHeader(i), metadataRequest()));
        }
        connection.sendRaw(RawKafkaConnection.bytes(pipelined.flip()));

        List<ScriptedHandler.Parked> parked = handler.awaitParked(requests);
        List<ScriptedHandler.Parked> reversed = new ArrayList<>(parked);
        Collections.reverse(reversed);
        CompletableFuture.runAsync(() ->
                reversed.forEach(p -> p.future().complete(ScriptedHandler.metadataResponse(p.context(), p.request()))));

        for (int i = 0; i < requests; i++) {
            MetadataResponse response = (MetadataResponse) connection.receive(metadataHeader(i));
            assertThat(response.throttleTimeMs()).isEqualTo(i);
        }
        assertThat(parked)
                .extracting(p -> p.context().header().correlationId())
                .containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        waitUntil(() -> handler.released.size() == requests);
    }

    @Test
    void shouldKeepResponseOrderWhenSomeRequestsNeedNoResponse() throws Exception {
        ScriptedHandler handler = ScriptedHandler.parking();
        KafkaServer server = start(handler);
        RawKafkaConnection connection = connect(server);
        for (int i = 0; i < 6; i++) {
            connection.send(metadataHeader(i), metadataRequest());
        }
        List<ScriptedHandler.Parked> parked = handler.awaitParked(6);
        for (int i = 5; i >= 0; i--) {
            ScriptedHandler.Parked p = parked.get(i);
            // Even correlation ids are answered with no response, like Produce with acks=0.
            p.future().complete(i % 2 == 0 ? null : ScriptedHandler.metadataResponse(p.context(), p.request()));
        }

        for (int i : new int[] {1, 3, 5}) {
            assertThat(((MetadataResponse) connection.receive(metadataHeader(i))).throttleTimeMs())
                    .isEqualTo(i);
        }
        assertThat(connection.apiVersions((short) 3, (short) 3, 6).data().errorCode())
                .isEqualTo(Errors.NONE.code());
        waitUntil(() -> observer.completed.size() == 7);
        assertThat(observer.completed.stream().filter(c -> c.responseBytes() == 0))
                .hasSize(3);
    }

    @Test
    void shouldStopReadingWhenMaxInFlightRequestsAreOutstanding() throws Exception {
        int maxInFlight = 4;
        int requests = 20;
        ScriptedHandler handler = ScriptedHandler.parking();
        KafkaServer server = start(handler, testApis(), maxInFlight, 1024 * 1024);
        RawKafkaConnection connection = connect(server);
        ByteBuffer pipelined = ByteBuffer.allocate(64 * 1024);
        for (int i = 0; i < requests; i++) {
            pipelined.put(RawKafkaConnection.frame(metadataHeader(i), metadataRequest()));
        }
        connection.sendRaw(RawKafkaConnection.bytes(pipelined.flip()));

        List<ScriptedHandler.Parked> first = handler.awaitParked(maxInFlight);
        assertThat(handler.pollParked(300))
                .as("a request beyond the in-flight bound")
                .isNull();
        List<ScriptedHandler.Parked> all = new ArrayList<>(first);
        for (int answered = 0; answered < requests; answered++) {
            ScriptedHandler.Parked oldest = all.get(answered);
            oldest.future().complete(ScriptedHandler.metadataResponse(oldest.context(), oldest.request()));
            if (all.size() < requests) {
                all.addAll(handler.awaitParked(1));
            }
        }

        for (int i = 0; i < requests; i++) {
            assertThat(((MetadataResponse) connection.receive(metadataHeader(i))).throttleTimeMs())
                    .isEqualTo(i);
        }
        assertThat(handler.maxOutstanding()).isEqualTo(maxInFlight);
    }

    @Test
    void shouldCloseTheConnectionOnAFrameLargerThanRequestMaxBytes() throws Exception {
        KafkaServer server = start(ScriptedHandler.parking(), testApis(), 10, 1024);
        RawKafkaConnection connection = connect(server);
        connection.sendRaw(ByteBuffer.allocate(4).putInt(1025).array());

        assertThat(connection.closedByServerWithin(3_000)).isTrue();
        assertServerStillAnswers(server);
    }

    @Test
    void shouldCloseTheConnectionOnANegativeFrameSize() throws Exception {
        KafkaServer server = start(ScriptedHandler.parking());
        RawKafkaConnection connection = connect(server);
        connection.sendRaw(new byte[] {(byte) 0x80, 0, 0, 0, 1, 2, 3});

        assertThat(connection.closedByServerWithin(3_000)).isTrue();
        assertServerStillAnswers(server);
    }

    @Test
    void shouldCloseTheConnectionOnAnUnknownApiKey() throws Exception {
        KafkaServer server = start(ScriptedHandler.parking());
        RawKafkaConnection connection = connect(server);
        byte[] header = ByteBuffer.allocate(10)
                .putShort((short) 9_999)
                .putShort((short) 0)
                .putInt(1)
                .putShort((short) -1)
                .array();
        connection.sendRaw(RawKafkaConnection.sizePrefixed(header));

        assertThat(connection.closedByServerWithin(3_000)).isTrue();
        assertServerStillAnswers(server);
    }

    @Test
    void shouldCloseTheConnectionOnAnApiThatIsNotServed() throws Exception {
        Map<ApiKeys, short[]> ranges = new EnumMap<>(ApiKeys.class);
        ranges.put(ApiKeys.API_VERSIONS, new short[] {0, ApiKeys.API_VERSIONS.latestVersion()});
        ranges.put(ApiKeys.METADATA, new short[] {1, (short) (METADATA_VERSION - 1)});
        ScriptedHandler handler = ScriptedHandler.parking();
        KafkaServer server = start(handler, SupportedApis.of(ranges), 10, 1024 * 1024);

        RawKafkaConnection unservedApi = connect(server);
        unservedApi.send(
                RawKafkaConnection.header(ApiKeys.LIST_GROUPS, LIST_GROUPS_VERSION, 1),
                new ListGroupsRequest.Builder(new ListGroupsRequestData()).build(LIST_GROUPS_VERSION));
        assertThat(unservedApi.closedByServerWithin(3_000)).isTrue();

        RawKafkaConnection unservedVersion = connect(server);
        unservedVersion.send(metadataHeader(2), metadataRequest());
        assertThat(unservedVersion.closedByServerWithin(3_000)).isTrue();

        assertThat(handler.pollParked(0)).isNull();
        assertServerStillAnswers(server);
    }

    @Test
    void shouldCloseTheConnectionOnABodyThatDoesNotParse() throws Exception {
        ScriptedHandler handler = ScriptedHandler.parking();
        KafkaServer server = start(handler);
        RawKafkaConnection connection = connect(server);
        RequestHeader header = metadataHeader(1);
        byte[] headerBytes =
                RawKafkaConnection.bytes(MessageUtil.toByteBufferAccessor(header.data(), header.headerVersion())
                        .buffer());
        byte[] garbage = {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f, 1, 2, 3};
        connection.sendRaw(RawKafkaConnection.sizePrefixed(ByteBuffer.allocate(headerBytes.length + garbage.length)
                .put(headerBytes)
                .put(garbage)
                .array()));

        assertThat(connection.closedByServerWithin(3_000)).isTrue();
        assertThat(handler.pollParked(0)).isNull();
        assertServerStillAnswers(server);
    }

    @Test
    void shouldAnswerHandlerFailuresWithTheRequestsErrorResponse() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        RequestHandler handler = (context, request) -> {
            if (calls.getAndIncrement() == 0) {
                return CompletableFuture.failedFuture(new CoordinatorNotAvailableException("not yet"));
            }
            throw new IllegalStateException("a handler bug");
        };
        KafkaServer server = start(handler);
        RawKafkaConnection connection = connect(server);
        ListGroupsRequest request =
                new ListGroupsRequest.Builder(new ListGroupsRequestData()).build(LIST_GROUPS_VERSION);

        for (int correlationId = 0; correlationId < 2; correlationId++) {
            RequestHeader header = RawKafkaConnection.header(ApiKeys.LIST_GROUPS, LIST_GROUPS_VERSION, correlationId);
            connection.send(header, request);
            ListGroupsResponse response = (ListGroupsResponse) connection.receive(header);
            assertThat(Errors.forCode(response.data().errorCode()))
                    .isEqualTo(correlationId == 0 ? Errors.COORDINATOR_NOT_AVAILABLE : Errors.UNKNOWN_SERVER_ERROR);
        }
    }

    @Test
    void shouldDropResponsesOfAClosedConnectionAndReleaseThem() throws Exception {
        ScriptedHandler handler = ScriptedHandler.parking();
        KafkaServer server = start(handler);
        RawKafkaConnection connection = connect(server);
        for (int i = 0; i < 3; i++) {
            connection.send(metadataHeader(i), metadataRequest());
        }
        List<ScriptedHandler.Parked> parked = handler.awaitParked(3);
        parked.get(1)
                .future()
                .complete(ScriptedHandler.metadataResponse(
                        parked.get(1).context(), parked.get(1).request()));
        waitUntil(() -> server.connectionCount() == 1);

        connection.close();
        waitUntil(() -> server.connectionCount() == 0);
        for (ScriptedHandler.Parked p : List.of(parked.get(0), parked.get(2))) {
            p.future().complete(ScriptedHandler.metadataResponse(p.context(), p.request()));
        }

        waitUntil(() -> handler.released.size() == 3);
        assertThat(observer.opened.get()).isEqualTo(1);
        waitUntil(() -> observer.closed.get() == 1);
        assertServerStillAnswers(server);
    }

    @Test
    void shouldKeepServingOpenConnectionsAfterStopAccepting() throws Exception {
        KafkaServer server = start(ScriptedHandler.answering(ScriptedHandler::metadataResponse));
        RawKafkaConnection connection = connect(server);
        assertThat(connection.apiVersions((short) 3, (short) 3, 1).data().errorCode())
                .isEqualTo(Errors.NONE.code());

        server.stopAccepting();

        assertThat(connection.apiVersions((short) 3, (short) 3, 2).data().errorCode())
                .isEqualTo(Errors.NONE.code());
        connection.send(metadataHeader(3), metadataRequest());
        assertThat(((MetadataResponse) connection.receive(metadataHeader(3))).throttleTimeMs())
                .isEqualTo(3);
        assertThatThrownBy(() -> {
                    try (Socket socket = new Socket()) {
                        socket.connect(new InetSocketAddress("127.0.0.1", server.port()), 1_000);
                    }
                })
                .isInstanceOf(ConnectException.class);
    }

    @Test
    void shouldCloseConnectionsAndStopWithinSecondsOnClose() throws Exception {
        ScriptedHandler handler = ScriptedHandler.parking();
        KafkaServer server = start(handler);
        RawKafkaConnection connection = connect(server);
        connection.send(metadataHeader(1), metadataRequest());
        ScriptedHandler.Parked parked = handler.awaitParked(1).get(0);

        long startNs = System.nanoTime();
        server.close();
        server.close();

        assertThat(Duration.ofNanos(System.nanoTime() - startNs)).isLessThan(Duration.ofSeconds(5));
        assertThat(connection.closedByServerWithin(3_000)).isTrue();
        // Completing after the close neither throws nor answers.
        parked.future().complete(ScriptedHandler.metadataResponse(parked.context(), parked.request()));
    }

    @Test
    void shouldReportEveryAnsweredRequestToTheObserver() throws Exception {
        KafkaServer server = start(ScriptedHandler.answering((context, request) ->
                new ListGroupsResponse(new ListGroupsResponseData().setErrorCode(Errors.NONE.code()))));
        RawKafkaConnection connection = connect(server);
        RequestHeader header = RawKafkaConnection.header(ApiKeys.LIST_GROUPS, LIST_GROUPS_VERSION, 1);
        byte[] frame = RawKafkaConnection.frame(
                header, new ListGroupsRequest.Builder(new ListGroupsRequestData()).build(LIST_GROUPS_VERSION));
        connection.sendRaw(frame);
        connection.receive(header);

        waitUntil(() -> observer.completed.size() == 1);
        RecordingObserver.Completed completed = observer.completed.get(0);
        assertThat(completed.api()).isEqualTo(ApiKeys.LIST_GROUPS);
        assertThat(completed.version()).isEqualTo(LIST_GROUPS_VERSION);
        assertThat(completed.requestBytes()).isEqualTo(frame.length);
        assertThat(completed.responseBytes()).isPositive();
        assertThat(completed.errorCounts()).containsExactly(Map.entry(Errors.NONE, 1));
        assertThat(completed.latencyNs()).isPositive();
        assertThat(observer.opened.get()).isEqualTo(1);
    }

    @Test
    void shouldSendFetchedRecordsStraightFromFilesAndMappings(@TempDir Path dir) throws Exception {
        short fetchVersion = 12; // topic names rather than ids
        SimpleRecord[] records = new SimpleRecord[1_000];
        for (int i = 0; i < records.length; i++) {
            byte[] value = new byte[1_000];
            Arrays.fill(value, (byte) i);
            records[i] = new SimpleRecord(value);
        }
        Path file = dir.resolve("00000000000000000000.log");
        Files.write(
                file,
                RawKafkaConnection.bytes(
                        MemoryRecords.withRecords(Compression.NONE, records).buffer()));
        try (FileRecords fileRecords = FileRecords.open(file.toFile());
                FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            MappedByteBuffer mapping = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size());
            ScriptedHandler handler = ScriptedHandler.answering((context, request) -> fetchResponse(
                    context.header().correlationId() == 1 ? fileRecords : MemoryRecords.readableRecords(mapping)));
            KafkaServer server = start(handler);
            RawKafkaConnection connection = connect(server);

            for (int correlationId = 1; correlationId <= 2; correlationId++) {
                RequestHeader header = RawKafkaConnection.header(ApiKeys.FETCH, fetchVersion, correlationId);
                connection.send(header, new FetchRequest(new FetchRequestData(), fetchVersion));
                FetchResponse response = (FetchResponse) connection.receive(header);
                Records received = FetchResponse.recordsOrFail(
                        response.data().responses().get(0).partitions().get(0));
                int index = 0;
                for (Record record : received.records()) {
                    assertThat(record.valueSize()).isEqualTo(1_000);
                    assertThat(record.value().get(999)).isEqualTo((byte) index++);
                }
                assertThat(index).isEqualTo(records.length);
            }
            waitUntil(() -> handler.released.size() == 2);
            assertThat(fileRecords.channel().isOpen()).isTrue();
        }
    }

    private static FetchResponse fetchResponse(Records records) {
        FetchResponseData data = new FetchResponseData();
        data.responses()
                .add(new FetchResponseData.FetchableTopicResponse()
                        .setTopic("events")
                        .setPartitions(List.of(new FetchResponseData.PartitionData()
                                .setPartitionIndex(0)
                                .setHighWatermark(1_000)
                                .setRecords(records))));
        return FetchResponse.of(data);
    }

    /** A fresh connection still gets a correct ApiVersions answer. */
    static void assertServerStillAnswers(KafkaServer server) throws IOException {
        try (RawKafkaConnection fresh = new RawKafkaConnection(server.port())) {
            ApiVersionsResponse response =
                    fresh.apiVersions(ApiKeys.API_VERSIONS.latestVersion(), ApiKeys.API_VERSIONS.latestVersion(), 4242);
            assertThat(response.data().errorCode()).isEqualTo(Errors.NONE.code());
            assertThat(response.apiVersion(ApiKeys.API_VERSIONS.id)).isNotNull();
        }
    }

    static void waitUntil(BooleanSupplier condition) throws InterruptedException {
        long deadlineNs = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadlineNs) {
                throw new AssertionError("condition not met within 5 s");
            }
            Thread.sleep(5);
        }
    }

    /** Records what the server observes. */
    static final class RecordingObserver implements RequestObserver {
        record Completed(
                ApiKeys api,
                short version,
                Map<Errors, Integer> errorCounts,
                long requestBytes,
                long responseBytes,
                long latencyNs) {}

        final List<Completed> completed = new CopyOnWriteArrayList<>();
        final AtomicInteger opened = new AtomicInteger();
        final AtomicInteger closed = new AtomicInteger();

        @Override
        public void completed(
                ApiKeys api,
                short version,
                Map<Errors, Integer> errorCounts,
                long requestBytes,
                long responseBytes,
                long latencyNs) {
            completed.add(new Completed(api, version, errorCounts, requestBytes, responseBytes, latencyNs));
        }

        @Override
        public void connectionOpened() {
            opened.incrementAndGet();
        }

        @Override
        public void connectionClosed() {
            closed.incrementAndGet();
        }
    }
}
