package dev.grpcquic.http3;

/** Unidirectional stream types (RFC 9114 §6.2, RFC 9204 §4.2): the first varint on a uni stream. */
public final class StreamType {

  public static final long CONTROL = 0x0;
  public static final long PUSH = 0x1;
  public static final long QPACK_ENCODER = 0x2;
  public static final long QPACK_DECODER = 0x3;

  private StreamType() {}
}
