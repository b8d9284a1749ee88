package dev.grpcquic.transport;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.SettableFuture;
import dev.grpcquic.engine.ConnectionCloseInfo;
import dev.grpcquic.engine.ConnectionHandler;
import dev.grpcquic.engine.QuicConnection;
import dev.grpcquic.engine.QuicStream;
import dev.grpcquic.engine.StreamHandler;
import dev.grpcquic.http3.Header;
import dev.grpcquic.http3.Http3ErrorCode;
import dev.grpcquic.http3.Http3Exception;
import io.grpc.Attributes;
import io.grpc.Grpc;
import io.grpc.InternalChannelz.SocketStats;
import io.grpc.internal.TransportTracer;
import io.grpc.InternalLogId;
import io.grpc.Metadata;
import io.grpc.SecurityLevel;
import io.grpc.ServerStreamTracer;
import io.grpc.Status;
import io.grpc.internal.GrpcAttributes;
import io.grpc.internal.GrpcUtil;
import io.grpc.internal.ServerTransport;
import io.grpc.internal.ServerTransportListener;
import io.grpc.internal.StatsTraceContext;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.annotation.concurrent.GuardedBy;

/**
 * The server side of one QUIC connection: checks each request's headers, hands gRPC requests to
 * grpc-core as {@link QuicServerStream}s, answers everything else with an HTTP error, and drains
 * with GOAWAY on shutdown.
 */
