package dev.sluice.raft.transport;

import java.util.Collections;
import java.util.Comparator;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The switchboard of a fault-injecting network: decides, for every message crossing a directed link
 * between two Raft peers, whether it is lost, how long it is delayed and whether it is duplicated. Tests and
 * simulations flip its switches while the servers run; {@link FaultInjectingRpcFactory} asks it about every
 * server-to-server call.
 *
 * <h2>Links and messages</h2>
 *
 * A link is directed: {@code a -> b} carries the requests {@code a} sends to {@code b} and the replies
 * {@code a} sends back for requests that {@code b} sent. So a one-way cut of {@code a -> b} ({@link #cut})
 * loses every request from {@code a} to {@code b}, while a request from {@code b} to {@code a} still arrives
 * and is processed, but its reply is lost. A link is down when it is cut or when either end is
 * {@link #isolate isolated}; on a down link every message is lost. Otherwise the link's {@link LinkFaults}
 * (or the {@link #setDefaultFaults default}) apply.
 *
 * <h2>Determinism</h2>
 *
 * Each directed link draws from its own random stream, seeded from the injector's seed and the two peer ids,
 * and every message consumes exactly five draws whatever the settings and whether the link is down. So the
 * n-th message on a link always meets the same draws: the same seed and the same sequence of messages and
 * switches on a link give the same decisions, whatever the traffic on other links.
 *
 * <h2>Who decides a call</h2>
 *
 * The injector is asked by the caller's side only: a call from {@code a} to {@code b} (a server-to-server
 * call, or a Raft client call made by node {@code a}) is decided entirely by the injector of {@code a}'s
 * transport, which judges its request against {@code a -> b} and its reply against {@code b -> a}. Within one
 * JVM all peers usually share one injector. Across processes each node has its own; when every node's
 * injector holds the same switches (the same operations sent to each), every call is still judged against
 * that one global picture, so the semantics above hold cluster-wide: a cut of {@code a -> b} loses
 * {@code a}'s requests to {@code b} (decided at {@code a}) and the replies to {@code b}'s requests to
 * {@code a} (decided at {@code b}). Only the random draws differ between processes, each injector having
 * its own streams.
 *
 * <h2>Finding an injector</h2>
 *
 * Ratis creates its RPC factory reflectively, so the servers find their injector by name: {@link #register}
 * puts an injector in a JVM-wide registry, {@link FaultInjectingRpcFactory#configure} writes the name into
 * the server's {@code RaftProperties}, and {@link #close} removes it again. Several owners in one JVM (nodes
 * of an in-process cluster) can share one injector with {@link #registerShared}: the last owner to close its
 * {@link Registration} removes it. An injector can also be handed over in Ratis {@code Parameters} (see
 * {@link FaultInjectingRpcFactory#PARAMETERS_KEY}).
 *
 * <p>Thread-safe: switches may be flipped from any thread while messages are decided on others. A message
 * is judged against the switches as they are when it is offered.
 */
public final class FaultInjector implements AutoCloseable {
    /** How long a lost call takes to fail unless {@link #setLostCallTimeoutMs} says otherwise. */
    public static final long DEFAULT_LOST_CALL_TIMEOUT_MS = 250;

    private static final ConcurrentMap<String, FaultInjector> REGISTRY = new ConcurrentHashMap<>();

    private final String name;
    private final long seed;
    /** Owners of a shared registration; -1 when registered exclusively or not at all. Guarded by REGISTRY. */
    private int sharedOwners = -1;

    private final ConcurrentMap<Link, LinkState> links = new ConcurrentHashMap<>();
    private final ConcurrentMap<Link, LinkFaults> faults = new ConcurrentHashMap<>();
    private final Set<Link> cuts = ConcurrentHashMap.newKeySet();
    private final Set<String> isolated = ConcurrentHashMap.newKeySet();
    private volatile LinkFaults defaultFaults = LinkFaults.NONE;
    private volatile long lostCallTimeoutMs = DEFAULT_LOST_CALL_TIMEOUT_MS;

    /**
     * Creates an injector that is not in the registry (for unit tests, or to pass in Ratis
     * {@code Parameters}).
     *
     * @param name a label for logs and messages
     * @param seed the seed of every link's random stream; print it so that a failing run can be replayed
     */
    public FaultInjector(String name, long seed) {
        this.name = requireId("name", name);
        this.seed = seed;
    }

    /**
     * Creates an injector and registers it under {@code name}, where servers configured with
     * {@link FaultInjectingRpcFactory#configure} find it. {@link #close()} unregisters it.
     *
     * @throws IllegalStateException if another injector is registered under {@code name}
     */
    public static FaultInjector register(String name, long seed) {
        FaultInjector injector = new FaultInjector(name, seed);
        FaultInjector previous = REGISTRY.putIfAbsent(name, injector);
        if (previous != null) {
            throw new IllegalStateException("a FaultInjector is already registered under '" + name + "': " + previous);
        }
        return injector;
    }

    /**
     * Registers an injector under {@code name} that several owners share, or joins the one already shared
     * there; the injector stays registered until every owner has closed its {@link Registration}. All owners
     * see the same switches: nodes of an in-process cluster use this, each calling it once.
     *
     * @throws IllegalStateException if an injector is registered under {@code name} with {@link #register}
     *     (not shared), or is shared with a different seed
     */
    public static Registration registerShared(String name, long seed) {
        FaultInjector[] joined = new FaultInjector[1];
        REGISTRY.compute(requireId("name", name), (key, existing) -> {
            if (existing == null) {
                FaultInjector created = new FaultInjector(name, seed);
                created.sharedOwners = 1;
                joined[0] = created;
                return created;
            }
            if (existing.sharedOwners < 0) {
                throw new IllegalStateException("a FaultInjector is already registered under '" + name
                        + "' for one owner only (FaultInjector.register): " + existing);
            }
            if (existing.seed != seed) {
                throw new IllegalStateException("the FaultInjector shared under '" + name + "' has seed "
                        + existing.seed + ", not " + seed + "; every owner must give the same seed");
            }
            existing.sharedOwners++;
            joined[0] = existing;
            return existing;
        });
        return new Registration(joined[0]);
    }

    /** @return the injector registered under {@code name}, if any */
    public static Optional<FaultInjector> lookup(String name) {
        return Optional.ofNullable(REGISTRY.get(name));
    }

    /** @return the names of all registered injectors, sorted */
    public static SortedSet<String> registeredNames() {
        return new TreeSet<>(REGISTRY.keySet());
    }

    /** @return the label given at creation */
    public String name() {
        return name;
    }

    /** @return the seed of every link's random stream */
    public long seed() {
        return seed;
    }

    // ---------------------------------------------------------------- probabilistic faults

    /** Sets the faults of the directed link {@code from -> to}, replacing the default for that link. */
    public void setFaults(String from, String to, LinkFaults linkFaults) {
        faults.put(link(from, to), Objects.requireNonNull(linkFaults, "linkFaults"));
    }

    /** Sets the faults of every link that has no faults of its own. */
    public void setDefaultFaults(LinkFaults linkFaults) {
        defaultFaults = Objects.requireNonNull(linkFaults, "linkFaults");
    }

    /** @return the faults currently applied to {@code from -> to} */
    public LinkFaults faults(String from, String to) {
        return faults.getOrDefault(link(from, to), defaultFaults);
    }

    /** Removes every link's faults and resets the default to {@link LinkFaults#NONE}; partitions stay. */
    public void clearFaults() {
        faults.clear();
        defaultFaults = LinkFaults.NONE;
    }

    // ---------------------------------------------------------------- partitions

    /** Cuts the link {@code from -> to} in that direction only; {@code to -> from} keeps working. */
    public void cut(String from, String to) {
        cuts.add(link(from, to));
    }

    /** Cuts the links between {@code a} and {@code b} in both directions. */
    public void partition(String a, String b) {
        cut(a, b);
        cut(b, a);
    }

    /** Cuts every link into and out of {@code peer}, including links to peers not seen yet. */
    public void isolate(String peer) {
        isolated.add(requireId("peer", peer));
    }

    /** Undoes {@link #isolate} for {@code peer}; cuts made with {@link #cut} or {@link #partition} stay. */
    public void rejoin(String peer) {
        isolated.remove(requireId("peer", peer));
    }

    /** Restores both directions between {@code a} and {@code b}; isolation of either peer stays. */
    public void heal(String a, String b) {
        cuts.remove(link(a, b));
        cuts.remove(link(b, a));
    }

    /** Removes every cut and isolation; probabilistic faults stay. */
    public void healAll() {
        cuts.clear();
        isolated.clear();
    }

    /** @return whether {@code from -> to} currently loses every message */
    public boolean isDown(String from, String to) {
        Link link = link(from, to);
        return cuts.contains(link) || isolated.contains(link.from()) || isolated.contains(link.to());
    }

    /** Removes every cut, isolation and probabilistic fault: every link is healthy again. */
    public void reset() {
        healAll();
        clearFaults();
    }

    // ---------------------------------------------------------------- the switches as they are

    /** @return the isolated peers, sorted */
    public SortedSet<String> isolatedPeers() {
        return Collections.unmodifiableSortedSet(new TreeSet<>(isolated));
    }

    /** @return the links cut with {@link #cut} or {@link #partition}, sorted by source then destination */
    public SortedSet<Link> cutLinks() {
        SortedSet<Link> sorted = new TreeSet<>(Link.ORDER);
        sorted.addAll(cuts);
        return Collections.unmodifiableSortedSet(sorted);
    }

    /** @return the faults of every link without faults of its own */
    public LinkFaults defaultFaults() {
        return defaultFaults;
    }

    /** @return the links given faults of their own with {@link #setFaults}, sorted, with those faults */
    public SortedMap<Link, LinkFaults> linkFaults() {
        SortedMap<Link, LinkFaults> sorted = new TreeMap<>(Link.ORDER);
        sorted.putAll(faults);
        return Collections.unmodifiableSortedMap(sorted);
    }

    // ---------------------------------------------------------------- timing of lost calls

    /**
     * Sets how long a call whose request or reply is lost blocks before it fails, standing in for the
     * transport's request timeout. Keep it well below the election timeout in tests.
     */
    public void setLostCallTimeoutMs(long timeoutMs) {
        if (timeoutMs < 0) {
            throw new IllegalArgumentException("lostCallTimeoutMs must be >= 0, got " + timeoutMs);
        }
        lostCallTimeoutMs = timeoutMs;
    }

    /** @return how long a lost call blocks before it fails */
    public long lostCallTimeoutMs() {
        return lostCallTimeoutMs;
    }

    // ---------------------------------------------------------------- decisions

    /** Decides the fate of a request that {@code from} sends to {@code to}, and counts it. */
    public Delivery onRequest(String from, String to) {
        return decide(from, to, true);
    }

    /**
     * Decides the fate of a reply that {@code from} sends back to {@code to} (so the request went from
     * {@code to} to {@code from}), and counts it. Replies are never duplicated.
     */
    public Delivery onReply(String from, String to) {
        return decide(from, to, false);
    }

    /** @return the traffic counted on {@code from -> to} so far */
    public LinkStats stats(String from, String to) {
        LinkState state = links.get(link(from, to));
        return state == null ? LinkStats.EMPTY : state.stats();
    }

    private Delivery decide(String from, String to, boolean request) {
        Link link = link(from, to);
        boolean down = isDown(from, to);
        LinkFaults linkFaults = faults(from, to);
        return links.computeIfAbsent(link, l -> new LinkState(seedOf(l))).decide(linkFaults, down, request);
    }

    private long seedOf(Link link) {
        return mix64(mix64(seed ^ link.from().hashCode()) ^ link.to().hashCode());
    }

    /** The SplitMix64 finaliser: spreads nearby inputs over all 64 bits. */
    private static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /**
     * Unregisters this injector if it is the one registered under its name, even when it is shared (owners of
     * a shared injector close their {@link Registration} instead). Switches keep working.
     */
    @Override
    public void close() {
        REGISTRY.remove(name, this);
    }

    @Override
    public String toString() {
        return "FaultInjector[name=" + name + ", seed=" + seed + "]";
    }

    private static Link link(String from, String to) {
        return new Link(requireId("from", from), requireId("to", to));
    }

    private static String requireId(String what, String id) {
        if (id == null || id.isEmpty()) {
            throw new IllegalArgumentException(what + " must be a non-empty peer id, got " + id);
        }
        return id;
    }

    /**
     * A directed link between two peers.
     *
     * @param from the peer whose requests (and replies to {@code to}'s requests) cross the link
     * @param to the peer at the other end
     */
    public record Link(String from, String to) {
        /** By source, then destination. */
        public static final Comparator<Link> ORDER =
                Comparator.comparing(Link::from).thenComparing(Link::to);
    }

    /**
     * One owner's share of an injector registered with {@link #registerShared}. Closing it (once; later closes
     * do nothing) gives the share up; the last share closed unregisters the injector.
     */
    public static final class Registration implements AutoCloseable {
        private final FaultInjector injector;
        private final AtomicBoolean closed = new AtomicBoolean();

        private Registration(FaultInjector injector) {
            this.injector = injector;
        }

        /** @return the shared injector */
        public FaultInjector injector() {
            return injector;
        }

        @Override
        public void close() {
            if (!closed.compareAndSet(false, true)) {
                return;
            }
            REGISTRY.computeIfPresent(injector.name, (key, registered) -> {
                if (registered != injector) {
                    return registered;
                }
                registered.sharedOwners--;
                return registered.sharedOwners > 0 ? registered : null;
            });
        }

        @Override
        public String toString() {
            return "FaultInjector.Registration[" + injector + "]";
        }
    }

    /** One link's random stream and counters. Guarded by its own monitor. */
    private static final class LinkState {
        private final SplittableRandom random;
        private long requests;
        private long replies;
        private long lost;
        private long duplicated;

        LinkState(long seed) {
            this.random = new SplittableRandom(seed);
        }

        synchronized Delivery decide(LinkFaults f, boolean down, boolean request) {
            // Always five draws, so the n-th message meets the same draws whatever the switches say.
            double dropDraw = random.nextDouble();
            double delayDraw = random.nextDouble();
            double duplicateDraw = random.nextDouble();
            double reorderDraw = random.nextDouble();
            double reorderDelayDraw = random.nextDouble();
            if (request) {
                requests++;
            } else {
                replies++;
            }
            if (down || dropDraw < f.dropProbability()) {
                lost++;
                return Delivery.LOST;
            }
            long delayMs = f.delayMinMs() + scale(delayDraw, f.delayMaxMs() - f.delayMinMs());
            if (reorderDraw < f.reorderProbability()) {
                delayMs = saturatedAdd(delayMs, scale(reorderDelayDraw, f.reorderDelayMaxMs()));
            }
            boolean duplicate = request && duplicateDraw < f.duplicateProbability();
            if (duplicate) {
                duplicated++;
            }
            return delayMs == 0 && !duplicate ? Delivery.ON_TIME : new Delivery(false, delayMs, duplicate);
        }

        synchronized LinkStats stats() {
            return new LinkStats(requests, replies, lost, duplicated);
        }

        /** Maps a draw in {@code [0, 1)} uniformly onto {@code 0..max}. */
        private static long scale(double draw, long max) {
            return Math.min(max, (long) (draw * ((double) max + 1)));
        }

        private static long saturatedAdd(long a, long b) {
            long sum = a + b;
            return sum < 0 ? Long.MAX_VALUE : sum;
        }
    }
}
