package dev.grpcquic.interop.peer;

import dev.grpcquic.certs.CertificateGenerator;
import dev.grpcquic.certs.DevCertificates;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Dev certificates written once per JVM to a temporary directory (deleted on exit). */
final class PeerCerts {
  private static Path dir;

  private PeerCerts() {}

  static synchronized Path dir() {
    if (dir == null) {
      try {
        Path d = Files.createTempDirectory("grpc-quic-peer");
        // Deleted in reverse order of registration: the directory last.
        d.toFile().deleteOnExit();
        DevCertificates certificates = CertificateGenerator.generate();
        certificates.writePem(d);
        for (String name : new String[] {DevCertificates.CA_PEM, DevCertificates.SERVER_PEM,
            DevCertificates.SERVER_KEY, DevCertificates.CLIENT_PEM, DevCertificates.CLIENT_KEY}) {
          d.resolve(name).toFile().deleteOnExit();
        }
        dir = d;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }
    return dir;
  }

  static File ca() {
    return dir().resolve(DevCertificates.CA_PEM).toFile();
  }

  static File serverChain() {
    return dir().resolve(DevCertificates.SERVER_PEM).toFile();
  }

  static File clientChain() {
    return dir().resolve(DevCertificates.CLIENT_PEM).toFile();
  }

  static File clientKey() {
    return dir().resolve(DevCertificates.CLIENT_KEY).toFile();
  }

  static File serverKey() {
    return dir().resolve(DevCertificates.SERVER_KEY).toFile();
  }
}
