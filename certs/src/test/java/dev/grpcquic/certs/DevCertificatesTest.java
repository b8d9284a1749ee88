package dev.grpcquic.certs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMParser;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class DevCertificatesTest {

  private static DevCertificates certs;

  @BeforeAll
  static void generate() {
    certs = CertificateGenerator.generate();
  }

  @Test
  void writesTheFiveFilesThatParseBack(@TempDir Path dir) throws Exception {
    List<Path> written = certs.writePem(dir.resolve("out"));
    Path out = dir.resolve("out");
    assertEquals(List.of(out.resolve("ca.pem"), out.resolve("server.pem"),
        out.resolve("server.key"), out.resolve("client.pem"), out.resolve("client.key")), written);
    try (Stream<Path> files = Files.list(out)) {
      assertEquals(5, files.count());
    }

    assertEquals(List.of(certs.caCertificate()), certificates(out.resolve("ca.pem")));
    assertEquals(List.of(certs.serverCertificate(), certs.caCertificate()),
        certificates(out.resolve("server.pem")));
    assertEquals(List.of(certs.clientCertificate(), certs.caCertificate()),
        certificates(out.resolve("client.pem")));

    PrivateKey serverKey = pkcs8Key(out.resolve("server.key"));
    PrivateKey clientKey = pkcs8Key(out.resolve("client.key"));
    assertEquals(certs.serverKey(), serverKey);
    assertEquals(certs.clientKey(), clientKey);
    assertSignsFor(serverKey, certs.serverCertificate().getPublicKey());
    assertSignsFor(clientKey, certs.clientCertificate().getPublicKey());
  }

  @Test
  void keyFilesArePkcs8PemAndOwnerOnly(@TempDir Path dir) throws Exception {
    certs.writePem(dir);
    for (String name : List.of("server.key", "client.key")) {
      Path key = dir.resolve(name);
      String text = Files.readString(key, StandardCharsets.US_ASCII);
      assertTrue(text.startsWith("-----BEGIN PRIVATE KEY-----\n"), text);
      assertTrue(text.strip().endsWith("-----END PRIVATE KEY-----"), text);
      if (Files.getFileStore(key).supportsFileAttributeView("posix")) {
        assertEquals("rw-------",
            PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
      }
    }
  }

  @Test
  void rewritingReplacesFilesAndKeepsKeysPrivate(@TempDir Path dir) throws Exception {
    CertificateGenerator.generate().writePem(dir);
    if (Files.getFileStore(dir).supportsFileAttributeView("posix")) {
      Files.setPosixFilePermissions(dir.resolve("server.key"),
          PosixFilePermissions.fromString("rw-r--r--"));
    }
    certs.writePem(dir);
    assertEquals(certs.serverKey(), pkcs8Key(dir.resolve("server.key")));
    assertEquals(List.of(certs.caCertificate()), certificates(dir.resolve("ca.pem")));
    if (Files.getFileStore(dir).supportsFileAttributeView("posix")) {
      assertEquals("rw-------", PosixFilePermissions.toString(
          Files.getPosixFilePermissions(dir.resolve("server.key"))));
    }
  }

  @Test
  void commandLineWritesFilesWithOptions(@TempDir Path dir) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = CertificateGenerator.run(
        new String[] {dir.toString(), "--days", "3", "--san", "grpc.test", "--san", "10.0.0.7"},
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    assertEquals(0, status, err.toString(StandardCharsets.UTF_8));
    String printed = out.toString(StandardCharsets.UTF_8);
    assertTrue(printed.contains(dir.resolve("server.key").toAbsolutePath().toString()), printed);

    List<Certificate> chain = certificates(dir.resolve("server.pem"));
    java.security.cert.X509Certificate server = (java.security.cert.X509Certificate) chain.get(0);
    server.verify(chain.get(1).getPublicKey());
    List<Object> sanValues = new ArrayList<>();
    server.getSubjectAlternativeNames().forEach(entry -> sanValues.add(entry.get(1)));
    assertTrue(sanValues.contains("grpc.test"), sanValues.toString());
    assertTrue(sanValues.contains("10.0.0.7"), sanValues.toString());
    long days = java.time.Duration.between(server.getNotBefore().toInstant(),
        server.getNotAfter().toInstant()).toHours();
    assertEquals(3 * 24 + 1, days);
  }

  @Test
  void commandLineRejectsBadArguments(@TempDir Path dir) {
    for (String[] args : List.of(new String[0], new String[] {dir.toString(), "--days"},
        new String[] {dir.toString(), "--days", "x"}, new String[] {dir.toString(), "--bogus"},
        new String[] {dir.toString(), "--san", "bad name"})) {
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      int status = CertificateGenerator.run(args, new PrintStream(new ByteArrayOutputStream()),
          new PrintStream(err, true, StandardCharsets.UTF_8));
      assertEquals(2, status, String.join(" ", args));
      assertTrue(err.toString(StandardCharsets.UTF_8).startsWith("error: "));
    }
  }

  private static List<Certificate> certificates(Path file) throws Exception {
    try (InputStream in = Files.newInputStream(file)) {
      return new ArrayList<>(CertificateFactory.getInstance("X.509").generateCertificates(in));
    }
  }

  private static PrivateKey pkcs8Key(Path file) throws Exception {
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
        PEMParser parser = new PEMParser(reader)) {
      PrivateKeyInfo info = assertInstanceOf(PrivateKeyInfo.class, parser.readObject());
      assertEquals(null, parser.readObject(), "one key per file");
      return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(info.getEncoded()));
    }
  }

  private static void assertSignsFor(PrivateKey key, PublicKey publicKey) throws Exception {
    byte[] data = "grpc-quic".getBytes(StandardCharsets.US_ASCII);
    Signature signer = Signature.getInstance("SHA256withECDSA");
    signer.initSign(key);
    signer.update(data);
    byte[] signature = signer.sign();
    Signature verifier = Signature.getInstance("SHA256withECDSA");
    verifier.initVerify(publicKey);
    verifier.update(data);
    assertTrue(verifier.verify(signature));
  }
}
