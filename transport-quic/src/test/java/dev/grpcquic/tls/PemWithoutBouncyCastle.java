package dev.grpcquic.tls;

import java.nio.file.Path;

/**
 * Child JVM for {@link PemFilesTest}: reads a certificate chain, a PKCS#8 key and a CA file with a
 * class path that lacks BouncyCastle, and prints OK.
 */
public final class PemWithoutBouncyCastle {
  private PemWithoutBouncyCastle() {}

  public static void main(String[] args) throws Exception {
    PemFiles.keyStore(Path.of(args[0]), Path.of(args[1]), "key", new char[0]);
    PemFiles.trustManager(Path.of(args[2]));
    System.out.println("OK");
  }
}
