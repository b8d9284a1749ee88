package dev.grpcquic.testing;

import dev.grpcquic.certs.CertificateGenerator;
import dev.grpcquic.certs.DevCertificates;
import dev.grpcquic.tls.PemFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.List;
import javax.net.ssl.X509TrustManager;

/**
 * Shared TLS material for tests: one generated CA, server and client certificate per JVM, written as
 * PEM into a temporary directory that is deleted when the JVM exits. Thread-safe.
 *
 * <p>The server certificate covers {@code localhost}, {@code 127.0.0.1} and {@code ::1}.
 */
public final class TestTls {

  private static final String KEY_ALIAS = "server";
  private static final String KEY_PASSWORD = "grpc-quic-test";

  private final DevCertificates certificates;
  private final Path dir;
  private final X509TrustManager trustManager;

  private TestTls(DevCertificates certificates, Path dir, X509TrustManager trustManager) {
    this.certificates = certificates;
    this.dir = dir;
    this.trustManager = trustManager;
  }

  private static final class Holder {
    static final TestTls INSTANCE = create();
  }

  /** The per-JVM instance, generated on first use. */
  public static TestTls get() {
    return Holder.INSTANCE;
  }

  private static TestTls create() {
    DevCertificates certificates = CertificateGenerator.generate();
    try {
      Path dir = Files.createTempDirectory("grpc-quic-test-tls");
      // deleteOnExit runs in reverse registration order: files first, then the directory.
      dir.toFile().deleteOnExit();
      List<Path> files = certificates.writePem(dir);
      for (Path file : files) {
        file.toFile().deleteOnExit();
      }
      X509TrustManager trustManager =
          PemFiles.trustManager(PemFiles.trustStore(List.of(certificates.caCertificate())));
      return new TestTls(certificates, dir, trustManager);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The generated certificates and keys. */
  public DevCertificates certificates() {
    return certificates;
  }

  /** The CA certificate. */
  public Path caPem() {
    return dir.resolve(DevCertificates.CA_PEM);
  }

  /** Server certificate followed by the CA certificate. */
  public Path serverCertChainPem() {
    return dir.resolve(DevCertificates.SERVER_PEM);
  }

  /** Server private key, PKCS#8. */
  public Path serverKeyPem() {
    return dir.resolve(DevCertificates.SERVER_KEY);
  }

  /** Client certificate followed by the CA certificate. */
  public Path clientCertChainPem() {
    return dir.resolve(DevCertificates.CLIENT_PEM);
  }

  /** Client private key, PKCS#8. */
  public Path clientKeyPem() {
    return dir.resolve(DevCertificates.CLIENT_KEY);
  }

  /**
   * A new in-memory PKCS12 key store with the server key and chain under {@link #keyAlias()},
   * protected by {@link #keyPassword()}. A fresh instance each call, so tests cannot disturb each
   * other.
   */
  public KeyStore serverKeyStore() {
    try {
      return PemFiles.keyStore(certificates.serverCertificateChain(), certificates.serverKey(),
          KEY_ALIAS, keyPassword());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Alias of the key entry in {@link #serverKeyStore()}. */
  public String keyAlias() {
    return KEY_ALIAS;
  }

  /** Password of the key entry in {@link #serverKeyStore()}; a fresh copy each call. */
  public char[] keyPassword() {
    return KEY_PASSWORD.toCharArray();
  }

  /** Trusts exactly the generated CA. */
  public X509TrustManager trustManager() {
    return trustManager;
  }
}
