package dev.grpcquic.engine;

import java.util.concurrent.CompletableFuture;

/**
 * A client connection that is made but not started (see {@link QuicClientEngine#open}): nothing
 * is sent before {@link #start}. Request streams opened on it before then carry their first bytes
 * as 0-RTT data (RFC 9001 §4.6) when the options' session ticket allows it. Holds nothing that
 * needs releasing until it starts: one that is never started is simply dropped.
 */
public interface UnstartedConnection {

  /**
   * Opens a bidirectional stream at once, before the connection exists; calls no handler (a
   * caller may hold its own lock). What is written on it
   * before {@link #start} makes its first bytes: the engine sends them as 0-RTT data when the
   * ticket allows it and they fit the limits the server remembered in it, and as ordinary data
   * after the handshake otherwise; either way {@link StreamHandler#onWritten} reports them once
   * the stream exists. What is done on the stream after {@code start} (more writes, read credit,
   * a reset) waits for the stream to exist and happens then, in order. The stream's {@link
   * QuicStream#id id} is -1 until the engine hands the QUIC stream over, once the handshake is
   * done; if it never does (the connection was not made, or closed before the stream could open)
   * the handler gets {@link StreamHandler#onConnectionClosed} while the id is still -1, after
   * {@code start}'s future failed when that failed.
   *
   * @throws IllegalStateException after {@link #start}
   */
  QuicStream openStream(StreamHandler handler);

  /**
   * Starts the connection: resumes with the options' session ticket when there is one, and
   * completes when the handshake is done, like {@link QuicClientEngine#connect}. Never blocks
   * the caller. Once only.
   */
  CompletableFuture<QuicConnection> start();
}
