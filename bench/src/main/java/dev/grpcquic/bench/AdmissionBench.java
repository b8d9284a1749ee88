package dev.grpcquic.bench;

import dev.grpcquic.QuicServerBuilder;
import dev.grpcquic.admission.AdaptiveConcurrencyLimit;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.data.PointData;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Adaptive admission under overload (docs/operations.md): a QUIC server whose capacity is known
 * (each call is {@code --work-ms} of CPU on one of {@code --workers} threads), first measured
 * closed-loop, then offered three times that rate open-loop by {@code --clients} channels, once
 * with the adaptive concurrency limit and once without. Per second: calls offered, admitted calls
 * completed (goodput), calls refused, p95 latency of the completed calls, and the limit (read from
 * the server's OpenTelemetry gauge). Writes bench/results/&lt;time&gt;-admission.json and .png (and
 * the chart to {@code --docs DIR}/admission.png).
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar dev.grpcquic.bench.AdmissionBench [--seconds 40] [--work cpu|sleep]
 *     [--client-retry false] [--engine kwik|quiche] [--grant-streams false]
 *     [--work-ms 10] [--workers 1] [--target-ms 200] [--clients 8] [--docs docs]
 * </pre>
 */
public final class AdmissionBench {
  private static final MethodDescriptor<byte[], byte[]> WORK = BenchService.UNARY.toBuilder()
      .setFullMethodName("bench.Admission/Work").build();
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
  /**
   * Wall time the service spent on its calls' CPU work. Against the worker's CPU time it tells
   * a worker that waits for calls (the limit or the transport starve it) from one that the
   * machine's other load preempts mid-call.
   */
  private static final AtomicLong SERVICE_WALL_NANOS = new AtomicLong();

  private AdmissionBench() {}

  public static void main(String[] args) throws Exception {
    System.setProperty("java.awt.headless", "true");
    Map<String, String> flags = new LinkedHashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      flags.put(args[i].replaceFirst("^--", ""), args[i + 1]);
    }
    int seconds = Integer.parseInt(flags.getOrDefault("seconds", "40"));
    int workMs = Integer.parseInt(flags.getOrDefault("work-ms", "10"));
    int workers = Integer.parseInt(flags.getOrDefault("workers", "1"));
    int targetMs = Integer.parseInt(flags.getOrDefault("target-ms", "200"));
    int clients = Integer.parseInt(flags.getOrDefault("clients", "8"));
    boolean cpuWork = !"sleep".equals(flags.getOrDefault("work", "cpu"));
    boolean clientRetry = Boolean.parseBoolean(flags.getOrDefault("client-retry", "false"));
    boolean grantStreams = Boolean.parseBoolean(flags.getOrDefault("grant-streams", "false"));
    dev.grpcquic.QuicEngine engine =
        dev.grpcquic.QuicEngines.named(flags.getOrDefault("engine", "kwik"));
    String docs = flags.get("docs");

    Map<String, Object> env = new LinkedHashMap<>();
    env.put("date", ZonedDateTime.now(ZoneOffset.UTC).toString());
    env.put("availableProcessors", Runtime.getRuntime().availableProcessors());
    env.put("java", System.getProperty("java.version"));
    env.put("loadAverageAtStart", BenchRunner.loadAverage());
    System.out.println("load average at start: " + env.get("loadAverageAtStart"));

