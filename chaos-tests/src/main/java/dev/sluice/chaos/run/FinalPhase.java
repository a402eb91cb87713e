package dev.sluice.chaos.run;

import dev.sluice.chaos.cluster.ChaosCluster;
import dev.sluice.chaos.cluster.ClusterHealth;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.TopicPartition;

/**
 * The end of a run, after the nemesis healed everything: waits until the cluster has settled (every member
 * running, every partition led, every replica in sync, on members only); {@link FinalReads} then reads every
 * partition to the end.
 */
final class FinalPhase {
    private final ChaosCluster cluster;

    FinalPhase(ChaosCluster cluster) {
        this.cluster = cluster;
    }

    /**
     * Waits until the cluster has settled (see {@link ClusterHealth}); returns every partition's replicas then,
     * or the reason it did not settle within {@code timeoutMs}.
     */
    Settled awaitSettled(long timeoutMs) throws InterruptedException {
        String why = ClusterHealth.awaitSettled(cluster, timeoutMs);
        if (why != null) {
            return new Settled(Map.of(), why);
        }
        try (Admin admin = cluster.admin()) {
            return new Settled(ClusterHealth.replicas(admin), null);
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            return new Settled(Map.of(), "cannot describe the topics after they settled: " + e);
        }
    }

    /** Every partition's replicas, or why the cluster did not settle. */
    record Settled(Map<TopicPartition, List<Integer>> replicas, String problem) {}
}
