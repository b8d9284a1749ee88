package dev.grpcquic.testing;

import java.math.BigInteger;
import java.net.InetAddress;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.Date;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * TEMPORARY copy for the kwik engine tests (the real one is being written elsewhere and replaces
 * this at merge): an EC P-256 CA and a server certificate for localhost / 127.0.0.1, made once.
 */
public final class TestTls {

  private static volatile TestTls instance;

  private final KeyStore serverKeyStore;
  private final X509TrustManager trustManager;
  private final char[] keyPassword = "secret".toCharArray();

  public static TestTls get() {
    TestTls local = instance;
    if (local == null) {
      synchronized (TestTls.class) {
        local = instance;
        if (local == null) {
          local = instance = new TestTls();
        }
      }
    }
    return local;
  }

  private TestTls() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      KeyPair caKeys = generator.generateKeyPair();
      KeyPair serverKeys = generator.generateKeyPair();
      X500Name caName = new X500Name("CN=grpc-quic test CA");
      Date from = new Date(System.currentTimeMillis() - 3_600_000L);
      Date to = new Date(System.currentTimeMillis() + 10L * 365 * 86_400_000L);
      SecureRandom random = new SecureRandom();

      X509v3CertificateBuilder ca = new JcaX509v3CertificateBuilder(caName,
          new BigInteger(64, random), from, to, caName, caKeys.getPublic());
      ca.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      ca.addExtension(Extension.keyUsage, true,
          new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      ContentSigner caSigner = new JcaContentSignerBuilder("SHA256withECDSA").build(caKeys.getPrivate());
      X509Certificate caCert = new JcaX509CertificateConverter().getCertificate(ca.build(caSigner));

      X509v3CertificateBuilder server = new JcaX509v3CertificateBuilder(caName,
          new BigInteger(64, random), from, to, new X500Name("CN=localhost"), serverKeys.getPublic());
      server.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      server.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
          new GeneralName(GeneralName.dNSName, "localhost"),
          new GeneralName(GeneralName.iPAddress, InetAddress.getLoopbackAddress().getHostAddress())}));
      X509Certificate serverCert =
          new JcaX509CertificateConverter().getCertificate(server.build(caSigner));

      serverKeyStore = KeyStore.getInstance("PKCS12");
      serverKeyStore.load(null, null);
      serverKeyStore.setKeyEntry(keyAlias(), serverKeys.getPrivate(), keyPassword,
          new X509Certificate[] {serverCert, caCert});

      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      trust.setCertificateEntry("ca", caCert);
      TrustManagerFactory factory =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init(trust);
      trustManager = (X509TrustManager) factory.getTrustManagers()[0];
    } catch (Exception e) {
      throw new IllegalStateException("test TLS material", e);
    }
  }

  public KeyStore serverKeyStore() {
    return serverKeyStore;
  }

  public String keyAlias() {
    return "server";
  }

  public char[] keyPassword() {
    return keyPassword.clone();
  }

  public X509TrustManager trustManager() {
    return trustManager;
  }
}
