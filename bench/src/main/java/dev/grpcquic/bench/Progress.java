package dev.grpcquic.bench;

/** Progress lines on stderr, prefixed with the seconds since the run started. */
final class Progress {
  private static final long START = System.nanoTime();

  private Progress() {}

  static void log(String format, Object... args) {
    double seconds = (System.nanoTime() - START) / 1e9;
    System.err.printf("[bench %6.1fs] %s%n", seconds, String.format(format, args));
    System.err.flush();
  }
}
