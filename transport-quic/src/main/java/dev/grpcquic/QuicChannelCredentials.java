package dev.grpcquic;

import dev.grpcquic.tls.PemFiles;
import io.grpc.ChannelCredentials;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.logging.Logger;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * Credentials that select the QUIC transport:
 * {@code Grpc.newChannelBuilder(target, QuicChannelCredentials.create())}. Always TLS 1.3 (QUIC
 * has no plaintext); the server's certificate is checked against the JDK's trusted CAs unless
 * another trust source is given.
 */
public final class QuicChannelCredentials extends ChannelCredentials {
  private static final Logger log = Logger.getLogger(QuicChannelCredentials.class.getName());

  private final X509TrustManager trustManager;
  private final boolean tcpFallback;

  private QuicChannelCredentials(X509TrustManager trustManager) {
    this(trustManager, false);
  }

  private QuicChannelCredentials(X509TrustManager trustManager, boolean tcpFallback) {
    this.trustManager = trustManager;
    this.tcpFallback = tcpFallback;
  }

  /**
   * The same credentials for a "QUIC preferred" channel: QUIC first, HTTP/2 over TCP + TLS (same
   * trust) when QUIC cannot connect; see {@code QuicChannelBuilder.tcpFallback}. Needs grpc-netty
   * on the class path.
   */
  public QuicChannelCredentials withTcpFallback() {
    dev.grpcquic.fallback.NettyPresence.require("withTcpFallback");
    return new QuicChannelCredentials(trustManager, true);
  }

  boolean tcpFallback() {
    return tcpFallback;
  }

  /** Checks server certificates against the JDK's default trusted CAs. */
  public static QuicChannelCredentials create() {
    return new QuicChannelCredentials(defaultTrustManager());
  }

  /** Checks server certificates with {@code trustManager}. */
  public static QuicChannelCredentials create(X509TrustManager trustManager) {
    if (trustManager == null) {
      throw new NullPointerException("trustManager");
    }
    return new QuicChannelCredentials(trustManager);
  }

  /** Checks server certificates against the CA certificates in a PEM file. */
  public static QuicChannelCredentials trustCertificates(File caPem) throws IOException {
    try (InputStream in = Files.newInputStream(caPem.toPath())) {
      return new QuicChannelCredentials(PemFiles.trustManager(in));
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot build a trust manager from " + caPem + ": " + e.getMessage(),
          e);
    }
  }

  /**
   * Accepts any server certificate. Only for tests and development: it gives no protection
   * against an active attacker. Logs a warning.
   */
  public static QuicChannelCredentials insecureSkipCertificateVerification() {
    log.warning("QUIC channel credentials without server certificate verification: "
        + "insecure, for development only");
    return new QuicChannelCredentials(null);
  }

  /** The trust manager, or null when verification is off. */
  X509TrustManager trustManager() {
    return trustManager;
  }

  @Override
  public ChannelCredentials withoutBearerTokens() {
    return this;
  }

  static X509TrustManager defaultTrustManager() {
    try {
      TrustManagerFactory factory =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init((KeyStore) null);
      for (javax.net.ssl.TrustManager tm : factory.getTrustManagers()) {
        if (tm instanceof X509TrustManager) {
          return (X509TrustManager) tm;
        }
      }
      throw new IllegalStateException("the JDK offers no X509TrustManager");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot load the JDK's trusted CAs", e);
    }
  }
}
