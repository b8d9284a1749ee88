package dev.grpcquic.transport;

import dev.grpcquic.engine.ConnectionCloseInfo;
import dev.grpcquic.engine.QuicStream;
import dev.grpcquic.http3.Header;
import dev.grpcquic.http3.Http3ErrorCode;
import dev.grpcquic.http3.Http3Exception;
import io.grpc.Attributes;
import io.grpc.CallOptions;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.internal.AbstractClientStream;
import io.grpc.internal.ClientStreamListener.RpcProgress;
import io.grpc.internal.Http2ClientStreamTransportState;
import io.grpc.internal.ReadableBuffers;
import io.grpc.internal.StatsTraceContext;
import io.grpc.internal.TransportTracer;
import io.grpc.internal.WritableBuffer;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import javax.annotation.concurrent.GuardedBy;

/**
 * A client call on one HTTP/3 request stream. grpc-core does the framing, deframing, status and
 * metadata rules; this class moves bytes between it and the {@link Http3RequestStream}. Every
 * {@link TransportState} method runs under the transport's lock.
 */
final class QuicClientStream extends AbstractClientStream {
  private final QuicClientTransport transport;
  private final Object lock;
  private final String authority;
  private final String path;
  private final String userAgent;
  /** Built when the call starts: grpc-core adds grpc-timeout to the metadata only then. */
  private List<Header> requestHeaders;
  private final TransportState state;
  private final Sink sink = new Sink();
  private final TransportTracer transportTracer;
  /** May travel as 0-RTT data (safe or idempotent method, or opted in). */
  private final boolean earlyEligible;
  /** The client sends one message: its request is complete only with the end of stream. */
  private final boolean earlyWaitsForEnd;
  /**
   * A one-message request's stream opens with its end, as grpc-netty holds such a call's headers
   * for its message: the stream's creation, HEADERS, DATA and FIN then happen in one turn of the
   * engine's event loop and leave as one datagram (opened at the headers, the stream took a
   * wake-up of the loop of its own, and the headers often a datagram of their own).
   */
  @GuardedBy("lock") private boolean startWaitsForMessage;

  QuicClientStream(QuicClientTransport transport, Object lock, String authority, String path,
      String userAgent, Metadata headers, CallOptions callOptions, StatsTraceContext statsTraceCtx,
      int maxInboundMessageSize, long maxHeaderListSize, int receiveWindow,
      AtomicLong bufferedBytes, boolean earlyEligible, boolean oneRequestMessage,
      TransportTracer transportTracer) {
    super(ByteBufferWritableBuffer.ALLOCATOR, statsTraceCtx, transportTracer, headers,
        callOptions, false);
    this.transport = transport;
    this.lock = lock;
    this.transportTracer = transportTracer;
    this.authority = authority;
    this.path = path;
    this.userAgent = userAgent;
    this.earlyEligible = earlyEligible;
    this.earlyWaitsForEnd = oneRequestMessage;
    this.state = new TransportState(maxInboundMessageSize, statsTraceCtx, callOptions,
        maxHeaderListSize, receiveWindow, bufferedBytes, transportTracer);
  }

  @Override
  protected TransportState transportState() {
    return state;
  }

  @Override
  protected Sink abstractClientStreamSink() {
    return sink;
  }

  @Override
  public void setAuthority(String authority) {
    // The authority was fixed when the request headers were built; a per-call override is not
    // supported by this transport.
  }

  @Override
  public Attributes getAttributes() {
    return transport.getAttributes();
  }

  boolean earlyEligible() {
    return earlyEligible;
  }

  String path() {
    return path;
  }

  /** grpc-core's outbound calls. */
  private final class Sink implements AbstractClientStream.Sink {
    @Override
    public void writeHeaders(Metadata metadata, byte[] payload) {
      requestHeaders = HeaderBlocks.request(authority, path, userAgent, metadata);
      if (earlyWaitsForEnd && transport.connected()) {
        synchronized (lock) {
          startWaitsForMessage = true;
        }
        return;
      }
      transport.startStream(QuicClientStream.this);
    }

    @Override
    public void writeFrame(WritableBuffer frame, boolean endOfStream, boolean flush,
        int numMessages) {
      ByteBuffer bytes = frame == null
          ? ByteBuffer.allocate(0) : ((ByteBufferWritableBuffer) frame).flip();
      boolean start = false;
      synchronized (lock) {
        if (state.cancelled) {
          return;
        }
        onSendingBytes(bytes.remaining());
        if (numMessages > 0) {
          transportTracer.reportMessageSent(numMessages);
        }
        if (state.http3 == null || state.http3.quicStream() == null) {
          state.pending.add(new PendingData(bytes, endOfStream));
          if (startWaitsForMessage) {
            // Not at the message's flush, which grpc-core makes before it ends the stream: a
            // server answers a one-message request only at its end anyway.
            start = endOfStream;
            startWaitsForMessage = !start;
          } else if (endOfStream || (flush && !earlyWaitsForEnd)) {
            // Early data goes when the request is complete (one-message requests: grpc-core
            // flushes the message before it ends the stream) or, for streaming requests, flushed.
            transport.earlyRequestWritten(QuicClientStream.this);
          }
        } else {
          state.writeData(bytes, endOfStream, flush);
        }
      }
      if (start) {
        transport.startStream(QuicClientStream.this);
      }
    }

