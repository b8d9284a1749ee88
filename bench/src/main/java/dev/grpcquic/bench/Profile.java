package dev.grpcquic.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A path for {@link LinkEmulator}: the same in both directions. {@code rttMs} is the round trip
 * of a small packet on an idle path (each direction gets half as one-way delay), {@code mbit} the
 * rate of each direction in Mbit/s of IP packets (0 = unlimited), {@code lossPct} the average
 * share of packets lost per direction.
 *
 * @param queueBytes the bottleneck queue per direction (tail drop); 0 = one bandwidth-delay
 *     product, at least {@link #MIN_QUEUE_BYTES}
 * @param meanBurstPackets 0 = independent (Bernoulli) losses; above 1 = Gilbert-Elliott losses
 *     in bursts of this mean length at the same average rate
 * @param reorderPct share of packets held back by {@code reorderMs} so that later ones overtake them
 * @param seed the relay's random seed: the same seed loses the same packets of the same flow
 */
public record Profile(String name, double rttMs, double mbit, double lossPct, long queueBytes,
    double meanBurstPackets, double reorderPct, double reorderMs, long seed) {

  public static final long MIN_QUEUE_BYTES = 64 * 1024;

  /** No emulator: both ends on 127.0.0.1 in one JVM. */
  public static final Profile LOOPBACK = new Profile("loopback", 0, 0, 0);
  public static final Profile LAN = new Profile("lan", 0.3, 940, 0);
  public static final Profile G4 = new Profile("4g", 85, 12, 0);
  public static final Profile G4_LOSS_1 = new Profile("4g-1", 85, 12, 1);
  public static final Profile G4_LOSS_5 = new Profile("4g-5", 85, 12, 5);

  public static final List<Profile> STANDARD = List.of(LOOPBACK, LAN, G4, G4_LOSS_1, G4_LOSS_5);
  /** 4G with 1 % loss that comes in bursts of 4 packets on average (Gilbert-Elliott). */
  public static final Profile G4_BURST = new Profile("4g-burst", 85, 12, 1).withBurstLoss(4);
  /** 4G without loss where 2 % of the packets arrive 10 ms late, behind later ones. */
  public static final Profile G4_REORDER = new Profile("4g-reorder", 85, 12, 0).withReordering(2, 10);
  /** Named on request only, not part of {@code all}. */
  public static final List<Profile> EXTRA = List.of(G4_BURST, G4_REORDER);

  public Profile {
    if (rttMs < 0 || mbit < 0 || lossPct < 0 || lossPct >= 100 || reorderPct < 0
        || reorderPct > 100 || queueBytes < 0) {
      throw new IllegalArgumentException("bad profile " + name);
    }
  }

  /** Independent losses, the default queue, no reordering, seed 1. */
  public Profile(String name, double rttMs, double mbit, double lossPct) {
    this(name, rttMs, mbit, lossPct, 0, 0, 0, 0, 1);
  }

  public Profile withQueueBytes(long bytes) {
    return new Profile(name, rttMs, mbit, lossPct, bytes, meanBurstPackets, reorderPct, reorderMs, seed);
  }

  public Profile withBurstLoss(double meanBurst) {
    return new Profile(name, rttMs, mbit, lossPct, queueBytes, meanBurst, reorderPct, reorderMs, seed);
  }

  public Profile withReordering(double pct, double extraDelayMs) {
    return new Profile(name, rttMs, mbit, lossPct, queueBytes, meanBurstPackets, pct, extraDelayMs, seed);
  }

  public Profile withSeed(long newSeed) {
    return new Profile(name, rttMs, mbit, lossPct, queueBytes, meanBurstPackets, reorderPct, reorderMs, newSeed);
  }

  /** The same path without loss and reordering (the emulator calibrates its delay on it). */
  Profile withLossFree() {
    return new Profile(name, rttMs, mbit, 0, queueBytes, 0, 0, 0, seed);
  }

  /** False for loopback: nothing between the two ends. */
  public boolean emulated() {
    return rttMs > 0 || mbit > 0 || lossPct > 0 || reorderPct > 0;
  }

  /** A slow path: the runner does fewer round trips and smaller transfers there. */
  public boolean slow() {
    return rttMs >= 20 || (mbit > 0 && mbit < 100);
  }

  /** The queue in bytes: as given, or one bandwidth-delay product and at least 64 KiB. */
  public long effectiveQueueBytes() {
    if (queueBytes > 0) {
      return queueBytes;
    }
    long bdp = (long) (mbit * 1e6 / 8 * rttMs / 1e3);
    return Math.max(MIN_QUEUE_BYTES, bdp);
  }

  /** Relay settings of one direction apart from the delay, as "key=value" words. */
  String relaySettings() {
    List<String> kv = new ArrayList<>();
    kv.add("rate_bps=" + (long) (mbit * 1e6));
    kv.add("queue_bytes=" + (mbit > 0 ? effectiveQueueBytes() : Long.MAX_VALUE / 4));
    double p = lossPct / 100;
    if (meanBurstPackets > 1 && p > 0) {
      // Gilbert-Elliott with every packet lost in the bad state and none in the good one: the
      // bad state lasts meanBurstPackets on average, and is entered often enough that the
      // stationary share of bad packets, the loss rate, is p.
      double r = 1 / meanBurstPackets;
      kv.add("loss=0");
      kv.add(String.format(Locale.ROOT, "ge_p=%.9f", r * p / (1 - p)));
      kv.add(String.format(Locale.ROOT, "ge_r=%.9f", r));
      kv.add("ge_h=1");
    } else {
      kv.add(String.format(Locale.ROOT, "loss=%.9f", p));
      kv.add("ge_p=0 ge_r=0 ge_h=0");
    }
    kv.add(String.format(Locale.ROOT, "reorder=%.9f", reorderPct / 100));
    kv.add("reorder_us=" + (long) (reorderMs * 1000));
    return String.join(" ", kv);
  }

  /** For a command line: a standard profile's name. */
  public static Profile named(String name) {
    for (Profile p : known()) {
      if (p.name.equalsIgnoreCase(name.trim())) {
        return p;
      }
    }
    throw new IllegalArgumentException("unknown profile " + name + "; known: "
        + known().stream().map(Profile::name).toList());
  }

  private static List<Profile> known() {
    List<Profile> all = new ArrayList<>(STANDARD);
    all.addAll(EXTRA);
    return all;
  }

  /** One line for reports: "85 ms RTT, 12 Mbit/s, 1 % loss, queue 127 KiB". */
  public String describe() {
    if (!emulated()) {
      return "loopback (127.0.0.1, no emulator)";
    }
    StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "%s ms RTT, %s, %s %% loss",
        trim(rttMs), mbit > 0 ? trim(mbit) + " Mbit/s" : "unlimited rate", trim(lossPct)));
    if (meanBurstPackets > 1) {
      s.append(String.format(Locale.ROOT, " in bursts of %s packets", trim(meanBurstPackets)));
    }
    if (mbit > 0) {
      s.append(String.format(Locale.ROOT, ", queue %d KiB", effectiveQueueBytes() / 1024));
    }
    if (reorderPct > 0) {
      s.append(String.format(Locale.ROOT, ", %s %% reordered by %s ms", trim(reorderPct), trim(reorderMs)));
    }
    return s.toString();
  }

  private static String trim(double v) {
    return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
  }
}
