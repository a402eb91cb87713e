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
    void requestHeaderAndReplyRoundTrip() {
        ByteBuffer records = ByteBuffer.wrap(new byte[] {1, 2, 3, 4});
        EntryCodec.Request request =
                EntryCodec.decodeRequest(EntryCodec.encodeRequest(BatchValidator.Origin.COORDINATOR, records));
        assertThat(request.origin()).isEqualTo(BatchValidator.Origin.COORDINATOR);
        assertThat(request.records().toByteArray()).containsExactly(1, 2, 3, 4);

        ByteString header = EntryCodec.encodeHeader(BatchValidator.Origin.CLIENT, 123_456L);
        assertThat(header.size()).isEqualTo(EntryCodec.HEADER_BYTES);
        assertThat(EntryCodec.decodeHeader(header))
                .isEqualTo(new EntryCodec.Header(BatchValidator.Origin.CLIENT, 123_456L));

        for (AppendOutcome outcome : List.of(
                new AppendOutcome(Errors.NONE, null, 10, 14, -1, 0),
                AppendOutcome.error(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER, "expected sequence 5"),
                new AppendOutcome(Errors.NONE, null, 0, 0, 1_700_000_000_000L, 0))) {
            assertThat(EntryCodec.decodeReply(EntryCodec.encodeReply(outcome))).isEqualTo(outcome);
        }
    }

    @Test
    void malformedBytesAreRejected() {
        assertThatThrownBy(() -> EntryCodec.decodeRequest(ByteString.copyFrom(new byte[] {9})))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> EntryCodec.decodeRequest(ByteString.copyFrom(new byte[] {1, 42})))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("origin");
        assertThatThrownBy(() -> EntryCodec.decodeHeader(ByteString.copyFrom(new byte[3])))
                .isInstanceOf(IllegalStateException.class);
    }
}
