package dev.grpcquic.engine.quiche;

import io.netty.handler.codec.quic.QuicSslContext;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One client connection's place in Netty's TLS session cache, which is how the project's session
 * tickets reach quiche and come back from it.
 *
 * <p>Netty resumes a connection with the session its context's cache holds under the engine's
 * peer host and port, and saves each ticket the server sends there (see {@link
 * NettyQuicInternals}). The project keeps tickets per authority in its own store, and a
 * transport takes exactly one for its connection; so each connection gets a key of its own (the
 * "port" given to the engine, which Netty uses for nothing else; the host stays the server name,
 * which is the SNI and what the certificate is checked against). Before the connection starts,
 * its ticket goes in under that key; afterwards what the server sent is taken out again and
 * handed to the transport. Nothing stays in Netty's cache, so the store alone decides which
 * connection resumes: a store that forgot an authority's tickets (after CONNECTION_REFUSED), or
 * no store at all, means a full handshake.
 *
 * <p>A ticket is what Netty saves: BoringSSL's serialized session and the server's transport
 * parameters, each after an 8-byte length. Anything else (a kwik ticket from a shared store) is
 * not offered.
 */
final class SessionTickets {
  private static final AtomicInteger NEXT_KEY = new AtomicInteger(1);

  private final QuicSslContext context;
  private final String host;
  private final int key;

  SessionTickets(QuicSslContext context, String host) {
    this.context = context;
    this.host = host;
    this.key = NEXT_KEY.getAndUpdate(k -> k == Integer.MAX_VALUE ? 1 : k + 1);
  }

  /** The peer port to give the connection's TLS engine: this connection's cache key. */
  int key() {
    return key;
  }

  /** Offers {@code ticket} to the connection about to start; false when it is not quiche's. */
  boolean offer(byte[] ticket) {
    if (ticket == null || !isQuicheSession(ticket)) {
      return false;
    }
    NettyQuicInternals.putSession(context, host, key, ticket.clone());
    return true;
  }

  /** The ticket the server sent since the last call, or null. */
  byte[] take() {
    return NettyQuicInternals.takeSession(context, host, key);
  }

  static boolean isQuicheSession(byte[] ticket) {
    ByteBuffer b = ByteBuffer.wrap(ticket);
    for (int part = 0; part < 2; part++) {
      if (b.remaining() < Long.BYTES) {
        return false;
      }
      long length = b.getLong();
      if (length < 0 || length > b.remaining()) {
        return false;
      }
      b.position(b.position() + (int) length);
    }
    return !b.hasRemaining();
  }
}
