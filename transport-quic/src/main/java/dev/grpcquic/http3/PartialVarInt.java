package dev.grpcquic.http3;

import java.nio.ByteBuffer;

/**
 * Collects one varint that may arrive split over several chunks. Stream readers need this
 * because QUIC delivers bytes at arbitrary boundaries, including inside a frame's type or length.
 */
final class PartialVarInt {

  private long value;
  private int needed; // total length of the encoding, 0 before the first byte
  private int have;

  /** Consumes bytes of the varint from {@code src}; true once it is complete. */
  boolean feed(ByteBuffer src) {
    while (src.hasRemaining() && (needed == 0 || have < needed)) {
      int b = src.get() & 0xff;
      if (needed == 0) {
        needed = 1 << (b >>> 6);
        value = b & 0x3f;
      } else {
        value = (value << 8) | b;
      }
      have++;
    }
    return needed != 0 && have == needed;
  }

  /** True when some but not all bytes have been seen. */
  boolean inProgress() {
    return have > 0 && have < needed;
  }

  long value() {
    return value;
  }

  void reset() {
    value = 0;
    needed = 0;
    have = 0;
  }
}
