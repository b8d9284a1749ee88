package dev.grpcquic.certs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.security.SignatureException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class CertificateGeneratorTest {

  private static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
  private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
  private static final int DNS = 2;
  private static final int IP = 7;
  // KeyUsage bit indexes of X509Certificate.getKeyUsage()
  private static final int DIGITAL_SIGNATURE = 0;
  private static final int KEY_CERT_SIGN = 5;
  private static final int CRL_SIGN = 6;

  private static DevCertificates certs;
  private static Instant generatedAt;

  @BeforeAll
  static void generate() {
    generatedAt = Instant.now();
    certs = CertificateGenerator.generate();
  }

  @Test
  void caIsSelfSignedCriticalCaWithCertSignUsage() throws Exception {
    X509Certificate ca = certs.caCertificate();
    ca.verify(ca.getPublicKey());
    assertEquals(ca.getSubjectX500Principal(), ca.getIssuerX500Principal());
    assertTrue(ca.getBasicConstraints() >= 0, "CA:true");
    assertTrue(ca.getCriticalExtensionOIDs().contains(Extension.basicConstraints.getId()));
    boolean[] usage = ca.getKeyUsage();
    assertTrue(usage[KEY_CERT_SIGN]);
    assertTrue(usage[CRL_SIGN]);
    assertEquals("SHA256withECDSA", ca.getSigAlgName());
  }

  @Test
  void serverAndClientAreSignedByTheCa() throws Exception {
    X509Certificate ca = certs.caCertificate();
    for (X509Certificate leaf : List.of(certs.serverCertificate(), certs.clientCertificate())) {
      leaf.verify(ca.getPublicKey());
      assertEquals(ca.getSubjectX500Principal(), leaf.getIssuerX500Principal());
      assertEquals(-1, leaf.getBasicConstraints(), "leaf must not be a CA");
      assertTrue(leaf.getKeyUsage()[DIGITAL_SIGNATURE]);
      assertEquals("SHA256withECDSA", leaf.getSigAlgName());
    }
    // and not by their own keys
    X509Certificate server = certs.serverCertificate();
    assertThrows(SignatureException.class, () -> server.verify(server.getPublicKey()));
  }

  @Test
  void allKeysAreEcP256() {
    for (X509Certificate cert : List.of(certs.caCertificate(), certs.serverCertificate(),
        certs.clientCertificate())) {
      ECPublicKey key = (ECPublicKey) cert.getPublicKey();
      assertEquals(256, key.getParams().getCurve().getField().getFieldSize());
    }
    assertEquals("EC", certs.serverKey().getAlgorithm());
    assertEquals("EC", certs.clientKey().getAlgorithm());
    assertEquals("EC", certs.caKey().getAlgorithm());
  }

  @Test
  void serverHasLocalhostSansAndServerAuth() throws Exception {
    X509Certificate server = certs.serverCertificate();
    assertEquals(List.of("localhost"), names(server, DNS));
    List<InetAddress> ips = new ArrayList<>();
    for (String ip : names(server, IP)) {
      ips.add(InetAddress.getByName(ip)); // literal, no lookup
    }
    assertEquals(List.of(InetAddress.getByName("127.0.0.1"), InetAddress.getByName("::1")), ips);
    assertEquals(List.of(SERVER_AUTH), server.getExtendedKeyUsage());
    assertTrue(server.getSubjectX500Principal().getName().contains("CN=grpc-quic-server"));
  }

  @Test
  void clientHasClientAuthAndCommonName() throws Exception {
    X509Certificate client = certs.clientCertificate();
    assertEquals(List.of(CLIENT_AUTH), client.getExtendedKeyUsage());
    assertTrue(client.getSubjectX500Principal().getName().startsWith("CN=grpc-quic-client"),
        client.getSubjectX500Principal().getName());
  }

  @Test
  void keyIdentifiersLinkLeavesToCa() throws Exception {
    byte[] caSki = certs.caCertificate().getExtensionValue(Extension.subjectKeyIdentifier.getId());
    assertTrue(caSki != null && caSki.length > 0);
    for (X509Certificate cert : List.of(certs.caCertificate(), certs.serverCertificate(),
        certs.clientCertificate())) {
      assertTrue(cert.getExtensionValue(Extension.subjectKeyIdentifier.getId()) != null);
      byte[] aki = cert.getExtensionValue(Extension.authorityKeyIdentifier.getId());
      assertTrue(aki != null, "AKI on " + cert.getSubjectX500Principal());
    }
    byte[] caKeyId = SubjectKeyIdentifier.getInstance(JcaX509ExtensionUtils.parseExtensionValue(
        caSki)).getKeyIdentifier();
    for (X509Certificate cert : List.of(certs.caCertificate(), certs.serverCertificate(),
        certs.clientCertificate())) {
      AuthorityKeyIdentifier aki = AuthorityKeyIdentifier.getInstance(
          JcaX509ExtensionUtils.parseExtensionValue(
              cert.getExtensionValue(Extension.authorityKeyIdentifier.getId())));
      assertArrayEquals(caKeyId, aki.getKeyIdentifierOctets());
      assertEquals(null, aki.getAuthorityCertIssuer(), "key identifier only");
    }
  }

  @Test
  void validityIsOneHourBackTo30DaysAhead() throws Exception {
    Instant after = Instant.now();
    for (X509Certificate cert : List.of(certs.caCertificate(), certs.serverCertificate(),
        certs.clientCertificate())) {
      Instant notBefore = cert.getNotBefore().toInstant();
      Instant notAfter = cert.getNotAfter().toInstant();
      assertWithin(notBefore, generatedAt.minus(Duration.ofHours(1)), after.minus(Duration.ofHours(1)));
      assertWithin(notAfter, generatedAt.plus(Duration.ofDays(30)), after.plus(Duration.ofDays(30)));
      cert.checkValidity();
    }
  }

  @Test
  void validityDaysAreConfigurable() {
    DevCertificates shortLived = CertificateGenerator.generate(2);
    Duration lifetime = Duration.between(shortLived.serverCertificate().getNotBefore().toInstant(),
        shortLived.serverCertificate().getNotAfter().toInstant());
    assertEquals(Duration.ofDays(2).plusHours(1), lifetime);
    assertThrows(IllegalArgumentException.class, () -> CertificateGenerator.generate(0));
  }

  @Test
  void serialsAreRandomAndPositive() {
    DevCertificates other = CertificateGenerator.generate();
    assertNotEquals(certs.serverCertificate().getSerialNumber(),
        other.serverCertificate().getSerialNumber());
    assertNotEquals(certs.caCertificate().getSubjectX500Principal(),
        other.caCertificate().getSubjectX500Principal());
    for (X509Certificate cert : List.of(certs.caCertificate(), certs.serverCertificate(),
        certs.clientCertificate())) {
      assertTrue(cert.getSerialNumber().signum() > 0);
      assertTrue(cert.getSerialNumber().bitLength() <= 159);
    }
  }

  @Test
  void extraServerNamesBecomeDnsOrIpSans() throws Exception {
    DevCertificates extra =
        CertificateGenerator.generate("example.test", "10.1.2.3", "[fe80::1]", "*.svc.test",
            "localhost");
    X509Certificate server = extra.serverCertificate();
    assertEquals(List.of("localhost", "example.test", "*.svc.test"), names(server, DNS));
    List<InetAddress> ips = new ArrayList<>();
    for (String ip : names(server, IP)) {
      ips.add(InetAddress.getByName(ip));
    }
    assertEquals(List.of(InetAddress.getByName("127.0.0.1"), InetAddress.getByName("::1"),
        InetAddress.getByName("10.1.2.3"), InetAddress.getByName("fe80::1")), ips);
  }

  @Test
  void invalidServerNamesAreRejected() {
    assertThrows(IllegalArgumentException.class, () -> CertificateGenerator.generate(" "));
    assertThrows(IllegalArgumentException.class, () -> CertificateGenerator.generate("a b"));
    assertThrows(IllegalArgumentException.class, () -> CertificateGenerator.generate("-x.test"));
  }

  private static List<String> names(X509Certificate cert, int type)
      throws CertificateParsingException {
    List<String> names = new ArrayList<>();
    Collection<List<?>> all = cert.getSubjectAlternativeNames();
    for (List<?> entry : all) {
      if ((Integer) entry.get(0) == type) {
        names.add((String) entry.get(1));
      }
    }
    return names;
  }

  private static void assertWithin(Instant actual, Instant earliest, Instant latest) {
    // certificate times have whole seconds
    Instant lo = earliest.minusSeconds(1);
    assertTrue(!actual.isBefore(lo) && !actual.isAfter(latest),
        actual + " not within [" + lo + ", " + latest + "]");
  }
}
