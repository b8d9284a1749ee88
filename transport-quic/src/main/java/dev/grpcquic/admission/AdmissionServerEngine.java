package dev.grpcquic.admission;

import dev.grpcquic.engine.ConnectionAcceptor;
import dev.grpcquic.engine.ConnectionCloseInfo;
import dev.grpcquic.engine.ConnectionHandler;
import dev.grpcquic.engine.QuicServerEndpoint;
import dev.grpcquic.engine.QuicServerEngine;
import dev.grpcquic.engine.QuicStream;
import dev.grpcquic.engine.ServerEndpointOptions;
import dev.grpcquic.engine.StreamHandler;
import dev.grpcquic.http3.Http3ErrorCode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.annotation.concurrent.GuardedBy;

/**
 * A server engine that admits request streams through an {@link AdaptiveConcurrencyLimiter}.
 *
 * <p>A request stream (client-initiated, bidirectional) over the limit is refused the moment the
 * engine hands it over, before the transport reads a byte of it: RESET_STREAM and STOP_SENDING
 * with H3_REQUEST_REJECTED, which tells the client that nothing was processed (RFC 9114 §4.1.1),
 * so grpc-java retries the call transparently, on another server when it has one. An admitted
 * stream holds its slot until the server ends its response (FIN or reset); its latency, from the
 * stream's arrival to that end, is what the limit follows.
 *
 * <p>With {@link AdaptiveConcurrencyLimit#grantStreamsByLimit} the limit is also offered through
 * the streams each connection grants. Neither engine can lower or hold back MAX_STREAMS on a live
 * connection (kwik grants one stream whenever a peer's stream finishes both directions, in
 * package-private code; quiche likewise when it collects a finished stream, and Netty exposes no
 * call for it), but both keep a stream's slot while its receiving side is unread. So a refused
 * stream is reset (RESET_STREAM H3_REQUEST_REJECTED: the client sees the refusal at once) and its
 * receiving side is kept, unread, while the connection's credit is above the limit: the client's
 * window, maxConcurrentCallsPerConnection less the streams held, shrinks to min(that, limit), and
 * its further calls wait on the client for a stream instead of being refused. When the limit
 * rises, held streams are let go (STOP_SENDING) and their slots come back as MAX_STREAMS. Each
 * connection may use up to the whole limit (a share of it would starve a lone client), so with
 * several connections refusals still enforce the server-wide limit.
 */
public final class AdmissionServerEngine implements QuicServerEngine {
  private static final Logger log = Logger.getLogger(AdmissionServerEngine.class.getName());

  private final AdaptiveConcurrencyLimiter limiter;
  private final QuicServerEngine engine;
  private final boolean grantStreams;
  /** Connections that may hold refused streams (only with grantStreams). */
  private final Set<Admission> connections = ConcurrentHashMap.newKeySet();

  public AdmissionServerEngine(AdaptiveConcurrencyLimiter limiter, QuicServerEngine engine) {
    this.limiter = limiter;
    this.engine = engine;
    this.grantStreams = limiter.config().grantStreamsByLimit();
    if (grantStreams) {
      limiter.addLimitListener(() -> {
        for (Admission connection : connections) {
          connection.releaseHeldAboveLimit();
        }
      });
    }
  }

  @Override
  public QuicServerEndpoint bind(ServerEndpointOptions options, ConnectionAcceptor acceptor)
      throws IOException {
    int granted = options.maxPeerBidirectionalStreams();
    return engine.bind(options,
        connection -> new Admission(acceptor.onConnection(connection), granted));
  }

  /** One connection's handler: admits or refuses each request stream. */
  private final class Admission implements ConnectionHandler {
    private final ConnectionHandler handler;
    /** The connection's stream credit as the endpoint configured it: streams open at once. */
    private final int granted;
    /** Refused streams whose slots are withheld, oldest first. */
    @GuardedBy("this") private final ArrayDeque<QuicStream> held = new ArrayDeque<>();
    @GuardedBy("this") private boolean closed;

    Admission(ConnectionHandler handler, int granted) {
      this.handler = handler;
      this.granted = granted;
      if (grantStreams) {
        connections.add(this);
      }
    }