    try (TlsFiles tls = TlsFiles.create()) {
      // Capacity, measured: 4 x workers calls at a time keep every worker busy.
      Run calibration;
      try (Setup setup = new Setup(tls, engine, workMs, cpuWork, workers, null, clients, clientRetry)) {
        setup.closedLoop(4 * workers, Duration.ofSeconds(3)); // warm-up (JIT, connections)
        calibration = setup.closedLoop(4 * workers, Duration.ofSeconds(10));
      }
      double capacity = calibration.goodput();
      double offered = 3 * capacity;
      Map<String, Object> cal = calibration.toMap(capacity, targetMs);
      System.out.printf(Locale.ROOT, "capacity %.1f calls/s (%d worker(s) x %d ms CPU; nominal"
          + " %.1f; worker busy %.0f %%, its CPU share %.0f %%); offering %.1f calls/s%n",
          capacity, workers, workMs, workers * 1000.0 / workMs,
          (double) cal.get("workerBusyPct"), (double) cal.get("workerCpuSharePct"), offered);

      AdaptiveConcurrencyLimit limit =
          AdaptiveConcurrencyLimit.of(Duration.ofMillis(targetMs), 0.95)
              .withGrantStreamsByLimit(grantStreams);
      Run admission;
      try (Setup setup = new Setup(tls, engine, workMs, cpuWork, workers, limit, clients, clientRetry)) {
        setup.closedLoop(2 * workers, Duration.ofSeconds(2));
        admission = setup.openLoop(offered, Duration.ofSeconds(seconds));
      }
      Run none;
      try (Setup setup = new Setup(tls, engine, workMs, cpuWork, workers, null, clients, clientRetry)) {
        setup.closedLoop(2 * workers, Duration.ofSeconds(2));
        none = setup.openLoop(offered, Duration.ofSeconds(seconds));
      }
      env.put("loadAverageAtEnd", BenchRunner.loadAverage());

      Map<String, Object> result = new LinkedHashMap<>();
      result.put("env", env);
      result.put("workMs", workMs);
      result.put("workers", workers);
      result.put("targetMs", targetMs);
      result.put("percentile", 0.95);
      result.put("clients", clients);
      result.put("work", cpuWork ? "cpu" : "sleep");
      result.put("engine", engine.name());
      result.put("clientRetry", clientRetry);
      result.put("grantStreams", grantStreams);
      result.put("seconds", seconds);
      result.put("capacityCallsPerSecond", capacity);
      result.put("offeredCallsPerSecond", offered);
      result.put("calibration", cal);
      result.put("withAdmission", admission.toMap(capacity, targetMs));
      result.put("withoutAdmission", none.toMap(capacity, targetMs));

      Path dir = Paths.get("bench", "results");
      Files.createDirectories(dir);
      String stamp = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
          .format(ZonedDateTime.now(ZoneOffset.UTC));
      String suffix = (engine.name().equals("kwik") ? "" : "-" + engine.name())
          + (grantStreams ? "-grants" : "");
      Path json = dir.resolve(stamp + "-admission" + suffix + ".json");
      Files.writeString(json, Json.write(result), StandardCharsets.UTF_8);
      Path png = dir.resolve(stamp + "-admission" + suffix + ".png");
      chart(admission, none, targetMs, capacity, png);
      if (docs != null) {
        Files.copy(png, Paths.get(docs, "admission" + suffix + ".png"),
            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
      System.out.println(summary("with admission", admission, capacity, targetMs));
      System.out.println(summary("without admission", none, capacity, targetMs));
      System.out.println("CPU ms by threads, calibration: " + calibration.cpuMillisByThreads);
      System.out.println("CPU ms by threads, with admission: " + admission.cpuMillisByThreads);
      System.out.println("CPU ms by threads, without: " + none.cpuMillisByThreads);
      System.out.println("load average at end: " + env.get("loadAverageAtEnd"));
      System.out.println("wrote " + json + " and " + png);
    }
  }

  private static String summary(String name, Run run, double capacity, int targetMs) {
    Map<String, Object> m = run.toMap(capacity, targetMs);
    return String.format(Locale.ROOT, "%-18s goodput %.1f calls/s (%.0f %% of capacity),"
            + " p95 of completed calls %.0f ms (%.2f x target) at the client, in the server"
            + " (median of the seconds' p95) %.0f ms (%.2f x target), refused %d, failed otherwise %d,"
            + " unfinished at end %d, limit at end %s; worker busy %.0f %% of the time, its CPU"
            + " share %.0f %%",
        name, (double) m.get("goodputCallsPerSecond"), (double) m.get("goodputOfCapacityPct"),
        (double) m.get("p95Ms"), (double) m.get("p95OverTarget"), (double) m.get("serverP95MsMedianOfSeconds"),
        (double) m.get("serverP95OverTarget"), (long) m.get("refused"),
        (long) m.get("failed"), (long) m.get("unfinished"), m.get("limitAtEnd"),
        (double) m.get("workerBusyPct"), (double) m.get("workerCpuSharePct"));
  }

  /**
   * Each call: workMs of CPU time on the calling (worker) thread; or, with {@code cpu} false,
   * workMs of sleep on it (a capacity that CPU contention does not change).
   */
  private static ServerServiceDefinition service(int workMs, boolean cpu) {
    return ServerServiceDefinition.builder("bench.Admission")
        .addMethod(WORK, ServerCalls.asyncUnaryCall((request, response) -> {
          if (!cpu) {
            try {
              Thread.sleep(workMs);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            response.onNext(request);
            response.onCompleted();
            return;
          }
          long started = System.nanoTime();
          long until = THREADS.getCurrentThreadCpuTime() + workMs * 1_000_000L;
          long spin = 0;
          while (THREADS.getCurrentThreadCpuTime() < until) {
            spin++;
          }
          SERVICE_WALL_NANOS.addAndGet(System.nanoTime() - started);
          response.onNext(new byte[] {(byte) spin});
          response.onCompleted();
        }))
        .build();
  }

  /** A server (with or without the limit) and its client channels. */
  private static final class Setup implements AutoCloseable {
    final Server server;
    final ExecutorService workerPool;
    final List<ManagedChannel> channels = new ArrayList<>();
    final InMemoryMetricReader reader = InMemoryMetricReader.create();
    /**
     * The limiter's own latency samples (quic.server.request.duration: stream arrival to the end
     * of the response), in 5 ms buckets so that a second's p95 can be read from them.
     */
    final OpenTelemetrySdk sdk = OpenTelemetrySdk.builder()
        .setMeterProvider(SdkMeterProvider.builder().registerMetricReader(reader)
            .registerView(io.opentelemetry.sdk.metrics.InstrumentSelector.builder()
                    .setName("quic.server.request.duration").build(),
                io.opentelemetry.sdk.metrics.View.builder()
                    .setAggregation(io.opentelemetry.sdk.metrics.Aggregation
                        .explicitBucketHistogram(fineBuckets()))
                    .build())
            .build())
        .build();
    private long[] lastCounts;

    Setup(TlsFiles tls, dev.grpcquic.QuicEngine engine, int workMs, boolean cpuWork, int workers,
        AdaptiveConcurrencyLimit limit, int clients, boolean clientRetry) throws IOException {
      workerPool = Executors.newFixedThreadPool(workers, r -> {
        Thread t = new Thread(r, "admission-bench-worker");
        t.setDaemon(true);
        return t;
      });
      QuicServerBuilder builder = QuicServerBuilder.forAddress(
              new InetSocketAddress("127.0.0.1", 0))
          .engine(engine)
          .useTransportSecurity(tls.serverChainPem.toFile(), tls.serverKeyPem.toFile())
          .executor(workerPool)
          .addService(service(workMs, cpuWork))
          .openTelemetry(sdk);
      if (limit != null) {
        builder.adaptiveConcurrencyLimit(limit);
      }
      server = builder.build().start();
      for (int i = 0; i < clients; i++) {
        var channel = GrpcEndpoint.quicChannelBuilder(tls, "127.0.0.1", GrpcEndpoint.port(server))
            .engine(engine);
        if (!clientRetry) {
          // One server: a retry of a refused call can only come back to it. Real clients retry
          // on another server (AdaptiveAdmissionTest); here it would only double the refusals.
          channel.disableRetry();
        }
        channels.add(channel.build());
      }
    }

    private static List<Double> fineBuckets() {
      List<Double> bounds = new ArrayList<>();
      for (int ms = 5; ms <= 5000; ms += 5) {
        bounds.add(ms / 1000.0);
      }
      return bounds;
    }

    /**
     * The p95 of the server's admitted request streams since the last call (from the histogram's
     * buckets: the upper bound of the bucket that holds it), NaN without samples or limiter.
     */
    double serverP95MillisSinceLast() {
      for (MetricData m : reader.collectAllMetrics()) {
        if (m.getName().equals("quic.server.request.duration")) {
          for (var p : m.getHistogramData().getPoints()) {
            List<Long> counts = p.getCounts();
            List<Double> bounds = p.getBoundaries();
            long[] now = counts.stream().mapToLong(Long::longValue).toArray();
            long[] delta = now.clone();
            if (lastCounts != null) {
              for (int i = 0; i < delta.length; i++) {
                delta[i] -= lastCounts[i];
              }
            }
            lastCounts = now;
            long total = Arrays.stream(delta).sum();
            if (total == 0) {
              return Double.NaN;
            }
            long rank = (long) Math.ceil(0.95 * total);
            long seen = 0;
            for (int i = 0; i < delta.length; i++) {
              seen += delta[i];
              if (seen >= rank) {
                return i < bounds.size() ? bounds.get(i) * 1000 : Double.POSITIVE_INFINITY;
              }
            }
          }
        }
      }
      return Double.NaN;
    }

    /** The admission limit now, -1 without one. */
    long limit() {
      for (MetricData m : reader.collectAllMetrics()) {
        if (m.getName().equals("quic.server.admission.limit")) {
          for (PointData p : m.getData().getPoints()) {
            return ((LongPointData) p).getValue();
          }
        }
      }
      return -1;
    }

    /** {@code concurrency} loops of calls, each starting the next when one ends. */
    Run closedLoop(int concurrency, Duration duration) throws InterruptedException {
      Run run = new Run(this);
      long end = System.nanoTime() + duration.toNanos();
      Thread[] loops = new Thread[concurrency];
      for (int i = 0; i < concurrency; i++) {
        ManagedChannel channel = channels.get(i % channels.size());
        loops[i] = new Thread(() -> {
          while (System.nanoTime() < end) {
            long start = System.nanoTime();
            try {
              ClientCalls.blockingUnaryCall(channel, WORK,
                  CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS), new byte[16]);
              run.completed(start, Status.OK);
            } catch (io.grpc.StatusRuntimeException e) {
              run.completed(start, e.getStatus());
            }
          }
        });
        loops[i].start();
      }
      run.startTicking();
      for (Thread loop : loops) {
        loop.join();
      }
      run.stopTicking();
      return run;
    }

    /** Calls started at a fixed rate, whatever becomes of them. */
    Run openLoop(double perSecond, Duration duration) throws InterruptedException {
      Run run = new Run(this);
      ScheduledExecutorService starter = Executors.newSingleThreadScheduledExecutor();
      long periodNanos = (long) (1e9 / perSecond);
      AtomicLong sequence = new AtomicLong();
      run.startTicking();
      starter.scheduleAtFixedRate(() -> {
        ManagedChannel channel = channels.get(
            (int) (sequence.getAndIncrement() % channels.size()));
        long start = System.nanoTime();
        run.offered.incrementAndGet();
        run.outstanding.incrementAndGet();
        var future = ClientCalls.futureUnaryCall(channel.newCall(WORK,
            CallOptions.DEFAULT.withDeadlineAfter(600, TimeUnit.SECONDS)), new byte[16]);
        future.addListener(() -> {
          run.outstanding.decrementAndGet();
          try {
            future.get();
            run.completed(start, Status.OK);
          } catch (Exception e) {
            run.completed(start, Status.fromThrowable(e));
          }
        }, Runnable::run);
      }, 0, periodNanos, TimeUnit.NANOSECONDS);
      Thread.sleep(duration.toMillis()); // the run's length: the measurement itself
      starter.shutdownNow();
      starter.awaitTermination(5, TimeUnit.SECONDS);
      run.stopTicking();
      return run;
    }

    @Override
    public void close() throws InterruptedException {
      for (ManagedChannel channel : channels) {
        channel.shutdownNow();
      }
      for (ManagedChannel channel : channels) {
        channel.awaitTermination(10, TimeUnit.SECONDS);
      }
      server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      workerPool.shutdownNow();
      sdk.close();
    }
  }

  /** What one phase measured, per second and in total. */
  private static final class Run {
    private final Setup setup;
    final AtomicLong offered = new AtomicLong();
    final AtomicLong outstanding = new AtomicLong();
    private final AtomicLong ok = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final Object lock = new Object();
    private long[] latencies = new long[1024];
    private int latencyCount;
    private final List<long[]> allLatencies = new ArrayList<>();
    private final List<Double> serverP95s = new ArrayList<>();
    private long unfinishedAtEnd;
    private volatile boolean stopped;
    private final List<Map<String, Object>> seconds = new ArrayList<>();
    private ScheduledExecutorService ticker;
    private long startNanos;
    private long endNanos;
    private long lastOffered;
    private long lastOk;
    private long lastRefused;
    private Map<String, Long> cpuAtStart = Map.of();
    private long lastWorkerCpu = -1;
    private long lastAllCpu = -1;
    private long lastServiceWall = -1;
    private long serviceWallAtStart;
    private long serviceWallNanos;
    private long workerCpuNanos;
    private Map<String, Long> cpuMillisByThreads = Map.of();

    Run(Setup setup) {
      this.setup = setup;
    }

    void completed(long startNanos, Status status) {
      if (stopped) {
        return; // cancelled by the phase's end (shutdownNow): counted as unfinished
      }
      long latency = System.nanoTime() - startNanos;
      if (status.isOk()) {
        ok.incrementAndGet();
        synchronized (lock) {
          if (latencyCount == latencies.length) {
            latencies = Arrays.copyOf(latencies, latencyCount * 2);
          }
          latencies[latencyCount++] = latency;
        }
      } else if (status.getCode() == Status.Code.UNAVAILABLE
          && String.valueOf(status.getDescription()).contains("H3_REQUEST_REJECTED")) {
        refused.incrementAndGet();
      } else if (failed.incrementAndGet() <= 3) {
        System.out.println("call failed: " + status);
      }
    }

    void startTicking() {
      serviceWallAtStart = SERVICE_WALL_NANOS.get();
      cpuAtStart = ThreadCpu.byName(false);
      startNanos = System.nanoTime();
      ticker = Executors.newSingleThreadScheduledExecutor();
      ticker.scheduleAtFixedRate(this::tick, 1, 1, TimeUnit.SECONDS);
    }

    void stopTicking() throws InterruptedException {
      ticker.shutdownNow();
      ticker.awaitTermination(5, TimeUnit.SECONDS);
      endNanos = System.nanoTime();
      stopped = true;
      unfinishedAtEnd = outstanding.get();
      Map<String, Long> end = ThreadCpu.byName(false);
      serviceWallNanos = SERVICE_WALL_NANOS.get() - serviceWallAtStart;
      workerCpuNanos = end.getOrDefault("admission-bench-worker", 0L)
          - cpuAtStart.getOrDefault("admission-bench-worker", 0L);
      cpuMillisByThreads = new LinkedHashMap<>();
      ThreadCpu.since(cpuAtStart, end).forEach((name, cpu) -> {
        if (cpu > 50_000_000L) {
          cpuMillisByThreads.put(name, cpu / 1_000_000);
        }
      });
    }

    /** One second's row. */
    private void tick() {
      long[] window;
      synchronized (lock) {
        window = Arrays.copyOf(latencies, latencyCount);
        latencyCount = 0;
      }
      allLatencies.add(window);
      double serverP95 = setup.serverP95MillisSinceLast();
      serverP95s.add(serverP95);
      long o = offered.get();
      long k = ok.get();
      long r = refused.get();
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("t", (System.nanoTime() - startNanos) / 1e9);
      row.put("offered", o - lastOffered);
      row.put("goodput", k - lastOk);
      row.put("refused", r - lastRefused);
      row.put("p95Ms", percentile(window, 0.95) / 1e6);
      row.put("serverP95Ms", serverP95);
      row.put("limit", setup.limit());
      row.put("outstanding", outstanding.get());
      // Where the second's CPU went: the service's worker (10 ms a call) and the rest.
      Map<String, Long> cpu = ThreadCpu.byName(false);
      long worker = cpu.getOrDefault("admission-bench-worker", 0L);
      long all = cpu.values().stream().mapToLong(Long::longValue).sum();
      row.put("workerCpuPct", lastWorkerCpu < 0 ? Double.NaN : (worker - lastWorkerCpu) / 1e7);
      row.put("processCpuPct", lastAllCpu < 0 ? Double.NaN : (all - lastAllCpu) / 1e7);
      lastWorkerCpu = worker;
      lastAllCpu = all;
      long wall = SERVICE_WALL_NANOS.get();
      row.put("serviceWallPct", lastServiceWall < 0 ? Double.NaN : (wall - lastServiceWall) / 1e7);
      lastServiceWall = wall;
      seconds.add(row);
      lastOffered = o;
      lastOk = k;
      lastRefused = r;
    }

    double goodput() {
      return ok.get() / ((endNanos - startNanos) / 1e9);
    }

    Map<String, Object> toMap(double capacity, int targetMs) {
      long[] all = allLatencies.stream().flatMapToLong(Arrays::stream).toArray();
      double p95 = percentile(all, 0.95) / 1e6;
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("goodputCallsPerSecond", goodput());
      m.put("goodputOfCapacityPct", 100 * goodput() / capacity);
      m.put("p95Ms", p95);
      m.put("p95OverTarget", p95 / targetMs);
      m.put("p50Ms", percentile(all, 0.5) / 1e6);
      // The server's p95 over the run: the median of its per-second p95s (from the buckets).
      double[] perSecond = serverP95s.stream().mapToDouble(Double::doubleValue)
          .filter(v -> !Double.isNaN(v)).sorted().toArray();
      double serverP95 = perSecond.length == 0 ? Double.NaN : perSecond[perSecond.length / 2];
      m.put("serverP95MsMedianOfSeconds", serverP95);
      m.put("serverP95OverTarget", serverP95 / targetMs);
      m.put("ok", ok.get());
      m.put("refused", refused.get());
      m.put("failed", failed.get());
      m.put("unfinished", unfinishedAtEnd);
      m.put("limitAtEnd", seconds.isEmpty() ? -1 : seconds.get(seconds.size() - 1).get("limit"));
      m.put("cpuMillisByThreads", cpuMillisByThreads);
      // Busy: the share of the phase the worker spent in calls (wall time). CPU share: what the
      // machine gave it meanwhile; goodput = CPU share x 1000 / workMs whatever the limit does.
      double phaseSeconds = (endNanos - startNanos) / 1e9;
      m.put("workerBusyPct", 100 * serviceWallNanos / 1e9 / phaseSeconds);
      m.put("workerCpuSharePct", 100 * workerCpuNanos / 1e9 / phaseSeconds);
      m.put("perSecond", seconds);
      return m;
    }

    private static double percentile(long[] values, double p) {
      if (values.length == 0) {
        return Double.NaN;
      }
      long[] sorted = values.clone();
      Arrays.sort(sorted);
      return sorted[Math.max(0, (int) Math.ceil(p * sorted.length) - 1)];
    }
  }

  /** The two runs side by side: calls/s and limit on the left axis, p95 (ms) on the right. */
  private static void chart(Run admission, Run none, int targetMs, double capacity, Path png)
      throws IOException {
    BufferedImage left = panel("with adaptive admission", admission, targetMs, capacity);
    BufferedImage right = panel("without admission", none, targetMs, capacity);
    BufferedImage both = new BufferedImage(left.getWidth() + right.getWidth(),
        Math.max(left.getHeight(), right.getHeight()), BufferedImage.TYPE_INT_RGB);
    Graphics2D g = both.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, both.getWidth(), both.getHeight());
    g.drawImage(left, 0, 0, null);
    g.drawImage(right, left.getWidth(), 0, null);
    g.dispose();
    ImageIO.write(both, "png", png.toFile());
  }

