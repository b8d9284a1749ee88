package dev.grpcquic.tls;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.crypto.spec.PBEParameterSpec;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * Reads PEM certificates and private keys and turns them into the JDK types TLS setup needs.
 *
 * <p>The JDK reads certificates and PKCS#8 keys. BouncyCastle, slow to load, is loaded only for
 * OpenSSL's traditional key formats (PKCS#1 RSA, SEC1 EC, see {@link TraditionalKeys}); it is
 * never registered as a JCA provider, so keys, certificates and trust decisions come from the
 * JDK's own providers. Streams passed in are read to the end but not closed.
 */
public final class PemFiles {

  private static final Logger logger = Logger.getLogger(PemFiles.class.getName());

  private PemFiles() {}

  /**
   * All {@code CERTIFICATE} blocks of a PEM stream, in order. Other blocks (keys, parameters) are
   * skipped.
   *
   * @throws IllegalArgumentException if the stream holds no certificate
   * @throws IOException if reading fails or the PEM is malformed
   */
  public static List<X509Certificate> readCertificates(InputStream pem) throws IOException {
    Objects.requireNonNull(pem, "pem");
    CertificateFactory factory;
    try {
      factory = CertificateFactory.getInstance("X.509");
    } catch (CertificateException e) {
      throw new IllegalStateException("the JDK offers no X.509 certificate factory", e);
    }
    List<X509Certificate> certificates = new ArrayList<>();
    for (PemBlock block : PemBlock.parse(pem)) {
      if (block.label().equals("CERTIFICATE")) {
        try {
          certificates.add((X509Certificate) factory.generateCertificate(
              new ByteArrayInputStream(block.der())));
        } catch (CertificateException e) {
          throw new IOException("cannot decode certificate " + (certificates.size() + 1), e);
        }
      } else {
        logger.log(Level.FINE, "skipping PEM block {0} while reading certificates", block.label());
      }
    }
    if (certificates.isEmpty()) {
      throw new IllegalArgumentException("no CERTIFICATE found in PEM input");
    }
    return List.copyOf(certificates);
  }

  /** {@link #readCertificates(InputStream)} of a file. */
  public static List<X509Certificate> readCertificates(Path pemFile) throws IOException {
    try (InputStream in = Files.newInputStream(pemFile)) {
      return readCertificates(in);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(e.getMessage() + ": " + pemFile, e);
    }
  }

  /**
   * The single unencrypted private key of a PEM stream: PKCS#8 ({@code PRIVATE KEY}), PKCS#1 RSA
   * ({@code RSA PRIVATE KEY}) or SEC1 EC ({@code EC PRIVATE KEY}). A SEC1 key that does not name
   * its curve takes it from a preceding {@code EC PARAMETERS} block (as {@code openssl ecparam
   * -genkey} writes); other blocks, such as certificates, are skipped.
   *
   * @throws IllegalArgumentException if there is no key, more than one, or the key is encrypted
   * @throws IOException if reading fails or the PEM is malformed
   */
  public static PrivateKey readPrivateKey(InputStream pem) throws IOException {
    Objects.requireNonNull(pem, "pem");
    byte[] text = pem.readAllBytes();
    List<PemBlock> blocks = PemBlock.parse(new ByteArrayInputStream(text));
    PemBlock pkcs8 = null;
    for (PemBlock block : blocks) {
      switch (block.label()) {
        case "RSA PRIVATE KEY", "EC PRIVATE KEY", "EC PARAMETERS" -> {
          // OpenSSL's traditional formats: the JDK reads none of them, BouncyCastle does.
          return TraditionalKeys.readPrivateKey(new ByteArrayInputStream(text));
        }
        case "ENCRYPTED PRIVATE KEY" -> throw new IllegalArgumentException(
            "encrypted private keys are not supported; decrypt it first, e.g. with "
                + "'openssl pkcs8 -in key.pem -out key-plain.pem'");
        case "PRIVATE KEY" -> {
          if (pkcs8 != null) {
            throw new IllegalArgumentException("more than one private key in PEM input");
          }
          pkcs8 = block;
        }
        default -> logger.log(Level.FINE, "skipping PEM block {0} while reading a private key",
            block.label());
      }
    }
    if (pkcs8 == null) {
      throw new IllegalArgumentException(
          "no PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY found in PEM input");
    }
    return pkcs8Key(pkcs8.der());
  }

