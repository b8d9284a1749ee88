package dev.grpcquic.engine;

import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;

/**
 * One QUIC connection as the HTTP/3 layer sees it. No method blocks: work that the engine can only
 * do by blocking happens on the engine's own threads. Events arrive on the {@link ConnectionHandler}
 * given when the connection was made or accepted.
 */
public interface QuicConnection {

  /**
   * Opens a locally initiated stream. The future completes once the peer's stream limit allows the
   * stream to exist (it may wait for MAX_STREAMS); it fails when the connection closes first.
   */
  CompletableFuture<QuicStream> openStream(boolean bidirectional, StreamHandler handler);

  /**
   * Runs tasks where this connection's events run, one at a time (an event-loop engine's loop;
   * at once on the caller's thread when that is where, or when the engine has no such place).
   * A stream asked for from here opens in the same turn and what reacts to its future runs here
   * too, so that the stream's first writes leave without waking the loop again.
   */
  default java.util.concurrent.Executor eventExecutor() {
    return Runnable::run;
  }

  /** Sends CONNECTION_CLOSE with an application (HTTP/3) error code. Idempotent. */
  void close(long applicationErrorCode, String reason);

  /** Statistics of the connection so far. */
  ConnectionStats stats();

  /** The TLS parameters of the connection once its handshake is done; null when unknown. */
  default TlsInfo tls() {
    return null;
  }

  InetSocketAddress remoteAddress();

  /**
   * Client connections: moves the connection to a new local UDP port (client migration) and sends a
   * packet from it at once, so that the server learns the new address without waiting for data.
   * Packets the server sent to the old port in the meantime are lost and retransmitted. Never
   * blocks for long (it opens a socket). Returns false when the connection is closed or the engine
   * cannot move it.
   *
   * @throws UnsupportedOperationException on a server connection
   */
  default boolean migrate() {
    throw new UnsupportedOperationException("this connection cannot migrate");
  }

  /**
   * Server connections: how many times the connection followed its client to a new address (NAT
   * rebinding, client migration) so far; -1 when the engine cannot tell.
   */
  default int peerAddressChanges() {
    return -1;
  }

  /** Client connections: what became of the 0-RTT attempt. */
  default EarlyDataStats earlyData() {
    return EarlyDataStats.NONE;
  }

  /** This end's address (for a server, the address its endpoint is bound to). */
  InetSocketAddress localAddress();

  boolean isOpen();
}
