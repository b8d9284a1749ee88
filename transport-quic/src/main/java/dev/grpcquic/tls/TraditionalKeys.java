package dev.grpcquic.tls;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Null;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * Private keys in OpenSSL's traditional PEM formats, which the JDK does not read: PKCS#1 RSA
 * ({@code RSA PRIVATE KEY}) and SEC1 EC ({@code EC PRIVATE KEY}, its curve possibly in a preceding
 * {@code EC PARAMETERS} block). Parsed with BouncyCastle, which this class alone loads: loading it
 * costs hundreds of milliseconds, paid only by those who use these formats.
 */
final class TraditionalKeys {
  private static final Logger logger = Logger.getLogger(TraditionalKeys.class.getName());

  private TraditionalKeys() {}

  /** See {@link PemFiles#readPrivateKey(InputStream)}. */
  static PrivateKey readPrivateKey(InputStream pem) throws IOException {
    JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
    PrivateKey key = null;
    ASN1ObjectIdentifier namedCurve = null;
    try (PEMParser parser =
        new PEMParser(new InputStreamReader(pem, StandardCharsets.US_ASCII))) {
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
}
