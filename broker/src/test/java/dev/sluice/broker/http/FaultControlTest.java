package dev.sluice.broker.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.raft.transport.FaultInjector;
import dev.sluice.raft.transport.LinkFaults;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The fault operations and their validation, without a network: straight calls on the route. */
class FaultControlTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final FaultInjector injector = new FaultInjector("control-test", 5);
    private final FaultControl control = FaultControl.of(injector, "1");

    private HttpAnswer post(String operation, String... parameters) {
        return control.answer("POST", "/faults/" + operation, parameters(parameters));
    }

    private static Map<String, List<String>> parameters(String... pairs) {
        Map<String, List<String>> map = new LinkedHashMap<>();
        for (String pair : pairs) {
            int eq = pair.indexOf('=');
            map.computeIfAbsent(pair.substring(0, eq), k -> new java.util.ArrayList<>())
                    .add(pair.substring(eq + 1));
        }
        return map;
    }

    private static JsonNode json(HttpAnswer answer) throws Exception {
        assertThat(answer.status()).as(answer.body()).isEqualTo(200);
        assertThat(answer.contentType()).isEqualTo(HttpAnswer.JSON);
        return JSON.readTree(answer.body());
    }

    @Test
    void shouldServeOnlyTheFaultsPaths() {
        assertThat(control.serves("/faults")).isTrue();
        assertThat(control.serves("/faults/isolate")).isTrue();
        assertThat(control.serves("/faultsy")).isFalse();
        assertThat(control.serves("/status")).isFalse();
    }

    @Test
    void shouldShowHealthySwitchesAtFirst() throws Exception {
        JsonNode state = json(control.answer("GET", "/faults", Map.of()));

        assertThat(state.get("self").asText()).isEqualTo("1");
        assertThat(state.get("injector").asText()).isEqualTo("control-test");
        assertThat(state.get("seed").asLong()).isEqualTo(5);
        assertThat(state.get("isolated")).isEmpty();
        assertThat(state.get("cuts")).isEmpty();
        assertThat(state.get("links")).isEmpty();
        assertThat(state.get("defaultFaults").get("dropProbability").asDouble()).isZero();
        assertThat(fieldNames(state.get("defaultFaults")))
                .containsExactly(
                        "dropProbability",
                        "delayMinMs",
                        "delayMaxMs",
                        "duplicateProbability",
                        "reorderProbability",
                        "reorderDelayMaxMs");
    }

    @Test
    void shouldIsolateAndRejoinAPeer() throws Exception {
        JsonNode isolated = json(post("isolate", "peer=2"));

        assertThat(isolated.get("isolated").toString()).isEqualTo("[\"2\"]");
        assertThat(injector.isDown("2", "3")).isTrue();

        json(post("rejoin", "peer=2"));
        assertThat(injector.isolatedPeers()).isEmpty();
    }

    @Test
    void shouldCutOneWayPartitionBothWaysAndHeal() throws Exception {
        JsonNode cut = json(post("cut", "from=1", "to=3"));
        assertThat(cut.get("cuts").toString()).isEqualTo("[[\"1\",\"3\"]]");
        assertThat(injector.isDown("3", "1")).isFalse();

        JsonNode partitioned = json(post("partition", "a=2", "b=3"));
        assertThat(partitioned.get("cuts").toString()).isEqualTo("[[\"1\",\"3\"],[\"2\",\"3\"],[\"3\",\"2\"]]");

        json(post("heal", "a=3", "b=2"));
        assertThat(injector.isDown("2", "3")).isFalse();
        assertThat(injector.isDown("1", "3")).isTrue();

        post("isolate", "peer=2");
        JsonNode healed = json(post("heal-all"));
        assertThat(healed.get("cuts")).isEmpty();
        assertThat(healed.get("isolated")).isEmpty();
    }

    @Test
    void shouldSetALinksFaultsWithAbsentParametersAsZero() throws Exception {
        JsonNode state = json(post("link", "from=1", "to=2", "drop=0.1", "delayMinMs=10", "delayMaxMs=50"));

        assertThat(injector.faults("1", "2")).isEqualTo(new LinkFaults(0.1, 10, 50, 0, 0, 0));
        JsonNode link = state.get("links").get(0);
        assertThat(link.get("from").asText()).isEqualTo("1");
        assertThat(link.get("to").asText()).isEqualTo("2");
        assertThat(link.get("faults").get("delayMaxMs").asLong()).isEqualTo(50);
    }

    @Test
    void shouldSetTheDefaultFaultsThenClearThemButKeepCuts() throws Exception {
        post("cut", "from=2", "to=1");
        json(post("default", "duplicate=0.5", "reorder=0.25", "reorderDelayMaxMs=100"));
        assertThat(injector.defaultFaults()).isEqualTo(new LinkFaults(0, 0, 0, 0.5, 0.25, 100));

        JsonNode cleared = json(post("clear"));

        assertThat(injector.defaultFaults()).isEqualTo(LinkFaults.NONE);
        assertThat(cleared.get("cuts")).hasSize(1);
    }

    @Test
    void shouldResetEverything() throws Exception {
        post("isolate", "peer=3");
        post("partition", "a=1", "b=2");
        post("link", "from=1", "to=3", "drop=1");
        post("default", "delayMinMs=5", "delayMaxMs=5");

        JsonNode state = json(post("reset"));

        assertThat(state.get("isolated")).isEmpty();
        assertThat(state.get("cuts")).isEmpty();
        assertThat(state.get("links")).isEmpty();
        assertThat(injector.defaultFaults()).isEqualTo(LinkFaults.NONE);
    }

    @Test
    void shouldRefuseBadParametersNamingThemAndWhatIsAllowed() {
        assertBadRequest(post("isolate"), "'peer' is required", "node id");
        assertBadRequest(post("isolate", "peer=n2"), "'peer'", "node id", "'n2'");
        assertBadRequest(post("isolate", "peer=-1"), "'peer'", "non-negative");
        assertBadRequest(post("isolate", "peer=2", "peer=3"), "'peer' is given 2 times");
        assertBadRequest(post("isolate", "node=2"), "unknown parameter 'node'", "allowed: peer");
        assertBadRequest(post("cut", "from=1"), "'to' is required");
        assertBadRequest(post("cut", "from=1", "to=1"), "two different nodes");
        assertBadRequest(post("heal-all", "peer=1"), "unknown parameter 'peer'", "allowed: none");
        assertBadRequest(post("link", "from=1", "to=2", "drop=1.5"), "'drop'", "[0, 1]", "'1.5'");
        assertBadRequest(post("link", "from=1", "to=2", "duplicate=often"), "'duplicate'", "[0, 1]");
        assertBadRequest(post("default", "delayMinMs=10"), "'delayMaxMs' (0)", "'delayMinMs' (10)");
        assertBadRequest(post("default", "delayMaxMs=-5"), "'delayMaxMs'", "0 to 60000");
        assertBadRequest(post("default", "reorderDelayMaxMs=1.5"), "'reorderDelayMaxMs'", "whole milliseconds");
        assertBadRequest(post("default", "delayMaxMs=600000"), "'delayMaxMs'", "60000");
        assertBadRequest(post("default", "jitter=1"), "unknown parameter 'jitter'", "drop, delayMinMs");
        assertThat(injector.isolatedPeers())
                .as("a refused operation changes nothing")
                .isEmpty();
        assertThat(injector.cutLinks()).isEmpty();
        assertThat(injector.defaultFaults()).isEqualTo(LinkFaults.NONE);
    }

    @Test
    void shouldRefuseOtherMethodsAndUnknownOperations() {
        HttpAnswer get = control.answer("GET", "/faults/isolate", parameters("peer=1"));
        assertThat(get.status()).isEqualTo(405);
        assertThat(get.allow()).isEqualTo("POST");
        assertThat(injector.isolatedPeers()).isEmpty();

        HttpAnswer post = control.answer("POST", "/faults", Map.of());
        assertThat(post.status()).isEqualTo(405);
        assertThat(post.allow()).isEqualTo("GET, HEAD");

        HttpAnswer unknown = post("explode");
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.body()).contains("POST /faults/isolate").contains("POST /faults/reset");
    }

    @Test
    void shouldAnswerNotFoundWithHowToTurnItOnWhenTheNodeHasNoInjector() {
        FaultControl off = FaultControl.off();

        for (String path : List.of("/faults", "/faults/isolate", "/faults/anything")) {
            HttpAnswer answer = off.answer("POST", path, parameters("peer=1"));
            assertThat(answer.status()).isEqualTo(404);
            assertThat(answer.body()).contains("raft.rpc.type=faulty");
        }
    }

    private static void assertBadRequest(HttpAnswer answer, String... fragments) {
        assertThat(answer.status()).as(answer.body()).isEqualTo(400);
        assertThat(answer.contentType()).isEqualTo(HttpAnswer.TEXT);
        for (String fragment : fragments) {
            assertThat(answer.body()).contains(fragment);
        }
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new java.util.ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
