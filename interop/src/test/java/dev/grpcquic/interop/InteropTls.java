package dev.grpcquic.interop;

import dev.grpcquic.certs.CertificateGenerator;
import dev.grpcquic.certs.DevCertificates;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Dev certificates for the interop tests: generated once per JVM and written as PEM into a
 * temporary directory deleted at exit. (Not the transport's test-jar TestTls: a test-jar dependency
 * would break {@code mvn -pl interop -am compile exec:java}, which resolves test scope.)
 */
public final class InteropTls {
  private static final class Holder {
    static final Path DIR = create();
  }

  private InteropTls() {}

  private static Path create() {
    try {
      Path dir = Files.createTempDirectory("grpc-quic-interop-tls");
      dir.toFile().deleteOnExit();
      for (Path file : CertificateGenerator.generate().writePem(dir)) {
        file.toFile().deleteOnExit();
      }
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The directory holding ca.pem, server.pem, server.key, client.pem and client.key. */
  public static Path dir() {
    return Holder.DIR;
  }

  public static File caPem() {
    return dir().resolve(DevCertificates.CA_PEM).toFile();
  }

  /** Server certificate (DNS:localhost) followed by the CA certificate. */
  public static File serverChainPem() {
    return dir().resolve(DevCertificates.SERVER_PEM).toFile();
  }

  public static File serverKeyPem() {
    return dir().resolve(DevCertificates.SERVER_KEY).toFile();
  }
}
