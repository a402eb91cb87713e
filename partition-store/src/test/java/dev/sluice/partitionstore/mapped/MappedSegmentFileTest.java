package dev.sluice.partitionstore.mapped;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.partitionstore.SegmentFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MappedSegmentFileTest {
    private static final int CHUNK = 4096;

    @TempDir
    Path dir;

    private final MappedSegmentFile.Factory factory = new MappedSegmentFile.Factory(CHUNK);

    @Test
    void shouldAppendAcrossChunkBoundariesAndReadBackThroughViews() throws IOException {
        SegmentFile file = factory.create(dir.resolve("00000000000000000000.log"));
        byte[] data = pattern(3 * CHUNK + 123);
        file.append(ByteBuffer.wrap(data, 0, 1000));
        file.append(ByteBuffer.wrap(data, 1000, data.length - 1000));
        assertThat(file.size()).isEqualTo(data.length);
        ByteBuffer view = file.view(0, data.length);
        assertThat(view.isReadOnly()).isTrue();
        assertThat(view.isDirect()).isTrue();
        byte[] back = new byte[data.length];
        view.get(back);
        assertThat(back).isEqualTo(data);
        assertThat(file.view(CHUNK - 5, 10).get(0)).isEqualTo(data[CHUNK - 5]);
        file.seal();
        assertThat(Files.size(file.path())).isEqualTo(data.length);
        assertThat(file.writable()).isFalse();
        assertThatThrownBy(() -> file.append(ByteBuffer.allocate(1))).isInstanceOf(IllegalStateException.class);
        file.close();
    }

    @Test
    void shouldAppendTheBytesOfASliceOfAHeapBuffer() {
        SegmentFile file = factory.create(dir.resolve("00000000000000000000.log"));
        byte[] data = pattern(3 * CHUNK);
        file.append(ByteBuffer.wrap(data, 0, 1300));
        ByteBuffer slice = ByteBuffer.wrap(data).position(1300).slice(); // array offset 1300
        file.append(slice);
        byte[] back = new byte[data.length];
        file.view(0, data.length).get(back);
        assertThat(back).isEqualTo(data);
        file.close();
    }

    @Test
    void shouldTellTheBytesSyncedSoFar() {
        SegmentFile file = factory.create(dir.resolve("00000000000000000000.log"));
        file.append(ByteBuffer.wrap(pattern(100)));
        assertThat(file.syncedSize()).isZero();
        file.flush();
        assertThat(file.syncedSize()).isEqualTo(100);
        file.append(ByteBuffer.wrap(pattern(50)));
        assertThat(file.syncedSize()).isEqualTo(100);
        file.truncate(80);
        assertThat(file.syncedSize()).isEqualTo(80);
        file.close();
    }

    @Test
    void shouldZeroTruncatedBytesWhileKeepingEarlierViewsReadable() {
        SegmentFile file = factory.create(dir.resolve("00000000000000000000.log"));
        byte[] data = pattern(2 * CHUNK);
        file.append(ByteBuffer.wrap(data));
        ByteBuffer early = file.view(0, 100);
        file.truncate(100);
        assertThat(file.size()).isEqualTo(100);
        assertThat(early.get(99)).isEqualTo(data[99]);
        file.append(ByteBuffer.wrap(new byte[] {42}));
        assertThat(file.view(100, 1).get(0)).isEqualTo((byte) 42);
        assertThatThrownBy(() -> file.view(0, 102)).isInstanceOf(IndexOutOfBoundsException.class);
        file.delete();
        assertThat(early.get(0)).isEqualTo(data[0]);
    }

    @Test
    void shouldReopenWritableAfterTheGivenDataSize() throws IOException {
        Path path = dir.resolve("00000000000000000000.log");
        SegmentFile file = factory.create(path);
        file.append(ByteBuffer.wrap(pattern(500)));
        file.flush();
        file.close();
        SegmentFile reopened = factory.open(path, 300, true);
        assertThat(reopened.size()).isEqualTo(300);
        reopened.append(ByteBuffer.wrap(new byte[] {7}));
        assertThat(reopened.view(300, 1).get(0)).isEqualTo((byte) 7);
        reopened.seal();
        assertThat(Files.size(path)).isEqualTo(301);
        reopened.close();
        assertThatThrownBy(() -> factory.open(path, 1000, false)).hasMessageContaining("fewer than its 1000 bytes");
    }

    private static byte[] pattern(int length) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (i * 31 + 7);
        }
        return bytes;
    }
}
