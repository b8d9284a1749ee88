package dev.grpcquic.engine.kwik;

import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.X509TrustManager;

/**
 * Passes kwik's certificate checks to the user's trust manager with the auth type TLS 1.3 means.
 * kwik (agent15 3.1) calls {@code checkServerTrusted(chain, "RSA")} whatever the key, and the
 * JDK's PKIX trust manager then demands an RSA key-exchange key usage, rejecting EC certificates;
 * in TLS 1.3 the key exchange does not depend on the certificate, which the JDK spells "UNKNOWN".
 */
final class Tls13TrustManager implements X509TrustManager {
  private final X509TrustManager delegate;

  Tls13TrustManager(X509TrustManager delegate) {
    this.delegate = delegate;
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    delegate.checkServerTrusted(chain, "UNKNOWN");
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    delegate.checkClientTrusted(chain, "UNKNOWN");
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return delegate.getAcceptedIssuers();
  }
}
