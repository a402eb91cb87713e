package dev.sluice.coordinator.codec;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Reads what {@link RecordWriter} wrote. Malformed input fails with an {@link IllegalArgumentException} whose
 * message starts with the name of what is read (e.g. "group record"); a read past the end throws {@link
 * java.nio.BufferUnderflowException}, which callers report as truncation.
 */
public final class RecordReader {
    private final ByteBuffer in;
    private final String what;

    /** @param what what the bytes are, for error messages ("group record", "transaction record") */
    public RecordReader(ByteBuffer in, String what) {
        this.in = in;
        this.what = what;
    }

    public ByteBuffer buffer() {
        return in;
    }

    public byte int8() {
        return in.get();
    }

    public short int16() {
        return in.getShort();
    }

    public int int32() {
        return in.getInt();
    }

    public long int64() {
        return in.getLong();
    }

    public int uvarint() {
        int value = 0;
        for (int shift = 0; shift < 35; shift += 7) {
            byte b = in.get();
            value |= (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                if (value < 0) {
                    throw new IllegalArgumentException(what + " has a negative length " + value);
                }
                return value;
            }
        }
        throw new IllegalArgumentException(what + " has a varint longer than 5 bytes at byte " + in.position());
    }

    public byte[] bytes() {
        return raw(uvarint(), "field");
    }

    public String str() {
        return utf8(bytes());
    }

    public String nstr() {
        int lengthPlusOne = uvarint();
        return lengthPlusOne == 0 ? null : utf8(raw(lengthPlusOne - 1, "string"));
    }

    private byte[] raw(int length, String kind) {
        if (length > in.remaining()) {
            throw new IllegalArgumentException(
                    what + " " + kind + " of " + length + " bytes overruns the " + in.remaining() + " bytes left");
        }
        byte[] bytes = new byte[length];
        in.get(bytes);
        return bytes;
    }

    private String utf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(what + " has a string that is not UTF-8", e);
        }
    }
}
