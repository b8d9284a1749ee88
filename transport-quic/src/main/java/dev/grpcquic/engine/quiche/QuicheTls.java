package dev.grpcquic.engine.quiche;

import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.handler.codec.quic.QuicSslContextBuilder;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;

/** BoringSSL contexts for the quiche engine: TLS 1.3, ALPN as asked, host names checked. */
final class QuicheTls {
  private QuicheTls() {}

  /**
   * A client context. With a trust manager, the server's certificate is checked against it and
   * against the name the connection asks for (DNS names and IP addresses, as the JDK's HTTPS
   * rules say); without one, nothing is checked.
   *
   * @throws IllegalArgumentException for a trust manager that cannot check host names (not an
   *     {@link X509ExtendedTrustManager})
   */
  static QuicSslContext client(String alpn, RecordingTrustManager trust,
      X509ExtendedKeyManager keyManager, Path keyLogFile) {
    // Early data: quiche may then send 0-RTT data on a resumed connection; whether it does is
    // up to the engine (only streams it writes before the handshake is done go early).
    QuicSslContextBuilder builder = QuicSslContextBuilder.forClient().applicationProtocols(alpn)
        .earlyData(true);
    if (trust != null) {
      builder.trustManager(trust).endpointIdentificationAlgorithm("HTTPS");
    } else {
      builder.trustManager(InsecureTrustManagerFactory.INSTANCE)
          .endpointIdentificationAlgorithm(null);
    }
    if (keyManager != null) {
      builder.keyManager(keyManager, null);
    }
    if (keyLogFile != null) {
      builder.keylog(new QuicheKeyLog(keyLogFile));
    }
    return builder.build();
  }

  static RecordingTrustManager recording(X509TrustManager trust) {
    if (trust == null) {
      return null;
    }
    if (!(trust instanceof X509ExtendedTrustManager extended)) {
      throw new IllegalArgumentException("the quiche engine checks host names through an"
          + " X509ExtendedTrustManager (what TrustManagerFactory makes); "
          + trust.getClass().getName() + " is not one");
    }
    return new RecordingTrustManager(extended);
  }

  /**
   * A server context with the key entry {@code alias} of the key store. With {@code clientTrust}
   * set, the server requires a client certificate that it accepts.
   */
  static QuicSslContext server(String alpn, KeyStore keyStore, String alias, char[] password,
      X509TrustManager clientTrust, Path keyLogFile) throws GeneralSecurityException {
    PrivateKey key = (PrivateKey) keyStore.getKey(alias, password);
    Certificate[] chain = keyStore.getCertificateChain(alias);
    if (key == null || chain == null) {
      throw new GeneralSecurityException("no key entry '" + alias + "' in the key store");
    }
    X509Certificate[] certs = Arrays.stream(chain).map(c -> (X509Certificate) c)
        .toArray(X509Certificate[]::new);
    // Tickets are issued by default (BoringSSL); early data makes them allow 0-RTT, as kwik's
    // server does. See docs/zero-rtt.md on replay.
    QuicSslContextBuilder builder = QuicSslContextBuilder.forServer(key, null, certs)
        .applicationProtocols(alpn).earlyData(true);
    if (clientTrust != null) {
      builder.trustManager(clientTrust).clientAuth(ClientAuth.REQUIRE);
    }
    if (keyLogFile != null) {
      builder.keylog(new QuicheKeyLog(keyLogFile));
    }
    return builder.build();
  }
}
