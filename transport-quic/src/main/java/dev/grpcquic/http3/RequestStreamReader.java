package dev.grpcquic.http3;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Incremental parser of the frames received on one request stream (RFC 9114 §4.1): HEADERS,
 * DATA*, optional trailing HEADERS, interleaved with unknown frames which are skipped.
 *
 * <p>Chunks may split frames anywhere. DATA payload is handed out in slices as it arrives and
 * never buffered; a HEADERS payload is buffered up to {@code maxFieldSectionBytes}, in a buffer
 * that grows with the bytes that arrived, never with the length the peer announced. Not thread
 * safe: feed one stream from one thread at a time. After an exception the reader is dead.
 */
public final class RequestStreamReader {

  /** Receives the content of the stream. */
  public interface Listener {
    /**
     * One whole HEADERS payload (an encoded field section). During the call {@link #sawTrailers()}
     * tells whether it is the trailer section.
     */
    void onHeaders(byte[] fieldSection) throws Http3Exception;

    /**
     * A slice of DATA payload: a view of the chunk given to {@link #feed}, valid as long as the
     * caller does not reuse that chunk's memory. Never empty.
     */
    void onData(ByteBuffer payload) throws Http3Exception;
  }

  private enum State { FRAME_HEADER, DATA, HEADERS, SKIP, FAILED }

  /** First size of a HEADERS buffer; it doubles (up to the frame's length) as bytes arrive. */
  static final int INITIAL_HEADER_BUFFER = 1024;

  private final Listener listener;
  private final long maxFieldSectionBytes;
  private final FrameHeaderReader header = new FrameHeaderReader();

  private State state = State.FRAME_HEADER;
  private long remaining; // payload bytes still expected in DATA or SKIP
  private byte[] headerBlock;
  private int headerBlockLength; // the HEADERS frame's announced payload length
  private int headerBlockFill;
  private boolean sawHeaders;
  private boolean sawTrailers;

  /**
   * {@code maxFieldSectionBytes} above the largest Java array (e.g. a configured metadata limit of
   * Integer.MAX_VALUE) is clamped to it.
   */
  public RequestStreamReader(Listener listener, long maxFieldSectionBytes) {
    if (maxFieldSectionBytes < 0) {
      throw new IllegalArgumentException("maxFieldSectionBytes: " + maxFieldSectionBytes);
    }
    this.listener = listener;
    this.maxFieldSectionBytes = Math.min(maxFieldSectionBytes, Integer.MAX_VALUE - 8);
  }

