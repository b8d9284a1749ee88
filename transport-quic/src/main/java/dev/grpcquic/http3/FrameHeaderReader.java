package dev.grpcquic.http3;

import java.nio.ByteBuffer;

/** Reads a frame's type and length varints, each of which may be split across chunks. */
final class FrameHeaderReader {

  private final PartialVarInt type = new PartialVarInt();
  private final PartialVarInt length = new PartialVarInt();
  private boolean typeDone;

  /** Consumes header bytes from {@code src}; true once type and length are both known. */
  boolean feed(ByteBuffer src) {
    if (!typeDone) {
      typeDone = type.feed(src);
      if (!typeDone) {
        return false;
      }
    }
    return length.feed(src);
  }

  /** True once the type is known, even if the length is not yet. */
  boolean typeKnown() {
    return typeDone;
  }

  long type() {
    return type.value();
  }

  long length() {
    return length.value();
  }

  /** True when at least one byte of a header has been read but the header is not complete. */
  boolean inProgress() {
    return type.inProgress() || typeDone;
  }

  void reset() {
    type.reset();
    length.reset();
    typeDone = false;
  }
}
