package dev.grpcquic.engine.quiche;

import java.util.Locale;

/**
 * Whether the quiche engine can run here: Netty's QUIC classes on the class path and its native
 * library (quiche and BoringSSL) loaded for this platform.
 */
public final class QuicheAvailability {
  private QuicheAvailability() {}

  /** Null when the engine can run; otherwise what is missing and what to add. */
  public static String unavailableReason() {
    try {
      if (io.netty.handler.codec.quic.Quic.isAvailable()) {
        return null;
      }
      Throwable cause = io.netty.handler.codec.quic.Quic.unavailabilityCause();
      return "the quiche engine's native library did not load on " + platform() + " ("
          + (cause == null ? "unknown cause" : cause) + "): add"
          + " io.netty:netty-codec-native-quic:4.2.18.Final with classifier " + classifier()
          + " to the application's dependencies, or use QuicEngines.kwik()";
    } catch (NoClassDefFoundError e) {
      return "the quiche engine needs Netty's QUIC codec on the class path: add"
          + " io.netty:netty-codec-classes-quic and io.netty:netty-codec-native-quic (classifier "
          + classifier() + "), version 4.2.18.Final, or use QuicEngines.kwik()";
    }
  }

  static String platform() {
    return System.getProperty("os.name") + " " + System.getProperty("os.arch");
  }

  /** The Maven classifier of netty-codec-native-quic for this platform. */
  static String classifier() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    String osPart = os.contains("mac") ? "osx" : os.contains("win") ? "windows" : "linux";
    String archPart = arch.equals("aarch64") || arch.equals("arm64") ? "aarch_64" : "x86_64";
    return osPart + "-" + archPart;
  }
}