  /** A PKCS#8 key through the JDK: the key's algorithm is tried among those a QUIC server takes. */
  private static PrivateKey pkcs8Key(byte[] der) throws IOException {
    PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
    for (String algorithm : List.of("EC", "RSA", "Ed25519", "Ed448", "RSASSA-PSS")) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(spec);
      } catch (InvalidKeySpecException | NoSuchAlgorithmException e) {
        // not this algorithm
      }
    }
    throw new IOException("cannot decode the PKCS#8 private key (not EC, RSA or EdDSA)");
  }

  /** {@link #readPrivateKey(InputStream)} of a file. */
  public static PrivateKey readPrivateKey(Path pemFile) throws IOException {
    try (InputStream in = Files.newInputStream(pemFile)) {
      return readPrivateKey(in);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(e.getMessage() + ": " + pemFile, e);
    }
  }

  /**
   * An in-memory PKCS12 key store holding one key entry: the private key of {@code keyPem} with
   * the certificate chain of {@code certChainPem} (leaf first).
   *
   * @throws IllegalArgumentException if either input is empty, or the key does not belong to the
   *     chain's first certificate
   */
  public static KeyStore keyStore(InputStream certChainPem, InputStream keyPem, String alias,
      char[] password) throws IOException, GeneralSecurityException {
    Objects.requireNonNull(alias, "alias");
    Objects.requireNonNull(password, "password");
    List<X509Certificate> chain = readCertificates(certChainPem);
    PrivateKey key = readPrivateKey(keyPem);
    return keyStore(chain, key, alias, password);
  }

  /** {@link #keyStore(InputStream, InputStream, String, char[])} of two files. */
  public static KeyStore keyStore(Path certChainPem, Path keyPem, String alias, char[] password)
      throws IOException, GeneralSecurityException {
    List<X509Certificate> chain = readCertificates(certChainPem);
    PrivateKey key = readPrivateKey(keyPem);
    return keyStore(chain, key, alias, password);
  }

  /**
   * An in-memory PKCS12 key store holding {@code key} with {@code chain} (leaf first).
   *
   * @throws IllegalArgumentException if the chain is empty or the key does not belong to the
   *     chain's first certificate
   */
  public static KeyStore keyStore(List<X509Certificate> chain, PrivateKey key, String alias,
      char[] password) throws IOException, GeneralSecurityException {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(alias, "alias");
    Objects.requireNonNull(password, "password");
    if (chain.isEmpty()) {
      throw new IllegalArgumentException("certificate chain is empty");
    }
    requireMatchingKey(key, chain.get(0));
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    X509Certificate[] certificates = chain.toArray(X509Certificate[]::new);
    if (password.length == 0) {
      // An empty password protects nothing, and PKCS12's default key protection (10000 PBKDF2
      // rounds) cost a few hundred ms at start-up: once here, once when the server reads it back.
      byte[] salt = new byte[16];
      new SecureRandom().nextBytes(salt);
      store.setEntry(alias, new KeyStore.PrivateKeyEntry(key, certificates),
          new KeyStore.PasswordProtection(password, "PBEWithHmacSHA256AndAES_256",
              new PBEParameterSpec(salt, 1)));
    } else {
      store.setKeyEntry(alias, key, password, certificates);
    }
    return store;
  }

  /**
   * A trust manager of the default {@link TrustManagerFactory} algorithm that trusts exactly the
   * certificates of {@code caPem}.
   *
   * @throws IllegalArgumentException if the stream holds no certificate
   */
  public static X509TrustManager trustManager(InputStream caPem)
      throws IOException, GeneralSecurityException {
    return trustManager(trustStore(readCertificates(caPem)));
  }

  /** {@link #trustManager(InputStream)} of a file. */
  public static X509TrustManager trustManager(Path caPem)
      throws IOException, GeneralSecurityException {
    return trustManager(trustStore(readCertificates(caPem)));
  }

  /** A trust manager of the default {@link TrustManagerFactory} algorithm over a trust store. */
  public static X509TrustManager trustManager(KeyStore trustStore)
      throws GeneralSecurityException {
    Objects.requireNonNull(trustStore, "trustStore");
    TrustManagerFactory factory =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    factory.init(trustStore);
    for (TrustManager manager : factory.getTrustManagers()) {
      if (manager instanceof X509TrustManager x509) {
        return x509;
      }
    }
    throw new GeneralSecurityException(
        "TrustManagerFactory " + factory.getAlgorithm() + " offers no X509TrustManager");
  }

  /** An in-memory PKCS12 key store with each certificate as a trusted entry. */
  public static KeyStore trustStore(List<X509Certificate> trusted)
      throws IOException, GeneralSecurityException {
    if (trusted.isEmpty()) {
      throw new IllegalArgumentException("no trusted certificates given");
    }
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    for (int i = 0; i < trusted.size(); i++) {
      store.setCertificateEntry("ca-" + i, trusted.get(i));
    }
    return store;
  }

  /** Signs a random challenge with the key and verifies it with the certificate's public key. */
  private static void requireMatchingKey(PrivateKey key, X509Certificate certificate)
      throws GeneralSecurityException {
    PublicKey publicKey = certificate.getPublicKey();
    if (!key.getAlgorithm().equals(publicKey.getAlgorithm())) {
      throw new IllegalArgumentException("private key algorithm " + key.getAlgorithm()
          + " does not match certificate key algorithm " + publicKey.getAlgorithm()
          + " of " + certificate.getSubjectX500Principal());
    }
    String algorithm;
    switch (key.getAlgorithm()) {
      case "EC" -> algorithm = "SHA256withECDSA";
      case "RSA" -> algorithm = "SHA256withRSA";
      case "Ed25519", "Ed448", "EdDSA" -> algorithm = key.getAlgorithm();
      default -> {
        logger.log(Level.FINE, "cannot check that a {0} key matches its certificate",
            key.getAlgorithm());
        return;
      }
    }
    byte[] challenge = new byte[32];
    new SecureRandom().nextBytes(challenge);
    Signature signer = Signature.getInstance(algorithm);
    signer.initSign(key);
    signer.update(challenge);
    byte[] signature = signer.sign();
    Signature verifier = Signature.getInstance(algorithm);
    verifier.initVerify(publicKey);
    verifier.update(challenge);
    if (!verifier.verify(signature)) {
      throw new IllegalArgumentException("private key does not belong to certificate "
          + certificate.getSubjectX500Principal());
    }
  }
}
