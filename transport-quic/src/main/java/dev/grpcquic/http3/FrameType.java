package dev.grpcquic.http3;

/** HTTP/3 frame types (RFC 9114 §7.2, §11.2.1). */
public final class FrameType {

  public static final long DATA = 0x0;
  public static final long HEADERS = 0x1;
  public static final long CANCEL_PUSH = 0x3;
  public static final long SETTINGS = 0x4;
  public static final long PUSH_PROMISE = 0x5;
  public static final long GOAWAY = 0x7;
  public static final long MAX_PUSH_ID = 0xd;
  /** The first reserved "grease" type (see {@link #isGrease}): a frame every peer ignores. */
  public static final long GREASE = 0x21;

  private FrameType() {}

  /** HTTP/2 frame types with no HTTP/3 equivalent (PRIORITY, PING, WINDOW_UPDATE, CONTINUATION): receiving one is an error. */
  public static boolean isReservedHttp2(long type) {
    return type == 0x2 || type == 0x6 || type == 0x8 || type == 0x9;
  }

  /** Reserved "grease" values 0x1f * N + 0x21 (RFC 9114 §7.2.8), which peers send to keep extensibility working. */
  public static boolean isGrease(long value) {
    return value >= GREASE && (value - GREASE) % 0x1f == 0;
  }
}
