package dev.grpcquic.http3;

import java.nio.ByteBuffer;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Incremental parser of the peer's control stream (RFC 9114 §6.2.1), fed with the bytes that
 * follow its stream-type varint. Known control frames are buffered whole (at most
 * {@link #MAX_FRAME_BYTES}); unknown frames are skipped without buffering. Not thread safe.
 * After an exception the reader is dead.
 */
public final class ControlStreamReader {

  /** Receives what the peer announces. */
  public interface Listener {
    /** The peer's SETTINGS, in the order sent. Called once. */
    void onSettings(Map<Long, Long> settings) throws Http3Exception;

    /** A GOAWAY: the first stream (or push) id the peer will not process. */
    void onGoaway(long id) throws Http3Exception;
  }

  /** Largest control frame payload we buffer; nothing legitimate comes close. */
  public static final int MAX_FRAME_BYTES = 16 * 1024;

  private enum State { FRAME_HEADER, PAYLOAD, SKIP, FAILED }

  private final Listener listener;
  private final FrameHeaderReader header = new FrameHeaderReader();

  private State state = State.FRAME_HEADER;
  private long frameType;
  private byte[] payload;
  private int payloadFill;
  private long skipRemaining;
  private boolean sawSettings;
  private long lastGoaway = -1;

  public ControlStreamReader(Listener listener) {
    this.listener = listener;
  }

  /** Consumes the whole chunk. */
  public void feed(ByteBuffer chunk) throws Http3Exception {
    if (state == State.FAILED) {
      throw new IllegalStateException("reader already failed");
    }
    try {
      while (chunk.hasRemaining()) {
        switch (state) {
          case FRAME_HEADER -> {
            boolean complete = header.feed(chunk);
            if (header.typeKnown()) {
              // Judge the type as soon as it is known: a bad first frame fails without waiting.
              checkType(header.type());
            }
            if (complete) {
              startFrame(header.type(), header.length());
              header.reset();
            }
          }
          case PAYLOAD -> {
            int n = Math.min(payload.length - payloadFill, chunk.remaining());
            chunk.get(payload, payloadFill, n);
            payloadFill += n;
            if (payloadFill == payload.length) {
              state = State.FRAME_HEADER;
              handleFrame(frameType, payload);
            }
          }
          case SKIP -> {
            int n = (int) Math.min(skipRemaining, chunk.remaining());
            chunk.position(chunk.position() + n);
            skipRemaining -= n;
            if (skipRemaining == 0) {
              state = State.FRAME_HEADER;
            }
          }
          default -> throw new IllegalStateException(state.name());
        }
      }
    } catch (Http3Exception | RuntimeException e) {
      state = State.FAILED;
      throw e;
    }
  }

  /** The control stream is critical: any end of it, clean or not, closes the connection. */
  public void endOfStream() throws Http3Exception {
    state = State.FAILED;
    throw Http3Exception.connection(Http3ErrorCode.H3_CLOSED_CRITICAL_STREAM, "control stream closed");
  }

  /** True once the peer's SETTINGS have been received. */
  public boolean sawSettings() {
    return sawSettings;
  }

  private void checkType(long type) throws Http3Exception {
    if (!sawSettings && type != FrameType.SETTINGS) {
      throw Http3Exception.connection(Http3ErrorCode.H3_MISSING_SETTINGS,
          "first control frame is 0x" + Long.toHexString(type) + ", not SETTINGS");
    }
    if (sawSettings && type == FrameType.SETTINGS) {
      throw unexpected("second SETTINGS frame");
    }
    if (type == FrameType.DATA || type == FrameType.HEADERS || type == FrameType.PUSH_PROMISE) {
      throw unexpected("frame 0x" + Long.toHexString(type) + " on the control stream");
    }
    if (FrameType.isReservedHttp2(type)) {
      throw unexpected("reserved HTTP/2 frame type 0x" + Long.toHexString(type));
    }
  }

  private void startFrame(long type, long length) throws Http3Exception {
    if (isKnown(type)) {
      if (length > MAX_FRAME_BYTES) {
        throw Http3Exception.connection(Http3ErrorCode.H3_EXCESSIVE_LOAD,
            "control frame of " + length + " bytes");
      }
      frameType = type;
      payload = new byte[(int) length];
      payloadFill = 0;
      if (length == 0) {
        handleFrame(type, payload);
      } else {
        state = State.PAYLOAD;
      }
    } else {
      skipRemaining = length;
      state = length == 0 ? State.FRAME_HEADER : State.SKIP;
    }
  }

  private static boolean isKnown(long type) {
    return type == FrameType.SETTINGS || type == FrameType.GOAWAY
        || type == FrameType.MAX_PUSH_ID || type == FrameType.CANCEL_PUSH;
  }

  private void handleFrame(long type, byte[] body) throws Http3Exception {
    if (type == FrameType.SETTINGS) {
      sawSettings = true;
      listener.onSettings(parseSettings(body));
    } else if (type == FrameType.GOAWAY) {
      long id = singleVarInt(body, "GOAWAY");
      // RFC 9114 §5.2: a later GOAWAY may only lower the id.
      if (lastGoaway >= 0 && id > lastGoaway) {
        throw Http3Exception.connection(Http3ErrorCode.H3_ID_ERROR,
            "GOAWAY id grew from " + lastGoaway + " to " + id);
      }
      lastGoaway = id;
      listener.onGoaway(id);
    } else {
      // MAX_PUSH_ID and CANCEL_PUSH: we never use push, but the frames must still be well formed.
      singleVarInt(body, type == FrameType.MAX_PUSH_ID ? "MAX_PUSH_ID" : "CANCEL_PUSH");
    }
  }

  private static Map<Long, Long> parseSettings(byte[] body) throws Http3Exception {
    ByteBuffer buf = ByteBuffer.wrap(body);
    Map<Long, Long> settings = new LinkedHashMap<>();
    while (buf.hasRemaining()) {
      long id = VarInt.read(buf);
      long value = id < 0 ? -1 : VarInt.read(buf);
      if (value < 0) {
        throw Http3Exception.connection(Http3ErrorCode.H3_FRAME_ERROR, "truncated SETTINGS payload");
      }
      if (SettingId.isReservedHttp2(id)) {
        throw Http3Exception.connection(Http3ErrorCode.H3_SETTINGS_ERROR,
            "HTTP/2 setting 0x" + Long.toHexString(id));
      }
      if (settings.putIfAbsent(id, value) != null) {
        throw Http3Exception.connection(Http3ErrorCode.H3_SETTINGS_ERROR,
            "duplicate setting 0x" + Long.toHexString(id));
      }
    }
    return Collections.unmodifiableMap(settings);
  }

  private static long singleVarInt(byte[] body, String frame) throws Http3Exception {
    ByteBuffer buf = ByteBuffer.wrap(body);
    long v = VarInt.read(buf);
    if (v < 0 || buf.hasRemaining()) {
      throw Http3Exception.connection(Http3ErrorCode.H3_FRAME_ERROR, "malformed " + frame + " payload");
    }
    return v;
  }

  private static Http3Exception unexpected(String message) {
    return Http3Exception.connection(Http3ErrorCode.H3_FRAME_UNEXPECTED, message);
  }
}
