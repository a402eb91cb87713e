package dev.sluice.broker.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.statistics.Statistics;
import org.apache.kafka.common.errors.NotCoordinatorException;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.protocol.MessageUtil;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.ApiVersionsResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.ResponseHeader;

/**
 * Random, broken and half-valid frames against a live server. After each one: whatever came back is a
 * well-formed Kafka response to the request sent (or nothing, the connection closed), the server released
 * the connection, and a fresh connection still gets a correct ApiVersions answer.
 */
class KafkaServerFuzzTest {
    private static final int REQUEST_MAX_BYTES = 64 * 1024;
    private static final List<ApiKeys> SERVED = ApiKeys.brokerApis().stream()
            .filter(ApiKeys::hasValidVersion)
            .sorted()
            .collect(Collectors.toList());
    /** Ids of APIs that are not served, and ids that name no API at all. */
    private static final List<Integer> OTHER_IDS = otherIds();

    private static KafkaServer server;

    private static List<Integer> otherIds() {
        List<Integer> ids = new ArrayList<>();
        EnumSet.complementOf(EnumSet.copyOf(SERVED)).forEach(key -> ids.add((int) key.id));
        ids.addAll(List.of(-1, 999, 32_767));
        return ids;
    }

    @BeforeContainer
    static void startServer() throws InterruptedException {
        server = KafkaServer.start(
                new ServerSettings("127.0.0.1", 0, REQUEST_MAX_BYTES, 16, 2),
                SupportedApis.allVersionsOf(EnumSet.copyOf(SERVED)),
                KafkaServerFuzzTest::handle,
                RequestObserver.NONE);
    }

    /** Answers in one of four ways, chosen by the correlation id: each path must cope with any request. */
    private static CompletableFuture<AbstractResponse> handle(RequestContext context, AbstractRequest request) {
        switch (Math.floorMod(context.header().correlationId(), 4)) {
            case 0:
                return CompletableFuture.completedFuture(
                        request.getErrorResponse(0, Errors.NOT_LEADER_OR_FOLLOWER.exception()));
            case 1:
                return CompletableFuture.failedFuture(new NotCoordinatorException("fuzz"));
            case 2:
                throw new IllegalStateException("fuzz: a handler bug");
            default:
                return CompletableFuture.supplyAsync(
                        () -> request.getErrorResponse(0, Errors.REQUEST_TIMED_OUT.exception()));
        }
    }

    @AfterContainer
    static void stopServer() {
        if (server != null) {
            server.close();
        }
    }

    /** What was sent: the bytes, and the header the server should answer to, if any. */
    record FuzzCase(String kind, byte[] bytes, RequestHeader header) {
        @Override
        public String toString() {
            return kind + " " + (header == null ? "" : header + " ") + bytes.length + " bytes "
                    + Arrays.toString(Arrays.copyOf(bytes, Math.min(bytes.length, 48)));
        }
    }

    @Property(tries = 400, shrinking = ShrinkingMode.OFF, edgeCases = EdgeCasesMode.NONE)
    void serverAnswersOnlyWithKafkaResponsesAndSurvives(@ForAll("fuzzCases") FuzzCase fuzzCase) throws Exception {
        byte[] received = exchange(fuzzCase.bytes());

        ByteBuffer responses = ByteBuffer.wrap(received);
        int count = 0;
        while (responses.hasRemaining()) {
            assertThat(responses.remaining()).as("a whole size prefix").isGreaterThanOrEqualTo(4);
            int size = responses.getInt();
            assertThat(size).as("a whole response").isBetween(0, responses.remaining());
            ByteBuffer frame = responses.slice().limit(size);
            responses.position(responses.position() + size);
            assertThat(fuzzCase.header())
                    .as("a response to something that was not a request")
                    .isNotNull();
            assertWellFormedResponse(frame, fuzzCase.header());
            count++;
        }
        assertThat(count).isLessThanOrEqualTo(1);
        Statistics.label("outcome").collect(fuzzCase.kind(), count == 1 ? "answered" : "no answer");

        KafkaServerTest.waitUntil(() -> server.connectionCount() == 0);
        KafkaServerTest.assertServerStillAnswers(server);
        KafkaServerTest.waitUntil(() -> server.connectionCount() == 0);
    }

