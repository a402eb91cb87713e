package dev.sluice.raft;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.partitionstore.AbortedTxn;
import dev.sluice.partitionstore.ProducerStateEntry;
import dev.sluice.partitionstore.ProducerStateEntry.BatchMetadata;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The snapshot manifest a leader sends a replica that installs its snapshot keeps every producer's state. */
class SnapshotManifestTest {
    @Test
    void manifestRoundTripsProducerStatesWithTheirMarkers() {
        ProducerStateEntry idempotent =
                new ProducerStateEntry(7, (short) 1, List.of(new BatchMetadata(0, 4, 10, 14, 1_000)), -1, 1_000);
        ProducerStateEntry transactional = new ProducerStateEntry(8, (short) 3, List.of(), 250, 1_002, 9, 240);
        SnapshotInstaller.Manifest manifest = new SnapshotInstaller.Manifest(
                5,
                120,
                0,
                300,
                Map.of(1, 0L, 5, 200L),
                List.of(idempotent, transactional),
                List.of(new SnapshotInstaller.FileSpec(0, 4_096)),
                List.of(new AbortedTxn(8, 100, 150, 151)));

        SnapshotInstaller.Manifest decoded = SnapshotInstaller.decodeManifest(
                SnapshotInstaller.encodeManifest(manifest).asReadOnlyByteBuffer());

        assertThat(decoded).isEqualTo(manifest);
        assertThat(decoded.producers().get(1).lastMarkerOffset()).isEqualTo(240);
        assertThat(decoded.producers().get(0).lastMarkerOffset()).isEqualTo(ProducerStateEntry.NO_MARKER);
    }
}
