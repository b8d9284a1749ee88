package dev.grpcquic.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Benchmark of this project's QUIC transport against grpc-java Netty (TCP+TLS 1.3, and h2c as a
 * plaintext reference), plus the raw kwik and quiche engines, on loopback and on emulated paths
 * ({@link LinkEmulator}). One client JVM, one transport after the other; see bench/README.md for
 * the command and the options.
 */
public final class BenchRunner {
  private BenchRunner() {}

  public static void main(String[] args) throws Exception {
    System.setProperty("java.awt.headless", "true");
    Plan plan = Plan.full();
    Path out = Files.isDirectory(Paths.get("bench")) ? Paths.get("bench", "results") : Paths.get("results");
    Path docs = null;
    List<Transport> transports = new ArrayList<>(List.of(
        Transport.NETTY_TLS, Transport.NETTY_H2C, Transport.QUIC, Transport.QUIC_QUICHE));
    List<Profile> profiles = new ArrayList<>(List.of(Profile.LOOPBACK));
    // Raw engines named in --only; the engine under each QUIC transport is measured as well.
    Set<RawEngine> rawAsked = EnumSet.noneOf(RawEngine.class);
    boolean noRaw = false;
    boolean checkOnly = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--quick" -> plan = Plan.quick();
        case "--full" -> plan = Plan.full();
        case "--out" -> out = Paths.get(args[++i]);
        case "--docs" -> docs = Paths.get(args[++i]);
        case "--only" -> {
          transports.clear();
          rawAsked.clear();
          for (String name : args[++i].split(",")) {
            RawEngine engine = RawEngine.byKey(name);
            if (engine != null) {
              rawAsked.add(engine);
            } else {
              transports.add(Transport.valueOf(name.trim().toUpperCase()));
            }
          }
        }
        case "--no-raw" -> noRaw = true;
        case "--profiles" -> {
          profiles.clear();
          String list = args[++i];
          if (list.equalsIgnoreCase("all")) {
            profiles.addAll(Profile.STANDARD);
          } else {
            for (String name : list.split(",")) {
              profiles.add(Profile.named(name));
            }
          }
        }
        case "--self-check" -> checkOnly = true;
        case "-h", "--help" -> {
          System.out.println("options: [--quick|--full] [--out DIR] [--docs DIR] "
              + "[--only QUIC,QUIC_QUICHE,QUIC_QUICHE_BBR,NETTY_TLS,NETTY_H2C,RAW_KWIK,RAW_QUICHE] [--no-raw] "
              + "[--profiles loopback,lan,4g,4g-1,4g-5,4g-burst,4g-reorder|all] [--self-check]");
          return;
        }
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    if (checkOnly) {
      System.exit(selfCheck(profiles) ? 0 : 1);
    }
    Set<RawEngine> raw = EnumSet.noneOf(RawEngine.class);
    if (!noRaw) {
      raw.addAll(rawAsked);
      for (Transport transport : transports) {
        RawEngine under = RawEngine.under(transport);
        if (under != null) {
          raw.add(under);
        }
      }
    }
    if (profiles.stream().anyMatch(Profile::emulated)) {
      String reason = LinkEmulator.unavailableReason();
      if (reason != null) {
        Progress.log("link emulator unavailable (%s): running the loopback profile only", reason);
        profiles.clear();
        profiles.add(Profile.LOOPBACK);
      }
    }

    ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
    Map<String, Object> env = new LinkedHashMap<>();
    environment(env, now);
    Progress.log("mode %s; transports %s%s; paths %s; results to %s", plan.mode(), transports,
        raw.stream().map(e -> " + " + e.shortLabel()).collect(Collectors.joining()),
        profiles.stream().map(Profile::name).toList(), out);
    long started = System.nanoTime();
    List<Results> runs = new ArrayList<>();
    try (TlsFiles tls = TlsFiles.create()) {
      if (profiles.contains(Profile.LOOPBACK)) {
        runs.add(runLoopback(plan, env, transports, raw, tls));
      }
      List<Profile> emulated = profiles.stream().filter(Profile::emulated).toList();
      if (!emulated.isEmpty()) {
        runs.addAll(runEmulated(plan, env, transports, raw, tls, emulated));
      }
    }
    env.put("runSeconds", (System.nanoTime() - started) / 1e9);
    env.put("loadAverageAtEnd", loadAverage());

    String stamp = now.format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    String base = stamp + "-" + plan.mode();
    Files.createDirectories(out);
    Path json = out.resolve(base + ".json");
    Map<String, Object> all = new LinkedHashMap<>();
    all.put("environment", env);
    List<Object> paths = new ArrayList<>();
    for (Results r : runs) {
      paths.add(r.toMap());
    }
    all.put("paths", paths);
    Files.writeString(json, Json.write(all), StandardCharsets.UTF_8);
    Map<String, Path> charts = new LinkedHashMap<>();
    for (Results r : runs) {
      String suffix = r.profile.emulated() ? "-" + r.profile.name() : "";
      Path png = out.resolve(base + suffix + ".png");
      Report.chart(r, png);
      charts.put(r.profile.name(), png);
    }
    Path pathsPng = null;
    if (runs.stream().filter(r -> r.profile.emulated()).count() > 0) {
      pathsPng = out.resolve(base + "-paths.png");
      Report.pathsChart(runs, pathsPng);
    }
    Map<String, String> docCharts = new LinkedHashMap<>();
    charts.forEach((name, png) -> docCharts.put(name, docChartName(name)));
    String md = Report.markdown(runs, env, plan, docs != null ? docCharts : fileNames(charts),
        pathsPng == null ? null : docs != null ? "benchmarks-paths.png" : pathsPng.getFileName().toString());
    Path mdFile = out.resolve(base + ".md");
    Files.writeString(mdFile, md, StandardCharsets.UTF_8);
    Progress.log("wrote %s, %s and %d chart(s)", json, mdFile, charts.size() + (pathsPng == null ? 0 : 1));
    if (docs != null) {
      for (Map.Entry<String, Path> e : charts.entrySet()) {
        Files.copy(e.getValue(), docs.resolve(docChartName(e.getKey())), StandardCopyOption.REPLACE_EXISTING);
      }
      if (pathsPng != null) {
        Files.copy(pathsPng, docs.resolve("benchmarks-paths.png"), StandardCopyOption.REPLACE_EXISTING);
      }
      Report.updateDoc(docs.resolve("benchmarks.md"), md + "\nRaw results: `" + json.getFileName()
          + "` (bench/results/).\n");
      Progress.log("updated %s and its charts", docs.resolve("benchmarks.md"));
    }
    System.out.println(md);
    Progress.log("done in %.0f s", (System.nanoTime() - started) / 1e9);
    System.exit(0);
  }

