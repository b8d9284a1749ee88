package dev.grpcquic.http3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class Http3ErrorCodeTest {

  @Test
  void namesEveryCode() {
    assertEquals("H3_NO_ERROR", Http3ErrorCode.name(0x100));
    assertEquals("H3_MISSING_SETTINGS", Http3ErrorCode.name(Http3ErrorCode.H3_MISSING_SETTINGS));
    assertEquals("H3_VERSION_FALLBACK", Http3ErrorCode.name(0x110));
    assertEquals("QPACK_DECOMPRESSION_FAILED", Http3ErrorCode.name(0x200));
    assertEquals("QPACK_DECODER_STREAM_ERROR", Http3ErrorCode.name(0x202));
    for (long c = 0x100; c <= 0x110; c++) {
      assertTrue(Http3ErrorCode.name(c).startsWith("H3_"), Long.toHexString(c));
    }
    assertEquals("0x21", Http3ErrorCode.name(0x21));
    assertEquals("0x4000000000000000", Http3ErrorCode.name(1L << 62));
  }

  @Test
  void exceptionCarriesCodeAndKind() {
    Http3Exception s = Http3Exception.stream(Http3ErrorCode.H3_EXCESSIVE_LOAD, "big");
    assertEquals(0x107, s.errorCode());
    assertFalse(s.isConnectionError());
    assertTrue(s.getMessage().contains("H3_EXCESSIVE_LOAD"));
    Http3Exception c = Http3Exception.connection(Http3ErrorCode.H3_ID_ERROR, "id");
    assertEquals(0x108, c.errorCode());
    assertTrue(c.isConnectionError());
  }

  @Test
  void classifiesTypes() {
    assertTrue(FrameType.isReservedHttp2(0x2));
    assertTrue(FrameType.isReservedHttp2(0x9));
    assertFalse(FrameType.isReservedHttp2(0x7));
    assertTrue(FrameType.isGrease(0x21));
    assertTrue(FrameType.isGrease(0x21 + 0x1f * 1000L));
    assertFalse(FrameType.isGrease(0x22));
    assertTrue(SettingId.isReservedHttp2(0x2));
    assertTrue(SettingId.isReservedHttp2(0x5));
    assertFalse(SettingId.isReservedHttp2(0x6));
    assertFalse(SettingId.isReservedHttp2(0x1));
  }
}
