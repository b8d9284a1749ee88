package dev.grpcquic.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A network path with delay, loss and a rate limit between this process (the client side, in the
 * root network namespace) and a network namespace for servers. A relay ({@code linkemu.c},
 * compiled with gcc on first use) owns one TUN device on each side and forwards every IP packet
 * between them, so TCP and UDP see the same path. Needs root, /dev/net/tun, ip and gcc.
 *
 * <pre>{@code
 * try (LinkEmulator link = LinkEmulator.start(new Profile("hol-1", 50, 100, 1))) {
 *   Process server = link.startInServerNamespace(List.of("java", "-cp", jar, "Main"));
 *   // dial link.serverAddress() from this process
 * }
 * }</pre>
 *
 * <p>Up to {@value #SLOTS} emulators may run at once on a machine; each takes a slot with a file
 * lock, and removes whatever a crashed run left in that slot (namespace, relay) before using it.
 */
public final class LinkEmulator implements AutoCloseable {
  static final int SLOTS = 16;
  private static final Path STATE_DIR = Paths.get("/run/grpc-quic-linkemu");
  private static final int PROBE_PORT = 9000;
  private static final double MAX_CORRECTION_US = 100;

  private final int slot;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private final String namespace;
  private final Path binary;
  private final InetAddress clientAddress;
  private final InetAddress serverAddress;
  private final List<Process> children = new ArrayList<>();
  private final Thread shutdownHook;
  private Process relay;
  private OutputStream relayCommands;
  private final BlockingQueue<String> relayLines = new LinkedBlockingQueue<>();
  private Process probeServer;
  private Profile profile;
  private double oneWayDelayUs;
  private boolean closed;

  private LinkEmulator(int slot, FileChannel lockChannel, FileLock lock, Path binary)
      throws IOException {
    this.slot = slot;
    this.lockChannel = lockChannel;
    this.lock = lock;
    this.binary = binary;
    this.namespace = "gqemu-" + slot;
    this.clientAddress = InetAddress.getByName("198.18." + slot + ".1");
    this.serverAddress = InetAddress.getByName("198.18." + slot + ".2");
    this.shutdownHook = new Thread(this::closeQuietly, "link-emulator-cleanup");
  }

  /** Why the emulator cannot run here, or null when it can. */
  public static String unavailableReason() {
    if (!System.getProperty("os.name", "").toLowerCase().contains("linux")) {
      return "not Linux";
    }
    try {
      for (String line : Files.readAllLines(Paths.get("/proc/self/status"))) {
        if (line.startsWith("Uid:") && !line.split("\\s+")[2].equals("0")) {
          return "not root (network namespaces and TUN devices need root)";
        }
      }
    } catch (IOException e) {
      return "cannot read /proc/self/status: " + e;
    }
    if (!Files.isWritable(Paths.get("/dev/net/tun"))) {
      return "no /dev/net/tun";
    }
    for (String tool : List.of("ip", "gcc")) {
      if (!onPath(tool)) {
        return "no " + tool + " on PATH";
      }
    }
    return null;
  }

  /** Sets up the namespace, the devices and the relay, and applies {@code profile}. */
  public static LinkEmulator start(Profile profile) throws IOException {
    String reason = unavailableReason();
    if (reason != null) {
      throw new IOException("link emulator unavailable: " + reason);
    }
    Path binary = compile();
    Files.createDirectories(STATE_DIR);
    for (int slot = 0; slot < SLOTS; slot++) {
      FileChannel channel = FileChannel.open(STATE_DIR.resolve("slot-" + slot + ".lock"),
          StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      FileLock lock = channel.tryLock();
      if (lock == null) {
        channel.close();
        continue;
      }
      LinkEmulator emulator = new LinkEmulator(slot, channel, lock, binary);
      Runtime.getRuntime().addShutdownHook(emulator.shutdownHook);
      try {
        emulator.setUp();
        emulator.apply(profile);
        return emulator;
      } catch (IOException | RuntimeException e) {
        emulator.close();
        throw e;
      }
    }
    throw new IOException("all " + SLOTS + " emulator slots are in use");
  }

  public InetAddress serverAddress() {
    return serverAddress;
  }

  public InetAddress clientAddress() {
    return clientAddress;
  }

  /** The server side's network namespace, for {@code ip netns exec}. */
  public String namespace() {
    return namespace;
  }

  public Profile profile() {
    return profile;
  }

  /** The one-way delay the relay applies per direction after calibration, in microseconds. */
  public double oneWayDelayMicros() {
    return oneWayDelayUs;
  }

  /**
   * Starts {@code command} in the server namespace. The process is destroyed on {@link #close()}
   * at the latest; its stderr goes to this process's stderr.
   */
  public Process startInServerNamespace(List<String> command) throws IOException {
    List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
    full.addAll(command);
    Process p = new ProcessBuilder(full).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    synchronized (children) {
      children.add(p);
    }
    return p;
  }

  /**
   * Switches the path to {@code next}. The relay's own latency (a few tens of microseconds per
   * round trip: two TUN crossings and two wake-ups) is measured with small pings and taken off
   * the configured delay, so that the idle round trip matches the profile. The smallest of the
   * pings is used and the correction is at most {@value #MAX_CORRECTION_US} µs per direction:
   * traffic still queued from an earlier flow must not shorten the delay.
   */
  public void apply(Profile next) throws IOException {
    if (!next.emulated()) {
      throw new IllegalArgumentException("profile " + next.name() + " needs no emulator");
    }
    awaitQuiet();
    double targetUs = next.rttMs() * 1000 / 2;
    // Calibrate without loss, so that no ping is lost.
    relay("set both delay_us=" + (long) targetUs + " " + next.withLossFree().relaySettings());
    ProbeResult idle = probe(next.rttMs(), 30, 0, 0);
    double excessUs = Math.max(0, idle.rttMinUs() - next.rttMs() * 1000);
    oneWayDelayUs = Math.max(0, targetUs - Math.min(MAX_CORRECTION_US, excessUs / 2));
    relay("set both delay_us=" + (long) oneWayDelayUs + " " + next.relaySettings());
    profile = next;
    reseed();
  }

  /**
   * Waits until no packet has entered the relay for three round trips (at least 0.5 s), at most
   * 60 s: what an earlier flow left (a cancelled transfer's queue, a closed TCP connection's
   * retransmissions) would otherwise share the path with the next one.
   */
  public void awaitQuiet() throws IOException {
    long quietNanos = (long) Math.max(500e6, 3 * (profile == null ? 0 : profile.rttMs()) * 1e6);
    long start = System.nanoTime();
    long since = start;
    String last = arrivals();
    while (System.nanoTime() - start < 60_000_000_000L) {
      try {
        Thread.sleep(100); // polling the relay's counters
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException(e);
      }
      String now = arrivals();
      if (!now.equals(last)) {
        last = now;
        since = System.nanoTime();
      } else if (System.nanoTime() - since >= quietNanos) {
        return;
      }
    }
    Progress.log("link emulator: path still busy after 60 s; going on");
  }

  /** The relay's arrival counters and queue lengths: they stay put on a quiet path. */
  private String arrivals() throws IOException {
    StringBuilder s = new StringBuilder();
    for (String word : stats().split(" ")) {
      if (word.contains("_in=") || word.contains("_queued=")) {
        s.append(word).append(' ');
      }
    }
    return s.toString();
  }

  /**
   * Restarts the random sequence of losses and reordering: the next flow meets the same pattern
   * as the previous one did after its reseed. The runner reseeds before each transport.
   */
  public void reseed() throws IOException {
    relay("set ab seed=" + (2 * profile.seed()));
    relay("set ba seed=" + (2 * profile.seed() + 1));
  }

  /**
   * Measures the path: the median round trip of 50 small UDP pings on the idle link, and the
   * receive rate of a 2 s UDP blast at 1.1 times the profile's rate (at 1.2 Gbit/s when unlimited).
   * Passes when both are within 10 % of the profile (the rate net of the profile's loss).
   */
  public LinkCheck check() throws IOException {
    awaitQuiet();
    double blastBps = profile.mbit() > 0 ? profile.mbit() * 1e6 * 1.1 : 1.2e9;
    ProbeResult r = probe(profile.rttMs(), 50, blastBps, 2);
    reseed();
    return new LinkCheck(profile, r.rttMedianUs() / 1000, r.rttMinUs() / 1000, r.pingsLost(),
        r.receivedBps() / 1e6, r.blastLossPct(), oneWayDelayUs, stats());
  }

  /** The relay's counters per direction (ab = client to server), as one "key=value" line. */
  public String stats() throws IOException {
    return relay("stats");
  }

  private record ProbeResult(double rttMedianUs, double rttMinUs, int pingsLost,
      double receivedBps, double blastLossPct) {}

  private ProbeResult probe(double rttMs, int pings, double blastBps, double seconds)
      throws IOException {
    long timeoutMs = Math.max(200, (long) (rttMs * 4) + 100);
    Process p = new ProcessBuilder(binary.toString(), "probe-client", serverAddress.getHostAddress(),
        String.valueOf(PROBE_PORT), String.valueOf(pings), String.valueOf(timeoutMs),
        String.valueOf((long) blastBps), String.valueOf(seconds))
        .redirectErrorStream(true).start();
    String out;
    try {
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException("probe did not finish in 60 s");
      }
      out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
      throw new IOException(e);
    }
    double median = Double.NaN;
    double min = Double.NaN;
    int lost = 0;
    double bps = Double.NaN;
    double blastLoss = Double.NaN;
    for (String line : out.split("\n")) {
      if (line.startsWith("rtt ")) {
        median = number(line, "median_us", Double.NaN);
        min = number(line, "min_us", Double.NaN);
        lost = (int) number(line, "lost", 0);
      } else if (line.startsWith("rate ")) {
        bps = number(line, "bps", Double.NaN);
        double sent = number(line, "sent", Double.NaN);
        blastLoss = 100 * (1 - number(line, "received", Double.NaN) / sent);
      }
    }
    if (Double.isNaN(median) || (blastBps > 0 && Double.isNaN(bps))) {
      throw new IOException("probe failed: " + out.trim());
    }
    return new ProbeResult(median, min, lost, bps, blastLoss);
  }

  private static double number(String line, String key, double otherwise) {
    for (String word : line.split(" ")) {
      if (word.startsWith(key + "=")) {
        return Double.parseDouble(word.substring(key.length() + 1));
      }
    }
    return otherwise;
  }

  private void setUp() throws IOException {
    removeStale();
    Files.writeString(STATE_DIR.resolve("slot-" + slot + ".owner"),
        String.valueOf(ProcessHandle.current().pid()));
    run("ip", "netns", "add", namespace);
    run("ip", "-n", namespace, "link", "set", "lo", "up");
    String clientTun = "gqemu" + slot + "c";
    String serverTun = "gqemu" + slot + "s";
    relay = new ProcessBuilder(binary.toString(), "relay", clientTun, "-", serverTun,
        "/var/run/netns/" + namespace).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    Files.writeString(STATE_DIR.resolve("slot-" + slot + ".relay"), String.valueOf(relay.pid()));
    relayCommands = relay.getOutputStream();
    Thread reader = new Thread(() -> readLines(relay.getInputStream()), "link-emulator-relay-out");
    reader.setDaemon(true);
    reader.start();
    expect("ready");
    // Point-to-point /32 addresses: each side routes exactly the other's address into its TUN.
    run("ip", "link", "set", clientTun, "up", "mtu", "1500", "txqueuelen", "1000");
    run("ip", "addr", "add", clientAddress.getHostAddress(), "peer",
        serverAddress.getHostAddress(), "dev", clientTun);
    run("ip", "-n", namespace, "link", "set", serverTun, "up", "mtu", "1500", "txqueuelen", "1000");
    run("ip", "-n", namespace, "addr", "add", serverAddress.getHostAddress(), "peer",
        clientAddress.getHostAddress(), "dev", serverTun);
    probeServer = startInServerNamespace(List.of(binary.toString(), "probe-server",
        String.valueOf(PROBE_PORT)));
    String ready = new BufferedReader(new InputStreamReader(probeServer.getInputStream(),
        StandardCharsets.UTF_8)).readLine();
    if (!"ready".equals(ready)) {
      throw new IOException("probe server did not start: " + ready);
    }
  }

  /** Whether another process's emulator holds the slot of {@code namespace} now (for tests). */
  static boolean slotHeldElsewhere(String namespace) throws IOException {
    int slot = Integer.parseInt(namespace.substring("gqemu-".length()));
    try (FileChannel channel = FileChannel.open(STATE_DIR.resolve("slot-" + slot + ".lock"),
        StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      FileLock lock = channel.tryLock();
      if (lock == null) {
        return true;
      }
      lock.release();
      return false;
    } catch (java.nio.channels.OverlappingFileLockException e) {
      return false; // held in this JVM: not elsewhere
    }
  }

  /** What a crashed run left in this slot: the relay (if still alive) and the namespace. */
  private void removeStale() throws IOException {
    Path relayPid = STATE_DIR.resolve("slot-" + slot + ".relay");
    if (Files.exists(relayPid)) {
      try {
        long pid = Long.parseLong(Files.readString(relayPid).trim());
        ProcessHandle.of(pid).ifPresent(h -> {
          if (h.info().command().map(c -> c.endsWith("linkemu")).orElse(false)) {
            h.destroyForcibly();
          }
        });
      } catch (NumberFormatException e) {
        // unreadable: nothing to kill
      }
      Files.deleteIfExists(relayPid);
    }
    if (Files.exists(Paths.get("/var/run/netns", namespace))) {
      Progress.log("link emulator: removing namespace %s left by an earlier run", namespace);
      // Processes still inside would keep it alive; a crashed runner's server JVM is one.
      runQuietly("ip", "netns", "pids", namespace).lines().forEach(pid ->
          ProcessHandle.of(Long.parseLong(pid.trim())).ifPresent(ProcessHandle::destroyForcibly));
      runQuietly("ip", "netns", "del", namespace);
    }
  }

  private void readLines(InputStream in) {
    try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        relayLines.add(line);
      }
    } catch (IOException e) {
      // relay gone
    }
    relayLines.add("eof");
  }

  private synchronized String relay(String command) throws IOException {
    relayCommands.write((command + "\n").getBytes(StandardCharsets.UTF_8));
    relayCommands.flush();
    return expect(command.startsWith("stats") ? "stats" : "ok");
  }

  private String expect(String prefix) throws IOException {
    try {
      String line = relayLines.poll(10, TimeUnit.SECONDS);
      if (line == null || !line.startsWith(prefix)) {
        throw new IOException("relay answered " + line + ", expected " + prefix);
      }
      return line;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }

  /** Removes the relay (its TUN devices go with it), every process started here, the namespace. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    synchronized (children) {
      for (Process p : children) {
        p.destroy();
      }
      for (Process p : children) {
        try {
          if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
          }
        } catch (InterruptedException e) {
          p.destroyForcibly();
          Thread.currentThread().interrupt();
        }
      }
    }
    if (relay != null) {
      try {
        relayCommands.close(); // EOF: the relay exits
        if (!relay.waitFor(5, TimeUnit.SECONDS)) {
          relay.destroyForcibly();
        }
      } catch (IOException | InterruptedException e) {
        relay.destroyForcibly();
      }
    }
    runQuietly("ip", "netns", "del", namespace);
    try {
      Files.deleteIfExists(STATE_DIR.resolve("slot-" + slot + ".relay"));
      Files.deleteIfExists(STATE_DIR.resolve("slot-" + slot + ".owner"));
      lock.release();
      lockChannel.close();
    } catch (IOException e) {
      // the lock goes with the process anyway
    }
    if (Thread.currentThread() != shutdownHook) {
      try {
        Runtime.getRuntime().removeShutdownHook(shutdownHook);
      } catch (IllegalStateException e) {
        // already shutting down
      }
    }
  }

  private void closeQuietly() {
    close();
  }

  /** Compiles linkemu.c (a resource of this jar) into a directory next to the jar. */
  static Path compile() throws IOException {
    Path dir;
    try {
      Path code = Paths.get(LinkEmulator.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      dir = code.getParent().resolve("linkemu");
    } catch (Exception e) {
      dir = Paths.get(System.getProperty("java.io.tmpdir"), "grpc-quic-linkemu");
    }
    Files.createDirectories(dir);
    Path source = dir.resolve("linkemu.c");
    try (InputStream in = LinkEmulator.class.getResourceAsStream("/linkemu/linkemu.c")) {
      if (in == null) {
        throw new IOException("linkemu.c is missing from the classpath");
      }
      Files.copy(in, source, StandardCopyOption.REPLACE_EXISTING);
    }
    Path binary = dir.resolve("linkemu");
    Path building = dir.resolve("linkemu." + ProcessHandle.current().pid());
    run("gcc", "-O2", "-Wall", "-o", building.toString(), source.toString());
    Files.move(building, binary, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    return binary;
  }

  private static String run(String... command) throws IOException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    try {
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IOException(String.join(" ", command) + " failed: " + out.trim());
      }
      return out;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
      throw new IOException(e);
    }
  }

  private static String runQuietly(String... command) {
    try {
      return run(command);
    } catch (IOException e) {
      return "";
    }
  }

  private static boolean onPath(String tool) {
    String path = System.getenv("PATH");
    for (String dir : (path == null ? "/usr/sbin:/usr/bin:/sbin:/bin" : path + ":/usr/sbin:/sbin").split(":")) {
      if (Files.isExecutable(Paths.get(dir, tool))) {
        return true;
      }
    }
    return false;
  }
}
