package dev.grpcquic;

import dev.grpcquic.engine.QuicClientEngine;
import dev.grpcquic.engine.QuicServerEngine;
import dev.grpcquic.engine.kwik.KwikClientEngine;
import dev.grpcquic.engine.kwik.KwikServerEndpoint;
import dev.grpcquic.engine.quiche.QuicheAvailability;
import dev.grpcquic.engine.quiche.QuicheClientEngine;
import dev.grpcquic.engine.quiche.QuicheServerEngine;
import dev.grpcquic.engine.quiche.QuicheSettings;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Executor;

/** The QUIC engines, for {@code engine(...)} on {@link QuicChannelBuilder} and {@link QuicServerBuilder}. */
public final class QuicEngines {
  private static final QuicEngine KWIK = new Kwik();

  private QuicEngines() {}

  /**
   * kwik: QUIC in pure Java, runs wherever Java 17 does, with no native code. The default.
   * About six threads per connection; throughput well below the quiche engine's.
   */
  public static QuicEngine kwik() {
    return KWIK;
  }

  /**
   * quiche (Cloudflare's QUIC in Rust, with BoringSSL) through Netty's QUIC codec: faster, no
   * thread per connection, client certificates, reset codes both ways. Needs
   * {@code io.netty:netty-codec-classes-quic} and {@code io.netty:netty-codec-native-quic} with
   * the platform's classifier on the class path; {@code build()} says so when they are missing.
   * CUBIC congestion control.
   */
  public static Quiche quiche() {
    return new Quiche("cubic", null);
  }

  /**
   * Picks an engine by name ("kwik" or "quiche"), for command lines and configuration files.
   */
  public static QuicEngine named(String name) {
    switch (name.toLowerCase(Locale.ROOT)) {
      case "kwik":
        return kwik();
      case "quiche":
        return quiche();
      default:
        throw new IllegalArgumentException("unknown QUIC engine '" + name
            + "': use kwik or quiche");
    }
  }

  private static final class Kwik extends QuicEngine {
    @Override
    public String name() {
      return "kwik";
    }

    @Override
    public Set<Feature> features() {
      return features(Feature.CLIENT_MIGRATION, Feature.EARLY_DATA, Feature.KEEPALIVE_PING);
    }

    @Override
    void checkAvailable() {
    }

    @Override
    QuicClientEngine newClientEngine(Executor transportExecutor) {
      return new KwikClientEngine(transportExecutor);
    }

    @Override
    QuicServerEngine newServerEngine(Executor transportExecutor) {
      return (options, acceptor) -> KwikServerEndpoint.start(options, acceptor, transportExecutor);
    }
  }

  /** The quiche engine, with its own settings. */
  public static final class Quiche extends QuicEngine {
    private final QuicheSettings settings;

    private Quiche(String congestionControl, Path qlogDirectory) {
      this.settings = new QuicheSettings(congestionControl, qlogDirectory);
    }

    @Override
    public String name() {
      return "quiche";
    }

    @Override
    public Set<Feature> features() {
      return features(Feature.RESET_CODES_ON_SERVER, Feature.CLIENT_AUTH, Feature.EARLY_DATA,
          Feature.KEEPALIVE_PING, Feature.SERVER_KEY_LOG, Feature.CONGESTION_CONTROL_CHOICE,
          Feature.QLOG, Feature.SERVER_EVENT_LOOP_THREADS, Feature.NATIVE);
    }

    /** quiche's congestion controller: "cubic" (the default), "bbr" (BBRv2) or "reno". */
    public Quiche congestionControl(String algorithm) {
      return new Quiche(algorithm.toLowerCase(Locale.ROOT), settings.qlogDirectory());
    }

    /** Each connection writes a qlog file (JSON-SEQ, for qvis) into this directory. */
    public Quiche qlogDirectory(Path directory) {
      return new Quiche(settings.congestionControl(), directory);
    }

    @Override
    void checkAvailable() {
      String reason = QuicheAvailability.unavailableReason();
      if (reason != null) {
        throw new IllegalStateException(reason);
      }
    }

    @Override
    QuicClientEngine newClientEngine(Executor transportExecutor) {
      return new QuicheClientEngine(settings); // never blocks: no use for the executor
    }

    @Override
    QuicServerEngine newServerEngine(Executor transportExecutor) {
      return new QuicheServerEngine(settings);
    }
  }
}
