package dev.grpcquic.tls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grpcquic.certs.CertificateGenerator;
import dev.grpcquic.certs.DevCertificates;
import dev.grpcquic.testing.TestTls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.Security;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.X509TrustManager;
import org.bouncycastle.asn1.DERBitString;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder;
import org.bouncycastle.openssl.jcajce.JcePEMEncryptorBuilder;
import org.bouncycastle.operator.OutputEncryptor;
import org.bouncycastle.util.io.pem.PemObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class PemFilesTest {

  private static final String ECDSA_AUTH = "ECDHE_ECDSA";

  private final TestTls tls = TestTls.get();
  private final DevCertificates certs = tls.certificates();

  @Test
  void readsCertificateChainInOrder() throws Exception {
    assertEquals(List.of(certs.serverCertificate(), certs.caCertificate()),
        PemFiles.readCertificates(tls.serverCertChainPem()));
    assertEquals(List.of(certs.caCertificate()), PemFiles.readCertificates(tls.caPem()));
  }

  @Test
  void readCertificatesSkipsKeysAndRejectsInputWithoutCertificates() throws Exception {
    String mixed = pem(new JcaPKCS8Generator(certs.serverKey(), null))
        + pem(certs.serverCertificate());
    assertEquals(List.of(certs.serverCertificate()), PemFiles.readCertificates(stream(mixed)));

    IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
        () -> PemFiles.readCertificates(stream(pem(certs.serverKey()))));
    assertTrue(none.getMessage().contains("no CERTIFICATE"), none.getMessage());
    assertThrows(IllegalArgumentException.class, () -> PemFiles.readCertificates(stream("")));
    IllegalArgumentException file = assertThrows(IllegalArgumentException.class,
        () -> PemFiles.readCertificates(tls.serverKeyPem()));
    assertTrue(file.getMessage().contains(tls.serverKeyPem().toString()), file.getMessage());
  }

  @Test
  void malformedPemIsAnIoException() {
    String broken = "-----BEGIN CERTIFICATE-----\nAAAA!!!!\n-----END CERTIFICATE-----\n";
    assertThrows(IOException.class, () -> PemFiles.readCertificates(stream(broken)));
  }

  @Test
  void readsPkcs8Key() throws Exception {
    PrivateKey key = PemFiles.readPrivateKey(tls.serverKeyPem());
    assertEquals(certs.serverKey(), key);
    assertEquals("EC", key.getAlgorithm());
  }

  @Test
  void readsSec1EcKeyNamingItsCurve() throws Exception {
    // The shape OpenSSL writes: ECPrivateKey with [0] curve and [1] public key.
    ECPrivateKey ecKey = (ECPrivateKey) certs.clientKey();
    byte[] publicKey = SubjectPublicKeyInfo.getInstance(
        certs.clientCertificate().getPublicKey().getEncoded()).getPublicKeyData().getBytes();
    org.bouncycastle.asn1.sec.ECPrivateKey sec1 = new org.bouncycastle.asn1.sec.ECPrivateKey(
        256, ecKey.getS(), new DERBitString(publicKey), SECObjectIdentifiers.secp256r1);
    String text = pem(new PemObject("EC PRIVATE KEY", sec1.getEncoded()));

    PrivateKey key = PemFiles.readPrivateKey(stream(text));
    assertEquals("EC", key.getAlgorithm());
    assertEquals(ecKey.getS(), ((ECPrivateKey) key).getS());
    assertEquals(256, ((ECPrivateKey) key).getParams().getCurve().getField().getFieldSize());
  }

  @Test
  void readsSec1EcKeyWithCurveFromEcParametersBlock() throws Exception {
    // JcaPEMWriter writes the JDK key as SEC1 without the optional curve parameters.
    String sec1 = pem(certs.clientKey());
    assertTrue(sec1.startsWith("-----BEGIN EC PRIVATE KEY-----"), sec1);
    String withParameters =
        pem(new PemObject("EC PARAMETERS", SECObjectIdentifiers.secp256r1.getEncoded())) + sec1;
    PrivateKey key = PemFiles.readPrivateKey(stream(withParameters));
    assertEquals("EC", key.getAlgorithm());
    assertEquals(((ECPrivateKey) certs.clientKey()).getS(), ((ECPrivateKey) key).getS());

    IllegalArgumentException noCurve = assertThrows(IllegalArgumentException.class,
        () -> PemFiles.readPrivateKey(stream(sec1)));
    assertTrue(noCurve.getMessage().contains("curve"), noCurve.getMessage());
  }

  @Test
  void readsPkcs1RsaAndPkcs8RsaKeys() throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
    generator.initialize(2048);
    KeyPair pair = generator.generateKeyPair();

    String pkcs1 = pem(pair.getPrivate());
    assertTrue(pkcs1.startsWith("-----BEGIN RSA PRIVATE KEY-----"), pkcs1);
    PrivateKey fromPkcs1 = PemFiles.readPrivateKey(stream(pkcs1));
    assertInstanceOf(RSAPrivateCrtKey.class, fromPkcs1);
    assertEquals(pair.getPrivate(), fromPkcs1);

    String pkcs8 = pem(new JcaPKCS8Generator(pair.getPrivate(), null));
    assertTrue(pkcs8.startsWith("-----BEGIN PRIVATE KEY-----"), pkcs8);
    assertEquals(pair.getPrivate(), PemFiles.readPrivateKey(stream(pkcs8)));
  }

  @Test
  void parsingDoesNotRegisterBouncyCastle() throws Exception {
    PemFiles.readPrivateKey(tls.serverKeyPem());
    PemFiles.readCertificates(tls.serverCertChainPem());
    assertEquals(null, Security.getProvider("BC"));
    assertTrue(!PemFiles.readPrivateKey(tls.serverKeyPem()).getClass().getName()
        .startsWith("org.bouncycastle"));
  }

  /** BouncyCastle takes hundreds of milliseconds to load: the common formats do without it. */
  @Test
  void certificatesAndPkcs8KeysNeedNoBouncyCastle() throws Exception {
    String classPath = java.util.Arrays.stream(
            System.getProperty("java.class.path").split(java.io.File.pathSeparator))
        .filter(entry -> !entry.contains("bouncycastle"))
        .collect(java.util.stream.Collectors.joining(java.io.File.pathSeparator));
    Process child = new ProcessBuilder(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", classPath,
        PemWithoutBouncyCastle.class.getName(), tls.serverCertChainPem().toString(),
        tls.serverKeyPem().toString(), tls.caPem().toString())
        .redirectErrorStream(true).start();
    String out = new String(child.getInputStream().readAllBytes(),
        StandardCharsets.UTF_8);
    assertEquals(0, child.waitFor(), out);
    assertEquals("OK", out.strip());
  }

  @Test
  void encryptedKeysAreRejectedClearly() throws Exception {
    char[] password = "secret".toCharArray();
    // Only the test encrypts, with a private provider instance that is never registered.
    Provider bc = new BouncyCastleProvider();
    StringWriter traditional = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(traditional)) {
      writer.writeObject(certs.serverKey(),
          new JcePEMEncryptorBuilder("AES-128-CBC").setProvider(bc).build(password));
    }
    OutputEncryptor encryptor =
        new JceOpenSSLPKCS8EncryptorBuilder(NISTObjectIdentifiers.id_aes256_CBC)
            .setProvider(bc).setPassword(password).build();
    String pkcs8 = pem(new JcaPKCS8Generator(certs.serverKey(), encryptor));
    assertTrue(pkcs8.startsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----"), pkcs8);

    for (String encrypted : List.of(traditional.toString(), pkcs8)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> PemFiles.readPrivateKey(stream(encrypted)));
      assertTrue(e.getMessage().contains("encrypted"), e.getMessage());
    }
  }

  @Test
  void missingOrDuplicateKeysAreRejected() throws Exception {
    IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
        () -> PemFiles.readPrivateKey(tls.caPem()));
    assertTrue(none.getMessage().contains("no PRIVATE KEY"), none.getMessage());
    String two = pem(new JcaPKCS8Generator(certs.serverKey(), null))
        + pem(new JcaPKCS8Generator(certs.clientKey(), null));
    assertThrows(IllegalArgumentException.class, () -> PemFiles.readPrivateKey(stream(two)));
  }

  @Test
  void keyStoreHoldsKeyAndChain() throws Exception {
    char[] password = "pw".toCharArray();
    KeyStore store;
    try (InputStream chain = java.nio.file.Files.newInputStream(tls.serverCertChainPem());
        InputStream key = java.nio.file.Files.newInputStream(tls.serverKeyPem())) {
      store = PemFiles.keyStore(chain, key, "srv", password);
    }
    assertEquals("PKCS12", store.getType());
    assertEquals(List.of("srv"), java.util.Collections.list(store.aliases()));
    assertEquals(certs.serverKey(), store.getKey("srv", password));
    assertEquals(List.of(certs.serverCertificate(), certs.caCertificate()),
        Arrays.asList(store.getCertificateChain("srv")));

    KeyStore fixture = tls.serverKeyStore();
    assertEquals(certs.serverKey(), fixture.getKey(tls.keyAlias(), tls.keyPassword()));
    Certificate[] chain = fixture.getCertificateChain(tls.keyAlias());
    assertEquals(certs.serverCertificate(), chain[0]);
  }

  @Test
  void keyStoreRejectsKeyOfAnotherCertificate() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> PemFiles.keyStore(tls.serverCertChainPem(), tls.clientKeyPem(), "x",
            "pw".toCharArray()));
    assertTrue(e.getMessage().contains("does not belong"), e.getMessage());
  }

  @Test
  void trustManagerAcceptsGeneratedChains() throws Exception {
    X509TrustManager fromPem;
    try (InputStream ca = java.nio.file.Files.newInputStream(tls.caPem())) {
      fromPem = PemFiles.trustManager(ca);
    }
    for (X509TrustManager manager : List.of(fromPem, tls.trustManager())) {
      manager.checkServerTrusted(chain(certs.serverCertificateChain()), ECDSA_AUTH);
      manager.checkClientTrusted(chain(certs.clientCertificateChain()), "EC");
      assertEquals(List.of(certs.caCertificate()), Arrays.asList(manager.getAcceptedIssuers()));
    }
  }

  @Test
  void trustManagerEnforcesExtendedKeyUsage() {
    X509TrustManager manager = tls.trustManager();
    assertThrows(CertificateException.class,
        () -> manager.checkServerTrusted(chain(certs.clientCertificateChain()), ECDSA_AUTH));
    assertThrows(CertificateException.class,
        () -> manager.checkClientTrusted(chain(certs.serverCertificateChain()), "EC"));
  }

  @Test
  void trustManagerRejectsChainOfAnotherCa() throws Exception {
    DevCertificates other = CertificateGenerator.generate();
    X509TrustManager manager = PemFiles.trustManager(tls.caPem());
    assertThrows(CertificateException.class,
        () -> manager.checkServerTrusted(chain(other.serverCertificateChain()), ECDSA_AUTH));
    assertThrows(CertificateException.class,
        () -> manager.checkClientTrusted(chain(other.clientCertificateChain()), "EC"));
    // a chain that claims our CA but whose leaf was signed by the other CA
    X509Certificate[] forged = {other.serverCertificate(), certs.caCertificate()};
    assertThrows(CertificateException.class,
        () -> manager.checkServerTrusted(forged, ECDSA_AUTH));
  }

  @Test
  void trustManagerOverKeyStore() throws Exception {
    KeyStore trustStore = PemFiles.trustStore(List.of(certs.caCertificate()));
    X509TrustManager manager = PemFiles.trustManager(trustStore);
    manager.checkServerTrusted(chain(certs.serverCertificateChain()), ECDSA_AUTH);
    assertThrows(IllegalArgumentException.class, () -> PemFiles.trustStore(List.of()));
    assertThrows(IllegalArgumentException.class,
        () -> PemFiles.trustManager(stream(pem(certs.serverKey()))));
  }

  @Test
  void fixtureFilesExistAndAreShared() throws Exception {
    TestTls again = TestTls.get();
    assertEquals(tls.caPem(), again.caPem());
    for (java.nio.file.Path file : List.of(tls.caPem(), tls.serverCertChainPem(),
        tls.serverKeyPem(), tls.clientCertChainPem(), tls.clientKeyPem())) {
      assertTrue(java.nio.file.Files.isRegularFile(file), file.toString());
    }
    assertEquals(List.of(certs.clientCertificate(), certs.caCertificate()),
        PemFiles.readCertificates(tls.clientCertChainPem()));
    assertEquals(certs.clientKey(), PemFiles.readPrivateKey(tls.clientKeyPem()));
    char[] password = tls.keyPassword();
    Arrays.fill(password, 'x');
    assertTrue(!Arrays.equals(password, tls.keyPassword()), "keyPassword returns a copy");
  }

  private static X509Certificate[] chain(List<X509Certificate> chain) {
    return chain.toArray(X509Certificate[]::new);
  }

  private static InputStream stream(String text) {
    return new ByteArrayInputStream(text.getBytes(StandardCharsets.US_ASCII));
  }

  /** PEM of an object as BouncyCastle's JcaPEMWriter writes it (PKCS#1 / SEC1 for bare keys). */
  private static String pem(Object object) throws IOException {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      writer.writeObject(object);
    }
    return out.toString();
  }
}
