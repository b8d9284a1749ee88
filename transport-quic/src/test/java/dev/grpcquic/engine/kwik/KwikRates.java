package dev.grpcquic.engine.kwik;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.logging.Logger;

/** Appends measured numbers to target/kwik-engine-measurements.txt (and the JUL log). */
final class KwikRates {
  private static final Logger LOG = Logger.getLogger(KwikRates.class.getName());

  private KwikRates() {}

  static synchronized void record(String what, List<Double> values) {
    String line = what + ": " + values.stream().map(v -> String.format("%.1f", v)).toList()
        + " (nudges so far " + SendStallGuard.NUDGES.get() + ")\n";
    LOG.info(line.trim());
    try {
      Files.writeString(Path.of("target", "kwik-engine-measurements.txt"), line,
          StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      LOG.warning("could not write measurements: " + e);
    }
  }
}
