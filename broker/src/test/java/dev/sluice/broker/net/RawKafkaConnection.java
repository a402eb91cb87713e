package dev.sluice.broker.net;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.ApiVersionsRequest;
import org.apache.kafka.common.requests.ApiVersionsResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.ResponseHeader;

/** A blocking Kafka connection over a plain socket on 127.0.0.1, for driving the server byte by byte. */
final class RawKafkaConnection implements AutoCloseable {
    static final int READ_TIMEOUT_MS = 5_000;

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;

    RawKafkaConnection(int port) throws IOException {
        socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), READ_TIMEOUT_MS);
        socket.setSoTimeout(READ_TIMEOUT_MS);
        socket.setTcpNoDelay(true);
        in = new DataInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    /** The header a request of {@code api} at {@code version} gets. */
    static RequestHeader header(ApiKeys api, short version, int correlationId) {
        return new RequestHeader(api, version, "raw-test", correlationId);
    }

    /** The size-prefixed bytes of a request. */
    static byte[] frame(RequestHeader header, AbstractRequest request) {
        return sizePrefixed(bytes(request.serializeWithHeader(header)));
    }

    static byte[] sizePrefixed(byte[] payload) {
        return ByteBuffer.allocate(4 + payload.length)
                .putInt(payload.length)
                .put(payload)
                .array();
    }

    static byte[] bytes(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.duplicate().get(bytes);
        return bytes;
    }

    void send(RequestHeader header, AbstractRequest request) throws IOException {
        sendRaw(frame(header, request));
    }

    void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** Half-closes: the server sees end of stream. */
    void shutdownOutput() throws IOException {
        socket.shutdownOutput();
    }

    /** Reads one response frame (without its size prefix). */
    ByteBuffer receiveFrame() throws IOException {
        int size = in.readInt();
        if (size < 0) {
            throw new IOException("negative response size " + size);
        }
        byte[] payload = new byte[size];
        in.readFully(payload);
        return ByteBuffer.wrap(payload);
    }

    /** Reads the response to the request with {@code header}; fails on a correlation id mismatch. */
    AbstractResponse receive(RequestHeader header) throws IOException {
        return AbstractResponse.parseResponse(receiveFrame(), header);
    }

    /** Reads an ApiVersions response encoded at {@code version} (v0 for an unsupported request version). */
    ApiVersionsResponse receiveApiVersions(int correlationId, short version) throws IOException {
        ByteBuffer frame = receiveFrame();
        ResponseHeader header = ResponseHeader.parse(frame, ApiKeys.API_VERSIONS.responseHeaderVersion(version));
        if (header.correlationId() != correlationId) {
            throw new IOException("correlation id " + header.correlationId() + ", expected " + correlationId);
        }
        ApiVersionsResponse response = ApiVersionsResponse.parse(new ByteBufferAccessor(frame), version);
        if (frame.hasRemaining()) {
            throw new IOException(frame.remaining() + " bytes left after the ApiVersions response");
        }
        return response;
    }

    /** Sends ApiVersions at {@code version} and reads the answer at {@code responseVersion}. */
    ApiVersionsResponse apiVersions(short version, short responseVersion, int correlationId) throws IOException {
        send(header(ApiKeys.API_VERSIONS, version, correlationId), new ApiVersionsRequest.Builder().build(version));
        return receiveApiVersions(correlationId, responseVersion);
    }

    /**
     * True when the server closed the connection (end of stream or reset) within {@code timeoutMs}, reading
     * and discarding anything before; false when the connection is still open after it.
     */
    boolean closedByServerWithin(int timeoutMs) throws IOException {
        long deadlineNs = System.nanoTime() + timeoutMs * 1_000_000L;
        try {
            while (System.nanoTime() < deadlineNs) {
                socket.setSoTimeout((int) Math.max(1, (deadlineNs - System.nanoTime()) / 1_000_000L));
                if (in.read() < 0) {
                    return true;
                }
            }
            return false;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (EOFException | SocketException e) {
            return true;
        } finally {
            if (!socket.isClosed()) {
                socket.setSoTimeout(READ_TIMEOUT_MS);
            }
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
