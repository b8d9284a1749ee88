package dev.grpcquic.http3;

/** HTTP/3 (RFC 9114 §8.1) and QPACK (RFC 9204 §6) application error codes. */
public final class Http3ErrorCode {

  public static final long H3_NO_ERROR = 0x100;
  public static final long H3_GENERAL_PROTOCOL_ERROR = 0x101;
  public static final long H3_INTERNAL_ERROR = 0x102;
  public static final long H3_STREAM_CREATION_ERROR = 0x103;
  public static final long H3_CLOSED_CRITICAL_STREAM = 0x104;
  public static final long H3_FRAME_UNEXPECTED = 0x105;
  public static final long H3_FRAME_ERROR = 0x106;
  public static final long H3_EXCESSIVE_LOAD = 0x107;
  public static final long H3_ID_ERROR = 0x108;
  public static final long H3_SETTINGS_ERROR = 0x109;
  public static final long H3_MISSING_SETTINGS = 0x10a;
  public static final long H3_REQUEST_REJECTED = 0x10b;
  public static final long H3_REQUEST_CANCELLED = 0x10c;
  public static final long H3_REQUEST_INCOMPLETE = 0x10d;
  public static final long H3_MESSAGE_ERROR = 0x10e;
  public static final long H3_CONNECT_ERROR = 0x10f;
  public static final long H3_VERSION_FALLBACK = 0x110;

  public static final long QPACK_DECOMPRESSION_FAILED = 0x200;
  public static final long QPACK_ENCODER_STREAM_ERROR = 0x201;
  public static final long QPACK_DECODER_STREAM_ERROR = 0x202;

  private Http3ErrorCode() {}

  /** Symbolic name of a code, or its hex form for codes this class does not know (e.g. grease). */
  public static String name(long code) {
    return switch ((int) Math.min(code, Integer.MAX_VALUE)) {
      case 0x100 -> "H3_NO_ERROR";
      case 0x101 -> "H3_GENERAL_PROTOCOL_ERROR";
      case 0x102 -> "H3_INTERNAL_ERROR";
      case 0x103 -> "H3_STREAM_CREATION_ERROR";
      case 0x104 -> "H3_CLOSED_CRITICAL_STREAM";
      case 0x105 -> "H3_FRAME_UNEXPECTED";
      case 0x106 -> "H3_FRAME_ERROR";
      case 0x107 -> "H3_EXCESSIVE_LOAD";
      case 0x108 -> "H3_ID_ERROR";
      case 0x109 -> "H3_SETTINGS_ERROR";
      case 0x10a -> "H3_MISSING_SETTINGS";
      case 0x10b -> "H3_REQUEST_REJECTED";
      case 0x10c -> "H3_REQUEST_CANCELLED";
      case 0x10d -> "H3_REQUEST_INCOMPLETE";
      case 0x10e -> "H3_MESSAGE_ERROR";
      case 0x10f -> "H3_CONNECT_ERROR";
      case 0x110 -> "H3_VERSION_FALLBACK";
      case 0x200 -> "QPACK_DECOMPRESSION_FAILED";
      case 0x201 -> "QPACK_ENCODER_STREAM_ERROR";
      case 0x202 -> "QPACK_DECODER_STREAM_ERROR";
      default -> "0x" + Long.toHexString(code);
    };
  }
}
