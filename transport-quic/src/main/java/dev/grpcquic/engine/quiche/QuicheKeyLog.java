package dev.grpcquic.engine.quiche;

import dev.grpcquic.tls.SecretFiles;
import io.netty.handler.codec.quic.BoringSSLKeylog;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.net.ssl.SSLEngine;

/**
 * Appends BoringSSL's secrets to a file in NSS key log format (Wireshark's "(Pre)-Master-Secret
 * log"). BoringSSL hands over finished lines; one writer per file keeps them whole.
 */
final class QuicheKeyLog implements BoringSSLKeylog {
  private static final Logger LOG = Logger.getLogger(QuicheKeyLog.class.getName());
  private final Path file;

  QuicheKeyLog(Path file) {
    this.file = file;
  }

  @Override
  public void logKey(SSLEngine engine, String line) {
    synchronized (QuicheKeyLog.class) {
      try {
        SecretFiles.createIfAbsent(file); // the secrets decrypt every connection
        Files.writeString(file, line + "\n", StandardCharsets.US_ASCII,
            StandardOpenOption.CREATE, StandardOpenOption.APPEND);
      } catch (IOException e) {
        LOG.log(Level.WARNING, "could not append to the TLS key log " + file, e);
      }
    }
  }
}
