package dev.sluice.broker.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class HttpEndpointTest {
    private final MetricsRegistry registry = new MetricsRegistry();
    private final AtomicReference<HealthReport> health = new AtomicReference<>(new HealthReport(true, "serving"));
    private final HttpClient client =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private HttpEndpoint endpoint;

    private final AtomicReference<NodeStatus> status = new AtomicReference<>(new NodeStatus(
            2,
            3,
            true,
            List.of(new NodeStatus.Leadership("orders", 1, 7), new NodeStatus.Leadership("t", 0, 2)),
            5,
            List.of(new NodeStatus.Replica("orders", 1, 2, 7, 40, 41))));

    @BeforeEach
    void start() throws InterruptedException {
        registry.counter("test_requests_total", "Requests").inc(5);
        HttpRoute failing = new HttpRoute() {
            @Override
            public boolean serves(String path) {
                return path.equals("/broken");
            }

            @Override
            public HttpAnswer answer(String method, String path, Map<String, List<String>> parameters) {
                throw new IllegalStateException("broken on purpose");
            }
        };
        endpoint = HttpEndpoint.start(
                "127.0.0.1",
                0,
                registry,
                () -> {
                    HealthReport report = health.get();
                    if (report == null) {
                        throw new IllegalStateException("coordinator unreachable");
                    }
                    return report;
                },
                List.of(NodeStatus.route(status::get), failing, FaultControl.off()));
    }

    @AfterEach
    void stop() {
        endpoint.close();
    }

    private HttpResponse<String> send(String method, String path) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + endpoint.port() + path))
                .timeout(Duration.ofSeconds(5))
                .method(method, HttpRequest.BodyPublishers.noBody())
                .build();
        return client.send(request, HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void shouldServeMetricsInThePrometheusTextFormat() throws Exception {
        HttpResponse<String> response = send("GET", "/metrics");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("content-type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
        assertThat(PrometheusTextParser.parse(response.body())
                        .get("test_requests_total")
                        .samples()
                        .get(0)
                        .value())
                .isEqualTo(5);
        assertThat(send("GET", "/metrics?name[]=x").statusCode()).isEqualTo(200);
    }

    @Test
    void shouldAnswerHealthWhileTheProcessIsUp() throws Exception {
        health.set(new HealthReport(false, "starting"));

        HttpResponse<String> response = send("GET", "/health");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("ok\n");
    }

    @Test
    void shouldAnswerReadyOnlyWhenTheNodeIsReady() throws Exception {
        HttpResponse<String> ready = send("GET", "/ready");
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(ready.body()).isEqualTo("ready: serving\n");

        health.set(new HealthReport(false, "catching up with the coordinator's metadata"));
        HttpResponse<String> notReady = send("GET", "/ready");
        assertThat(notReady.statusCode()).isEqualTo(503);
        assertThat(notReady.body()).isEqualTo("not ready: catching up with the coordinator's metadata\n");

        health.set(null);
        HttpResponse<String> failing = send("GET", "/ready");
        assertThat(failing.statusCode()).isEqualTo(503);
        assertThat(failing.body()).contains("coordinator unreachable");
    }

    @Test
    void shouldAnswerUnknownPathsWithNotFoundAndOtherMethodsWithMethodNotAllowed() throws Exception {
        assertThat(send("GET", "/").statusCode()).isEqualTo(404);
        assertThat(send("GET", "/metricsx").statusCode()).isEqualTo(404);
        HttpResponse<String> post = send("POST", "/metrics");
        assertThat(post.statusCode()).isEqualTo(405);
        assertThat(post.headers().firstValue("allow")).hasValue("GET, HEAD");
        HttpResponse<String> head = send("HEAD", "/health");
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.body()).isEmpty();
    }

    @Test
    void shouldReportTheNodesStatusAsJson() throws Exception {
        HttpResponse<String> response = send("GET", "/status");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("content-type")).hasValue(HttpAnswer.JSON);
        assertThat(response.body())
                .isEqualTo("{\"nodeId\":2,\"coordinatorLeader\":3,\"coordinatorVoter\":true,\"leaders\":["
                        + "{\"topic\":\"orders\",\"partition\":1,\"leaderEpoch\":7},"
                        + "{\"topic\":\"t\",\"partition\":0,\"leaderEpoch\":2}],\"replicas\":5,\"partitions\":["
                        + "{\"topic\":\"orders\",\"partition\":1,\"leader\":2,\"leaderEpoch\":7,"
                        + "\"highWatermark\":40,\"logEndOffset\":41}]}");
        HttpResponse<String> post = send("POST", "/status");
        assertThat(post.statusCode()).isEqualTo(405);
        assertThat(post.headers().firstValue("allow")).hasValue("GET, HEAD");
    }

    @Test
    void shouldAnswerARoutesFailureWithAServerErrorAndKeepServing() throws Exception {
        HttpResponse<String> broken = send("GET", "/broken?x=1");

        assertThat(broken.statusCode()).isEqualTo(500);
        assertThat(broken.body()).contains("broken on purpose");
        assertThat(send("GET", "/health").statusCode()).isEqualTo(200);
    }

    @Test
    void shouldTellHowToTurnFaultControlOnWhenItIsOff() throws Exception {
        HttpResponse<String> response = send("POST", "/faults/isolate?peer=1");

        assertThat(response.statusCode()).isEqualTo(404);
        assertThat(response.body()).contains("raft.rpc.type=faulty");
    }

    @Test
    void shouldServeManyRequestsOnKeptAliveConnectionsAndStopOnClose() throws Exception {
        for (int i = 0; i < 20; i++) {
            assertThat(send("GET", i % 2 == 0 ? "/health" : "/metrics").statusCode())
                    .isEqualTo(200);
        }

        endpoint.close();
        endpoint.close();

        assertThatThrownBy(() -> HttpClient.newHttpClient()
                        .send(
                                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + endpoint.port() + "/health"))
                                        .timeout(Duration.ofSeconds(5))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString()))
                .isInstanceOf(ConnectException.class);
    }
}
