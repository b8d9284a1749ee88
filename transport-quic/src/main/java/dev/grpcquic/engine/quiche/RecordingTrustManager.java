package dev.grpcquic.engine.quiche;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Map;
import java.util.WeakHashMap;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Checks certificates with the given trust manager and keeps the reason of a refusal per TLS
 * engine. BoringSSL turns a refusal into a bare alert (bad_certificate); the kept exception lets
 * the failed connection say why (no trust path, or the names the certificate holds).
 */
final class RecordingTrustManager extends X509ExtendedTrustManager {
  private final X509ExtendedTrustManager delegate;
  private final Map<SSLEngine, CertificateException> failures = new WeakHashMap<>();

  RecordingTrustManager(X509ExtendedTrustManager delegate) {
    this.delegate = delegate;
  }

  /** Why the certificate was refused on this engine's connection; null when it was not. */
  CertificateException failure(SSLEngine engine) {
    synchronized (failures) {
      return failures.get(engine);
    }
  }

  private void record(SSLEngine engine, CertificateException e) {
    synchronized (failures) {
      failures.put(engine, e);
    }
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    recording(engine, () -> delegate.checkServerTrusted(chain, authType, engine));
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    recording(engine, () -> delegate.checkClientTrusted(chain, authType, engine));
  }

  private interface Check {
    void run() throws CertificateException;
  }

  private void recording(SSLEngine engine, Check check) throws CertificateException {
    try {
      check.run();
    } catch (CertificateException e) {
      record(engine, e);
      throw e;
    }
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    delegate.checkClientTrusted(chain, authType, socket);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    delegate.checkServerTrusted(chain, authType, socket);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    delegate.checkClientTrusted(chain, authType);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    delegate.checkServerTrusted(chain, authType);
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return delegate.getAcceptedIssuers();
  }
}
