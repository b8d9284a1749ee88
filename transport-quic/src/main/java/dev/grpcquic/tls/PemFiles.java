package dev.grpcquic.tls;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Null;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * Reads PEM certificates and private keys and turns them into the JDK types TLS setup needs.
 *
 * <p>BouncyCastle is used only to parse PEM; it is not registered as a JCA provider, so keys,
 * certificates and trust decisions come from the JDK's own providers. Streams passed in are read
 * to the end but not closed.
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
    JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
    List<X509Certificate> certificates = new ArrayList<>();
    try (PEMParser parser = new PEMParser(reader(pem))) {
      Object object;
      while ((object = parser.readObject()) != null) {
        if (object instanceof X509CertificateHolder holder) {
          try {
            certificates.add(converter.getCertificate(holder));
          } catch (CertificateException e) {
            throw new IOException("cannot decode certificate " + holder.getSubject(), e);
          }
        } else {
          logger.log(Level.FINE, "skipping PEM object {0} while reading certificates",
              object.getClass().getSimpleName());
        }
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
    JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
    PrivateKey key = null;
    ASN1ObjectIdentifier namedCurve = null;
    try (PEMParser parser = new PEMParser(reader(pem))) {
      Object object;
      while ((object = parser.readObject()) != null) {
        PrivateKeyInfo info;
        if (object instanceof PrivateKeyInfo pkcs8) {
          info = pkcs8;
        } else if (object instanceof PEMKeyPair pair) {
          info = withCurve(pair.getPrivateKeyInfo(), namedCurve);
        } else if (object instanceof ASN1ObjectIdentifier curve) { // EC PARAMETERS
          namedCurve = curve;
          continue;
        } else if (object instanceof PKCS8EncryptedPrivateKeyInfo
            || object instanceof PEMEncryptedKeyPair) {
          throw new IllegalArgumentException(
              "encrypted private keys are not supported; decrypt it first, e.g. with "
                  + "'openssl pkcs8 -in key.pem -out key-plain.pem'");
        } else {
          logger.log(Level.FINE, "skipping PEM object {0} while reading a private key",
              object.getClass().getSimpleName());
          continue;
        }
        if (key != null) {
          throw new IllegalArgumentException("more than one private key in PEM input");
        }
        key = converter.getPrivateKey(info);
      }
    }
    if (key == null) {
      throw new IllegalArgumentException(
          "no PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY found in PEM input");
    }
    return key;
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
    store.setKeyEntry(alias, key, password, chain.toArray(X509Certificate[]::new));
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

  /**
   * A SEC1 key without the optional curve parameters turns into PKCS#8 without them, which no
   * KeyFactory accepts; fill in the curve of an earlier EC PARAMETERS block, or fail clearly.
   */
  private static PrivateKeyInfo withCurve(PrivateKeyInfo info, ASN1ObjectIdentifier namedCurve)
      throws IOException {
    AlgorithmIdentifier algorithm = info.getPrivateKeyAlgorithm();
    boolean ec = X9ObjectIdentifiers.id_ecPublicKey.equals(algorithm.getAlgorithm());
    ASN1Encodable parameters = algorithm.getParameters();
    if (!ec || (parameters != null && !(parameters instanceof ASN1Null))) {
      return info;
    }
    if (namedCurve == null) {
      throw new IllegalArgumentException(
          "EC PRIVATE KEY does not name its curve and no EC PARAMETERS block precedes it");
    }
    return new PrivateKeyInfo(
        new AlgorithmIdentifier(X9ObjectIdentifiers.id_ecPublicKey, namedCurve),
        info.parsePrivateKey());
  }

  private static Reader reader(InputStream in) {
    return new InputStreamReader(in, StandardCharsets.US_ASCII);
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
