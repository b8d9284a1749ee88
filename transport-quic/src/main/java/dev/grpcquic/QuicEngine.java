package dev.grpcquic;

import dev.grpcquic.engine.QuicClientEngine;
import dev.grpcquic.engine.QuicServerEngine;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.Executor;

/**
 * The QUIC implementation under a channel or server: {@link QuicEngines#kwik()} (pure Java, the
 * default) or {@link QuicEngines#quiche()} (Cloudflare's quiche through Netty's QUIC codec,
 * native). The HTTP/3 layer and the gRPC transports above it are the same on both; what differs
 * is speed, resources, and the {@link Feature features} listed here.
 */
public abstract class QuicEngine {

  /** What an engine can do beyond what every engine does. */
  public enum Feature {
    /** The server learns the code of a client's RESET_STREAM (kwik's server does not). */
    RESET_CODES_ON_SERVER,
    /** The server can require client certificates ({@code requireClientAuth()}). */
    CLIENT_AUTH,
    /** A channel can move its connections to new local ports ({@code QuicMigrationController}). */
    CLIENT_MIGRATION,
    /** 0-RTT early data on resumed connections. */
    EARLY_DATA,
    /**
     * {@code keepAliveTime} keeps quiet connections open (kwik: QUIC PINGs; quiche, where Netty
     * offers no PING: empty frames of a reserved HTTP/3 type on the control stream).
     */
    KEEPALIVE_PING,
    /** TLS key log on the server too. */
    SERVER_KEY_LOG,
    /** A choice of congestion controller (CUBIC, BBR, Reno). */
    CONGESTION_CONTROL_CHOICE,
    /** qlog files of each connection. */
    QLOG,
    /**
     * A server spreads its connections over several event-loop threads, each with a UDP socket of
     * its own on the same port ({@code QuicServerBuilder.eventLoopThreads}).
     */
    SERVER_EVENT_LOOP_THREADS,
    /** Needs a native library for the platform. */
    NATIVE
  }

  QuicEngine() {}

  /** "kwik" or "quiche". */
  public abstract String name();

  public abstract Set<Feature> features();

  public final boolean supports(Feature feature) {
    return features().contains(feature);
  }

  /**
   * Throws {@link IllegalStateException} with what to add when the engine cannot run here (the
   * quiche engine without its native library for this platform).
   */
  abstract void checkAvailable();

  /**
   * @param transportExecutor the builder's {@code transportExecutor}, for an engine whose own
   *     work blocks (kwik); null: the engine's own threads
   */
  abstract QuicClientEngine newClientEngine(Executor transportExecutor);

  /** @param transportExecutor as for {@link #newClientEngine} */
  abstract QuicServerEngine newServerEngine(Executor transportExecutor);

  static Set<Feature> features(Feature first, Feature... rest) {
    return EnumSet.of(first, rest);
  }

  @Override
  public String toString() {
    return name();
  }
}
