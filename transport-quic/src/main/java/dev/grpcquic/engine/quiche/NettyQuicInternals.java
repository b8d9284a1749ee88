package dev.grpcquic.engine.quiche;

import io.netty.handler.codec.quic.QuicChannel;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The one place where the quiche engine reaches past Netty's public QUIC API, and why.
 *
 * <p>Netty tells a stream of the peer's STOP_SENDING only by failing a write; a server whose call
 * has read its whole request and is still working on the answer writes nothing, so a client's
 * cancellation would reach it only when it answers. quiche itself reports the stopped stream in
 * the stream's send capacity (an error instead of a byte count), which Netty reads in the
 * package-private {@code QuicheQuicChannel.streamCapacity(long)}. Without access (a future Netty
 * that changed it) the engine logs once and cancellations wait for the next write.
 *
 * <p>The same call lets quiche free such a stream: a stream the peer stopped is collected (and
 * its MAX_STREAMS slot given back to the peer) only when the application next asks for its
 * capacity after the stream completed (quiche's lib.rs says so where it handles the ACK of a
 * RESET_STREAM). Netty asks only for streams whose channel is still open, and a stream we closed
 * after the peer's STOP_SENDING would hold its slot for good: see {@link #isCollectable}.
 *
 * <p>Session resumption: Netty keeps a client context's TLS sessions (BoringSSL's session with
 * the server's transport parameters, as quiche serializes them) in a package-private cache keyed
 * by the engine's peer host and port, saves every ticket the server sends there, and resumes a
 * new connection with what it finds under its key; nothing of it is public. The engine reaches it
 * here to put the project's ticket into the cache before a connection starts and to take the
 * tickets the connection earned out of it ({@link SessionTickets}). Whether a handshake resumed
 * is also package-private ({@code QuicheQuicSslEngine.isSessionReused()}). Without access, no
 * connection resumes (a warning says so once) and everything else works.
 */
final class NettyQuicInternals {
  private static final Logger LOG = Logger.getLogger(NettyQuicInternals.class.getName());
  private static final MethodHandle STREAM_CAPACITY;
  private static final MethodHandle SEND_AND_FLUSH;
  private static final MethodHandle SESSION_CACHE;
  private static final MethodHandle SAVE_SESSION;
  private static final MethodHandle GET_SESSION;
  private static final MethodHandle REMOVE_SESSION;
  private static final MethodHandle SESSION_REUSED;
  private static final MethodHandle BEGIN_READ;
  private static final java.lang.invoke.VarHandle STREAM_READABLE;
  /** quiche's QUICHE_ERR_DONE: nothing can be written now (flow control), not an error. */
  private static final long DONE;
  /** quiche's QUICHE_ERR_STREAM_STOPPED: the peer sent STOP_SENDING. */
  private static final long STREAM_STOPPED;

  static {
    MethodHandle capacity = null;
    MethodHandle send = null;
    long done = 0;
    long stopped = 0;
    try {
      Class<?> channel = Class.forName("io.netty.handler.codec.quic.QuicheQuicChannel");
      Class<?> quiche = Class.forName("io.netty.handler.codec.quic.Quiche");
      MethodHandles.Lookup lookup =
          MethodHandles.privateLookupIn(channel, MethodHandles.lookup());
      capacity = lookup.findVirtual(channel, "streamCapacity",
          MethodType.methodType(long.class, long.class));
      send = lookup.findVirtual(channel, "connectionSendAndFlush",
          MethodType.methodType(void.class));
      MethodHandles.Lookup quicheLookup =
          MethodHandles.privateLookupIn(quiche, MethodHandles.lookup());
      done = (int) quicheLookup.findStaticVarHandle(quiche, "QUICHE_ERR_DONE", int.class).get();
      stopped = (int) quicheLookup.findStaticVarHandle(quiche, "QUICHE_ERR_STREAM_STOPPED",
          int.class).get();
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      capacity = null;
      send = null;
      LOG.log(Level.WARNING, "Netty QUIC internals changed: a client's STOP_SENDING reaches an"
          + " idle server stream only at its next write", e);
    }
    STREAM_CAPACITY = capacity;
    SEND_AND_FLUSH = send;
    DONE = done;
    STREAM_STOPPED = stopped;

    MethodHandle cache = null;
    MethodHandle save = null;
    MethodHandle get = null;
    MethodHandle remove = null;
    MethodHandle reused = null;
    try {
      Class<?> context = Class.forName("io.netty.handler.codec.quic.QuicheQuicSslContext");
      Class<?> sessions = Class.forName("io.netty.handler.codec.quic.QuicClientSessionCache");
      Class<?> engine = Class.forName("io.netty.handler.codec.quic.QuicheQuicSslEngine");
      MethodHandles.Lookup lookup = MethodHandles.privateLookupIn(context, MethodHandles.lookup());
      cache = lookup.findVirtual(context, "getSessionCache", MethodType.methodType(sessions));
      save = lookup.findVirtual(sessions, "saveSession", MethodType.methodType(void.class,
          String.class, int.class, long.class, long.class, byte[].class, boolean.class));
      get = lookup.findVirtual(sessions, "getSession",
          MethodType.methodType(byte[].class, String.class, int.class));
      remove = lookup.findVirtual(sessions, "removeSession",
          MethodType.methodType(void.class, String.class, int.class));
      reused = lookup.findVirtual(engine, "isSessionReused", MethodType.methodType(boolean.class));
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      cache = null;
      LOG.log(Level.WARNING, "Netty QUIC internals changed: quiche connections do not resume"
          + " TLS sessions (no session tickets, no 0-RTT)", e);
    }
    SESSION_CACHE = cache;
    SAVE_SESSION = save;
    GET_SESSION = get;
    REMOVE_SESSION = remove;
    SESSION_REUSED = reused;

    MethodHandle beginRead = null;
    java.lang.invoke.VarHandle streamReadable = null;
    try {
      Class<?> channel = Class.forName("io.netty.handler.codec.quic.QuicheQuicChannel");
      MethodHandles.Lookup lookup = MethodHandles.privateLookupIn(channel, MethodHandles.lookup());
      beginRead = lookup.findVirtual(channel, "doBeginRead", MethodType.methodType(void.class));
      streamReadable = lookup.findVarHandle(channel, "streamReadable", boolean.class);
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      beginRead = null;
      LOG.log(Level.WARNING, "Netty QUIC internals changed: a quiche server answers 0-RTT"
          + " requests only once the handshake is done", e);
    }
    BEGIN_READ = beginRead;
    STREAM_READABLE = streamReadable;
  }

