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
import java.util.logging.Level;
import java.util.logging.Logger;

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
 * <p>The limit is not offered through MAX_STREAMS: the engine interface fixes the stream limit
 * when the endpoint binds ({@code ServerEndpointOptions.maxPeerBidirectionalStreams}), so the
 * server grants as many streams as maxConcurrentCallsPerConnection and refuses those above the
 * adaptive limit.
 */
public final class AdmissionServerEngine implements QuicServerEngine {
  private static final Logger log = Logger.getLogger(AdmissionServerEngine.class.getName());

  private final AdaptiveConcurrencyLimiter limiter;
  private final QuicServerEngine engine;

  public AdmissionServerEngine(AdaptiveConcurrencyLimiter limiter, QuicServerEngine engine) {
    this.limiter = limiter;
    this.engine = engine;
  }

  @Override
  public QuicServerEndpoint bind(ServerEndpointOptions options, ConnectionAcceptor acceptor)
      throws IOException {
    return engine.bind(options, connection -> new Admission(acceptor.onConnection(connection)));
  }

  /** One connection's handler: admits or refuses each request stream. */
  private final class Admission implements ConnectionHandler {
    private final ConnectionHandler handler;

    Admission(ConnectionHandler handler) {
      this.handler = handler;
    }

    @Override
    public StreamHandler onPeerStream(QuicStream stream) {
      if (!stream.isBidirectional()) {
        return handler.onPeerStream(stream); // HTTP/3 control and QPACK streams
      }
      if (!limiter.tryAcquire()) {
        log.log(Level.FINE, "request stream {0} refused: {1}", new Object[] {stream.id(), limiter});
        stream.reset(Http3ErrorCode.H3_REQUEST_REJECTED);
        stream.stopSending(Http3ErrorCode.H3_REQUEST_REJECTED);
        return Refused.INSTANCE;
      }
      AdmittedStream admitted = new AdmittedStream(limiter, stream);
      admitted.handler(handler.onPeerStream(admitted));
      return admitted;
    }

    @Override
    public void onClosed(ConnectionCloseInfo info) {
      handler.onClosed(info);
    }

    @Override
    public void onSessionTicket(byte[] ticket) {
      handler.onSessionTicket(ticket);
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