  private static BufferedImage panel(String title, Run run, int targetMs, double capacity) {
    XYChart chart = new XYChartBuilder().width(700).height(450)
        .title(title).xAxisTitle("time (s)").build();
    chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
    chart.getStyler().setMarkerSize(3);
    chart.setYAxisGroupTitle(0, "calls/s, limit");
    chart.setYAxisGroupTitle(1, "p95 latency (ms)");
    chart.getStyler().setYAxisGroupPosition(1, Styler.YAxisPosition.Right);
    List<Double> t = new ArrayList<>();
    List<Double> goodput = new ArrayList<>();
    List<Double> refused = new ArrayList<>();
    List<Double> limit = new ArrayList<>();
    List<Double> p95 = new ArrayList<>();
    List<Double> serverP95 = new ArrayList<>();
    List<Double> workerShare = new ArrayList<>();
    for (Map<String, Object> row : run.seconds) {
      double share = (Double) row.get("workerCpuPct");
      workerShare.add(Double.isNaN(share) ? 0 : share);
      t.add((Double) row.get("t"));
      goodput.add(((Long) row.get("goodput")).doubleValue());
      refused.add(((Long) row.get("refused")).doubleValue());
      limit.add(((Long) row.get("limit")).doubleValue());
      double p = (Double) row.get("p95Ms");
      p95.add(Double.isNaN(p) ? 0 : p);
      double sp = (Double) row.get("serverP95Ms");
      serverP95.add(Double.isNaN(sp) ? 0 : sp);
    }
    if (t.isEmpty()) {
      t.add(0.0);
      goodput.add(0.0);
      refused.add(0.0);
      limit.add(0.0);
      p95.add(0.0);
      serverP95.add(0.0);
      workerShare.add(0.0);
    }
    chart.addSeries("goodput (calls/s)", t, goodput).setMarker(SeriesMarkers.NONE);
    chart.addSeries("refused (calls/s)", t, refused).setMarker(SeriesMarkers.NONE);
    chart.addSeries("capacity (calls/s)", List.of(t.get(0), t.get(t.size() - 1)),
        List.of(capacity, capacity)).setMarker(SeriesMarkers.NONE);
    // Goodput is this share x 1000 / work-ms: what the machine's other load left the worker.
    XYSeries share = chart.addSeries("worker CPU share (%)", t, workerShare);
    share.setMarker(SeriesMarkers.NONE);
    share.setLineStyle(new java.awt.BasicStroke(1f, java.awt.BasicStroke.CAP_BUTT,
        java.awt.BasicStroke.JOIN_MITER, 10f, new float[] {4f, 3f}, 0f));
    if (limit.stream().anyMatch(v -> v >= 0)) {
      chart.addSeries("limit", t, limit).setMarker(SeriesMarkers.NONE);
    }
    XYSeries p = chart.addSeries("p95 at client (ms)", t, p95);
    p.setYAxisGroup(1);
    p.setMarker(SeriesMarkers.CIRCLE);
    if (serverP95.stream().anyMatch(v -> v > 0)) { // only with admission: the limiter's samples
      XYSeries sp = chart.addSeries("p95 in server (ms)", t, serverP95);
      sp.setYAxisGroup(1);
      sp.setMarker(SeriesMarkers.DIAMOND);
    }
    XYSeries target = chart.addSeries("target (ms)", List.of(t.get(0), t.get(t.size() - 1)),
        List.of((double) targetMs, (double) targetMs));
    target.setYAxisGroup(1);
    target.setMarker(SeriesMarkers.NONE);
    return BitmapEncoder.getBufferedImage(chart);
  }
}