  /**
   * Server connections before the handshake is done: lets Netty hand over the next stream the
   * client opened in 0-RTT. Netty reads a connection's new streams only after a read request,
   * which its channel makes by itself only once active (handshake done), and each read request
   * brings one new stream. Netty also looks for readable streams only after a packet that found
   * the connection in early data; quiche gets there only once it has sent its handshake flight,
   * so 0-RTT packets read in the same batch as the client's Initial (before that send) would wait
   * for the client's next packet: the read also says streams may be readable. Event loop only.
   */
  static void readEarlyStreams(QuicChannel connection) {
    if (BEGIN_READ == null) {
      return;
    }
    try {
      STREAM_READABLE.set(connection, true);
      BEGIN_READ.invoke(connection);
    } catch (Throwable e) {
      // the connection is gone
    }
  }

  /**
   * Puts a session into the client context's cache under {@code host} and {@code key}, where the
   * connection whose engine has that peer host and port finds it when it starts. Single use: the
   * connection takes it out.
   */
  static void putSession(io.netty.handler.codec.quic.QuicSslContext context, String host,
      int key, byte[] session) {
    if (SESSION_CACHE == null) {
      return;
    }
    try {
      Object cache = SESSION_CACHE.invoke(context);
      if (cache != null) {
        // The validity Netty checks is its own; the session's lifetime inside is BoringSSL's.
        SAVE_SESSION.invoke(cache, host, key, System.currentTimeMillis(),
            java.util.concurrent.TimeUnit.DAYS.toMillis(7), session, true);
      }
    } catch (Throwable e) {
      LOG.log(Level.FINE, "cannot put a TLS session into Netty's cache", e);
    }
  }

  /** Takes the session saved under {@code host} and {@code key} out of the cache; null if none. */
  static byte[] takeSession(io.netty.handler.codec.quic.QuicSslContext context, String host,
      int key) {
    if (SESSION_CACHE == null) {
      return null;
    }
    try {
      Object cache = SESSION_CACHE.invoke(context);
      if (cache == null) {
        return null;
      }
      byte[] session = (byte[]) GET_SESSION.invoke(cache, host, key);
      REMOVE_SESSION.invoke(cache, host, key);
      return session;
    } catch (Throwable e) {
      LOG.log(Level.FINE, "cannot take a TLS session out of Netty's cache", e);
      return null;
    }
  }

  /** Whether the engine's handshake resumed a session; false when unknown. */
  static boolean isResumed(javax.net.ssl.SSLEngine engine) {
    if (SESSION_REUSED == null || engine == null) {
      return false;
    }
    try {
      return (boolean) SESSION_REUSED.invoke(engine);
    } catch (Throwable e) {
      return false;
    }
  }

  private NettyQuicInternals() {}

  /**
   * Asks quiche for the stream's capacity, which collects a stopped stream that has completed.
   * True once quiche no longer knows the stream (collected); false while it holds it, or when
   * the internals are out of reach. Event loop only.
   */
  static boolean isCollected(QuicChannel connection, long streamId) {
    if (STREAM_CAPACITY == null) {
      return false;
    }
    try {
      long capacity = (long) STREAM_CAPACITY.invoke(connection, streamId);
      return capacity < 0 && capacity != DONE && capacity != STREAM_STOPPED;
    } catch (Throwable e) {
      return false;
    }
  }

  /**
   * Lets quiche send what it queued outside a packet's processing: the MAX_STREAMS that a
   * collection (above) made due would otherwise wait for the next packet or timer, while a
   * client that waits for it sends nothing. Event loop only.
   */
  static void sendNow(QuicChannel connection) {
    if (SEND_AND_FLUSH == null) {
      return;
    }
    try {
      SEND_AND_FLUSH.invoke(connection);
    } catch (Throwable e) {
      // nothing to send, or the connection is gone
    }
  }

  static boolean canWatchStopSending() {
    return STREAM_CAPACITY != null;
  }

  /**
   * Whether the stream's sending side can no longer be written: the peer stopped it
   * (QUICHE_ERR_STREAM_STOPPED), or quiche already answered the STOP_SENDING with RESET_STREAM
   * and, both sides being finished, let the stream go (QUICHE_ERR_INVALID_STREAM_STATE).
   * Event loop only.
   */
  static boolean isStopped(QuicChannel connection, long streamId) {
    if (STREAM_CAPACITY == null) {
      return false;
    }
    try {
      long capacity = (long) STREAM_CAPACITY.invoke(connection, streamId);
      return capacity < 0 && capacity != DONE;
    } catch (Throwable e) {
      return false;
    }
  }
}
