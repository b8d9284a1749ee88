package dev.grpcquic.http3;

/** SETTINGS identifiers (RFC 9114 §7.2.4.1, RFC 9204 §5). */
public final class SettingId {

  public static final long QPACK_MAX_TABLE_CAPACITY = 0x1;
  public static final long MAX_FIELD_SECTION_SIZE = 0x6;
  public static final long QPACK_BLOCKED_STREAMS = 0x7;

  private SettingId() {}

  /** HTTP/2 settings without an HTTP/3 meaning; receiving one is H3_SETTINGS_ERROR. */
  public static boolean isReservedHttp2(long id) {
    return id >= 0x2 && id <= 0x5;
  }
}
