package dev.sluice.broker.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** The histogram against a naive reference: count the observations at or below each bound. */
class HistogramProperties {
    @Property(tries = 300)
    void cumulativeBucketsMatchANaiveCount(
            @ForAll("bounds") double[] bounds, @ForAll("observations") List<Double> observations) {
        Histogram histogram = new MetricsRegistry().histogram("test_h", "h", bounds);
        observations.forEach(histogram::observe);

        long[] cumulative = histogram.labels().cumulativeCounts();

        assertThat(cumulative).hasSize(bounds.length + 1);
        for (int i = 0; i < bounds.length; i++) {
            double bound = bounds[i];
            assertThat(cumulative[i])
                    .isEqualTo(observations.stream().filter(v -> v <= bound).count());
        }
        assertThat(cumulative[bounds.length]).isEqualTo(observations.size());
        assertThat(histogram.labels().count()).isEqualTo(observations.size());
        double sum = observations.stream().mapToDouble(Double::doubleValue).sum();
        assertThat(histogram.labels().sum()).isCloseTo(sum, within(1e-6 * Math.max(1, Math.abs(sum))));
    }

    @Provide
    Arbitrary<double[]> bounds() {
        return Arbitraries.doubles()
                .between(-1_000, 1_000)
                .ofScale(2)
                .set()
                .ofMinSize(1)
                .ofMaxSize(12)
                .map(set ->
                        set.stream().mapToDouble(Double::doubleValue).sorted().toArray())
                .filter(array -> Arrays.stream(array).distinct().count() == array.length);
    }

    @Provide
    Arbitrary<List<Double>> observations() {
        // Scale 2 like the bounds, so observations often land exactly on a bound (le is inclusive).
        return Arbitraries.doubles().between(-1_500, 1_500).ofScale(2).list().ofMaxSize(200);
    }
}
