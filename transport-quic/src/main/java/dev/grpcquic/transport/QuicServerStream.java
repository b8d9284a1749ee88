package dev.grpcquic.transport;

import dev.grpcquic.engine.ConnectionCloseInfo;
import dev.grpcquic.http3.Header;
import dev.grpcquic.http3.Http3ErrorCode;
import dev.grpcquic.http3.Http3Exception;
import io.grpc.Attributes;
import io.grpc.InternalStatus;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.internal.AbstractServerStream;
import io.grpc.internal.ReadableBuffers;
import io.grpc.internal.StatsTraceContext;
import io.grpc.internal.TransportTracer;
import io.grpc.internal.WritableBuffer;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.annotation.concurrent.GuardedBy;

/**
 * A server call on one HTTP/3 request stream, created once its request headers passed the checks
 * of {@link QuicServerTransport}. grpc-core frames and deframes; this class moves bytes between it
 * and the {@link Http3RequestStream}. Runs under the transport's lock.
 */
final class QuicServerStream extends AbstractServerStream {
  private static final Logger log = Logger.getLogger(QuicServerStream.class.getName());

  private final QuicServerTransport transport;
  private final Object lock;
  private final Http3RequestStream http3;
  private final String authority;
  private final Attributes attributes;
  private final TransportState state;
  private final Sink sink = new Sink();
  private final TransportTracer transportTracer;

  QuicServerStream(QuicServerTransport transport, Object lock, Http3RequestStream http3,
      String authority, Attributes attributes, StatsTraceContext statsTraceCtx,
      int maxInboundMessageSize, TransportTracer transportTracer) {
    super(ByteBufferWritableBuffer.ALLOCATOR, statsTraceCtx);
    this.transport = transport;
    this.lock = lock;
    this.transportTracer = transportTracer;
    this.http3 = http3;
    this.authority = authority;
    this.attributes = attributes;
    this.state = new TransportState(maxInboundMessageSize, statsTraceCtx, transportTracer);
  }

  @Override
  protected TransportState transportState() {
    return state;
  }

  @Override
  protected Sink abstractServerStreamSink() {
    return sink;
  }

  @Override
  public Attributes getAttributes() {
    return attributes;
  }

  @Override
  public String getAuthority() {
    return authority;
  }

  Http3RequestStream http3() {
    return http3;
  }

  @Override
  public int streamId() {
    return (int) http3.id();
  }

  /** grpc-core's outbound calls. */
  private final class Sink implements AbstractServerStream.Sink {
    @Override
    public void writeHeaders(Metadata headers, boolean flush) {
      synchronized (lock) {
        if (!state.closed) {
          state.headersWritten = true;
          // Unflushed (a unary response's): they leave with the message.
          http3.writeHeaders(HeaderBlocks.responseHeaders(headers), false, flush);
        }
      }
    }

    @Override
    public void writeFrame(WritableBuffer frame, boolean flush, int numMessages) {
      ByteBuffer bytes = ((ByteBufferWritableBuffer) frame).flip();
      synchronized (lock) {
        if (state.closed) {
          return;
        }
        onSendingBytes(bytes.remaining());
        if (numMessages > 0) {
          transportTracer.reportMessageSent(numMessages);
        }
        http3.writeData(bytes, false, flush);
      }
    }

    @Override
    public void writeTrailers(Metadata trailers, boolean headersSent, Status status) {
      synchronized (lock) {
        state.sendTrailers(trailers, !headersSent);
      }
    }

    @Override
    public void cancel(Status status) {
      synchronized (lock) {
        if (state.closed) {
          return;
        }
        state.closed = true;
        // G2: a server that gives up on a call (its deadline, say) resets the stream.
        http3.cancel(Http3ErrorCode.H3_REQUEST_CANCELLED);
        state.transportReportStatus(status);
        transport.streamFinished(QuicServerStream.this);
      }
    }
  }

