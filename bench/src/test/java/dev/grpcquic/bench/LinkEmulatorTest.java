package dev.grpcquic.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The link emulator on this machine: real namespaces, TUN devices, relay, and gRPC calls across.
 * The tests that need root, /dev/net/tun, ip and gcc are skipped where those are missing.
 */
class LinkEmulatorTest {

  @Test
  @Timeout(10)
  void burstLossKeepsTheAverageLossRate() {
    Map<String, Double> kv = settings(new Profile("bursty", 50, 10, 2).withBurstLoss(4));
    double p = kv.get("ge_p");
    double r = kv.get("ge_r");
    assertEquals(0.25, r, 1e-9);
    assertEquals(0.02, p / (p + r), 1e-6, "stationary share of the bad (all-lost) state");
    assertEquals(1.0, kv.get("ge_h"));
    assertEquals(0.0, kv.get("loss"));
    assertEquals(0.02, settings(new Profile("random", 50, 10, 2)).get("loss"), 1e-12);
  }

  @Test
  @Timeout(10)
  void defaultQueueIsOneBandwidthDelayProductAndAtLeast64KiB() {
    assertEquals(127_500, Profile.G4.effectiveQueueBytes());
    assertEquals(Profile.MIN_QUEUE_BYTES, Profile.LAN.effectiveQueueBytes());
    assertEquals(10_000, Profile.G4.withQueueBytes(10_000).effectiveQueueBytes());
    assertFalse(Profile.LOOPBACK.emulated());
    assertTrue(Profile.G4_LOSS_1.slow());
    assertFalse(Profile.LAN.slow());
  }

  @Test
  @Timeout(240)
  void pathMeetsItsProfileAndCarriesGrpcOverQuicAndTcp() throws Exception {
    assumeTrue(LinkEmulator.unavailableReason() == null, LinkEmulator.unavailableReason());
    Profile profile = new Profile("test-40ms", 40, 20, 0);
    String namespace;
    String device;
    try (TlsFiles tls = TlsFiles.create(); LinkEmulator link = LinkEmulator.start(profile)) {
      namespace = link.namespace();
      device = "gqemu" + namespace.substring("gqemu-".length()) + "c";
      assertTrue(Files.exists(Paths.get("/var/run/netns", namespace)));
      LinkCheck check = link.check();
      // What a test can hold on a loaded machine: the relay delays and limits (nothing crosses
      // faster than the profile) and carries traffic. Whether it reaches the full rate under
      // load is the benchmark's self-check (BenchRunner refuses a path that fails it).
      assertTrue(check.rttMinMs() >= 0.95 * profile.rttMs(), "delay applied: " + check);
      assertTrue(check.rateMbit() > 0, "carries traffic: " + check);
      assertTrue(check.rateMbit() <= (1 + LinkCheck.TOLERANCE) * check.expectedRateMbit(),
          "rate limited: " + check);

      Map<String, Integer> ports = BenchRunner.startServers(link, tls);
      String host = link.serverAddress().getHostAddress();
      for (Transport transport : new Transport[] {Transport.QUIC, Transport.NETTY_TLS}) {
        try (GrpcEndpoint endpoint = GrpcEndpoint.connect(transport, tls, host,
            ports.get(transport.name()), null)) {
          long t0 = System.nanoTime();
          GrpcBench.unary(endpoint.channel);
          double ms = (System.nanoTime() - t0) / 1e6;
          // A round trip cannot beat the path's delay: proof that the call crossed the relay.
          assertTrue(ms >= 0.95 * profile.rttMs(), transport + " call took " + ms + " ms");
        }
      }
    }
    assertFalse(Files.exists(Paths.get("/var/run/netns", namespace)), "namespace removed");
    assertFalse(ip("link", "show").contains(device + ":"), "TUN device removed");
  }

  @Test
  @Timeout(120)
  void namespaceLeftByACrashedRunIsRemovedAtStart() throws Exception {
    assumeTrue(LinkEmulator.unavailableReason() == null, LinkEmulator.unavailableReason());
    Profile profile = new Profile("test-stale", 2, 0, 0);
    String namespace;
    try (LinkEmulator first = LinkEmulator.start(profile)) {
      namespace = first.namespace();
    }
    // What a killed runner leaves: the namespace (its relay died with its stdin).
    ip("netns", "add", namespace);
    try (LinkEmulator second = LinkEmulator.start(profile)) {
      // A benchmark or suite running beside this one may take the slot in between (and clean it
      // itself); then there is nothing left here to test.
      boolean ours = namespace.equals(second.namespace());
      assumeTrue(ours || !LinkEmulator.slotHeldElsewhere(namespace),
          "slot " + namespace + " taken by a concurrent run");
      assertEquals(namespace, second.namespace(), "the lowest free slot again");
      // The path works and delays as set up (load can only add delay: the 10 % band of the full
      // check is for benchmark runs on a quiet machine).
      LinkCheck check = second.check();
      assertTrue(check.pingsLost() == 0 && check.rttMinMs() >= 0.9 * profile.rttMs(),
          check.toString());
    } finally {
      if (Files.exists(Paths.get("/var/run/netns", namespace))) {
        ip("netns", "del", namespace);
      }
    }
    assertFalse(Files.exists(Paths.get("/var/run/netns", namespace)));
  }

  private static Map<String, Double> settings(Profile p) {
    Map<String, Double> m = new HashMap<>();
    for (String kv : p.relaySettings().split(" ")) {
      String[] parts = kv.split("=");
      m.put(parts[0], Double.parseDouble(parts[1]));
    }
    return m;
  }

  private static String ip(String... args) throws Exception {
    String[] command = new String[args.length + 1];
    command[0] = "ip";
    System.arraycopy(args, 0, command, 1, args.length);
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    return out;
  }
}
