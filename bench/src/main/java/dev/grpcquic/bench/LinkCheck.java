package dev.grpcquic.bench;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * What {@link LinkEmulator#check()} measured on one profile. The rate is what arrives of a UDP
 * blast above the link rate, so the expected figure is the link rate less the profile's loss.
 */
public record LinkCheck(Profile profile, double rttMs, double rttMinMs, int pingsLost,
    double rateMbit, double blastLossPct, double oneWayDelayUs, String relayStats) {

  static final double TOLERANCE = 0.10;

  public double expectedRateMbit() {
    return profile.mbit() * (1 - profile.lossPct() / 100);
  }

  public boolean rttOk() {
    return Math.abs(rttMs - profile.rttMs()) <= TOLERANCE * profile.rttMs();
  }

  /** Always true on an unlimited path: there is no rate to meet. */
  public boolean rateOk() {
    return profile.mbit() == 0
        || Math.abs(rateMbit - expectedRateMbit()) <= TOLERANCE * expectedRateMbit();
  }

  public boolean passed() {
    return rttOk() && rateOk();
  }

  Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("profile", profile.name());
    m.put("rttMsTarget", profile.rttMs());
    m.put("rttMsMedian", rttMs);
    m.put("rttMsMin", rttMinMs);
    m.put("pingsLost", pingsLost);
    m.put("rateMbitTarget", expectedRateMbit());
    m.put("rateMbitMeasured", rateMbit);
    m.put("blastLossPct", blastLossPct);
    m.put("relayOneWayDelayUs", oneWayDelayUs);
    m.put("rttOk", rttOk());
    m.put("rateOk", rateOk());
    m.put("passed", passed());
    return m;
  }

  @Override
  public String toString() {
    return String.format(Locale.ROOT,
        "%s: RTT %.3f ms (target %s, %s), rate %.1f Mbit/s (target %.1f, %s)%s",
        profile.name(), rttMs, profile.rttMs(), rttOk() ? "ok" : "MORE THAN 10 % OFF",
        rateMbit, expectedRateMbit(), rateOk() ? "ok" : "MORE THAN 10 % OFF",
        passed() ? "" : " -> CHECK FAILED");
  }
}
