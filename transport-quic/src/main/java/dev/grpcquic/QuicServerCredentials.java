package dev.grpcquic;

import dev.grpcquic.tls.PemFiles;
import io.grpc.ServerCredentials;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyStore;

/**
 * Credentials that select the QUIC transport:
 * {@code Grpc.newServerBuilderForPort(port, QuicServerCredentials.create(chain, key))}. The key
 * may be EC (P-256, P-384, P-521) or RSA; kwik does not take Ed25519.
 */
public final class QuicServerCredentials extends ServerCredentials {
  static final String KEY_ALIAS = "grpc-quic-server";

  private final KeyStore keyStore;
  private final String alias;
  private final char[] password;

  private QuicServerCredentials(KeyStore keyStore, String alias, char[] password) {
    this.keyStore = keyStore;
    this.alias = alias;
    this.password = password.clone();
  }

  /** From PEM files: the certificate chain (leaf first) and its unencrypted private key. */
  public static QuicServerCredentials create(File certChainPem, File privateKeyPem)
      throws IOException {
    try (InputStream chain = Files.newInputStream(certChainPem.toPath());
         InputStream key = Files.newInputStream(privateKeyPem.toPath())) {
      return create(chain, key);
    }
  }

  /** From PEM streams: the certificate chain (leaf first) and its unencrypted private key. */
  public static QuicServerCredentials create(InputStream certChainPem, InputStream privateKeyPem)
      throws IOException {
    char[] password = new char[0];
    try {
      return new QuicServerCredentials(
          PemFiles.keyStore(certChainPem, privateKeyPem, KEY_ALIAS, password), KEY_ALIAS,
          password);
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot build a key store from the PEM files: " + e.getMessage(), e);
    }
  }

  /** From a key store entry holding the key and its certificate chain. */
  public static QuicServerCredentials create(KeyStore keyStore, String alias, char[] password) {
    return new QuicServerCredentials(keyStore, alias, password);
  }

  KeyStore keyStore() {
    return keyStore;
  }

  String alias() {
    return alias;
  }

  char[] password() {
    return password.clone();
  }
}
