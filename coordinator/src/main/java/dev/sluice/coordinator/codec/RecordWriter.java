package dev.sluice.coordinator.codec;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A growable big-endian buffer for the coordinators' records: fixed-width integers, unsigned varints,
 * length-prefixed bytes and strings (a nullable string's length is stored plus one, 0 meaning null).
 * {@link RecordReader} reads what it writes.
 */
public final class RecordWriter {
    private byte[] buf;
    private int size;

    public RecordWriter(int capacity) {
        buf = new byte[Math.max(16, capacity)];
    }

    private void ensure(int more) {
        if (size + more > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, size + more));
        }
    }

    public RecordWriter int8(byte v) {
        ensure(1);
        buf[size++] = v;
        return this;
    }

    public RecordWriter int16(short v) {
        ensure(2);
        buf[size++] = (byte) (v >>> 8);
        buf[size++] = (byte) v;
        return this;
    }

    public RecordWriter int32(int v) {
        ensure(4);
        for (int shift = 24; shift >= 0; shift -= 8) {
            buf[size++] = (byte) (v >>> shift);
        }
        return this;
    }

    public RecordWriter int64(long v) {
        ensure(8);
        for (int shift = 56; shift >= 0; shift -= 8) {
            buf[size++] = (byte) (v >>> shift);
        }
        return this;
    }

    public RecordWriter uvarint(int v) {
        ensure(5);
        while ((v & ~0x7f) != 0) {
            buf[size++] = (byte) ((v & 0x7f) | 0x80);
            v >>>= 7;
        }
        buf[size++] = (byte) v;
        return this;
    }

    public RecordWriter bytes(byte[] v) {
        uvarint(v.length);
        return raw(v);
    }

    public RecordWriter str(String v) {
        return bytes(v.getBytes(StandardCharsets.UTF_8));
    }

    public RecordWriter nstr(String v) {
        if (v == null) {
            return uvarint(0);
        }
        byte[] bytes = v.getBytes(StandardCharsets.UTF_8);
        uvarint(bytes.length + 1);
        return raw(bytes);
    }

    private RecordWriter raw(byte[] v) {
        ensure(v.length);
        System.arraycopy(v, 0, buf, size, v.length);
        size += v.length;
        return this;
    }

    public byte[] toByteArray() {
        return Arrays.copyOf(buf, size);
    }
}
