package dev.grpcquic.certs;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemWriter;

/**
 * A development certificate authority plus a server and a client certificate it issued, with their
 * private keys. Produced by {@link CertificateGenerator}; for development and tests only.
 */
public record DevCertificates(
    X509Certificate caCertificate,
    PrivateKey caKey,
    X509Certificate serverCertificate,
    PrivateKey serverKey,
    X509Certificate clientCertificate,
    PrivateKey clientKey) {

  /** File name of the CA certificate written by {@link #writePem(Path)}. */
  public static final String CA_PEM = "ca.pem";
  /** File name of the server certificate chain (server certificate, then CA). */
  public static final String SERVER_PEM = "server.pem";
  /** File name of the server's PKCS#8 private key. */
  public static final String SERVER_KEY = "server.key";
  /** File name of the client certificate chain (client certificate, then CA). */
  public static final String CLIENT_PEM = "client.pem";
  /** File name of the client's PKCS#8 private key. */
  public static final String CLIENT_KEY = "client.key";

  private static final Set<PosixFilePermission> OWNER_ONLY =
      PosixFilePermissions.fromString("rw-------");

  public DevCertificates {
    Objects.requireNonNull(caCertificate, "caCertificate");
    Objects.requireNonNull(caKey, "caKey");
    Objects.requireNonNull(serverCertificate, "serverCertificate");
    Objects.requireNonNull(serverKey, "serverKey");
    Objects.requireNonNull(clientCertificate, "clientCertificate");
    Objects.requireNonNull(clientKey, "clientKey");
  }

  /** The server certificate followed by the CA certificate. */
  public List<X509Certificate> serverCertificateChain() {
    return List.of(serverCertificate, caCertificate);
  }

  /** The client certificate followed by the CA certificate. */
  public List<X509Certificate> clientCertificateChain() {
    return List.of(clientCertificate, caCertificate);
  }

  /**
   * Writes {@value #CA_PEM}, {@value #SERVER_PEM}, {@value #SERVER_KEY}, {@value #CLIENT_PEM} and
   * {@value #CLIENT_KEY} into {@code dir} (created if missing), replacing existing files. Key files
   * are readable by the owner only where the file system supports POSIX permissions. The CA key is
   * not written.
   *
   * @return the paths written, in the order above
   */
  public List<Path> writePem(Path dir) {
    try {
      Files.createDirectories(dir);
      Path ca = dir.resolve(CA_PEM);
      Path serverPem = dir.resolve(SERVER_PEM);
      Path serverKeyFile = dir.resolve(SERVER_KEY);
      Path clientPem = dir.resolve(CLIENT_PEM);
      Path clientKeyFile = dir.resolve(CLIENT_KEY);
      writePublic(ca, pem(caCertificate));
      writePublic(serverPem, pem(serverCertificate, caCertificate));
      writeSecret(serverKeyFile, pem(serverKey));
      writePublic(clientPem, pem(clientCertificate, caCertificate));
      writeSecret(clientKeyFile, pem(clientKey));
      return List.of(ca, serverPem, serverKeyFile, clientPem, clientKeyFile);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write PEM files to " + dir, e);
    }
  }

  /** PEM text of the given certificates, in order. */
  static String pem(X509Certificate... certificates) {
    StringWriter out = new StringWriter();
    try (PemWriter writer = new PemWriter(out)) {
      for (X509Certificate certificate : certificates) {
        writer.writeObject(new PemObject("CERTIFICATE", certificate.getEncoded()));
      }
    } catch (IOException | CertificateEncodingException e) {
      throw new IllegalStateException("cannot encode certificate", e);
    }
    return out.toString();
  }

  /** PKCS#8 ("PRIVATE KEY") PEM text of the key. */
  static String pem(PrivateKey key) {
    if (!"PKCS#8".equalsIgnoreCase(key.getFormat())) {
      throw new IllegalArgumentException("key is not PKCS#8 encodable: " + key.getFormat());
    }
    StringWriter out = new StringWriter();
    try (PemWriter writer = new PemWriter(out)) {
      writer.writeObject(new PemObject("PRIVATE KEY", key.getEncoded()));
    } catch (IOException e) {
      throw new IllegalStateException("cannot encode private key", e);
    }
    return out.toString();
  }

  private static void writePublic(Path file, String text) throws IOException {
    Files.writeString(file, text, StandardCharsets.US_ASCII);
  }

  private static void writeSecret(Path file, String text) throws IOException {
    boolean posix = file.getFileSystem().supportedFileAttributeViews().contains("posix");
    if (posix) {
      // Create the file owner-only before any key material goes into it.
      Files.deleteIfExists(file);
      Files.createFile(file, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
      Files.writeString(file, text, StandardCharsets.US_ASCII,
          StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
      Files.setPosixFilePermissions(file, OWNER_ONLY); // in case a umask narrowed it oddly
    } else {
      Files.writeString(file, text, StandardCharsets.US_ASCII);
    }
  }
}
