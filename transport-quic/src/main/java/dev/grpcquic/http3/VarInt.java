package dev.grpcquic.http3;

import java.nio.ByteBuffer;

/**
 * QUIC variable-length integers (RFC 9000 §16): the two top bits of the first byte give the
 * encoded length (1, 2, 4 or 8 bytes), the rest is the value in network byte order.
 */
public final class VarInt {

  /** Largest encodable value, 2^62 - 1. */
  public static final long MAX_VALUE = (1L << 62) - 1;

  private VarInt() {}

  /** Number of bytes the shortest encoding of {@code v} takes. */
  public static int length(long v) {
    check(v);
    if (v < (1L << 6)) {
      return 1;
    }
    if (v < (1L << 14)) {
      return 2;
    }
    if (v < (1L << 30)) {
      return 4;
    }
    return 8;
  }

  /** Writes the shortest encoding of {@code v} at the position of {@code dst}. */
  public static void write(ByteBuffer dst, long v) {
    switch (length(v)) {
      case 1 -> dst.put((byte) v);
      case 2 -> dst.putShort((short) (v | 0x4000));
      case 4 -> dst.putInt((int) (v | 0x8000_0000L));
      default -> dst.putLong(v | 0xC000_0000_0000_0000L);
    }
  }

  /** The shortest encoding of {@code v} as a new array. */
  public static byte[] encode(long v) {
    ByteBuffer buf = ByteBuffer.allocate(length(v));
    write(buf, v);
    return buf.array();
  }

  /**
   * Reads one varint. Returns -1 and leaves the position unchanged when {@code src} does not
   * yet hold the whole encoding, so a caller can wait for more bytes and retry.
   */
  public static long read(ByteBuffer src) {
    if (!src.hasRemaining()) {
      return -1;
    }
    int pos = src.position();
    int first = src.get(pos) & 0xff;
    int len = 1 << (first >>> 6);
    if (src.remaining() < len) {
      return -1;
    }
    long value = first & 0x3f;
    for (int i = 1; i < len; i++) {
      value = (value << 8) | (src.get(pos + i) & 0xff);
    }
    src.position(pos + len);
    return value;
  }

  private static void check(long v) {
    if (v < 0 || v > MAX_VALUE) {
      throw new IllegalArgumentException("varint out of range [0, 2^62): " + v);
    }
  }
}
