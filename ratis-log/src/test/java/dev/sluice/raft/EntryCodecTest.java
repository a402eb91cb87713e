package dev.sluice.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.partitionstore.BatchValidator;
import java.nio.ByteBuffer;
import java.util.List;
import org.apache.kafka.common.protocol.Errors;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.junit.jupiter.api.Test;

class EntryCodecTest {
    @Test
    void verifiedRecordsCarryTheirGuard() {
        VerificationGuard guard = new VerificationGuard(7, 1_234);
        ByteBuffer records = ByteBuffer.wrap(new byte[] {5, 6, 7});
        EntryCodec.Append append = (EntryCodec.Append)
                EntryCodec.decodeRequest(EntryCodec.encodeRequest(BatchValidator.Origin.CLIENT, records, guard));
        assertThat(append.guard()).isEqualTo(guard);
        assertThat(append.records().toByteArray()).containsExactly(5, 6, 7);

        ByteString header = EntryCodec.encodeHeader(BatchValidator.Origin.CLIENT, 99L, guard);
        ByteString logData = header.concat(ByteString.copyFrom(new byte[] {5, 6, 7}));
        EntryCodec.Header decoded = EntryCodec.decodeHeader(logData);
        assertThat(decoded).isEqualTo(new EntryCodec.AppendHeader(BatchValidator.Origin.CLIENT, 99L, guard));
        assertThat(decoded.sizeInBytes()).isEqualTo(header.size()).isEqualTo(EntryCodec.VERIFIED_HEADER_BYTES);
        assertThat(logData.substring(decoded.sizeInBytes()).toByteArray()).containsExactly(5, 6, 7);
    }

    @Test
    void requestHeaderAndReplyRoundTrip() {
        ByteBuffer records = ByteBuffer.wrap(new byte[] {1, 2, 3, 4});
        EntryCodec.Request request =
                EntryCodec.decodeRequest(EntryCodec.encodeRequest(BatchValidator.Origin.COORDINATOR, records));
        assertThat(request).isInstanceOf(EntryCodec.Append.class);
        EntryCodec.Append append = (EntryCodec.Append) request;
        assertThat(append.origin()).isEqualTo(BatchValidator.Origin.COORDINATOR);
        assertThat(append.records().toByteArray()).containsExactly(1, 2, 3, 4);

        ByteString header = EntryCodec.encodeHeader(BatchValidator.Origin.CLIENT, 123_456L);
        assertThat(header.size()).isEqualTo(EntryCodec.HEADER_BYTES);
        assertThat(EntryCodec.decodeHeader(header))
                .isEqualTo(new EntryCodec.AppendHeader(BatchValidator.Origin.CLIENT, 123_456L));

        for (AppendOutcome outcome : List.of(
                new AppendOutcome(Errors.NONE, null, 10, 14, -1, 0),
                AppendOutcome.error(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER, "expected sequence 5"),
                new AppendOutcome(Errors.NONE, null, 0, 0, 1_700_000_000_000L, 0))) {
            assertThat(EntryCodec.decodeReply(EntryCodec.encodeReply(outcome))).isEqualTo(outcome);
        }
    }

    @Test
    void deleteRecordsRequestHeaderAndReplyRoundTrip() {
        for (long offset : new long[] {-1, 0, 42, Long.MAX_VALUE}) {
            ByteString bytes = EntryCodec.encodeDeleteRecords(offset);
            assertThat(EntryCodec.decodeRequest(bytes)).isEqualTo(new EntryCodec.DeleteRecords(offset));
            assertThat(EntryCodec.decodeHeader(bytes)).isEqualTo(new EntryCodec.DeleteRecords(offset));
            assertThat(EntryCodec.decodeHeader(bytes).sizeInBytes()).isEqualTo(bytes.size());
        }
        for (DeleteOutcome outcome : List.of(
                new DeleteOutcome(Errors.NONE, null, 120),
                DeleteOutcome.error(Errors.OFFSET_OUT_OF_RANGE, "the high watermark is 7"))) {
            assertThat(EntryCodec.decodeDeleteReply(EntryCodec.encodeDeleteReply(outcome)))
                    .isEqualTo(outcome);
        }
    }

    /** Raft logs written before DeleteRecords existed keep their meaning: these bytes are frozen. */
    @Test
    void entriesOfTheFirstFormatStillDecode() {
        byte[] request = {1, 0, 7, 8, 9};
        assertThat(EntryCodec.decodeRequest(ByteString.copyFrom(request)))
                .isEqualTo(new EntryCodec.Append(
                        BatchValidator.Origin.values()[0], ByteString.copyFrom(new byte[] {7, 8, 9})));

        ByteBuffer header = ByteBuffer.allocate(13).put((byte) 1).put((byte) 1).putLong(1_700_000_000_000L);
        header.put(new byte[] {5, 6, 7}).flip();
        EntryCodec.Header decoded = EntryCodec.decodeHeader(ByteString.copyFrom(header));
        assertThat(decoded)
                .isEqualTo(new EntryCodec.AppendHeader(BatchValidator.Origin.values()[1], 1_700_000_000_000L));
        assertThat(decoded.sizeInBytes()).isEqualTo(10);

        ByteBuffer reply = ByteBuffer.allocate(37 + 2)
                .put((byte) 1)
                .putShort((short) 0)
                .putLong(10)
                .putLong(14)
                .putLong(-1)
                .putLong(3)
                .putShort((short) 2)
                .put(new byte[] {'o', 'k'});
        reply.flip();
        assertThat(EntryCodec.decodeReply(ByteString.copyFrom(reply)))
                .isEqualTo(new AppendOutcome(Errors.NONE, "ok", 10, 14, -1, 3));
    }

    @Test
    void malformedBytesAreRejected() {
        assertThatThrownBy(() -> EntryCodec.decodeRequest(ByteString.copyFrom(new byte[] {9})))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> EntryCodec.decodeRequest(ByteString.copyFrom(new byte[] {1, 42})))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("origin");
        assertThatThrownBy(() -> EntryCodec.decodeRequest(ByteString.copyFrom(new byte[] {2, 0, 0})))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> EntryCodec.decodeHeader(ByteString.copyFrom(new byte[3])))
                .isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() ->
                        EntryCodec.decodeDeleteReply(EntryCodec.encodeReply(AppendOutcome.error(Errors.NONE, null))))
                .isInstanceOf(IllegalStateException.class);
    }
}
