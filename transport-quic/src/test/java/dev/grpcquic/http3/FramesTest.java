package dev.grpcquic.http3;

import static dev.grpcquic.http3.VarIntTest.hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class FramesTest {

  private static byte[] bytes(ByteBuffer buf) {
    assertEquals(0, buf.position(), "result must be flipped");
    byte[] b = new byte[buf.remaining()];
    buf.get(b);
    return b;
  }

  @Test
  void dataFrameHeaderIsTypeAndLengthOnly() {
    assertArrayEquals(hex("0000"), bytes(Frames.dataFrameHeader(0)));
    assertArrayEquals(hex("003f"), bytes(Frames.dataFrameHeader(63)));
    assertArrayEquals(hex("004040"), bytes(Frames.dataFrameHeader(64)));
    assertArrayEquals(hex("0080010000"), bytes(Frames.dataFrameHeader(65536)));
  }

  @Test
  void headersAndGoaway() {
    assertArrayEquals(hex("0103000011"), bytes(Frames.headers(hex("000011"))));
    assertArrayEquals(hex("070100"), bytes(Frames.goaway(0)));
    assertArrayEquals(hex("07024064"), bytes(Frames.goaway(100)));
  }

  @Test
  void settingsKeepMapOrder() {
    Map<Long, Long> s = new LinkedHashMap<>();
    s.put(SettingId.MAX_FIELD_SECTION_SIZE, 8192L);
    s.put(SettingId.QPACK_MAX_TABLE_CAPACITY, 0L);
    s.put(SettingId.QPACK_BLOCKED_STREAMS, 0L);
    // 06 -> 8192 (2 bytes: 0x6000), 01 -> 0, 07 -> 0
    assertArrayEquals(hex("0407" + "066000" + "0100" + "0700"), bytes(Frames.settings(s)));
    assertArrayEquals(hex("00" + "0407" + "066000" + "0100" + "0700"),
        bytes(Frames.controlStreamPreface(s)));
    assertArrayEquals(hex("0400"), bytes(Frames.settings(Map.of())));
  }
}
