package dev.grpcquic.bench;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Loopback benchmark of this project's QUIC transport against grpc-java Netty (TCP+TLS 1.3, and
 * h2c as a plaintext reference), plus the raw kwik engine. One JVM, one transport after the other;
 * see bench/README.md for the command and the options.
 */
public final class BenchRunner {
  private BenchRunner() {}

  public static void main(String[] args) throws Exception {
    System.setProperty("java.awt.headless", "true");
    Plan plan = Plan.full();
    Path out = Files.isDirectory(Paths.get("bench")) ? Paths.get("bench", "results") : Paths.get("results");
    Path docs = null;
    List<Transport> transports = new ArrayList<>(List.of(
        Transport.NETTY_TLS, Transport.NETTY_H2C, Transport.QUIC));
    boolean raw = true;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--quick" -> plan = Plan.quick();
        case "--full" -> plan = Plan.full();
        case "--out" -> out = Paths.get(args[++i]);
        case "--docs" -> docs = Paths.get(args[++i]);
        case "--only" -> {
          transports.clear();
          raw = false;
          for (String name : args[++i].split(",")) {
            if (name.equalsIgnoreCase(Results.RAW_KWIK)) {
              raw = true;
            } else {
              transports.add(Transport.valueOf(name.trim().toUpperCase()));
            }
          }
        }
        case "--no-raw" -> raw = false;
        case "-h", "--help" -> {
          System.out.println("options: [--quick|--full] [--out DIR] [--docs DIR] "
              + "[--only QUIC,NETTY_TLS,NETTY_H2C,RAW_KWIK] [--no-raw]");
          return;
        }
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }

    Results results = new Results(plan);
    ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
    environment(results.environment, now);
    Progress.log("mode %s; transports %s%s; results to %s", plan.mode(), transports,
        raw ? " + raw kwik" : "", out);
    long started = System.nanoTime();
    try (TlsFiles tls = TlsFiles.create()) {
      if (plan.jvmWarmupPass()) {
        Progress.log("JVM warm-up pass over every transport (figures discarded)");
        for (Transport transport : transports) {
          runGrpc(transport, tls, Plan.jvmWarmup());
        }
        if (raw) {
          runRaw(tls, Plan.jvmWarmup());
        }
        System.gc();
        Progress.log("JVM warm-up pass done; measuring");
      }
      for (Transport transport : transports) {
        results.grpc.put(transport, runGrpc(transport, tls, plan));
        System.gc();
      }
      if (raw) {
        results.rawKwik = runRaw(tls, plan);
      }
    }
    results.environment.put("runSeconds", (System.nanoTime() - started) / 1e9);
    results.environment.put("loadAverageAtEnd", loadAverage());

    String stamp = now.format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    Files.createDirectories(out);
    Path json = out.resolve(stamp + "-" + plan.mode() + ".json");
    Files.writeString(json, Json.write(results.toMap()), StandardCharsets.UTF_8);
    String md = Report.markdown(results);
    Path mdFile = out.resolve(stamp + "-" + plan.mode() + ".md");
    Files.writeString(mdFile, md, StandardCharsets.UTF_8);
    Path png = out.resolve(stamp + "-" + plan.mode() + ".png");
    Report.chart(results, png);
    Progress.log("wrote %s, %s, %s", json, mdFile, png);
    if (docs != null) {
      Path docPng = docs.resolve("benchmarks.png");
      Files.copy(png, docPng, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      Report.updateDoc(docs.resolve("benchmarks.md"), md + "\nRaw results: `" + json.getFileName()
          + "` (bench/results/). Chart: [benchmarks.png](benchmarks.png).\n");
      Progress.log("updated %s and %s", docs.resolve("benchmarks.md"), docPng);
    }
    System.out.println(md);
    Progress.log("done in %.0f s", (System.nanoTime() - started) / 1e9);
    System.exit(0);
  }

  private static Results.PerTransport runGrpc(Transport transport, TlsFiles tls, Plan plan) {
    Results.PerTransport r = new Results.PerTransport();
    String label = transport.label;
    Progress.log("%s: starting server and channel", label);
    try (GrpcEndpoint endpoint = GrpcEndpoint.start(transport, tls)) {
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

  private static Results.PerTransport runRaw(TlsFiles tls, Plan plan) {
    Results.PerTransport r = new Results.PerTransport();
    Progress.log("raw kwik: starting endpoint and connection");
    try (RawKwikBench bench = RawKwikBench.start(tls)) {
      r.security = "QUIC v1, TLS 1.3 (kwik), no HTTP/3";
      r.firstCallMicros = bench.connectMicros;
      r.latency = bench.unaryLatency(plan);
      r.download = bench.download(plan);
    } catch (Exception e) {
      r.failure = e.toString();
      Progress.log("raw kwik: FAILED: %s", e);
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