  private static String docChartName(String profile) {
    return profile.equals(Profile.LOOPBACK.name()) ? "benchmarks.png" : "benchmarks-" + profile + ".png";
  }

  private static Map<String, String> fileNames(Map<String, Path> charts) {
    Map<String, String> m = new LinkedHashMap<>();
    charts.forEach((k, v) -> m.put(k, v.getFileName().toString()));
    return m;
  }

  /** Servers and clients in this JVM on 127.0.0.1. */
  private static Results runLoopback(Plan plan, Map<String, Object> env, List<Transport> transports,
      Set<RawEngine> raw, TlsFiles tls) {
    Results results = new Results(plan, Profile.LOOPBACK, env);
    if (plan.jvmWarmupPass()) {
      Progress.log("JVM warm-up pass over every transport (figures discarded)");
      for (Transport transport : transports) {
        runGrpc(transport, Plan.jvmWarmup(), () -> GrpcEndpoint.start(transport, tls));
      }
      for (RawEngine engine : raw) {
        runRaw(engine, Plan.jvmWarmup(), () -> RawEngineBench.start(engine, tls));
      }
      System.gc();
      Progress.log("JVM warm-up pass done; measuring");
    }
    for (Transport transport : transports) {
      results.grpc.put(transport, runGrpc(transport, plan, () -> GrpcEndpoint.start(transport, tls)));
      System.gc();
    }
    for (RawEngine engine : raw) {
      results.raw.put(engine, runRaw(engine, plan, () -> RawEngineBench.start(engine, tls)));
      System.gc();
    }
    return results;
  }

