package dev.grpcquic.bench;

import dev.grpcquic.certs.CertificateGenerator;
import dev.grpcquic.certs.DevCertificates;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** Development certificates (CA, server chain for DNS:localhost, EC P-256) in a temporary directory. */
final class TlsFiles implements AutoCloseable {
  final Path dir;
  final Path caPem;
  final Path serverChainPem;
  final Path serverKeyPem;

  private TlsFiles(Path dir) {
    this.dir = dir;
    this.caPem = dir.resolve(DevCertificates.CA_PEM);
    this.serverChainPem = dir.resolve(DevCertificates.SERVER_PEM);
    this.serverKeyPem = dir.resolve(DevCertificates.SERVER_KEY);
  }

  static TlsFiles create() throws IOException {
    Path dir = Files.createTempDirectory("grpc-quic-bench-certs");
    CertificateGenerator.generate().writePem(dir);
    return new TlsFiles(dir);
  }

  /** Files another process created in {@code dir}; the creator removes them. */
  static TlsFiles in(Path dir) {
    return new TlsFiles(dir);
  }

  @Override
  public void close() throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      for (Path file : (Iterable<Path>) files::iterator) {
        Files.deleteIfExists(file);
      }
    }
    Files.deleteIfExists(dir);
  }
}