    @Override
    public void cancel(Status reason) {
      synchronized (lock) {
        if (state.cancelled) {
          return;
        }
        state.cancelled = true;
        state.pending.clear();
        if (state.http3 != null && state.http3.quicStream() != null) {
          state.http3.cancel(Http3ErrorCode.H3_REQUEST_CANCELLED);
        }
        state.transportReportStatus(reason, true, new Metadata());
        transport.streamFinished(QuicClientStream.this);
      }
    }
  }

  private record PendingData(ByteBuffer bytes, boolean endOfStream) {}

  /** The stream's inbound side, and the bridge to HTTP/3. Guarded by the transport's lock. */
  final class TransportState extends Http2ClientStreamTransportState
      implements Http3RequestStream.Listener {
    private final long maxHeaderListSize;
    private final int receiveWindow;
    private final AtomicLong bufferedBytes;
    @GuardedBy("lock") Http3RequestStream http3;
    @GuardedBy("lock") final List<PendingData> pending = new ArrayList<>();
    @GuardedBy("lock") boolean cancelled;
    @GuardedBy("lock") private boolean headersSeen;
    @GuardedBy("lock") private boolean trailersSeen;
    @GuardedBy("lock") private boolean finSent;

    TransportState(int maxMessageSize, StatsTraceContext statsTraceCtx, CallOptions options,
        long maxHeaderListSize, int receiveWindow, AtomicLong bufferedBytes,
        TransportTracer transportTracer) {
      super(maxMessageSize, statsTraceCtx, transportTracer, options);
      this.maxHeaderListSize = maxHeaderListSize;
      this.receiveWindow = receiveWindow;
      this.bufferedBytes = bufferedBytes;
    }

    /** Creates the HTTP/3 side; the QUIC stream follows in {@link #streamOpened}. */
    @GuardedBy("lock")
    Http3RequestStream newHttp3Stream(Http3RequestStream.ConnectionErrorSink errors) {
      http3 = new Http3RequestStream(this, errors, maxHeaderListSize, receiveWindow,
          bufferedBytes);
      return http3;
    }

    /** The QUIC stream exists: send the request headers and whatever the call wrote meanwhile. */
    @GuardedBy("lock")
    void streamOpened(QuicStream quicStream) {
      if (cancelled) {
        http3.attach(quicStream);
        // Not a reset: as a stream's first frame kwik's server drops it (the stream is unknown
        // to it) and the stream's MAX_STREAMS slot never comes back. An empty request with FIN
        // opens the stream there; the server refuses it (H3_REQUEST_INCOMPLETE) and both ends
        // close it.
        http3.writeData(ByteBuffer.allocate(0), true);
        http3.stopReading(Http3ErrorCode.H3_REQUEST_CANCELLED);
        return;
      }
      http3.attach(quicStream);
      http3.writeHeaders(requestHeaders, false, pending.isEmpty());
      // Stream tracers learn that the request headers went out (grpc-core leaves this to us).
      getStatsTraceContext().clientOutboundHeaders();
      for (int i = 0; i < pending.size(); i++) {
        PendingData data = pending.get(i);
        writeData(data.bytes, data.endOfStream, i == pending.size() - 1);
      }
      pending.clear();
      getTransportTracer().reportLocalStreamStarted();
      onStreamAllocated();
    }

    /** The call wrote request bytes (or its end) that no stream carries yet. */
    @GuardedBy("lock")
    boolean hasPendingData() {
      return !pending.isEmpty();
    }

    @GuardedBy("lock")
    void writeData(ByteBuffer bytes, boolean endOfStream, boolean flush) {
      if (finSent) {
        return;
      }
      finSent = endOfStream;
      http3.writeData(bytes, endOfStream, flush);
    }

    /** Ends the call from the transport (connection lost, GOAWAY, shutdownNow). */
    @GuardedBy("lock")
    void fail(Status status, RpcProgress progress, boolean resetStream) {
      if (resetStream && http3 != null && http3.quicStream() != null) {
        http3.cancel(Http3ErrorCode.H3_REQUEST_CANCELLED);
      }
      cancelled = true;
      pending.clear();
      transportReportStatus(status, progress, true, new Metadata());
    }

    @Override
    protected void http2ProcessingFailed(Status status, boolean stopDelivery, Metadata trailers) {
      // Runs under the lock: grpc-core calls it from the inbound path.
      if (http3 != null && http3.quicStream() != null) {
        http3.cancel(Http3ErrorCode.H3_REQUEST_CANCELLED);
      }
      cancelled = true;
      transportReportStatus(status, stopDelivery, trailers);
      transport.streamFinished(QuicClientStream.this);
    }

    @Override
    public void deframeFailed(Throwable cause) {
      http2ProcessingFailed(Status.fromThrowable(cause), true, new Metadata());
    }

    @Override
    public void bytesRead(int processedBytes) {
      http3.consumed(processedBytes);
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
      transport.heardFromServer();
      synchronized (lock) {
        if (cancelled || trailersSeen) {
          return;
        }
        Metadata metadata = HeaderBlocks.toMetadata(fields, true);
        if (!headersSeen) {
          String status = HeaderBlocks.get(fields, HeaderBlocks.STATUS);
          if (status != null && status.length() == 3 && status.charAt(0) == '1') {
            return; // informational response: the real one follows
          }
          headersSeen = true;
          if (HeaderBlocks.get(fields, "grpc-status") == null) {
            transportHeadersReceived(metadata);
            return;
          }
          // Trailers-Only: one HEADERS block carries the whole response.
        }
        trailersSeen = true;
        transportTrailersReceived(metadata);
        responseComplete();
      }
    }

    @Override
    public void onData(ByteBuffer payload) {
      transport.heardFromServer();
      synchronized (lock) {
        if (cancelled || trailersSeen) {
          return;
        }
        transportDataReceived(ReadableBuffers.wrap(payload), false);
      }
    }

    @Override
    public void onEndOfStream() {
      synchronized (lock) {
        if (cancelled || trailersSeen) {
          return;
        }
        // No trailers: grpc-core turns this into the right INTERNAL (or HTTP-derived) status.
        transportDataReceived(ReadableBuffers.empty(), true);
        transport.streamFinished(QuicClientStream.this);
      }
    }

    @Override
    public void onReset(long code) {
      synchronized (lock) {
        if (cancelled || trailersSeen) {
          return;
        }
        cancelled = true;
        // H3_REQUEST_REJECTED: the server did not process the request (RFC 9114 §4.1.1), so
        // grpc-core may retry it transparently, as it does for HTTP/2's REFUSED_STREAM.
        transportReportStatus(Http3Errors.statusForServerReset(code),
            code == Http3ErrorCode.H3_REQUEST_REJECTED ? RpcProgress.REFUSED : RpcProgress.PROCESSED,
            false, new Metadata());
        transport.streamFinished(QuicClientStream.this);
      }
    }

    @Override
    public void onStopSending(long code) {
      synchronized (lock) {
        // The server has what it needs (or gave up on the request): stop sending, keep reading
        // for the response.
        finSent = true;
        pending.clear();
      }
    }

    @Override
    public void onProtocolError(Http3Exception error) {
      synchronized (lock) {
        if (cancelled) {
          return;
        }
        Status status = error.errorCode() == Http3ErrorCode.H3_EXCESSIVE_LOAD
            ? Status.RESOURCE_EXHAUSTED : Status.INTERNAL;
        if (!error.isConnectionError()) {
          http3.cancel(error.errorCode());
        }
        cancelled = true;
        transportReportStatus(status.withDescription(error.getMessage()), false, new Metadata());
        transport.streamFinished(QuicClientStream.this);
      }
    }

    @Override
    public void onConnectionClosed(ConnectionCloseInfo info) {
      synchronized (lock) {
        if (cancelled || trailersSeen) {
          return;
        }
        if (http3.quicStream() != null && http3.quicStream().id() < 0) {
          // An early call's stream that never came to exist (UnstartedConnection#openStream).
          transport.earlyStreamNotOpened(QuicClientStream.this, info);
          return;
        }
        cancelled = true;
        // A refused connection (CONNECTION_REFUSED from a draining server, which may let the
        // handshake complete first) processed nothing: MISCARRIED lets grpc-core retry the call
        // elsewhere, as the transport does for calls still waiting for their stream.
        transportReportStatus(Http3Errors.statusForConnectionClose(info),
            Http3Errors.isRefusal(info) ? RpcProgress.MISCARRIED : RpcProgress.PROCESSED, false,
            new Metadata());
        transport.streamFinished(QuicClientStream.this);
      }
    }

    @Override
    public void onPayloadWritten(int bytes) {
      synchronized (lock) {
        onSentBytes(bytes);
      }
    }

    /** Trailers arrived: the call is over; stop our side if it is still sending. */
    @GuardedBy("lock")
    private void responseComplete() {
      if (!finSent) {
        finSent = true;
        pending.clear();
        http3.quicStream().reset(Http3ErrorCode.H3_NO_ERROR);
      }
      transport.streamFinished(QuicClientStream.this);
    }
  }
}