  /**
   * One emulator and one server JVM in its server namespace for all emulated paths; per path the
   * relay is switched over, checked, and reseeded before each transport so that every transport
   * meets the same losses.
   */
  private static List<Results> runEmulated(Plan base, Map<String, Object> env,
      List<Transport> transports, Set<RawEngine> raw, TlsFiles tls, List<Profile> profiles)
      throws Exception {
    List<Results> out = new ArrayList<>();
    Progress.log("link emulator: setting up for %s", profiles.get(0).name());
    try (LinkEmulator link = LinkEmulator.start(profiles.get(0))) {
      String host = link.serverAddress().getHostAddress();
      Map<String, Integer> ports = startServers(link, tls);
      Progress.log("link emulator: namespace %s, servers on %s %s", link.namespace(), host, ports);
      // The server JVM is fresh: one throwaway connection and a few calls per transport, so that
      // the first path's "first call" does not include class loading and interpretation.
      link.apply(profiles.stream().filter(p -> !p.slow()).findFirst()
          .orElse(new Profile("warm-up", 1, 0, 0)));
      Progress.log("link emulator: warming up the server JVM");
      for (Transport transport : transports) {
        try (GrpcEndpoint e = GrpcEndpoint.connect(transport, tls, host, ports.get(transport.name()), null)) {
          for (int i = 0; i < 200; i++) {
            GrpcBench.unary(e.channel);
          }
        } catch (Exception e) {
          Progress.log("%s: warm-up failed: %s", transport.label, e);
        }
      }
      for (Profile profile : profiles) {
        Plan plan = Plan.forPath(base, profile);
        Results results = new Results(plan, profile, env);
        link.apply(profile);
        results.linkCheck = link.check();
        Progress.log("path %s (%s): self-check %s", profile.name(), profile.describe(), results.linkCheck);
        for (Transport transport : transports) {
          link.awaitQuiet();
          link.reseed();
          results.grpc.put(transport, runGrpc(transport, plan,
              () -> GrpcEndpoint.connect(transport, tls, host, ports.get(transport.name()), null)));
          System.gc();
        }
        for (RawEngine engine : raw) {
          link.awaitQuiet();
          link.reseed();
          results.raw.put(engine, runRaw(engine, plan, () -> {
            Integer port = ports.get(engine.key());
            if (port == null) {
              throw new IllegalStateException("the server JVM has no " + engine.label());
            }
            return RawEngineBench.connect(engine, tls, host, port, null);
          }));
        }
        Progress.log("path %s: relay counters %s", profile.name(), link.stats());
        out.add(results);
      }
    }
    return out;
  }

  /** Starts {@link ServerMain} in the server namespace, from the same jar or classpath. */
  static Map<String, Integer> startServers(LinkEmulator link, TlsFiles tls) throws Exception {
    String javaBin = ProcessHandle.current().info().command().orElse("java");
    Process server = link.startInServerNamespace(List.of(javaBin, "-cp",
        System.getProperty("java.class.path"), ServerMain.class.getName(), "--tls",
        tls.dir.toString(), "--bind", link.serverAddress().getHostAddress()));
    BufferedReader lines = new BufferedReader(new InputStreamReader(server.getInputStream(),
        StandardCharsets.UTF_8));
    CompletableFuture<String> first = CompletableFuture
        .supplyAsync(() -> {
          try {
            return lines.readLine();
          } catch (IOException e) {
            return null;
          }
        });
    String line = first.get(120, TimeUnit.SECONDS);
    if (line == null || !line.startsWith("ports ")) {
      throw new IOException("server JVM did not start: " + line);
    }
    Map<String, Integer> ports = new LinkedHashMap<>();
    for (String kv : line.substring(6).trim().split(" ")) {
      String[] parts = kv.split("=");
      ports.put(parts[0], Integer.parseInt(parts[1]));
    }
    return ports;
  }

  /** {@code --self-check}: every emulated path in {@code profiles}; true when all pass. */
  private static boolean selfCheck(List<Profile> profiles) throws IOException {
    List<Profile> emulated = profiles.stream().filter(Profile::emulated).toList();
    if (emulated.isEmpty()) {
      emulated = Profile.STANDARD.stream().filter(Profile::emulated).toList();
    }
    String reason = LinkEmulator.unavailableReason();
    if (reason != null) {
      Progress.log("link emulator unavailable: %s", reason);
      return false;
    }
    boolean ok = true;
    try (LinkEmulator link = LinkEmulator.start(emulated.get(0))) {
      for (Profile p : emulated) {
        link.apply(p);
        LinkCheck check = link.check();
        System.out.println(check);
        System.out.println("  " + Report.checkLine(check));
        ok &= check.passed();
      }
    }
    return ok;
  }

