package dev.grpcquic.engine.quiche;

import java.nio.file.Path;

/**
 * What the quiche engine adds to the options every engine takes.
 *
 * @param congestionControl quiche's congestion controller: "cubic", "bbr" (quiche's BBRv2) or "reno"
 * @param qlogDirectory where each connection writes a qlog file (one per connection, named by its
 *     channel ID); null for none
 */
public record QuicheSettings(String congestionControl, Path qlogDirectory) {
  public static final QuicheSettings DEFAULT = new QuicheSettings("cubic", null);

  public QuicheSettings {
    if (!congestionControl.equals("cubic") && !congestionControl.equals("bbr")
        && !congestionControl.equals("reno")) {
      throw new IllegalArgumentException("congestion control must be cubic, bbr or reno, not "
          + congestionControl);
    }
  }
}