    private static void assertWellFormedResponse(ByteBuffer frame, RequestHeader header) {
        if (header.apiKey() == ApiKeys.API_VERSIONS) {
            boolean served = header.apiVersion() >= 0 && header.apiVersion() <= ApiKeys.API_VERSIONS.latestVersion();
            short version = served ? header.apiVersion() : 0;
            ResponseHeader responseHeader = ResponseHeader.parse(frame, (short) 0);
            assertThat(responseHeader.correlationId()).isEqualTo(header.correlationId());
            ApiVersionsResponse response = ApiVersionsResponse.parse(new ByteBufferAccessor(frame), version);
            if (!served) {
                assertThat(response.data().errorCode()).isEqualTo(Errors.UNSUPPORTED_VERSION.code());
            }
        } else {
            AbstractResponse response = AbstractResponse.parseResponse(frame, header);
            assertThat(response.apiKey()).isEqualTo(header.apiKey());
        }
        assertThat(frame.hasRemaining()).as("bytes after the response").isFalse();
    }

    /** Sends the bytes, half-closes, and returns everything the server sends until it closes. */
    private static byte[] exchange(byte[] bytes) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", server.port()), 5_000);
            socket.setSoTimeout(5_000);
            try {
                socket.getOutputStream().write(bytes);
                socket.shutdownOutput();
            } catch (SocketException e) {
                return new byte[0]; // closed by the server before everything was sent
            }
            ByteArrayOutputStream received = new ByteArrayOutputStream();
            InputStream in = socket.getInputStream();
            byte[] chunk = new byte[8192];
            try {
                for (int n = in.read(chunk); n >= 0; n = in.read(chunk)) {
                    received.write(chunk, 0, n);
                }
            } catch (SocketException e) {
                // reset by the server: it closed with unread input
            }
            return received.toByteArray();
        }
    }

    @Provide
    Arbitrary<FuzzCase> fuzzCases() {
        return Arbitraries.frequencyOf(Tuple.of(1, randomBytes()), Tuple.of(1, badSizes()), Tuple.of(6, requests()));
    }

    private static Arbitrary<FuzzCase> randomBytes() {
        return Arbitraries.bytes().array(byte[].class).ofMaxSize(300).map(b -> new FuzzCase("noise", b, null));
    }

    private static Arbitrary<FuzzCase> badSizes() {
        Arbitrary<Integer> sizes = Arbitraries.oneOf(
                Arbitraries.integers().between(Integer.MIN_VALUE, -1),
                Arbitraries.integers().between(REQUEST_MAX_BYTES + 1, Integer.MAX_VALUE));
        return Combinators.combine(
                        sizes, Arbitraries.bytes().array(byte[].class).ofMaxSize(64))
                .as((size, tail) -> new FuzzCase(
                        "bad size",
                        ByteBuffer.allocate(4 + tail.length)
                                .putInt(size)
                                .put(tail)
                                .array(),
                        null));
    }

    private static Arbitrary<FuzzCase> requests() {
        Arbitrary<Integer> apiIds = Arbitraries.frequencyOf(
                Tuple.of(9, Arbitraries.of(SERVED).map(key -> (int) key.id)), Tuple.of(1, Arbitraries.of(OTHER_IDS)));
        Arbitrary<String> mutations = Arbitraries.of("valid", "flipped", "truncated", "random", "trailing", "short");
        return Combinators.combine(apiIds, mutations, Arbitraries.longs()).as(KafkaServerFuzzTest::request);
    }

    private static FuzzCase request(int apiId, String mutation, long seed) {
        Random random = new Random(seed);
        ApiKeys api = apiKey(apiId);
        short version;
        if (api != null && api.hasValidVersion()) {
            // Mostly versions the server serves, sometimes just outside.
            int span = api.latestVersion() - api.oldestVersion() + 1;
            version = (short)
                    (random.nextInt(10) > 0
                            ? api.oldestVersion() + random.nextInt(span)
                            : random.nextBoolean()
                                    ? api.oldestVersion() - 1 - random.nextInt(2)
                                    : api.latestVersion() + 1 + random.nextInt(2));
        } else {
            version = (short) random.nextInt(20);
        }
        int correlationId = random.nextInt(1 << 20);
        short headerVersion = headerVersion(api, version);
        byte[] header = header(apiId, version, correlationId, headerVersion);
        byte[] body = mutate(validBody(api, version), mutation, random);
        byte[] payload = ByteBuffer.allocate(header.length + body.length)
                .put(header)
                .put(body)
                .array();
        int size = mutation.equals("short") ? payload.length + 1 + random.nextInt(100) : payload.length;
        byte[] frame = ByteBuffer.allocate(4 + payload.length)
                .putInt(size)
                .put(payload)
                .array();
        return new FuzzCase(mutation, frame, expectedHeader(api, version, correlationId));
    }

    /** The header the server parses, or null when it cannot parse one (no such API, or one without versions). */
    private static RequestHeader expectedHeader(ApiKeys api, short version, int correlationId) {
        if (api == null) {
            return null;
        }
        try {
            return new RequestHeader(api, version, "fuzz", correlationId);
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static ApiKeys apiKey(int apiId) {
        try {
            return ApiKeys.hasId(apiId) ? ApiKeys.forId(apiId) : null;
        } catch (RuntimeException e) {
            return null; // an id of a removed API
        }
    }

    private static short headerVersion(ApiKeys api, short version) {
        if (api == null) {
            return 1;
        }
        try {
            return api.requestHeaderVersion(version);
        } catch (RuntimeException e) {
            return 1;
        }
    }

    /** A request header with client id "fuzz", encoded by hand so that any api id and version can be sent. */
    private static byte[] header(int apiId, short version, int correlationId, short headerVersion) {
        byte[] clientId = "fuzz".getBytes(StandardCharsets.UTF_8);
        ByteBuffer buffer = ByteBuffer.allocate(2 + 2 + 4 + 2 + clientId.length + 1);
        buffer.putShort((short) apiId).putShort(version).putInt(correlationId);
        buffer.putShort((short) clientId.length).put(clientId);
        if (headerVersion >= 2) {
            buffer.put((byte) 0); // no tagged fields
        }
        return Arrays.copyOf(buffer.array(), buffer.position());
    }

    /** The default request message of the api at that version, or nothing when it cannot be encoded. */
    private static byte[] validBody(ApiKeys api, short version) {
        if (api == null) {
            return new byte[0];
        }
        try {
            if (api == ApiKeys.API_VERSIONS) {
                return RawKafkaConnection.bytes(MessageUtil.toByteBufferAccessor(
                                new ApiVersionsRequestData()
                                        .setClientSoftwareName("fuzz")
                                        .setClientSoftwareVersion("1"),
                                version)
                        .buffer());
            }
            return RawKafkaConnection.bytes(MessageUtil.toByteBufferAccessor(api.messageType.newRequest(), version)
                    .buffer());
        } catch (RuntimeException e) {
            return new byte[0];
        }
    }

    private static byte[] mutate(byte[] body, String mutation, Random random) {
        switch (mutation) {
            case "flipped" -> {
                byte[] flipped = body.clone();
                for (int i = 0; i < 1 + random.nextInt(4) && flipped.length > 0; i++) {
                    flipped[random.nextInt(flipped.length)] ^= (byte) (1 << random.nextInt(8));
                }
                return flipped;
            }
            case "truncated" -> {
                return Arrays.copyOf(body, body.length == 0 ? 0 : random.nextInt(body.length));
            }
            case "random" -> {
                byte[] noise = new byte[random.nextInt(200)];
                random.nextBytes(noise);
                return noise;
            }
            case "trailing" -> {
                byte[] longer = Arrays.copyOf(body, body.length + 1 + random.nextInt(16));
                for (int i = body.length; i < longer.length; i++) {
                    longer[i] = (byte) random.nextInt();
                }
                return longer;
            }
            default -> {
                return body;
            }
        }
    }
}