final class QuicServerTransport implements ServerTransport, ConnectionHandler,
    Http3Control.Listener {
  private static final Logger log = Logger.getLogger(QuicServerTransport.class.getName());

  /** Call and message counts for channelz. */
  private final TransportTracer transportTracer = new TransportTracer();
  /** After the last call of a draining connection, how long the client gets to close it itself. */
  private static final long DRAIN_GRACE_MILLIS = 1000;

  private final QuicConnection connection;
  private final ServerTransportSettings settings;
  private final List<? extends ServerStreamTracer.Factory> tracerFactories;
  private final ScheduledExecutorService timer;
  private final InternalLogId logId;
  private final Http3Control control;
  /** DATA payload received and not yet consumed, over all calls (what flow control bounds). */
  private final AtomicLong bufferedBytes = new AtomicLong();
  private final Object lock = new Object();
  private final Runnable onTerminated;

  @GuardedBy("lock") private ServerTransportListener listener;
  @GuardedBy("lock") private Attributes attributes;
  @GuardedBy("lock") private final Set<QuicServerStream> streams = new LinkedHashSet<>();
  @GuardedBy("lock") private long highestStreamId = -1;
  /** Requests on streams at or above this ID are refused (after our GOAWAY). */
  @GuardedBy("lock") private long goawayId = Long.MAX_VALUE;
  @GuardedBy("lock") private ScheduledFuture<?> drainClose;
  @GuardedBy("lock") private boolean terminated;

  QuicServerTransport(QuicConnection connection, ServerTransportSettings settings,
      List<? extends ServerStreamTracer.Factory> tracerFactories, ScheduledExecutorService timer,
      Runnable onTerminated) {
    this.onTerminated = onTerminated;
    this.connection = connection;
    this.settings = settings;
    this.tracerFactories = tracerFactories;
    this.timer = timer;
    this.logId = InternalLogId.allocate(getClass(), String.valueOf(connection.remoteAddress()));
    this.control = new Http3Control(connection, settings.maxInboundMetadataSize(), this);
  }

  void start(ServerTransportListener transportListener) {
    Attributes attrs = Attributes.newBuilder()
        .set(Grpc.TRANSPORT_ATTR_REMOTE_ADDR, connection.remoteAddress())
        .set(Grpc.TRANSPORT_ATTR_LOCAL_ADDR, connection.localAddress())
        .set(GrpcAttributes.ATTR_SECURITY_LEVEL, SecurityLevel.PRIVACY_AND_INTEGRITY)
        .set(TransportKeys.CONNECTION_STATS, () -> StatsSnapshots.of(connection.stats()))
        .set(TransportKeys.RECEIVE_BUFFERED_BYTES, bufferedBytes::get)
        .build();
    synchronized (lock) {
      listener = transportListener;
      attributes = transportListener.transportReady(attrs);
    }
    // Completes once the handshake is done: a server opens no stream before that.
    control.start().whenComplete((ok, error) -> {
      if (error != null) {
        log.log(Level.FINE, "control stream failed", error);
      }
    });
  }

  // ---- ConnectionHandler (engine threads) ----

  @Override
  public StreamHandler onPeerStream(QuicStream stream) {
    if (!stream.isBidirectional()) {
      return control.onPeerUnidirectionalStream(stream);
    }
    synchronized (lock) {
      highestStreamId = Math.max(highestStreamId, stream.id());
      if (stream.id() >= goawayId || terminated) {
        // Not processed: the client may retry it elsewhere (G2: UNAVAILABLE).
        stream.reset(Http3ErrorCode.H3_REQUEST_REJECTED);
        stream.stopSending(Http3ErrorCode.H3_REQUEST_REJECTED);
        return new DiscardingStreamHandler();
      }
    }
    IncomingRequest request = new IncomingRequest();
    Http3RequestStream http3 = new Http3RequestStream(request, control,
        settings.maxInboundMetadataSize(), settings.flowControlWindow(), bufferedBytes);
    request.http3 = http3;
    request.headersTimer = timer.schedule(request::headersTimedOut,
        settings.requestHeadersTimeout().toNanos(), TimeUnit.NANOSECONDS);
    http3.attach(stream);
    return http3;
  }

  @Override
  public void onClosed(ConnectionCloseInfo info) {
    synchronized (lock) {
      for (QuicServerStream stream : new ArrayList<>(streams)) {
        stream.transportState().onConnectionClosed(info);
      }
      streams.clear();
      terminate();
    }
  }

  /**
   * A request stream until its headers arrive: then either a gRPC call (and from then on every
   * event goes to that call) or an HTTP error response.
   */
  private static final int WAITING = 0;
  private static final int SETTLED = 1;
  private static final int TIMED_OUT = 2;

  private final class IncomingRequest implements Http3RequestStream.Listener {
    Http3RequestStream http3;
    volatile ScheduledFuture<?> headersTimer;
    /** WAITING until the request's HEADERS, its end, or the headers timeout, whichever first. */
    private final AtomicInteger state = new AtomicInteger(WAITING);
    private Http3RequestStream.Listener call;
    private boolean rejected;

    /** The stream no longer waits for its HEADERS; false when the timeout got there first. */
    private boolean settle() {
      ScheduledFuture<?> t = headersTimer;
      if (t != null) {
        t.cancel(false);
      }
      state.compareAndSet(WAITING, SETTLED);
      return state.get() == SETTLED;
    }

    /** On the timer thread: no HEADERS yet (slowloris, or a stalled client). */
    void headersTimedOut() {
      if (state.compareAndSet(WAITING, TIMED_OUT)) {
        log.log(Level.FINE, "request stream {0}: no HEADERS within {1}; rejected",
            new Object[] {http3.id(), settings.requestHeadersTimeout()});
        // Nothing was processed: the client may retry (G2: UNAVAILABLE).
        http3.cancel(Http3ErrorCode.H3_REQUEST_REJECTED);
      }
    }

    @Override
    public void onHeaders(List<Header> fields) throws Http3Exception {
      if (call != null) {
        call.onHeaders(fields);
        return;
      }
      if (rejected || !settle()) {
        return;
      }
      synchronized (lock) {
        call = accept(http3, fields);
        rejected = call == null;
      }
    }

    @Override
    public void onData(ByteBuffer payload) {
      if (call != null) {
        call.onData(payload);
      }
      // Data of a rejected request is dropped; the stream's credit does not matter any more.
    }

    @Override
    public void onEndOfStream() {
      if (call != null) {
        call.onEndOfStream();
      } else if (!rejected && settle()) {
        // FIN without any HEADERS: a malformed request (RFC 9114 §4.1.2).
        http3.cancel(Http3ErrorCode.H3_REQUEST_INCOMPLETE);
      }
    }

    @Override
    public void onReset(long code) {
      if (call != null) {
        call.onReset(code);
      } else {
        settle();
        http3.cancel(Http3ErrorCode.H3_REQUEST_CANCELLED);
      }
    }

    @Override
    public void onStopSending(long code) {
      if (call != null) {
        call.onStopSending(code);
      }
    }

    @Override
    public void onProtocolError(Http3Exception error) {
      if (call != null) {
        call.onProtocolError(error);
        return;
      }
      if (!settle()) {
        return; // the headers timeout already reset the stream
      }
      if (!error.isConnectionError()) {
        if (error.errorCode() == Http3ErrorCode.H3_EXCESSIVE_LOAD) {
          // Headers over our limit: answer with the gRPC status a client understands.
          http3.writeHeaders(HeaderBlocks.httpError(431, Status.Code.RESOURCE_EXHAUSTED,
              "request header list is larger than " + settings.maxInboundMetadataSize()
                  + " bytes"), true);
          http3.stopReading(Http3ErrorCode.H3_EXCESSIVE_LOAD);
        } else {
          http3.cancel(error.errorCode());
        }
      }
    }

    @Override
    public void onConnectionClosed(ConnectionCloseInfo info) {
      settle();
      if (call != null) {
        call.onConnectionClosed(info);
      }
    }

    @Override
    public void onPayloadWritten(int bytes) {
      if (call != null) {
        call.onPayloadWritten(bytes);
      }
    }
  }

  /** Checks a request's headers; returns the call's listener, or null after an error response. */
  @GuardedBy("lock")
  private Http3RequestStream.Listener accept(Http3RequestStream http3, List<Header> fields)
      throws Http3Exception {
    String method = HeaderBlocks.get(fields, HeaderBlocks.METHOD);
    String path = HeaderBlocks.get(fields, HeaderBlocks.PATH);
    String contentType = HeaderBlocks.get(fields, GrpcUtil.CONTENT_TYPE_KEY.name());
    if (method == null || path == null || HeaderBlocks.get(fields, HeaderBlocks.SCHEME) == null) {
      // RFC 9114 §4.3.1: a request without its pseudo-headers is malformed.
      http3.cancel(Http3ErrorCode.H3_MESSAGE_ERROR);
      return null;
    }
    if (!GrpcUtil.HTTP_METHOD.equals(method)) {
      respondError(http3, 405, "Method '" + method + "' is not supported");
      return null;
    }
    if (!GrpcUtil.isGrpcContentType(contentType)) {
      respondError(http3, 415, "Content-Type '" + contentType + "' is not supported");
      return null;
    }
    if (!path.startsWith("/")) {
      respondError(http3, 404, "Expected path to start with /: " + path);
      return null;
    }
    String fullMethodName = path.substring(1);
    Metadata metadata = HeaderBlocks.toMetadata(fields, false);
    try {
      // grpc-core parses grpc-timeout inside streamCreated and throws for a malformed one, which
      // would escape into the engine's thread and leave the stream and the call count hanging.
      metadata.get(GrpcUtil.TIMEOUT_KEY);
    } catch (IllegalArgumentException e) {
      throw Http3Exception.stream(Http3ErrorCode.H3_MESSAGE_ERROR, "malformed grpc-timeout");
    }
    StatsTraceContext statsTraceCtx =
        StatsTraceContext.newServerContext(tracerFactories, fullMethodName, metadata);
    QuicServerStream stream = new QuicServerStream(this, lock, http3,
        HeaderBlocks.get(fields, HeaderBlocks.AUTHORITY), attributes, statsTraceCtx,
        settings.maxInboundMessageSize(), transportTracer);
    streams.add(stream);
    try {
      listener.streamCreated(stream, fullMethodName, metadata);
    } catch (RuntimeException e) {
      streams.remove(stream);
      // grpc-core's server throws once it has terminated (its executor is gone: shutdownNow
      // racing a request that just arrived). The call never started: refuse the stream, which
      // a client retries elsewhere, instead of keeping a stream no listener will ever hear of.
      log.log(Level.FINE, "server refused a new call", e);
      http3.cancel(Http3ErrorCode.H3_REQUEST_REJECTED);
      return null;
    }
    stream.transportState().onStreamAllocated();
    return stream.transportState();
  }

  private void respondError(Http3RequestStream http3, int httpStatus, String message) {
    log.log(Level.FINE, "refusing request: {0}", message);
    http3.writeHeaders(HeaderBlocks.httpError(httpStatus, Status.Code.INTERNAL, message), true);
    http3.stopReading(Http3ErrorCode.H3_NO_ERROR);
  }

  /** A call ended, however it ended. */
  @GuardedBy("lock")
  void streamFinished(QuicServerStream stream) {
    stream.http3().release();
    if (streams.remove(stream) && streams.isEmpty() && goawayId != Long.MAX_VALUE) {
      scheduleDrainClose();
    }
  }

  // ---- lifecycle ----

  @Override
  public void shutdown() {
    synchronized (lock) {
      if (goawayId != Long.MAX_VALUE || terminated) {
        return;
      }
      // Every stream the client opened so far is processed; later ones are refused.
      goawayId = highestStreamId < 0 ? 0 : highestStreamId + 4;
      control.sendGoaway(goawayId);
      if (streams.isEmpty()) {
        scheduleDrainClose();
      }
    }
  }

  @GuardedBy("lock")
  private void scheduleDrainClose() {
    if (drainClose == null && !terminated) {
      // The client closes a drained connection itself; if it does not, close it after a grace
      // period that lets our last frames reach it.
      drainClose = timer.schedule(() -> close(Http3ErrorCode.H3_NO_ERROR, "drained"),
          DRAIN_GRACE_MILLIS, TimeUnit.MILLISECONDS);
    }
  }

  @Override
  public void shutdownNow(Status reason) {
    synchronized (lock) {
      // No stream resets: the connection's close tells the client (its calls fail UNAVAILABLE).
      for (QuicServerStream stream : new ArrayList<>(streams)) {
        stream.transportState().abandon(reason);
      }
      streams.clear();
    }
    close(Http3ErrorCode.H3_NO_ERROR, "shut down now");
  }

  private void close(long code, String reason) {
    connection.close(code, reason);
    synchronized (lock) {
      onClosed(ConnectionCloseInfo.localClose(code, reason));
    }
  }

  @GuardedBy("lock")
  private void terminate() {
    if (terminated) {
      return;
    }
    terminated = true;
    if (drainClose != null) {
      drainClose.cancel(false);
    }
    listener.transportTerminated();
    onTerminated.run();
  }

  // ---- Http3Control.Listener ----

  @Override
  public void onGoaway(long id) {
    // A client's GOAWAY limits server push, which this server never uses.
  }

  @Override
  public void onSettings(Map<Long, Long> peerSettings) {}

  @Override
  public ScheduledExecutorService getScheduledExecutorService() {
    return timer;
  }

  @Override
  public InternalLogId getLogId() {
    return logId;
  }

  @Override
  public ListenableFuture<SocketStats> getStats() {
    SettableFuture<SocketStats> result = SettableFuture.create();
    result.set(ChannelzStats.of(transportTracer, connection));
    return result;
  }

  @Override
  public String toString() {
    return "QuicServerTransport(" + connection.remoteAddress() + ")";
  }
}
