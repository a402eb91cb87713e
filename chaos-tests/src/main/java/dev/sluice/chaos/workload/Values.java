package dev.sluice.chaos.workload;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The run's unique values and how they travel in records: the value's decimal digits, padded with
 * {@code '.'} to the run's record size so the cluster moves realistic amounts of data. A record whose value
 * does not parse is reported as the sentinel {@link #UNPARSEABLE}.
 */
public final class Values {
    /** The value a record that does not carry a workload value reads as. */
    public static final long UNPARSEABLE = Long.MIN_VALUE;

    private final AtomicLong next = new AtomicLong(1);
    private final int recordBytes;

    /** @param recordBytes the size of every record value (at least 20) */
    public Values(int recordBytes) {
        this.recordBytes = Math.max(20, recordBytes);
    }

    /** @return a value never handed out before in this run */
    public long next() {
        return next.getAndIncrement();
    }

    /** @return the record value carrying {@code value} */
    public byte[] encode(long value) {
        byte[] bytes = new byte[recordBytes];
        byte[] digits = Long.toString(value).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(digits, 0, bytes, 0, digits.length);
        for (int i = digits.length; i < bytes.length; i++) {
            bytes[i] = '.';
        }
        return bytes;
    }

    /** @return the value a record carries, or {@link #UNPARSEABLE} */
    public static long decode(byte[] bytes) {
        if (bytes == null || bytes.length == 0) {
            return UNPARSEABLE;
        }
        long value = 0;
        int i = 0;
        boolean negative = bytes[0] == '-';
        if (negative) {
            i = 1;
        }
        int digits = 0;
        for (; i < bytes.length && bytes[i] >= '0' && bytes[i] <= '9'; i++, digits++) {
            value = value * 10 + (bytes[i] - '0');
        }
        if (digits == 0 || digits > 18) {
            return UNPARSEABLE;
        }
        return negative ? -value : value;
    }
}