  /** Inbound side and bridge to HTTP/3; guarded by the transport's lock. */
  final class TransportState extends AbstractServerStream.TransportState
      implements Http3RequestStream.Listener {
    @GuardedBy("lock") boolean closed;
    @GuardedBy("lock") boolean headersWritten;
    @GuardedBy("lock") private boolean inboundEnded;

    TransportState(int maxMessageSize, StatsTraceContext statsTraceCtx,
        TransportTracer transportTracer) {
      super(maxMessageSize, statsTraceCtx, transportTracer);
    }

    @GuardedBy("lock")
    void sendTrailers(Metadata trailers, boolean trailersOnly) {
      if (closed) {
        return;
      }
      writeTrailers(trailers, trailersOnly);
      complete();
      transport.streamFinished(QuicServerStream.this);
    }

    /** Ends the stream on the wire; the listener and the transport are told by the caller. */
    @GuardedBy("lock")
    private void writeTrailers(Metadata trailers, boolean trailersOnly) {
      closed = true;
      http3.writeHeaders(HeaderBlocks.trailers(trailers, trailersOnly), true);
      if (!inboundEnded) {
        // RFC 9114 §4.1.2: the response is complete, the rest of the request is not needed.
        http3.stopReading(Http3ErrorCode.H3_NO_ERROR);
      }
    }

    @Override
    public void deframeFailed(Throwable cause) {
      // A message over the size limit, a bad compression flag...: the client's fault, not the
      // server's, so FINE. The call ends here without the application: transportReportStatus
      // closes grpc-core's listener with the status; complete() is only for a call the
      // application closed (grpc-core refuses it otherwise), so the trailers go out without it.
      Status status = Status.fromThrowable(cause);
      log.log(Level.FINE, "deframing failed on stream " + http3.id(), cause);
      if (closed) {
        return;
      }
      Metadata trailers = new Metadata();
      trailers.put(InternalStatus.CODE_KEY, status);
      if (status.getDescription() != null) {
        trailers.put(InternalStatus.MESSAGE_KEY, status.getDescription());
      }
      writeTrailers(trailers, !headersWritten);
      transportReportStatus(status);
      transport.streamFinished(QuicServerStream.this);
    }

    @Override
    public void bytesRead(int numBytes) {
      http3.consumed(numBytes);
    }

    @Override
    public void runOnTransportThread(Runnable r) {
      synchronized (lock) {
        r.run();
      }
    }

    // ---- Http3RequestStream.Listener (engine threads) ----

    @Override
    public void onHeaders(List<Header> fields) throws Http3Exception {
      // Trailers from a client carry nothing gRPC uses; the FIN that follows ends the request.
    }

    @Override
    public void onData(ByteBuffer payload) {
      synchronized (lock) {
        if (!inboundEnded) {
          inboundDataReceived(ReadableBuffers.wrap(payload), false);
        }
      }
    }

    @Override
    public void onEndOfStream() {
      synchronized (lock) {
        if (!inboundEnded) {
          inboundEnded = true;
          inboundDataReceived(ReadableBuffers.empty(), true);
        }
      }
    }

    @Override
    public void onReset(long code) {
      synchronized (lock) {
        inboundEnded = true;
        if (closed) {
          return;
        }
        closed = true;
        http3.quicStream().reset(Http3ErrorCode.H3_REQUEST_CANCELLED);
        transportReportStatus(Status.CANCELLED.withDescription("call cancelled by the client"));
        transport.streamFinished(QuicServerStream.this);
      }
    }

    @Override
    public void onStopSending(long code) {
      synchronized (lock) {
        if (closed) {
          return;
        }
        // The client abandoned the response: after its FIN this is how a client cancels.
        closed = true;
        inboundEnded = true;
        http3.cancel(Http3ErrorCode.H3_REQUEST_CANCELLED);
        transportReportStatus(Status.CANCELLED.withDescription("call cancelled by the client"));
        transport.streamFinished(QuicServerStream.this);
      }
    }

    /** Ends the call here only, without a word on the wire (the connection is going away). */
    @GuardedBy("lock")
    void abandon(Status status) {
      if (closed) {
        return;
      }
      closed = true;
      inboundEnded = true;
      transportReportStatus(status);
    }

    @Override
    public void onProtocolError(Http3Exception error) {
      synchronized (lock) {
        inboundEnded = true;
        if (closed) {
          return;
        }
        closed = true;
        if (!error.isConnectionError()) {
          http3.cancel(error.errorCode());
        }
        transportReportStatus(Status.INTERNAL.withDescription(error.getMessage()));
        transport.streamFinished(QuicServerStream.this);
      }
    }

    @Override
    public void onConnectionClosed(ConnectionCloseInfo info) {
      synchronized (lock) {
        inboundEnded = true;
        if (closed) {
          return;
        }
        closed = true;
        transportReportStatus(Status.CANCELLED.withDescription("connection closed: " + info));
        transport.streamFinished(QuicServerStream.this);
      }
    }

    @Override
    public void onPayloadWritten(int bytes) {
      synchronized (lock) {
        onSentBytes(bytes);
      }
    }
  }
}