  interface Opener<T> {
    T open() throws Exception;
  }

  private static Results.PerTransport runGrpc(Transport transport, Plan plan,
      Opener<GrpcEndpoint> opener) {
    Results.PerTransport r = new Results.PerTransport();
    String label = transport.label;
    Progress.log("%s: starting channel", label);
    try (GrpcEndpoint endpoint = opener.open()) {
      r.security = endpoint.security;
      r.firstCallMicros = endpoint.firstCallMicros;
      Progress.log("%s: connected (%s), first call %.1f ms", label, r.security,
          r.firstCallMicros / 1000);
      r.latency = GrpcBench.unaryLatency(label, endpoint.channel, plan);
      r.throughput = GrpcBench.unaryThroughput(label, endpoint.channel, plan);
      r.download = GrpcBench.download(label, endpoint.channel, plan);
      r.upload = GrpcBench.upload(label, endpoint.channel, plan);
    } catch (Exception e) {
      r.failure = e.toString();
      Progress.log("%s: FAILED: %s", label, e);
    }
    return r;
  }

  private static Results.PerTransport runRaw(RawEngine engine, Plan plan,
      Opener<RawEngineBench> opener) {
    Results.PerTransport r = new Results.PerTransport();
    Progress.log("%s: starting connection", engine.shortLabel());
    try (RawEngineBench bench = opener.open()) {
      r.security = engine.security;
      r.firstCallMicros = bench.connectMicros;
      Progress.log("%s: connected, handshake %.1f ms", engine.shortLabel(),
          r.firstCallMicros / 1000);
      r.latency = bench.unaryLatency(plan);
      r.download = bench.download(plan);
    } catch (Exception e) {
      r.failure = e.toString();
      Progress.log("%s: FAILED: %s", engine.shortLabel(), e);
    }
    return r;
  }

  static void environment(Map<String, Object> env, ZonedDateTime now) {
    env.put("date", now.format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
    env.put("availableProcessors", Runtime.getRuntime().availableProcessors());
    env.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
    env.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
        + System.getProperty("os.arch"));
    env.put("cpu", cpuModel());
    env.put("loadAverageAtStart", loadAverage());
    // TCP's congestion controller decides much of TCP's figures on lossy paths (BBR or cubic).
    env.put("tcpCongestionControl", readTrimmed("/proc/sys/net/ipv4/tcp_congestion_control"));
    env.put("jvmArguments", ManagementFactory.getRuntimeMXBean().getInputArguments());
    env.put("maxHeapMiB", Runtime.getRuntime().maxMemory() / Plan.MIB);
    Map<String, Object> versions = new LinkedHashMap<>();
    versions.put("grpc-java", io.grpc.internal.GrpcUtil.IMPLEMENTATION_VERSION);
    versions.put("netty", mavenVersion("io.netty", "netty-codec-http2"));
    versions.put("kwik", tech.kwik.core.KwikVersion.getVersion());
    versions.put("grpc-quic", mavenVersion("dev.grpcquic", "grpc-quic-transport"));
    env.put("versions", versions);
  }

  private static String mavenVersion(String group, String artifact) {
    String resource = "/META-INF/maven/" + group + "/" + artifact + "/pom.properties";
    try (InputStream in = BenchRunner.class.getResourceAsStream(resource)) {
      if (in != null) {
        Properties p = new Properties();
        p.load(in);
        return p.getProperty("version", "?");
      }
    } catch (IOException e) {
      // fall through
    }
    return "?";
  }

  private static String readTrimmed(String file) {
    try {
      return Files.readString(Paths.get(file)).trim();
    } catch (IOException | RuntimeException e) {
      return "?";
    }
  }

  /** /proc/loadavg: other processes on a shared machine take CPU from the benchmark. */
  static String loadAverage() {
    try {
      return Files.readString(Paths.get("/proc/loadavg")).trim();
    } catch (IOException | RuntimeException e) {
      return "?";
    }
  }

  private static String cpuModel() {
    try {
      for (String line : Files.readAllLines(Paths.get("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          return line.substring(line.indexOf(':') + 1).trim();
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux
    }
    return "?";
  }
}