  /**
   * Consumes the whole chunk. Returns how many of its bytes were not DATA payload: those can be
   * credited back to flow control at once, whereas DATA payload is credited as it is consumed.
   */
  public int feed(ByteBuffer chunk) throws Http3Exception {
    if (state == State.FAILED) {
      throw new IllegalStateException("reader already failed");
    }
    int total = chunk.remaining();
    int dataBytes = 0;
    try {
      while (chunk.hasRemaining()) {
        switch (state) {
          case FRAME_HEADER -> {
            if (header.feed(chunk)) {
              startFrame(header.type(), header.length());
              header.reset();
            }
          }
          case DATA -> {
            int n = (int) Math.min(remaining, chunk.remaining());
            ByteBuffer slice = chunk.slice(chunk.position(), n);
            chunk.position(chunk.position() + n);
            remaining -= n;
            dataBytes += n;
            if (remaining == 0) {
              state = State.FRAME_HEADER;
            }
            listener.onData(slice);
          }
          case HEADERS -> {
            int n = Math.min(headerBlockLength - headerBlockFill, chunk.remaining());
            if (headerBlockFill + n > headerBlock.length) {
              int grown = (int) Math.min(headerBlockLength,
                  Math.max(headerBlockFill + n, 2L * headerBlock.length));
              headerBlock = Arrays.copyOf(headerBlock, grown);
            }
            chunk.get(headerBlock, headerBlockFill, n);
            headerBlockFill += n;
            if (headerBlockFill == headerBlockLength) {
              deliverHeaders();
            }
          }
          case SKIP -> {
            int n = (int) Math.min(remaining, chunk.remaining());
            chunk.position(chunk.position() + n);
            remaining -= n;
            if (remaining == 0) {
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
    return total - dataBytes;
  }

  /** The peer's FIN: the stream must end on a frame boundary (RFC 9114 §7.1). */
  public void endOfStream() throws Http3Exception {
    if (state == State.FAILED) {
      throw new IllegalStateException("reader already failed");
    }
    if (state != State.FRAME_HEADER || header.inProgress()) {
      state = State.FAILED;
      // RFC 9114 §7.1: a frame truncated by a clean end of stream is a connection error.
      throw Http3Exception.connection(Http3ErrorCode.H3_FRAME_ERROR, "stream ended inside a frame");
    }
  }

  /**
   * Called by the listener from {@link Listener#onHeaders} for a block that was an interim (1xx)
   * response: the next HEADERS frame is then still the message's first (RFC 9114 §4.1), not its
   * trailers, and DATA may not come before it.
   */
  public void interimResponse() {
    if (!sawHeaders || sawTrailers) {
      throw new IllegalStateException("not inside the first HEADERS of a message");
    }
    sawHeaders = false;
  }

  /** True once the first HEADERS frame has arrived. */
  public boolean sawHeaders() {
    return sawHeaders;
  }

  /** True once a second HEADERS frame (the trailers) has arrived. */
  public boolean sawTrailers() {
    return sawTrailers;
  }

  private void startFrame(long type, long length) throws Http3Exception {
    if (type == FrameType.DATA) {
      if (!sawHeaders) {
        throw unexpected("DATA before HEADERS");
      }
      if (sawTrailers) {
        throw unexpected("DATA after trailers");
      }
      remaining = length;
      state = length == 0 ? State.FRAME_HEADER : State.DATA;
    } else if (type == FrameType.HEADERS) {
      if (sawTrailers) {
        throw unexpected("HEADERS after trailers");
      }
      if (length > maxFieldSectionBytes) {
        // Refused before buffering anything: RFC 9114 §4.2.2 lets us bound the field section.
        throw Http3Exception.stream(Http3ErrorCode.H3_EXCESSIVE_LOAD,
            "field section of " + length + " bytes exceeds " + maxFieldSectionBytes);
      }
      // Allocate for what has arrived, not for what the peer announced: a 10-byte frame header must
      // not make us allocate maxFieldSectionBytes.
      headerBlockLength = (int) length;
      headerBlock = new byte[Math.min(headerBlockLength, INITIAL_HEADER_BUFFER)];
      headerBlockFill = 0;
      if (length == 0) {
        deliverHeaders();
      } else {
        state = State.HEADERS;
      }
    } else if (type == FrameType.SETTINGS || type == FrameType.GOAWAY
        || type == FrameType.MAX_PUSH_ID || type == FrameType.CANCEL_PUSH) {
      throw unexpected("control frame 0x" + Long.toHexString(type) + " on a request stream");
    } else if (type == FrameType.PUSH_PROMISE) {
      throw unexpected("PUSH_PROMISE although push was never allowed");
    } else if (FrameType.isReservedHttp2(type)) {
      throw unexpected("reserved HTTP/2 frame type 0x" + Long.toHexString(type));
    } else {
      // Unknown and grease frames must be ignored (RFC 9114 §9), whatever their size.
      remaining = length;
      state = length == 0 ? State.FRAME_HEADER : State.SKIP;
    }
  }

  private void deliverHeaders() throws Http3Exception {
    byte[] block = headerBlock;
    headerBlock = null;
    state = State.FRAME_HEADER;
    if (sawHeaders) {
      sawTrailers = true;
    } else {
      sawHeaders = true;
    }
    listener.onHeaders(block);
  }

  private static Http3Exception unexpected(String message) {
    return Http3Exception.connection(Http3ErrorCode.H3_FRAME_UNEXPECTED, message);
  }
}