    /** Slots to withhold now so that the client's window is min(granted, limit). */
    private int toHold() {
      return Math.max(0, granted - limiter.limit());
    }

    /** Refuses a request stream, keeping its slot when the connection's credit is too high. */
    private void refuse(QuicStream stream) {
      boolean hold = false;
      if (grantStreams) {
        synchronized (this) {
          pruneHeld();
          if (!closed && held.size() < toHold()) {
            held.add(stream);
            hold = true;
          }
        }
      }
      if (hold) {
        if (stream.resetSending(Http3ErrorCode.H3_REQUEST_REJECTED)) {
          return;
        }
        forget(stream); // this engine cannot keep the receiving side: it reset both
        return;
      }
      stream.reset(Http3ErrorCode.H3_REQUEST_REJECTED);
      stream.stopSending(Http3ErrorCode.H3_REQUEST_REJECTED);
    }

    /** Lets go of held streams beyond what the limit calls for (their slots return). */
    void releaseHeldAboveLimit() {
      List<QuicStream> release = new ArrayList<>();
      synchronized (this) {
        pruneHeld();
        int keep = toHold();
        while (held.size() > keep) {
          release.add(held.poll());
        }
      }
      for (QuicStream stream : release) {
        stream.reset(Http3ErrorCode.H3_REQUEST_REJECTED); // STOP_SENDING: the slot comes back
      }
      if (!release.isEmpty()) {
        log.log(Level.FINE, "released {0} held stream(s): {1}",
            new Object[] {release.size(), limiter});
      }
    }

    /** Drops held streams that no longer hold a slot (their client reset them: kwik freed them). */
    @GuardedBy("this")
    private void pruneHeld() {
      held.removeIf(stream -> !stream.holdsSlot());
    }

    private synchronized void forget(QuicStream stream) {
      held.remove(stream);
    }

    @Override
    public StreamHandler onPeerStream(QuicStream stream) {
      if (!stream.isBidirectional()) {
        return handler.onPeerStream(stream); // HTTP/3 control and QPACK streams
      }
      if (!limiter.tryAcquire()) {
        log.log(Level.FINE, "request stream {0} refused: {1}", new Object[] {stream.id(), limiter});
        refuse(stream);
        return grantStreams ? new Held(this, stream) : Refused.INSTANCE;
      }
      AdmittedStream admitted = new AdmittedStream(limiter, stream);
      admitted.handler(handler.onPeerStream(admitted));
      return admitted;
    }

    @Override
    public void onClosed(ConnectionCloseInfo info) {
      if (grantStreams) {
        connections.remove(this);
        synchronized (this) {
          closed = true;
          held.clear(); // their slots went with the connection
        }
      }
      handler.onClosed(info);
    }

    @Override
    public void onSessionTicket(byte[] ticket) {
      handler.onSessionTicket(ticket);
    }
  }

  /** A refused stream that may be held: dropped from the held ones once the peer ends it. */
  private static final class Held implements StreamHandler {
    private final Admission connection;
    private final QuicStream stream;

    Held(Admission connection, QuicStream stream) {
      this.connection = connection;
      this.stream = stream;
    }

    @Override
    public void onData(ByteBuffer data) {}

    @Override
    public void onEndOfStream() {}

    @Override
    public void onReset(long applicationErrorCode) {
      connection.forget(stream); // the peer's reset finished the stream: its slot is back
    }

    @Override
    public void onStopSending(long applicationErrorCode) {}

    @Override
    public void onWritten(int bytes) {}

    @Override
    public void onConnectionClosed(ConnectionCloseInfo info) {
      connection.forget(stream);
    }
  }

  /** A refused stream: whatever still arrives is dropped. */
  private enum Refused implements StreamHandler {
    INSTANCE;

    @Override
    public void onData(ByteBuffer data) {}

    @Override
    public void onEndOfStream() {}

    @Override
    public void onReset(long applicationErrorCode) {}

    @Override
    public void onStopSending(long applicationErrorCode) {}

    @Override
    public void onWritten(int bytes) {}

    @Override
    public void onConnectionClosed(ConnectionCloseInfo info) {}
  }
}
