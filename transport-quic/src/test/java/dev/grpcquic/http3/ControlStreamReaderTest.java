package dev.grpcquic.http3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class ControlStreamReaderTest {

  static final class Recorder implements ControlStreamReader.Listener {
    final List<Map<Long, Long>> settings = new ArrayList<>();
    final List<Long> goaways = new ArrayList<>();

    @Override
    public void onSettings(Map<Long, Long> s) {
      settings.add(s);
    }

    @Override
    public void onGoaway(long id) {
      goaways.add(id);
    }
  }

  private static byte[] concat(ByteBuffer... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (ByteBuffer p : parts) {
      byte[] b = new byte[p.remaining()];
      p.duplicate().get(b);
      out.write(b, 0, b.length);
    }
    return out.toByteArray();
  }

  private static Map<Long, Long> ourSettings() {
    Map<Long, Long> s = new LinkedHashMap<>();
    s.put(SettingId.QPACK_MAX_TABLE_CAPACITY, 0L);
    s.put(SettingId.MAX_FIELD_SECTION_SIZE, 8192L);
    s.put(SettingId.QPACK_BLOCKED_STREAMS, 0L);
    s.put(0x21 + 0x1f * 5L, 77L); // grease setting: must be passed through, not refused
    return s;
  }

  private static ByteBuffer settings() {
    return Frames.settings(ourSettings());
  }

  private static ByteBuffer varintFrame(long type, long v) {
    return Frames.frame(type, VarInt.encode(v));
  }

  @Test
  void readsPrefaceAfterStreamTypeInAnyChunking() throws Http3Exception {
    ByteBuffer preface = Frames.controlStreamPreface(ourSettings());
    assertEquals(StreamType.CONTROL, VarInt.read(preface));
    byte[] stream = concat(preface,
        Frames.frame(0x21, new byte[40]), // grease frame, skipped
        varintFrame(FrameType.MAX_PUSH_ID, 10),
        varintFrame(FrameType.CANCEL_PUSH, 3),
        Frames.goaway(400),
        Frames.frame(0xabcdef, new byte[100_000]), // big unknown frame, skipped unbuffered
        Frames.goaway(40));
    Random random = new Random(42);
    for (int round = 0; round < 30; round++) {
      Recorder r = new Recorder();
      ControlStreamReader reader = new ControlStreamReader(r);
      int pos = 0;
      while (pos < stream.length) {
        int n = Math.min(stream.length - pos, round == 0 ? 1 : 1 + random.nextInt(200));
        reader.feed(ByteBuffer.wrap(stream, pos, n));
        pos += n;
      }
      assertEquals(List.of(ourSettings()), r.settings);
      assertEquals(new ArrayList<>(ourSettings().keySet()),
          new ArrayList<>(r.settings.get(0).keySet()), "order kept");
      assertEquals(List.of(400L, 40L), r.goaways);
      assertTrue(reader.sawSettings());
    }
  }

  private static Http3Exception failure(ByteBuffer... frames) {
    ControlStreamReader reader = new ControlStreamReader(new Recorder());
    return assertThrows(Http3Exception.class, () -> reader.feed(ByteBuffer.wrap(concat(frames))));
  }

  private static void assertConnectionError(long code, Http3Exception e) {
    assertEquals(code, e.errorCode(), e.getMessage());
    assertTrue(e.isConnectionError());
  }

  @Test
  void firstFrameMustBeSettings() {
    assertConnectionError(Http3ErrorCode.H3_MISSING_SETTINGS, failure(Frames.goaway(0)));
    assertConnectionError(Http3ErrorCode.H3_MISSING_SETTINGS,
        failure(Frames.frame(0x21, new byte[0])));
    assertConnectionError(Http3ErrorCode.H3_MISSING_SETTINGS,
        failure(Frames.headers(new byte[] {0, 0})));
    // Judged as soon as the type is known, before the length arrives.
    assertConnectionError(Http3ErrorCode.H3_MISSING_SETTINGS,
        failure(ByteBuffer.wrap(new byte[] {(byte) FrameType.GOAWAY})));
  }

  @Test
  void secondSettingsIsUnexpected() {
    assertConnectionError(Http3ErrorCode.H3_FRAME_UNEXPECTED, failure(settings(), settings()));
  }

  @Test
  void requestAndPushFramesAndHttp2TypesAreUnexpected() {
    long[] types = {FrameType.DATA, FrameType.HEADERS, FrameType.PUSH_PROMISE, 0x2, 0x6, 0x8, 0x9};
    for (long type : types) {
      assertConnectionError(Http3ErrorCode.H3_FRAME_UNEXPECTED,
          failure(settings(), Frames.frame(type, new byte[] {0})));
    }
  }

  @Test
  void malformedSettingsIsFrameError() {
    // id 0x06 followed by the first byte of a two-byte varint, then the frame ends.
    assertConnectionError(Http3ErrorCode.H3_FRAME_ERROR,
        failure(Frames.frame(FrameType.SETTINGS, new byte[] {0x06, 0x40})));
    // An id without a value.
    assertConnectionError(Http3ErrorCode.H3_FRAME_ERROR,
        failure(Frames.frame(FrameType.SETTINGS, new byte[] {0x06})));
  }

  @Test
  void duplicateOrHttp2SettingIsSettingsError() {
    assertConnectionError(Http3ErrorCode.H3_SETTINGS_ERROR,
        failure(Frames.frame(FrameType.SETTINGS, new byte[] {0x06, 0x01, 0x06, 0x02})));
    for (byte id = 2; id <= 5; id++) {
      assertConnectionError(Http3ErrorCode.H3_SETTINGS_ERROR,
          failure(Frames.frame(FrameType.SETTINGS, new byte[] {id, 0x00})));
    }
  }

  @Test
  void goawayIdMustNotGrow() throws Http3Exception {
    assertConnectionError(Http3ErrorCode.H3_ID_ERROR,
        failure(settings(), Frames.goaway(8), Frames.goaway(12)));
    Recorder r = new Recorder();
    ControlStreamReader reader = new ControlStreamReader(r);
    reader.feed(ByteBuffer.wrap(concat(settings(), Frames.goaway(8), Frames.goaway(8))));
    assertEquals(List.of(8L, 8L), r.goaways);
  }

  @Test
  void malformedGoawayIsFrameError() {
    assertConnectionError(Http3ErrorCode.H3_FRAME_ERROR,
        failure(settings(), Frames.frame(FrameType.GOAWAY, new byte[] {0x01, 0x02})));
    assertConnectionError(Http3ErrorCode.H3_FRAME_ERROR,
        failure(settings(), Frames.frame(FrameType.GOAWAY, new byte[0])));
  }

  @Test
  void oversizedControlFrameIsExcessiveLoad() throws Http3Exception {
    ByteBuffer hdr = ByteBuffer.allocate(16);
    VarInt.write(hdr, FrameType.SETTINGS);
    VarInt.write(hdr, ControlStreamReader.MAX_FRAME_BYTES + 1);
    hdr.flip();
    assertConnectionError(Http3ErrorCode.H3_EXCESSIVE_LOAD, failure(hdr));
    // A GOAWAY of exactly the cap is buffered and parsed (then refused as malformed);
    // one byte more is refused from its header alone.
    ControlStreamReader atCap = new ControlStreamReader(new Recorder());
    atCap.feed(settings());
    Http3Exception malformed = assertThrows(Http3Exception.class, () -> atCap.feed(
        Frames.frame(FrameType.GOAWAY, new byte[ControlStreamReader.MAX_FRAME_BYTES])));
    assertConnectionError(Http3ErrorCode.H3_FRAME_ERROR, malformed);
    ControlStreamReader overCap = new ControlStreamReader(new Recorder());
    overCap.feed(settings());
    ByteBuffer goaway = ByteBuffer.allocate(16);
    VarInt.write(goaway, FrameType.GOAWAY);
    VarInt.write(goaway, ControlStreamReader.MAX_FRAME_BYTES + 1);
    goaway.flip();
    assertConnectionError(Http3ErrorCode.H3_EXCESSIVE_LOAD,
        assertThrows(Http3Exception.class, () -> overCap.feed(goaway)));
  }

  @Test
  void endOfStreamIsClosedCriticalStream() throws Http3Exception {
    ControlStreamReader reader = new ControlStreamReader(new Recorder());
    reader.feed(settings());
    assertConnectionError(Http3ErrorCode.H3_CLOSED_CRITICAL_STREAM,
        assertThrows(Http3Exception.class, reader::endOfStream));
    ControlStreamReader fresh = new ControlStreamReader(new Recorder());
    assertConnectionError(Http3ErrorCode.H3_CLOSED_CRITICAL_STREAM,
        assertThrows(Http3Exception.class, fresh::endOfStream));
  }
}
