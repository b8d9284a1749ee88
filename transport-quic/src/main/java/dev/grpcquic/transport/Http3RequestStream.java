package dev.grpcquic.transport;

import dev.grpcquic.engine.ConnectionCloseInfo;
import dev.grpcquic.engine.QuicStream;
import dev.grpcquic.engine.StreamHandler;
import dev.grpcquic.http3.Frames;
import dev.grpcquic.http3.Header;
import dev.grpcquic.http3.Http3ErrorCode;
import dev.grpcquic.http3.Http3Exception;
import dev.grpcquic.http3.QpackDecoder;
import dev.grpcquic.http3.QpackEncoder;
import dev.grpcquic.http3.RequestStreamReader;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One HTTP/3 request stream on a QUIC stream: frames out, frames in, QPACK, and the accounting
 * that ties QUIC flow control to what gRPC consumes. Frame overhead is credited back at once; DATA
 * payload only when the application has {@link #consumed} it, so a slow reader holds back its own
 * stream and no other.
 */
final class Http3RequestStream implements StreamHandler {
  private static final Logger log = Logger.getLogger(Http3RequestStream.class.getName());
  // Both are stateless: no dynamic table.
  private static final QpackEncoder ENCODER = new QpackEncoder();
  private static final QpackDecoder DECODER = new QpackDecoder();

  /** What the gRPC stream above hears. Called from engine threads, one call at a time. */
  interface Listener {
    /**
     * A decoded field section whose names are valid. Throws for content that is malformed at the
     * gRPC level (e.g. a -bin value that is not base64); the stream then fails like on any other
     * protocol error.
     */
    void onHeaders(List<Header> fields) throws Http3Exception;

    void onData(ByteBuffer payload);

    /** FIN after every frame was delivered. */
    void onEndOfStream();

    /** The peer reset its sending side; -1 when the engine does not tell the code. */
    void onReset(long code);

    /** The peer does not want the rest of what we send (STOP_SENDING); our side was reset. */
    void onStopSending(long code);

    /**
     * The peer sent something malformed. A connection error has already closed the connection; for
     * a stream error the listener ends the stream itself (an error response, or {@link #cancel}
     * with the error's code).
     */
    void onProtocolError(Http3Exception error);

    void onConnectionClosed(ConnectionCloseInfo info);

    /** DATA payload bytes the engine accepted (for grpc-core's onReady accounting). */
    void onPayloadWritten(int bytes);
  }

  /** Where connection errors found on this stream go: the connection closes with that code. */
  interface ConnectionErrorSink {
    void connectionError(Http3Exception error);
  }

  private final Listener listener;
  private final ConnectionErrorSink connectionErrors;
  private final RequestStreamReader reader;
  private final long maxHeaderListSize;
  private final int receiveWindow;
  /** The connection's count of DATA payload received and not yet consumed. */
  private final AtomicLong connectionBuffered;
  /** This stream's share of it. */
  private final AtomicLong buffered = new AtomicLong();
  /** Outbound bytes in flight to the engine, as {overhead, payload} pairs, oldest first. */
  private final ArrayDeque<int[]> unwritten = new ArrayDeque<>();
  private volatile QuicStream stream;
  private volatile boolean failed;
  /** The call is over: DATA that still arrives is not held for anyone. */
  private volatile boolean released;

  Http3RequestStream(Listener listener, ConnectionErrorSink connectionErrors,
      long maxHeaderListSize, int receiveWindow, AtomicLong connectionBuffered) {
    this.connectionBuffered = connectionBuffered;
    this.listener = listener;
    this.connectionErrors = connectionErrors;
    this.maxHeaderListSize = maxHeaderListSize;
    this.receiveWindow = receiveWindow;
    this.reader = new RequestStreamReader(new FrameListener(), maxHeaderListSize);
  }

  /** Binds the QUIC stream once it exists and opens the receive window. */
  void attach(QuicStream quicStream) {
    this.stream = quicStream;
    quicStream.request(receiveWindow);
  }

  QuicStream quicStream() {
    return stream;
  }

  long id() {
    return stream == null ? -1 : stream.id();
  }

  void writeHeaders(List<Header> fields, boolean fin) {
    writeHeaders(fields, fin, true);
  }

  /**
   * Sends a HEADERS frame; unless {@code flush} (or {@code fin}), it may wait for the next write
   * (see {@link QuicStream#writeLater}).
   */
  void writeHeaders(List<Header> fields, boolean fin, boolean flush) {
    ByteBuffer frame = Frames.headers(ENCODER.encode(fields));
    enqueue(frame, frame.remaining(), 0, fin, flush);
  }

  void writeData(ByteBuffer payload, boolean fin) {
    writeData(payload, fin, true);
  }

  /**
   * Sends {@code payload} as one DATA frame (or only FIN when it is empty and fin is set); unless
   * {@code flush} (or {@code fin}), it may wait for the next write.
   */
  void writeData(ByteBuffer payload, boolean fin, boolean flush) {
    int length = payload.remaining();
    if (length == 0) {
      if (fin) {
        enqueue(ByteBuffer.allocate(0), 0, 0, true, true);
      }
      return;
    }
    ByteBuffer header = Frames.dataFrameHeader(length);
    int overhead = header.remaining();
    enqueue(header, overhead, 0, false, false);
    enqueue(payload, 0, length, fin, flush);
  }

  private void enqueue(ByteBuffer bytes, int overhead, int payload, boolean fin, boolean flush) {
    synchronized (unwritten) {
      if (overhead + payload > 0) {
        unwritten.add(new int[] {overhead, payload});
      }
    }
    if (fin || flush) {
      stream.write(bytes, fin);
    } else {
      stream.writeLater(bytes);
    }
  }

  /** The application consumed {@code bytes} of DATA payload: let the peer send that much more. */
  void consumed(int bytes) {
    drain(bytes);
    QuicStream s = stream;
    if (s != null && bytes > 0 && !failed) {
      s.request(bytes);
    }
  }

  /** The call is over: what it held unconsumed no longer counts, nor does what arrives later. */
  void release() {
    released = true;
    drain(Long.MAX_VALUE);
  }

  private void drain(long bytes) {
    long taken;
    long now;
    do {
      now = buffered.get();
      taken = Math.min(now, bytes);
    } while (!buffered.compareAndSet(now, now - taken));
    connectionBuffered.addAndGet(-taken);
  }

  /** Abandons both directions with {@code code} (RESET_STREAM and STOP_SENDING). */
  void cancel(long code) {
    QuicStream s = stream;
    if (s != null) {
      s.reset(code);
      s.stopSending(code);
    }
  }

  /** We are done reading (the response is complete): ask the peer to stop sending. */
  void stopReading(long code) {
    QuicStream s = stream;
    if (s != null) {
      s.stopSending(code);
    }
  }

  // ---- StreamHandler: engine events ----

  @Override
  public void onData(ByteBuffer data) {
    if (failed) {
      return;
    }
    try {
      int overhead = reader.feed(data);
      if (overhead > 0) {
        stream.request(overhead);
      }
    } catch (Http3Exception e) {
      fail(e);
    }
  }

  @Override
  public void onEndOfStream() {
    if (failed) {
      return;
    }
    try {
      reader.endOfStream();
    } catch (Http3Exception e) {
      fail(e);
      return;
    }
    listener.onEndOfStream();
  }

  @Override
  public void onReset(long applicationErrorCode) {
    if (!failed) {
      failed = true;
      listener.onReset(applicationErrorCode);
    }
  }

  @Override
  public void onStopSending(long applicationErrorCode) {
    listener.onStopSending(applicationErrorCode);
  }

  @Override
  public void onWritten(int bytes) {
    int payload = 0;
    synchronized (unwritten) {
      int left = bytes;
      while (left > 0 && !unwritten.isEmpty()) {
        int[] head = unwritten.peek();
        int fromOverhead = Math.min(left, head[0]);
        head[0] -= fromOverhead;
        left -= fromOverhead;
        int fromPayload = Math.min(left, head[1]);
        head[1] -= fromPayload;
        left -= fromPayload;
        payload += fromPayload;
        if (head[0] == 0 && head[1] == 0) {
          unwritten.poll();
        }
      }
    }
    if (payload > 0) {
      listener.onPayloadWritten(payload);
    }
  }

  @Override
  public void onConnectionClosed(ConnectionCloseInfo info) {
    if (!failed) {
      failed = true;
      listener.onConnectionClosed(info);
    }
  }

  /** Frames parsed from the stream, passed up as gRPC-level events. */
  private final class FrameListener implements RequestStreamReader.Listener {
    @Override
    public void onHeaders(byte[] fieldSection) throws Http3Exception {
      List<Header> fields = DECODER.decode(fieldSection);
      if (HeaderBlocks.size(fields) > maxHeaderListSize) {
        throw Http3Exception.stream(Http3ErrorCode.H3_EXCESSIVE_LOAD,
            "header list larger than " + maxHeaderListSize + " bytes");
      }
      for (Header field : fields) {
        if (!HeaderBlocks.isValidName(field.name())) {
          throw Http3Exception.stream(Http3ErrorCode.H3_MESSAGE_ERROR,
              "invalid field name: " + field.name());
        }
        if (!HeaderBlocks.isValidValue(field.value())) {
          throw Http3Exception.stream(Http3ErrorCode.H3_MESSAGE_ERROR,
              "NUL, CR or LF in the value of " + field.name());
        }
      }
      String status = reader.sawTrailers() ? null : HeaderBlocks.get(fields, HeaderBlocks.STATUS);
      if (status != null && status.length() == 3 && status.charAt(0) == '1'
          && HeaderBlocks.get(fields, HeaderBlocks.METHOD) == null) {
        // An interim response (e.g. 103): the final response's HEADERS follow, not trailers.
        reader.interimResponse();
      }
      listener.onHeaders(fields);
    }

    @Override
    public void onData(ByteBuffer payload) {
      buffered.addAndGet(payload.remaining());
      connectionBuffered.addAndGet(payload.remaining());
      if (released) {
        // Arrived after the call ended (a cancelled call's request, say). Counted first and then
        // drained, so that a release() running meanwhile cannot miss these bytes.
        drain(Long.MAX_VALUE);
      }
      listener.onData(payload);
    }
  }

  private void fail(Http3Exception e) {
    failed = true;
    log.log(Level.FINE, "stream " + id() + ": " + e.getMessage(), e);
    if (e.isConnectionError()) {
      connectionErrors.connectionError(e);
    }
    listener.onProtocolError(e);
  }
}
