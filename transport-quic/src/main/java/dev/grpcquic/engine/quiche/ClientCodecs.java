package dev.grpcquic.engine.quiche;

import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicClientCodecBuilder;
import io.netty.handler.codec.quic.QuicCongestionControlAlgorithm;
import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Client codecs built ahead of need. Building one ({@code quiche_config_new}) takes 5-7 ms here,
 * nearly all of it quiche loading the system's CA bundle into a TLS context of its own that no
 * connection uses (Netty's engine comes from the codec's {@code sslEngineProvider}); built when a
 * connection starts, that time lay between the first call and the connection's first packet,
 * and on a refused UDP port it delayed the fall back to TCP. So a while after a codec is taken, the
 * next one with the same parameters is built on a background thread, and the next connection
 * with those parameters takes it ready: a reconnect, or a new channel after the first. What varies per connection (the TLS context, the server name, the
 * session cache key) reaches the codec's engine provider as attributes of the QUIC channel, so a
 * codec fits any channel's connection (each channel has TLS contexts of its own).
 *
 * <p>At most {@link #MAX_SPARES} codecs wait (about 1 MiB of native memory each); one pushed out
 * is freed by adding it to an embedded channel and removing it again (the codec frees its native
 * configuration when removed). The first connection of each set of parameters builds its own.
 */
final class ClientCodecs {
  private static final Logger LOG = Logger.getLogger(ClientCodecs.class.getName());
  static final int MAX_SPARES = 4;
  /**
   * How long after a connection starts the next codec is built: not while its handshake and
   * first calls run (on two cores a build beside a refused connection's fall back to TCP made
   * that slower by about as much as the build itself).
   */
  static final long PREPARE_DELAY_MILLIS = 1000;
  static final AttributeKey<QuicSslContext> TLS_CONTEXT =
      AttributeKey.valueOf(ClientCodecs.class, "tlsContext");
  static final AttributeKey<String> SERVER_NAME =
      AttributeKey.valueOf(ClientCodecs.class, "serverName");
  static final AttributeKey<Integer> SESSION_KEY =
      AttributeKey.valueOf(ClientCodecs.class, "sessionKey");

  /** What a client codec is built from. */
  record Parameters(long idleTimeoutMillis, long maxData,
      long streamWindow, int peerUniStreams, String congestionControl) {}

  private static final ThreadPoolExecutor BUILDER = newBuilder();
  /** The ready codec per parameters, oldest first; guarded by itself. */
  private static final Map<Parameters, ChannelHandler> SPARES = new LinkedHashMap<>();
  /** Codecs a connection had to wait for: none was ready. */
  private static final AtomicLong BUILT_AT_CONNECT = new AtomicLong();

  private ClientCodecs() {}

  private static ThreadPoolExecutor newBuilder() {
    ThreadPoolExecutor executor = new ThreadPoolExecutor(1, 1, 10, TimeUnit.SECONDS,
        new LinkedBlockingQueue<>(), new DefaultThreadFactory("grpc-quic-quiche-codecs", true));
    executor.allowCoreThreadTimeOut(true);
    return executor;
  }

  /** A codec for one connection: the spare when there is one, else built now; then the next. */
  static ChannelHandler take(Parameters parameters) {
    ChannelHandler codec;
    synchronized (SPARES) {
      codec = SPARES.remove(parameters);
    }
    if (codec == null) {
      BUILT_AT_CONNECT.incrementAndGet();
      codec = build(parameters);
    }
    QuicheEventLoops.next().schedule(() -> BUILDER.execute(() -> prepare(parameters)),
        PREPARE_DELAY_MILLIS, TimeUnit.MILLISECONDS);
    return codec;
  }

  /** Codecs built while a connection waited (for tests). */
  static long builtAtConnect() {
    return BUILT_AT_CONNECT.get();
  }

  /** Codecs waiting (for tests). */
  static int spares() {
    synchronized (SPARES) {
      return SPARES.size();
    }
  }

  private static void prepare(Parameters parameters) {
    synchronized (SPARES) {
      if (SPARES.containsKey(parameters)) {
        return;
      }
    }
    ChannelHandler built;
    try {
      built = build(parameters);
    } catch (RuntimeException | Error e) {
      LOG.log(Level.FINE, "building a spare quiche codec failed", e);
      return;
    }
    ChannelHandler evicted = null;
    synchronized (SPARES) {
      if (SPARES.putIfAbsent(parameters, built) != null) {
        evicted = built;
      } else if (SPARES.size() > MAX_SPARES) {
        Iterator<ChannelHandler> oldest = SPARES.values().iterator();
        evicted = oldest.next();
        oldest.remove();
      }
    }
    if (evicted != null) {
      free(evicted);
    }
  }

  private static ChannelHandler build(Parameters p) {
    return new QuicClientCodecBuilder()
        // The session key is the engine's peer "port": the connection's session cache key.
        .sslEngineProvider(q -> attribute(q, TLS_CONTEXT).newEngine(q.alloc(),
            attribute(q, SERVER_NAME), attribute(q, SESSION_KEY)))
        .maxIdleTimeout(p.idleTimeoutMillis(), TimeUnit.MILLISECONDS)
        .initialMaxData(p.maxData())
        .initialMaxStreamDataBidirectionalLocal(p.streamWindow())
        .initialMaxStreamDataBidirectionalRemote(p.streamWindow())
        .initialMaxStreamDataUnidirectional(p.streamWindow())
        .initialMaxStreamsBidirectional(0)
        .initialMaxStreamsUnidirectional(p.peerUniStreams())
        .congestionControlAlgorithm(QuicCongestionControlAlgorithm.valueOf(
            p.congestionControl().toUpperCase(Locale.ROOT)))
        .sslTaskExecutor(HANDSHAKE_RECHECK)
        .build();
  }

  /** A connection's own value, set on its QUIC channel by the client engine. */
  private static <T> T attribute(QuicChannel q, AttributeKey<T> key) {
    T value = q.attr(key).get();
    if (value == null) {
      throw new IllegalStateException("a QUIC channel without its " + key.name() + " attribute");
    }
    return value;
  }

  private static void free(ChannelHandler codec) {
    EmbeddedChannel channel = new EmbeddedChannel(codec);
    channel.pipeline().remove(codec);
    channel.close();
  }

  /**
   * Runs BoringSSL's tasks (the server certificate's check) at once, as Netty's default does, but
   * through Netty's "offloaded" path, which looks again whether the handshake is done after the
   * send that follows. With the default, Netty looks right after the check, before quiche has
   * finished the handshake (it does so in its next send, the one carrying the client's
   * Finished), and next only when another packet arrives: a cold connection became active one
   * round trip late, at the server's HANDSHAKE_DONE (seen in captures over the link emulator;
   * resumed handshakes, with no certificate to check, were not delayed).
   */
  private static final java.util.concurrent.Executor HANDSHAKE_RECHECK = Runnable::run;
}
