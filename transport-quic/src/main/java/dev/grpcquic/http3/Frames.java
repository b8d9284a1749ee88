package dev.grpcquic.http3;

import java.nio.ByteBuffer;
import java.util.Map;

/** Writers for the HTTP/3 frames this transport sends. Every result is flipped, ready to write. */
public final class Frames {

  private Frames() {}

  /**
   * Type and length of a DATA frame only: the payload is written after it as is, so large
   * messages are never copied into a frame buffer.
   */
  public static ByteBuffer dataFrameHeader(long payloadLength) {
    ByteBuffer buf = ByteBuffer.allocate(VarInt.length(FrameType.DATA) + VarInt.length(payloadLength));
    VarInt.write(buf, FrameType.DATA);
    VarInt.write(buf, payloadLength);
    return buf.flip();
  }

  /** A HEADERS frame carrying one encoded QPACK field section. */
  public static ByteBuffer headers(byte[] fieldSection) {
    return frame(FrameType.HEADERS, fieldSection);
  }

  /** A SETTINGS frame; the pairs are written in the map's iteration order. */
  public static ByteBuffer settings(Map<Long, Long> settings) {
    int payloadLength = 0;
    for (Map.Entry<Long, Long> e : settings.entrySet()) {
      payloadLength += VarInt.length(e.getKey()) + VarInt.length(e.getValue());
    }
    ByteBuffer buf = ByteBuffer.allocate(
        VarInt.length(FrameType.SETTINGS) + VarInt.length(payloadLength) + payloadLength);
    writeSettings(buf, settings, payloadLength);
    return buf.flip();
  }

  /** A GOAWAY frame: {@code id} is the first request stream id (or push id) that will not be processed. */
  public static ByteBuffer goaway(long id) {
    return frame(FrameType.GOAWAY, VarInt.encode(id));
  }

  /** What a control stream starts with: its stream type (0x00), then the mandatory SETTINGS frame. */
  public static ByteBuffer controlStreamPreface(Map<Long, Long> settings) {
    ByteBuffer frame = settings(settings);
    ByteBuffer buf = ByteBuffer.allocate(VarInt.length(StreamType.CONTROL) + frame.remaining());
    VarInt.write(buf, StreamType.CONTROL);
    buf.put(frame);
    return buf.flip();
  }

  /** Any frame with a complete payload; used for HEADERS, GOAWAY and for extension or grease frames. */
  public static ByteBuffer frame(long type, byte[] payload) {
    ByteBuffer buf = ByteBuffer.allocate(
        VarInt.length(type) + VarInt.length(payload.length) + payload.length);
    VarInt.write(buf, type);
    VarInt.write(buf, payload.length);
    buf.put(payload);
    return buf.flip();
  }

  private static void writeSettings(ByteBuffer buf, Map<Long, Long> settings, int payloadLength) {
    VarInt.write(buf, FrameType.SETTINGS);
    VarInt.write(buf, payloadLength);
    for (Map.Entry<Long, Long> e : settings.entrySet()) {
      VarInt.write(buf, e.getKey());
      VarInt.write(buf, e.getValue());
    }
  }
}
