package dev.sluice.coordinator.group;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.apache.kafka.common.protocol.Errors;

/**
 * Random interleavings of plain commits, transactional commits, COMMIT and ABORT markers, offset deletions and
 * coordinator failovers; after every step the committed offsets (and which partitions are unstable) equal those
 * of a naive model of Kafka's rule: every offset remembers the log position of its record, and a committing
 * transaction's offset replaces the committed one only if its record is later in the log.
 */
class TxnOffsetCommitProperties {
    private static final int PARTITIONS = 3;

    /** One step of a history. */
    record Step(int kind, long producerId, int partition, long offset, boolean commit) {}

    @Property(tries = 300)
    void committedOffsetsFollowTheLaterRecordRule(@ForAll("histories") List<Step> history) {
        GroupTestDriver driver = new GroupTestDriver();
        Model model = new Model();
        for (Step step : history) {
            switch (step.kind()) {
                case 0 -> {
                    assertThat(driver.commit("", -1, "t", step.partition(), step.offset()))
                            .isEqualTo(Errors.NONE);
                    model.commit(step.partition(), step.offset());
                }
                case 1 -> {
                    assertThat(driver.txnCommit(step.producerId(), "", -1, "t", step.partition(), step.offset()))
                            .isEqualTo(Errors.NONE);
                    model.txnCommit(step.producerId(), step.partition(), step.offset());
                }
                case 2 -> {
                    driver.endTxn(step.producerId(), (short) 0, step.commit());
                    model.endTxn(step.producerId(), step.commit());
                }
                case 3 -> {
                    driver.deleteOffsets("t", step.partition());
                    if (model.hasOffset(step.partition())) {
                        model.delete(step.partition());
                    }
                }
                default -> driver.failOver();
            }
            for (int partition = 0; partition < PARTITIONS; partition++) {
                assertThat(driver.committed("t", partition))
                        .as("committed offset of t-%d after %s", partition, step)
                        .isEqualTo(model.committed(partition));
                Errors stable =
                        Errors.forCode(driver.fetchStable("t", partition).errorCode());
                assertThat(stable)
                        .as("stable fetch of t-%d after %s", partition, step)
                        .isEqualTo(model.isPending(partition) ? Errors.UNSTABLE_OFFSET_COMMIT : Errors.NONE);
            }
        }
    }

    @Provide
    Arbitrary<List<Step>> histories() {
        Arbitrary<Step> step = Combinators.combine(
                        Arbitraries.frequency(
                                net.jqwik.api.Tuple.of(4, 0),
                                net.jqwik.api.Tuple.of(5, 1),
                                net.jqwik.api.Tuple.of(4, 2),
                                net.jqwik.api.Tuple.of(1, 3),
                                net.jqwik.api.Tuple.of(1, 4)),
                        Arbitraries.longs().between(1, 3),
                        Arbitraries.integers().between(0, PARTITIONS - 1),
                        Arbitraries.longs().between(0, 1000),
                        Arbitraries.of(true, true, false))
                .as(Step::new);
        return step.list().ofMaxSize(40);
    }

    /** Kafka's rule, literally: offsets carry the log position of their record. */
    private static final class Model {
        private record Offset(long offset, long position) {}

        private long position;
        private final Map<Integer, Offset> committed = new HashMap<>();
        private final Map<Long, Map<Integer, Offset>> pending = new HashMap<>();

        void commit(int partition, long offset) {
            committed.put(partition, new Offset(offset, position++));
        }

        void txnCommit(long producerId, int partition, long offset) {
            pending.computeIfAbsent(producerId, p -> new HashMap<>()).put(partition, new Offset(offset, position++));
        }

        void delete(int partition) {
            position++;
            committed.remove(partition);
            for (Map<Integer, Offset> offsets : pending.values()) {
                offsets.remove(partition);
            }
        }

        void endTxn(long producerId, boolean commit) {
            Map<Integer, Offset> offsets = pending.remove(producerId);
            if (offsets == null || !commit) {
                return;
            }
            offsets.forEach((partition, offset) -> {
                Offset existing = committed.get(partition);
                if (existing == null || offset.position() > existing.position()) {
                    committed.put(partition, offset);
                }
            });
        }

        boolean hasOffset(int partition) {
            return committed.containsKey(partition) || isPending(partition);
        }

        boolean isPending(int partition) {
            return pending.values().stream().anyMatch(offsets -> offsets.containsKey(partition));
        }

        long committed(int partition) {
            Offset offset = committed.get(partition);
            return offset == null ? -1 : offset.offset();
        }
    }
}
