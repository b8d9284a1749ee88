package dev.grpcquic.certs;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.IPAddress;

/**
 * Generates a throw-away certificate authority plus a server and a client certificate it issued,
 * for development and tests. Everything is EC P-256 signed with SHA256withECDSA.
 *
 * <p>BouncyCastle is used only to build the certificate structures; key generation, signing and
 * certificate parsing use the JDK's own providers (BouncyCastle is not registered as a provider).
 *
 * <p>Run {@code CertificateGenerator <output-dir> [--days N] [--san name]...} to write the PEM
 * files described in {@link DevCertificates#writePem(Path)}.
 */
public final class CertificateGenerator {

  /** Default validity of generated certificates, counted from now. */
  public static final int DEFAULT_VALIDITY_DAYS = 30;
  /** Subject common name of the client certificate. */
  public static final String CLIENT_COMMON_NAME = "grpc-quic-client";
  /** Subject common name of the server certificate. */
  public static final String SERVER_COMMON_NAME = "grpc-quic-server";
  /** Subject alternative names every server certificate carries. */
  public static final List<String> DEFAULT_SERVER_NAMES = List.of("localhost", "127.0.0.1", "::1");

  private static final String SIGNATURE_ALGORITHM = "SHA256withECDSA";
  private static final Duration BACKDATE = Duration.ofHours(1);
  private static final SecureRandom RANDOM = new SecureRandom();

  private CertificateGenerator() {}

  /** CA, server and client certificates valid for {@value #DEFAULT_VALIDITY_DAYS} days. */
  public static DevCertificates generate() {
    return generate(DEFAULT_VALIDITY_DAYS);
  }

  /**
   * Like {@link #generate()}, with additional server names: each becomes an IP address SAN when it
   * is a literal IPv4 or IPv6 address and a DNS SAN otherwise (no name resolution happens).
   */
  public static DevCertificates generate(String... extraServerNames) {
    return generate(DEFAULT_VALIDITY_DAYS, extraServerNames);
  }

