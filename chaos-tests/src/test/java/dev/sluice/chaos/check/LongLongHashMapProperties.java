package dev.sluice.chaos.check;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.LongStream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** {@link LongLongHashMap} against {@link HashMap} as the reference, including the key that marks free slots. */
class LongLongHashMapProperties {
    @Property(tries = 200)
    void behavesLikeAHashMap(@ForAll("keys") List<Long> keys, @ForAll long seed) {
        LongLongHashMap map = new LongLongHashMap(4);
        Map<Long, Long> reference = new HashMap<>();
        long value = seed;
        for (long key : keys) {
            value = value * 31 + 7;
            long v = value;
            switch (Math.floorMod(value, 4)) {
                case 0 -> assertThat(map.put(key, v, -9)).isEqualTo(orMissing(reference.put(key, v)));
                case 1 -> assertThat(map.putIfAbsent(key, v, -9)).isEqualTo(orMissing(reference.putIfAbsent(key, v)));
                case 2 -> {
                    long wanted = (v & 1) == 0 ? v : reference.getOrDefault(key, v);
                    boolean expected = !reference.containsKey(key) || reference.get(key) == wanted;
                    reference.putIfAbsent(key, wanted);
                    assertThat(map.putIfAbsentOrEqual(key, wanted)).isEqualTo(expected);
                }
                default ->
                    assertThat(map.orBits(key, v & 0xff)).isEqualTo(reference.merge(key, v & 0xff, (a, b) -> a | b));
            }
            assertThat(map.size()).isEqualTo(reference.size());
        }
        LongStream.concat(LongStream.rangeClosed(-501, 501), LongStream.of(Long.MIN_VALUE, Long.MAX_VALUE))
                .forEach(key -> {
                    assertThat(map.containsKey(key)).isEqualTo(reference.containsKey(key));
                    assertThat(map.get(key, -9)).isEqualTo(orMissing(reference.get(key)));
                });
        assertThat(map.sortedKeys())
                .containsExactly(new TreeSet<>(reference.keySet())
                        .stream().mapToLong(Long::longValue).toArray());
    }

    @Provide
    Arbitrary<List<Long>> keys() {
        Arbitrary<Long> key = Arbitraries.oneOf(
                Arbitraries.longs().between(-500, 500), Arbitraries.of(Long.MIN_VALUE, Long.MAX_VALUE, 0L));
        return key.list().ofMaxSize(2000);
    }

    private static long orMissing(Long value) {
        return value == null ? -9 : value;
    }
}
