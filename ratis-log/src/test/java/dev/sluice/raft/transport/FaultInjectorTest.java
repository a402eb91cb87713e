package dev.sluice.raft.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.LongSummaryStatistics;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class FaultInjectorTest {
    private static final long SEED = 0x5eed_1234L;

    @Test
    void shouldReproduceDropDecisionsOfALinkForTheSameSeed() {
        List<Boolean> first = drops(new FaultInjector("first", SEED), 0.3, 500);
        List<Boolean> second = drops(new FaultInjector("second", SEED), 0.3, 500);

        assertThat(second).isEqualTo(first);
        long lost = first.stream().filter(b -> b).count();
        assertThat(lost).as("lost of 500 at p=0.3").isBetween(100L, 200L);
    }

    @Test
    void shouldDrawOtherDropDecisionsForAnotherSeed() {
        assertThat(drops(new FaultInjector("other", SEED + 1), 0.3, 500))
                .isNotEqualTo(drops(new FaultInjector("first", SEED), 0.3, 500));
    }

    @Test
    void shouldKeepALinksDecisionsIndependentOfTrafficOnOtherLinks() {
        FaultInjector quiet = new FaultInjector("quiet", SEED);
        FaultInjector busy = new FaultInjector("busy", SEED);
        for (FaultInjector injector : List.of(quiet, busy)) {
            injector.setDefaultFaults(LinkFaults.NONE.withDropProbability(0.5));
        }

        List<Boolean> quietDrops = new ArrayList<>();
        List<Boolean> busyDrops = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            quietDrops.add(quiet.onRequest("a", "b").lost());
            busy.onRequest("c", "d");
            busy.onReply("b", "a");
            busyDrops.add(busy.onRequest("a", "b").lost());
        }

        assertThat(busyDrops).isEqualTo(quietDrops);
    }

    @Test
    void shouldKeepTheDecisionSequenceAlignedWhileALinkIsCut() {
        FaultInjector steady = new FaultInjector("steady", SEED);
        FaultInjector cutForAWhile = new FaultInjector("cut", SEED);
        for (FaultInjector injector : List.of(steady, cutForAWhile)) {
            injector.setFaults(
                    "a", "b", LinkFaults.NONE.withDropProbability(0.2).withDelayMs(0, 30));
        }

        List<Delivery> expected = new ArrayList<>();
        List<Delivery> actual = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            if (i == 20) {
                cutForAWhile.cut("a", "b");
            } else if (i == 40) {
                cutForAWhile.heal("a", "b");
            }
            expected.add(steady.onRequest("a", "b"));
            actual.add(cutForAWhile.onRequest("a", "b"));
        }

        assertThat(actual.subList(20, 40)).containsOnly(Delivery.LOST);
        assertThat(actual.subList(40, 100)).isEqualTo(expected.subList(40, 100));
        assertThat(actual.subList(0, 20)).isEqualTo(expected.subList(0, 20));
    }

    @Test
    void shouldLoseMessagesOnACutLinkInThatDirectionOnly() {
        FaultInjector injector = new FaultInjector("one-way", SEED);
        injector.cut("a", "b");

        assertThat(injector.onRequest("a", "b")).isEqualTo(Delivery.LOST);
        assertThat(injector.onReply("a", "b")).as("reply to a request b sent").isEqualTo(Delivery.LOST);
        assertThat(injector.onRequest("b", "a")).isEqualTo(Delivery.ON_TIME);
        assertThat(injector.onReply("b", "a")).isEqualTo(Delivery.ON_TIME);
        assertThat(injector.isDown("a", "b")).isTrue();
        assertThat(injector.isDown("b", "a")).isFalse();
    }

    @Test
    void shouldCutBothDirectionsOnPartitionUntilHealed() {
        FaultInjector injector = new FaultInjector("both-ways", SEED);
        injector.partition("a", "b");

        assertThat(injector.isDown("a", "b")).isTrue();
        assertThat(injector.isDown("b", "a")).isTrue();
        assertThat(injector.isDown("a", "c")).isFalse();

        injector.heal("b", "a");

        assertThat(injector.isDown("a", "b")).isFalse();
        assertThat(injector.isDown("b", "a")).isFalse();
    }

    @Test
    void shouldIsolateAPeerFromEveryPeerUntilItRejoins() {
        FaultInjector injector = new FaultInjector("isolate", SEED);
        injector.cut("b", "c");
        injector.isolate("a");

        assertThat(injector.isDown("a", "b")).isTrue();
        assertThat(injector.isDown("never-seen", "a")).isTrue();
        assertThat(injector.isDown("c", "b")).isFalse();

        injector.rejoin("a");
        assertThat(injector.isDown("a", "b")).isFalse();
        assertThat(injector.isDown("b", "c")).as("cuts survive a rejoin").isTrue();

        injector.isolate("a");
        injector.healAll();
        assertThat(injector.isDown("a", "b")).isFalse();
        assertThat(injector.isDown("b", "c")).isFalse();
    }

    @Test
    void shouldDrawDelaysUniformlyWithinTheConfiguredRange() {
        FaultInjector injector = new FaultInjector("delay", SEED);
        injector.setFaults("a", "b", LinkFaults.NONE.withDelayMs(10, 20));

        LongSummaryStatistics delays = IntStream.range(0, 1000)
                .mapToLong(i -> injector.onRequest("a", "b").delayMs())
                .summaryStatistics();

        assertThat(delays.getMin()).isEqualTo(10);
        assertThat(delays.getMax()).isEqualTo(20);
        assertThat(delays.getAverage()).isBetween(14.0, 16.0);
    }

    @Test
    void shouldAddAReorderingDelayToSomeMessagesOnly() {
        FaultInjector injector = new FaultInjector("reorder", SEED);
        injector.setFaults("a", "b", LinkFaults.NONE.withDelayMs(5).withReorder(0.25, 100));

        List<Long> delays = IntStream.range(0, 1000)
                .mapToObj(i -> injector.onRequest("a", "b").delayMs())
                .toList();

        assertThat(delays).allMatch(d -> d >= 5 && d <= 105);
        long held = delays.stream().filter(d -> d > 5).count();
        assertThat(held).as("messages held back at p=0.25").isBetween(180L, 320L);
    }

    @Test
    void shouldDuplicateRequestsButNeverReplies() {
        FaultInjector injector = new FaultInjector("duplicate", SEED);
        injector.setDefaultFaults(LinkFaults.NONE.withDuplicateProbability(1.0));

        assertThat(injector.onRequest("a", "b")).isEqualTo(new Delivery(false, 0, true));
        assertThat(injector.onReply("a", "b")).isEqualTo(Delivery.ON_TIME);
        assertThat(injector.stats("a", "b")).isEqualTo(new LinkStats(1, 1, 0, 1));
    }

    @Test
    void shouldPreferALinksOwnFaultsOverTheDefaultUntilCleared() {
        FaultInjector injector = new FaultInjector("override", SEED);
        LinkFaults lossy = LinkFaults.NONE.withDropProbability(1.0);
        injector.setDefaultFaults(LinkFaults.NONE.withDelayMs(3));
        injector.setFaults("a", "b", lossy);

        assertThat(injector.faults("a", "b")).isEqualTo(lossy);
        assertThat(injector.faults("b", "a")).isEqualTo(LinkFaults.NONE.withDelayMs(3));

        injector.clearFaults();

        assertThat(injector.faults("a", "b")).isEqualTo(LinkFaults.NONE);
        assertThat(injector.onRequest("a", "b")).isEqualTo(Delivery.ON_TIME);
    }

    @Test
    void shouldCountMessagesPerDirectedLink() {
        FaultInjector injector = new FaultInjector("stats", SEED);
        injector.cut("b", "a");

        injector.onRequest("a", "b");
        injector.onRequest("a", "b");
        injector.onReply("b", "a");
        injector.onRequest("b", "a");

        assertThat(injector.stats("a", "b")).isEqualTo(new LinkStats(2, 0, 0, 0));
        assertThat(injector.stats("b", "a")).isEqualTo(new LinkStats(1, 1, 2, 0));
        assertThat(injector.stats("b", "a").delivered()).isZero();
        assertThat(injector.stats("a", "c")).isEqualTo(LinkStats.EMPTY);
    }

    @Test
    void shouldRejectInvalidSettingsNamingTheField() {
        assertThatThrownBy(() -> LinkFaults.NONE.withDropProbability(1.5))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("dropProbability")
                .hasMessageContaining("1.5");
        assertThatThrownBy(() -> LinkFaults.NONE.withDuplicateProbability(Double.NaN))
                .hasMessageContaining("duplicateProbability");
        assertThatThrownBy(() -> LinkFaults.NONE.withDelayMs(20, 10)).hasMessageContaining("delayMinMs=20");
        assertThatThrownBy(() -> LinkFaults.NONE.withReorder(0.5, -1)).hasMessageContaining("reorderDelayMaxMs");
        assertThatThrownBy(() -> new FaultInjector("x", 1).setLostCallTimeoutMs(-1))
                .hasMessageContaining("lostCallTimeoutMs");
        assertThatThrownBy(() -> new FaultInjector("x", 1).cut("", "b")).hasMessageContaining("from");
    }

    @Test
    void shouldFindARegisteredInjectorByNameUntilItIsClosed() {
        String name = "registry-" + System.nanoTime();
        try (FaultInjector injector = FaultInjector.register(name, SEED)) {
            assertThat(FaultInjector.lookup(name)).containsSame(injector);
            assertThat(FaultInjector.registeredNames()).contains(name);
            assertThatThrownBy(() -> FaultInjector.register(name, SEED))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining(name);
        }
        assertThat(FaultInjector.lookup(name)).isEmpty();
    }

    @Test
    void shouldShareOneInjectorBetweenOwnersUntilTheLastOneCloses() {
        String name = "shared-" + System.nanoTime();
        FaultInjector.Registration first = FaultInjector.registerShared(name, SEED);
        FaultInjector.Registration second = FaultInjector.registerShared(name, SEED);

        assertThat(second.injector()).isSameAs(first.injector());
        assertThatThrownBy(() -> FaultInjector.registerShared(name, SEED + 1))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("seed");
        assertThatThrownBy(() -> FaultInjector.register(name, SEED)).isInstanceOf(IllegalStateException.class);

        first.close();
        first.close(); // a second close gives nothing up
        assertThat(FaultInjector.lookup(name)).containsSame(second.injector());
        second.close();
        assertThat(FaultInjector.lookup(name)).isEmpty();
    }

    @Test
    void shouldNotShareAnInjectorRegisteredForOneOwner() {
        String name = "exclusive-" + System.nanoTime();
        try (FaultInjector injector = FaultInjector.register(name, SEED)) {
            assertThatThrownBy(() -> FaultInjector.registerShared(name, SEED))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("one owner only");
            assertThat(FaultInjector.lookup(name)).containsSame(injector);
        }
    }

    @Test
    void shouldReportTheSwitchesAsTheyAreAndResetThemAll() {
        FaultInjector injector = new FaultInjector("switches", SEED);
        LinkFaults lossy = LinkFaults.NONE.withDropProbability(0.5);
        LinkFaults slow = LinkFaults.NONE.withDelayMs(10, 50);
        injector.isolate("c");
        injector.partition("b", "a");
        injector.setFaults("b", "c", lossy);
        injector.setDefaultFaults(slow);

        assertThat(injector.isolatedPeers()).containsExactly("c");
        assertThat(injector.cutLinks())
                .containsExactly(new FaultInjector.Link("a", "b"), new FaultInjector.Link("b", "a"));
        assertThat(injector.linkFaults()).containsExactly(Map.entry(new FaultInjector.Link("b", "c"), lossy));
        assertThat(injector.defaultFaults()).isEqualTo(slow);

        injector.reset();

        assertThat(injector.isolatedPeers()).isEmpty();
        assertThat(injector.cutLinks()).isEmpty();
        assertThat(injector.linkFaults()).isEmpty();
        assertThat(injector.defaultFaults()).isEqualTo(LinkFaults.NONE);
        assertThat(injector.onRequest("b", "c")).isEqualTo(Delivery.ON_TIME);
    }

    private static List<Boolean> drops(FaultInjector injector, double probability, int count) {
        injector.setFaults("a", "b", LinkFaults.NONE.withDropProbability(probability));
        Function<Integer, Boolean> lost = i -> injector.onRequest("a", "b").lost();
        return IntStream.range(0, count).boxed().map(lost).toList();
    }
}