  /**
   * Certificates valid from one hour ago until {@code validityDays} days from now, with {@link
   * #DEFAULT_SERVER_NAMES} plus {@code extraServerNames} as server SANs.
   */
  public static DevCertificates generate(int validityDays, String... extraServerNames) {
    if (validityDays < 1) {
      throw new IllegalArgumentException("validityDays must be at least 1: " + validityDays);
    }
    GeneralNames serverNames = serverNames(extraServerNames);
    Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    Date notBefore = Date.from(now.minus(BACKDATE));
    Date notAfter = Date.from(now.plus(Duration.ofDays(validityDays)));
    try {
      JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();

      KeyPair caKeys = newKeyPair();
      // A random suffix keeps CAs from different runs apart by name, not only by key.
      X500Principal caName = new X500Principal(
          "CN=grpc-quic development CA " + HexFormat.of().formatHex(randomBytes(4))
              + ", O=grpc-quic");
      X509v3CertificateBuilder ca = new JcaX509v3CertificateBuilder(
          caName, serial(), notBefore, notAfter, caName, caKeys.getPublic());
      ca.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      ca.addExtension(Extension.keyUsage, true,
          new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      ca.addExtension(Extension.subjectKeyIdentifier, false,
          extensions.createSubjectKeyIdentifier(caKeys.getPublic()));
      ca.addExtension(Extension.authorityKeyIdentifier, false,
          extensions.createAuthorityKeyIdentifier(caKeys.getPublic()));
      X509Certificate caCertificate = sign(ca, caKeys.getPrivate());

      KeyPair serverKeys = newKeyPair();
      X509v3CertificateBuilder server = leaf(extensions, caCertificate,
          new X500Principal("CN=" + SERVER_COMMON_NAME + ", O=grpc-quic"), serverKeys.getPublic(),
          notBefore, notAfter, KeyPurposeId.id_kp_serverAuth);
      server.addExtension(Extension.subjectAlternativeName, false, serverNames);
      X509Certificate serverCertificate = sign(server, caKeys.getPrivate());

      KeyPair clientKeys = newKeyPair();
      X509v3CertificateBuilder client = leaf(extensions, caCertificate,
          new X500Principal("CN=" + CLIENT_COMMON_NAME + ", O=grpc-quic"), clientKeys.getPublic(),
          notBefore, notAfter, KeyPurposeId.id_kp_clientAuth);
      X509Certificate clientCertificate = sign(client, caKeys.getPrivate());

      return new DevCertificates(caCertificate, caKeys.getPrivate(),
          serverCertificate, serverKeys.getPrivate(),
          clientCertificate, clientKeys.getPrivate());
    } catch (GeneralSecurityException | OperatorCreationException | CertIOException e) {
      throw new IllegalStateException("cannot generate development certificates", e);
    }
  }

  private static X509v3CertificateBuilder leaf(JcaX509ExtensionUtils extensions,
      X509Certificate issuer, X500Principal subject, PublicKey subjectKey, Date notBefore,
      Date notAfter, KeyPurposeId purpose) throws GeneralSecurityException, CertIOException {
    X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
        issuer, serial(), notBefore, notAfter, subject, subjectKey);
    builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
    builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
    builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose));
    builder.addExtension(Extension.subjectKeyIdentifier, false,
        extensions.createSubjectKeyIdentifier(subjectKey));
    builder.addExtension(Extension.authorityKeyIdentifier, false,
        extensions.createAuthorityKeyIdentifier(issuer.getPublicKey()));
    return builder;
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey issuerKey)
      throws OperatorCreationException, GeneralSecurityException {
    ContentSigner signer = new JcaContentSignerBuilder(SIGNATURE_ALGORITHM)
        .setSecureRandom(RANDOM).build(issuerKey);
    return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
  }

  private static GeneralNames serverNames(String... extraServerNames) {
    Set<String> names = new LinkedHashSet<>(DEFAULT_SERVER_NAMES);
    for (String name : extraServerNames) {
      if (name == null || name.isBlank()) {
        throw new IllegalArgumentException("server name must not be blank");
      }
      names.add(name.strip());
    }
    List<GeneralName> result = new ArrayList<>();
    for (String name : names) {
      String bare = name.startsWith("[") && name.endsWith("]")
          ? name.substring(1, name.length() - 1) : name;
      if (IPAddress.isValid(bare)) {
        result.add(new GeneralName(GeneralName.iPAddress, bare));
      } else if (isDnsName(name)) {
        result.add(new GeneralName(GeneralName.dNSName, name.toLowerCase(Locale.ROOT)));
      } else {
        throw new IllegalArgumentException("not a DNS name or IP address: " + name);
      }
    }
    return new GeneralNames(result.toArray(GeneralName[]::new));
  }

  /** Letters, digits, '-', '.', and a leading "*." wildcard label; ASCII only. */
  private static boolean isDnsName(String name) {
    String rest = name.startsWith("*.") ? name.substring(2) : name;
    if (rest.isEmpty() || rest.length() > 253) {
      return false;
    }
    for (String label : rest.split("\\.", -1)) {
      if (label.isEmpty() || label.length() > 63
          || label.startsWith("-") || label.endsWith("-")) {
        return false;
      }
      for (int i = 0; i < label.length(); i++) {
        char c = label.charAt(i);
        boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || c == '-';
        if (!ok) {
          return false;
        }
      }
    }
    return true;
  }

  private static KeyPair newKeyPair() throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
    return generator.generateKeyPair();
  }

  /** A positive random serial number of at most 20 octets, as RFC 5280 requires. */
  private static BigInteger serial() {
    return new BigInteger(1, randomBytes(16)).setBit(127);
  }

  private static byte[] randomBytes(int count) {
    byte[] bytes = new byte[count];
    RANDOM.nextBytes(bytes);
    return bytes;
  }

  /**
   * Command line: {@code <output-dir> [--days N] [--san name]...}. Writes the files of {@link
   * DevCertificates#writePem(Path)} and lists them.
   */
  public static void main(String[] args) {
    int status = run(args, System.out, System.err);
    if (status != 0) {
      System.exit(status);
    }
  }

  /** The command line, returning its exit status instead of exiting. */
  static int run(String[] args, PrintStream out, PrintStream err) {
    Path dir = null;
    int days = DEFAULT_VALIDITY_DAYS;
    List<String> sans = new ArrayList<>();
    try {
      for (int i = 0; i < args.length; i++) {
        String arg = args[i];
        switch (arg) {
          case "-h", "--help" -> {
            out.println(usage());
            return 0;
          }
          case "--days" -> {
            days = Integer.parseInt(value(args, ++i, arg));
            if (days < 1) {
              throw new IllegalArgumentException("--days must be at least 1");
            }
          }
          case "--san" -> sans.add(value(args, ++i, arg));
          default -> {
            if (arg.startsWith("-")) {
              throw new IllegalArgumentException("unknown option " + arg);
            }
            if (dir != null) {
              throw new IllegalArgumentException("more than one output directory given");
            }
            dir = Path.of(arg);
          }
        }
      }
      if (dir == null) {
        throw new IllegalArgumentException("no output directory given");
      }
    } catch (IllegalArgumentException e) { // includes NumberFormatException
      err.println("error: " + e.getMessage());
      err.println(usage());
      return 2;
    }
    DevCertificates certificates;
    try {
      certificates = generate(days, sans.toArray(String[]::new));
    } catch (IllegalArgumentException e) {
      err.println("error: " + e.getMessage());
      return 2;
    }
    List<Path> written;
    try {
      written = certificates.writePem(dir);
    } catch (UncheckedIOException e) {
      IOException cause = e.getCause();
      err.println("error: " + e.getMessage() + ": " + cause);
      return 1;
    }
    out.println("Wrote development certificates (valid " + days + " days, until "
        + certificates.serverCertificate().getNotAfter().toInstant() + "):");
    for (Path file : written) {
      out.println("  " + file.toAbsolutePath());
    }
    List<String> names = new ArrayList<>(DEFAULT_SERVER_NAMES);
    names.addAll(sans);
    out.println("Server names: " + String.join(", ", names));
    out.println("For development and tests only; keep the .key files private.");
    return 0;
  }

  private static String value(String[] args, int index, String option) {
    if (index >= args.length) {
      throw new IllegalArgumentException(option + " needs a value");
    }
    return args[index];
  }

  private static String usage() {
    return "usage: CertificateGenerator <output-dir> [--days N] [--san name]...\n"
        + "  writes ca.pem, server.pem, server.key, client.pem, client.key into <output-dir>\n"
        + "  --days N     validity in days from now (default " + DEFAULT_VALIDITY_DAYS + ")\n"
        + "  --san name   extra server DNS name or IP address (repeatable)";
  }
}
