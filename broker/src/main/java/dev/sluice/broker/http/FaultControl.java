package dev.sluice.broker.http;

import dev.sluice.raft.transport.FaultInjector;
import dev.sluice.raft.transport.LinkFaults;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * The HTTP control of the network faults between nodes, for chaos runs: flips the switches of the node's
 * {@link FaultInjector} (present when the node runs {@code raft.rpc.type=faulty}).
 *
 * <h2>Paths</h2>
 *
 * <ul>
 *   <li>{@code GET /faults}: the switches as JSON, {@code {"self":"1","injector":"chaos","seed":0,
 *       "lostCallTimeoutMs":250,"isolated":["2"],"cuts":[["1","3"]],"defaultFaults":{...},
 *       "links":[{"from":"1","to":"2","faults":{...}}]}}, where a faults object holds {@link LinkFaults}'
 *       fields ({@code dropProbability}, {@code delayMinMs}, {@code delayMaxMs}, {@code duplicateProbability},
 *       {@code reorderProbability}, {@code reorderDelayMaxMs}); lists are sorted.
 *   <li>{@code POST /faults/isolate?peer=P}, {@code /faults/rejoin?peer=P}, {@code /faults/cut?from=A&to=B}
 *       (one way), {@code /faults/partition?a=A&b=B} (both ways), {@code /faults/heal?a=A&b=B} (both ways),
 *       {@code /faults/heal-all} (every cut and isolation), {@code /faults/link?from=A&to=B&drop=&delayMinMs=
 *       &delayMaxMs=&duplicate=&reorder=&reorderDelayMaxMs=} (the faults of one directed link; absent
 *       parameters are 0), {@code /faults/default?...} (the same six, for every link without faults of its
 *       own), {@code /faults/clear} (every probabilistic fault; cuts and isolations stay), {@code
 *       /faults/reset} (everything healthy).
 * </ul>
 *
 * Every operation answers 200 with the new switches as {@code GET /faults} shows them, or 400 with a plain
 * message naming the bad parameter and what it allows (peers are node ids; probabilities are in [0, 1];
 * delays are whole milliseconds up to {@value #DELAY_MAX_MS}). Parameters travel in the query string. Another
 * method answers 405, an unknown operation 404; on a node without an injector every {@code /faults} path
 * answers 404 saying how to start the node.
 *
 * <h2>One picture on every node</h2>
 *
 * Each node process has its own injector, which decides the calls that node makes: their requests as links
 * from the node and their replies as links back to it (see {@link FaultInjector}). A chaos harness therefore
 * sends the same operation to every live node, so that every injector holds the same switches; then every
 * call is judged against one global picture and the semantics are the cluster's: {@code cut?from=1&to=2}
 * loses node 1's requests to node 2 (decided on node 1) and the replies node 1 sends back to node 2's
 * requests (decided on node 2), while node 2's requests still reach node 1. A node that restarts starts
 * healthy; send it the current switches again. Nodes in one JVM share one injector, so one call changes all.
 *
 * <p>Thread-safe (the injector is); answers without blocking, as the endpoint's event loop needs.
 */
public final class FaultControl implements HttpRoute {
    /** The largest delay a parameter accepts: delays block Raft threads, and a minute is already an outage. */
    public static final long DELAY_MAX_MS = 60_000;

    static final String PATH = "/faults";
    private static final String PEER = "a node id (a non-negative integer)";
    private static final List<String> FAULT_PARAMETERS =
            List.of("drop", "delayMinMs", "delayMaxMs", "duplicate", "reorder", "reorderDelayMaxMs");

    private final FaultInjector injector;
    private final String self;
    private final Map<String, Operation> operations = new LinkedHashMap<>();

    private FaultControl(FaultInjector injector, String self) {
        this.injector = injector;
        this.self = self;
        operation("isolate", List.of("peer"), p -> injector.isolate(p.peer("peer")));
        operation("rejoin", List.of("peer"), p -> injector.rejoin(p.peer("peer")));
        operation("cut", List.of("from", "to"), p -> injector.cut(p.peer("from"), p.otherPeer("to", "from")));
        operation("partition", List.of("a", "b"), p -> injector.partition(p.peer("a"), p.otherPeer("b", "a")));
        operation("heal", List.of("a", "b"), p -> injector.heal(p.peer("a"), p.otherPeer("b", "a")));
        operation("heal-all", List.of(), p -> injector.healAll());
        List<String> link = new ArrayList<>(List.of("from", "to"));
        link.addAll(FAULT_PARAMETERS);
        operation("link", link, p -> injector.setFaults(p.peer("from"), p.otherPeer("to", "from"), p.faults()));
        operation("default", FAULT_PARAMETERS, p -> injector.setDefaultFaults(p.faults()));
        operation("clear", List.of(), p -> injector.clearFaults());
        operation("reset", List.of(), p -> injector.reset());
    }

    /** The control of {@code injector} on the node whose peer id is {@code self}. */
    public static FaultControl of(FaultInjector injector, String self) {
        return new FaultControl(Objects.requireNonNull(injector, "injector"), Objects.requireNonNull(self, "self"));
    }

    /** The answer of a node without fault injection: 404 on every {@code /faults} path. */
    public static FaultControl off() {
        return new FaultControl(null, null);
    }

    private void operation(String name, List<String> parameters, Consumer<Parameters> action) {
        operations.put(name, new Operation(name, List.copyOf(parameters), action));
    }

    @Override
    public boolean serves(String path) {
        return path.equals(PATH) || path.startsWith(PATH + "/");
    }

    @Override
    public HttpAnswer answer(String method, String path, Map<String, List<String>> parameters) {
        if (injector == null) {
            return HttpAnswer.text(
                    404,
                    "network fault injection is off on this node: start the node with raft.rpc.type=faulty"
                            + " (and raft.fault.injector=NAME) to control faults over HTTP");
        }
        if (path.equals(PATH)) {
            if (!method.equals("GET") && !method.equals("HEAD")) {
                return HttpAnswer.methodNotAllowed("GET, HEAD");
            }
            return HttpAnswer.json(state());
        }
        Operation operation = operations.get(path.substring(PATH.length() + 1));
        if (operation == null) {
            return HttpAnswer.text(
                    404,
                    "unknown fault operation " + path + "; operations: GET " + PATH + ", POST " + PATH + "/"
                            + String.join(", POST " + PATH + "/", operations.keySet()));
        }
        if (!method.equals("POST")) {
            return HttpAnswer.methodNotAllowed("POST");
        }
        try {
            operation.action().accept(new Parameters(path, operation.parameters(), parameters));
        } catch (BadParameterException e) {
            return HttpAnswer.text(400, e.getMessage());
        }
        return HttpAnswer.json(state());
    }

    /** The switches as {@code GET /faults} shows them. */
    String state() {
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("self", self);
        state.put("injector", injector.name());
        state.put("seed", injector.seed());
        state.put("lostCallTimeoutMs", injector.lostCallTimeoutMs());
        state.put("isolated", List.copyOf(injector.isolatedPeers()));
        state.put(
                "cuts",
                injector.cutLinks().stream()
                        .map(link -> List.of(link.from(), link.to()))
                        .toList());
        state.put("defaultFaults", faultsJson(injector.defaultFaults()));
        List<Map<String, Object>> links = new ArrayList<>();
        injector.linkFaults().forEach((link, faults) -> {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("from", link.from());
            entry.put("to", link.to());
            entry.put("faults", faultsJson(faults));
            links.add(entry);
        });
        state.put("links", links);
        return Json.write(state);
    }

    private static Map<String, Object> faultsJson(LinkFaults faults) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("dropProbability", faults.dropProbability());
        json.put("delayMinMs", faults.delayMinMs());
        json.put("delayMaxMs", faults.delayMaxMs());
        json.put("duplicateProbability", faults.duplicateProbability());
        json.put("reorderProbability", faults.reorderProbability());
        json.put("reorderDelayMaxMs", faults.reorderDelayMaxMs());
        return json;
    }

    private record Operation(String name, List<String> parameters, Consumer<Parameters> action) {}

    /** A parameter the request got wrong; its message is the 400 answer. */
    private static final class BadParameterException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BadParameterException(String message) {
            super(message, null, false, false);
        }
    }

    /** One request's parameters, checked against what its operation allows. */
    private static final class Parameters {
        private final String path;
        private final Map<String, String> values = new LinkedHashMap<>();

        Parameters(String path, List<String> allowed, Map<String, List<String>> given) {
            this.path = path;
            Set<String> unknown = new TreeSet<>(given.keySet());
            allowed.forEach(unknown::remove);
            if (!unknown.isEmpty()) {
                throw new BadParameterException(
                        "unknown parameter '" + unknown.iterator().next() + "' for " + path + "; allowed: "
                                + (allowed.isEmpty() ? "none" : String.join(", ", allowed)));
            }
            given.forEach((name, list) -> {
                if (list.size() != 1) {
                    throw new BadParameterException(
                            "parameter '" + name + "' is given " + list.size() + " times; give it once");
                }
                values.put(name, list.get(0).trim());
            });
        }

        String peer(String name) {
            String value = values.get(name);
            if (value == null || value.isEmpty()) {
                throw new BadParameterException("parameter '" + name + "' is required for " + path + ": " + PEER);
            }
            if (!value.chars().allMatch(c -> c >= '0' && c <= '9') || value.length() > 9) {
                throw new BadParameterException("parameter '" + name + "' must be " + PEER + ", got '" + value + "'");
            }
            return Integer.toString(Integer.parseInt(value)); // "007" is node 7
        }

        /** A second peer, which must differ from the one named {@code first}. */
        String otherPeer(String name, String first) {
            String peer = peer(name);
            if (peer.equals(peer(first))) {
                throw new BadParameterException("parameters '" + first + "' and '" + name
                        + "' must name two different nodes, both are " + peer);
            }
            return peer;
        }

        LinkFaults faults() {
            long delayMinMs = millis("delayMinMs");
            long delayMaxMs = millis("delayMaxMs");
            if (delayMaxMs < delayMinMs) {
                throw new BadParameterException("parameter 'delayMaxMs' (" + delayMaxMs + ") must be at least"
                        + " 'delayMinMs' (" + delayMinMs + "); absent parameters are 0");
            }
            return new LinkFaults(
                    probability("drop"),
                    delayMinMs,
                    delayMaxMs,
                    probability("duplicate"),
                    probability("reorder"),
                    millis("reorderDelayMaxMs"));
        }

        private double probability(String name) {
            String value = values.get(name);
            if (value == null) {
                return 0;
            }
            double probability;
            try {
                probability = Double.parseDouble(value);
            } catch (NumberFormatException e) {
                probability = Double.NaN;
            }
            if (!(probability >= 0 && probability <= 1)) {
                throw new BadParameterException(
                        "parameter '" + name + "' must be a probability in [0, 1], got '" + value + "'");
            }
            return probability;
        }

        private long millis(String name) {
            String value = values.get(name);
            if (value == null) {
                return 0;
            }
            long millis;
            try {
                millis = Long.parseLong(value);
            } catch (NumberFormatException e) {
                millis = -1;
            }
            if (millis < 0 || millis > DELAY_MAX_MS) {
                throw new BadParameterException("parameter '" + name + "' must be whole milliseconds from 0 to "
                        + DELAY_MAX_MS + ", got '" + value + "'");
            }
            return millis;
        }
    }
}
