package dev.grpcquic.transport;

import dev.grpcquic.engine.ConnectionCloseInfo;
import dev.grpcquic.engine.QuicConnection;
import dev.grpcquic.engine.QuicStream;
import dev.grpcquic.engine.StreamHandler;
import dev.grpcquic.http3.ControlStreamReader;
import dev.grpcquic.http3.FrameType;
import dev.grpcquic.http3.Frames;
import dev.grpcquic.http3.Http3ErrorCode;
import dev.grpcquic.http3.Http3Exception;
import dev.grpcquic.http3.SettingId;
import dev.grpcquic.http3.StreamType;
import dev.grpcquic.http3.VarInt;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The connection-wide part of HTTP/3: our control stream with SETTINGS and GOAWAY, the peer's
 * unidirectional streams (control, QPACK encoder and decoder, unknown types), and connection
 * errors, which close the QUIC connection with their HTTP/3 code.
 */
final class Http3Control implements Http3RequestStream.ConnectionErrorSink {
  private static final Logger log = Logger.getLogger(Http3Control.class.getName());
  private static final int UNI_STREAM_CREDIT = 64 * 1024;

  /** Connection-level events. Called from engine threads. */
  interface Listener {
    void onGoaway(long id);

    void onSettings(Map<Long, Long> settings);
  }

  private final QuicConnection connection;
  private final Listener listener;
  private final Map<Long, Long> localSettings;
  private final CompletableFuture<QuicStream> controlStream = new CompletableFuture<>();
  private boolean peerControlSeen;
  private boolean peerEncoderSeen;
  private boolean peerDecoderSeen;

  Http3Control(QuicConnection connection, long maxFieldSectionSize, Listener listener) {
    this.connection = connection;
    this.listener = listener;
    Map<Long, Long> settings = new LinkedHashMap<>();
    // No dynamic table: no QPACK encoder or decoder streams are needed from us.
    settings.put(SettingId.QPACK_MAX_TABLE_CAPACITY, 0L);
    settings.put(SettingId.QPACK_BLOCKED_STREAMS, 0L);
    settings.put(SettingId.MAX_FIELD_SECTION_SIZE, maxFieldSectionSize);
    this.localSettings = settings;
  }

  /** Opens our control stream and sends SETTINGS; completes once the stream exists. */
  CompletableFuture<Void> start() {
    connection.openStream(false, new DiscardingStreamHandler()).whenComplete((stream, error) -> {
      if (error != null) {
        controlStream.completeExceptionally(error);
        return;
      }
      stream.write(Frames.controlStreamPreface(localSettings), false);
      controlStream.complete(stream);
    });
    return controlStream.thenApply(s -> null);
  }

  /**
   * Sends an empty frame of a reserved type (RFC 9114 §7.2.8: 0x1f * N + 0x21, which every peer
   * ignores): an ack-eliciting packet that keeps a quiet connection from its idle timeout, for
   * engines that send no QUIC PING of their own.
   */
  void sendKeepAlive() {
    controlStream.thenAccept(stream -> stream.write(Frames.frame(FrameType.GREASE, new byte[0]),
        false));
  }

  /** Sends GOAWAY: requests (server) at or above {@code id} will not be processed. */
  void sendGoaway(long id) {
    controlStream.thenAccept(stream -> stream.write(Frames.goaway(id), false));
  }

  /** Takes a unidirectional stream the peer opened. */
  StreamHandler onPeerUnidirectionalStream(QuicStream stream) {
    UniStream handler = new UniStream(stream);
    stream.request(8);
    return handler;
  }

  @Override
  public void connectionError(Http3Exception error) {
    log.log(Level.FINE, "HTTP/3 connection error " + Http3ErrorCode.name(error.errorCode())
        + ": " + error.getMessage());
    connection.close(error.errorCode(), error.getMessage());
  }

  private synchronized boolean firstOfType(long type) throws Http3Exception {
    boolean seen;
    if (type == StreamType.CONTROL) {
      seen = peerControlSeen;
      peerControlSeen = true;
    } else if (type == StreamType.QPACK_ENCODER) {
      seen = peerEncoderSeen;
      peerEncoderSeen = true;
    } else {
      seen = peerDecoderSeen;
      peerDecoderSeen = true;
    }
    if (seen) {
      throw Http3Exception.connection(Http3ErrorCode.H3_STREAM_CREATION_ERROR,
          "second stream of type " + type);
    }
    return true;
  }

  /** A peer unidirectional stream: its type first, then what that type means. */
  private final class UniStream implements StreamHandler {
    private final QuicStream stream;
    private ByteBuffer typeBytes = ByteBuffer.allocate(8);
    private long type = -1;
    private ControlStreamReader control;
    /** A connection error was found here: later data (already read by the engine) is ignored. */
    private boolean failed;

    UniStream(QuicStream stream) {
      this.stream = stream;
    }

    @Override
    public void onData(ByteBuffer data) {
      if (failed) {
        return;
      }
      try {
        int consumed = data.remaining();
        if (type < 0) {
          while (data.hasRemaining() && type < 0) {
            typeBytes.put(data.get());
            ByteBuffer view = typeBytes.duplicate().flip();
            type = VarInt.read(view);
          }
          if (type < 0) {
            stream.request(consumed);
            return;
          }
          typeBytes = null;
          if (!accept()) {
            return;
          }
        }
        if (control != null) {
          control.feed(data);
        }
        // Control frames are small and QPACK streams are drained: give credit back at once.
        stream.request(consumed);
      } catch (Http3Exception e) {
        failed = true;
        connectionError(e);
      }
    }

    private boolean accept() throws Http3Exception {
      if (type == StreamType.CONTROL) {
        firstOfType(type);
        control = new ControlStreamReader(new ControlStreamReader.Listener() {
          @Override
          public void onSettings(Map<Long, Long> settings) {
            listener.onSettings(settings);
          }

          @Override
          public void onGoaway(long id) {
            listener.onGoaway(id);
          }
        });
        return true;
      }
      if (type == StreamType.QPACK_ENCODER || type == StreamType.QPACK_DECODER) {
        firstOfType(type);
        return true;
      }
      if (type == StreamType.PUSH) {
        // We never send MAX_PUSH_ID, so no push ID can be valid.
        throw Http3Exception.connection(Http3ErrorCode.H3_ID_ERROR, "push stream without MAX_PUSH_ID");
      }
      // RFC 9114 §6.2: unknown stream types are ignored, and the peer asked to stop sending.
      stream.stopSending(Http3ErrorCode.H3_STREAM_CREATION_ERROR);
      return false;
    }

    @Override
    public void onEndOfStream() {
      closedCritical();
    }

    @Override
    public void onReset(long applicationErrorCode) {
      closedCritical();
    }

    private void closedCritical() {
      if (type == StreamType.CONTROL || type == StreamType.QPACK_ENCODER
          || type == StreamType.QPACK_DECODER) {
        connectionError(Http3Exception.connection(Http3ErrorCode.H3_CLOSED_CRITICAL_STREAM,
            "peer closed a critical stream of type " + type));
      }
    }

    @Override
    public void onStopSending(long applicationErrorCode) {
      closedCritical();
    }

    @Override
    public void onWritten(int bytes) {}

    @Override
    public void onConnectionClosed(ConnectionCloseInfo info) {}
  }
}
