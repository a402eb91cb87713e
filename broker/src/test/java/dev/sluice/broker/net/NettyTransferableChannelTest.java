package dev.sluice.broker.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.DefaultFileRegion;
import io.netty.channel.FileRegion;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.network.Send;
import org.apache.kafka.common.network.TransferableChannel;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.record.internal.FileRecords;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.Records;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.requests.FetchResponse;
import org.apache.kafka.common.requests.ResponseHeader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NettyTransferableChannelTest {
    private static final short FETCH_VERSION = 12; // topic names, not ids

    private final EmbeddedChannel channel = new EmbeddedChannel(new ChannelInboundHandlerAdapter());
    private final ChannelHandlerContext ctx = channel.pipeline().firstContext();
    private final NettyTransferableChannel adapter = new NettyTransferableChannel(ctx);

    @AfterEach
    void close() {
        channel.finishAndReleaseAll();
    }

    private static MemoryRecords records(int count) {
        SimpleRecord[] records = new SimpleRecord[count];
        for (int i = 0; i < count; i++) {
            records[i] = new SimpleRecord(("value-" + i).getBytes(StandardCharsets.UTF_8));
        }
        return MemoryRecords.withRecords(Compression.NONE, records);
    }

    private static FetchResponse fetchResponse(Records records) {
        FetchResponseData data = new FetchResponseData();
        data.responses()
                .add(new FetchResponseData.FetchableTopicResponse()
                        .setTopic("t")
                        .setPartitions(List.of(new FetchResponseData.PartitionData()
                                .setPartitionIndex(0)
                                .setHighWatermark(3)
                                .setRecords(records))));
        return FetchResponse.of(data);
    }

    private static Send send(FetchResponse response) {
        return response.toSend(
                new ResponseHeader(42, ApiKeys.FETCH.responseHeaderVersion(FETCH_VERSION)), FETCH_VERSION);
    }

    private List<Object> outbound() {
        channel.flush();
        List<Object> messages = new ArrayList<>();
        for (Object message = channel.readOutbound(); message != null; message = channel.readOutbound()) {
            messages.add(message);
        }
        return messages;
    }

    /** The bytes of the outbound messages, in order, releasing them. */
    private static byte[] concatenate(List<Object> messages) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        WritableByteChannel sink = Channels.newChannel(bytes);
        for (Object message : messages) {
            if (message instanceof ByteBuf buf) {
                buf.getBytes(buf.readerIndex(), bytes, buf.readableBytes());
            } else {
                FileRegion region = (FileRegion) message;
                while (region.transferred() < region.count()) {
                    region.transferTo(sink, region.transferred());
                }
            }
            ReferenceCountUtil.release(message);
        }
        return bytes.toByteArray();
    }

    private static FetchResponse parse(byte[] bytes) {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        assertThat(buffer.getInt()).isEqualTo(bytes.length - 4);
        ResponseHeader header = ResponseHeader.parse(buffer, ApiKeys.FETCH.responseHeaderVersion(FETCH_VERSION));
        assertThat(header.correlationId()).isEqualTo(42);
        return FetchResponse.parse(new ByteBufferAccessor(buffer), FETCH_VERSION);
    }

    private static List<String> values(Records records) {
        List<String> values = new ArrayList<>();
        for (Record record : records.records()) {
            values.add(StandardCharsets.UTF_8.decode(record.value()).toString());
        }
        return values;
    }

    @Test
    void shouldWriteDirectRecordBytesWithoutCopyingThem() throws IOException {
        MemoryRecords heapRecords = records(3);
        ByteBuffer direct = ByteBuffer.allocateDirect(heapRecords.sizeInBytes());
        direct.put(heapRecords.buffer().duplicate()).flip();
        Send send = send(fetchResponse(MemoryRecords.readableRecords(direct)));

        ChannelFuture written = adapter.writeFully(send);
        List<Object> messages = outbound();

        assertThat(send.completed()).isTrue();
        assertThat(written.isSuccess()).isTrue();
        List<ByteBuf> directBufs = messages.stream()
                .map(ByteBuf.class::cast)
                .filter(ByteBuf::isDirect)
                .toList();
        assertThat(directBufs).hasSize(1);
        assertThat(directBufs.get(0).readableBytes()).isEqualTo(heapRecords.sizeInBytes());
        // A view, not a copy: what changes in the records' memory changes in what goes to the socket.
        int lastByte = direct.limit() - 1;
        direct.put(lastByte, (byte) (direct.get(lastByte) + 1));
        ByteBuf queued = directBufs.get(0);
        assertThat(queued.getByte(queued.readerIndex() + lastByte)).isEqualTo(direct.get(lastByte));
        direct.put(lastByte, (byte) (direct.get(lastByte) - 1));
        assertThat(values(FetchResponse.recordsOrFail(parse(concatenate(messages))
                        .data()
                        .responses()
                        .get(0)
                        .partitions()
                        .get(0))))
                .containsExactly("value-0", "value-1", "value-2");
    }

    @Test
    void shouldTransferFileRecordsAsAFileRegionAndLeaveTheFileOpen(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("segment.log");
        MemoryRecords memoryRecords = records(5);
        Files.write(file, RawKafkaConnection.bytes(memoryRecords.buffer()));
        try (FileRecords fileRecords = FileRecords.open(file.toFile())) {
            Send send = send(fetchResponse(fileRecords));

            adapter.writeFully(send);
            List<Object> messages = outbound();

            assertThat(messages).filteredOn(m -> m instanceof DefaultFileRegion).hasSize(1);
            FetchResponse parsed = parse(concatenate(messages));
            assertThat(fileRecords.channel().isOpen()).isTrue();
            assertThat(values(FetchResponse.recordsOrFail(
                            parsed.data().responses().get(0).partitions().get(0))))
                    .containsExactly("value-0", "value-1", "value-2", "value-3", "value-4");
        }
    }

    @Test
    void shouldCallWriteToUntilTheSendIsComplete() throws IOException {
        PartialSend send = new PartialSend(3, false);

        adapter.writeFully(send);

        assertThat(send.calls).isEqualTo(3);
        assertThat(concatenate(outbound())).containsExactly(0, 1, 2);
    }

    @Test
    void shouldFailASendThatMakesNoProgress() {
        PartialSend send = new PartialSend(3, true);

        assertThatThrownBy(() -> adapter.writeFully(send))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("no progress");
        assertThat(send.calls).isEqualTo(NettyTransferableChannel.MAX_STALLED_WRITES);
    }

    /** Writes one byte per call, or nothing at all when stuck. */
    private static final class PartialSend implements Send {
        private final int size;
        private final boolean stuck;
        int calls;
        private int written;

        PartialSend(int size, boolean stuck) {
            this.size = size;
            this.stuck = stuck;
        }

        @Override
        public boolean completed() {
            return written == size;
        }

        @Override
        public long writeTo(TransferableChannel channel) throws IOException {
            calls++;
            if (stuck) {
                return 0;
            }
            int n = channel.write(ByteBuffer.wrap(new byte[] {(byte) written}));
            written += n;
            return n;
        }

        @Override
        public long size() {
            return size;
        }
    }
}
