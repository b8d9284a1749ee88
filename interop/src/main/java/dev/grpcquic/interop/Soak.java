package dev.grpcquic.interop;

import com.google.protobuf.ByteString;
import dev.grpcquic.QuicChannelBuilder;
import dev.grpcquic.QuicEngine;
import dev.grpcquic.QuicEngines;
import dev.grpcquic.QuicServerBuilder;
import dev.grpcquic.certs.CertificateGenerator;
import dev.grpcquic.certs.DevCertificates;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerStreamTracer;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.grpc.testing.integration.Messages.Payload;
import io.grpc.testing.integration.Messages.ResponseParameters;
import io.grpc.testing.integration.Messages.SimpleRequest;
import io.grpc.testing.integration.Messages.StreamingInputCallRequest;
import io.grpc.testing.integration.Messages.StreamingInputCallResponse;
import io.grpc.testing.integration.Messages.StreamingOutputCallRequest;
import io.grpc.testing.integration.Messages.StreamingOutputCallResponse;
import io.grpc.testing.integration.TestServiceGrpc;
import io.grpc.testing.integration.TestServiceImpl;
import java.io.File;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Soak: a QUIC server and a client in this JVM, joined by a relay that drops a share of the
 * datagrams, run all four call kinds without pause for a while. Every call must succeed. Every
 * report prints the JVM's thread count, heap used after a GC, the server's calls in flight and the
 * calls made so far; at the end the first report after warm-up is compared with the last.
 * Exit status 1 when a call failed or a figure grew.
 *
 * <pre>
 * mvn -q -pl interop -am compile exec:java -Dexec.mainClass=dev.grpcquic.interop.Soak \
 *     -Dexec.args="--minutes=10 --loss=1"
 * </pre>
 */
public final class Soak {
  private static final String[] KINDS = {"unary", "server-streaming", "client-streaming", "bidi"};
  private static final int MESSAGES = 10;
  private static final int SIZE = 1024;
  /** Growth beyond these between the first and last report fails the run. */
  private static final int THREAD_SLACK = 10;
  private static final long HEAP_SLACK = 32L << 20;

  private final AtomicLongArray ok = new AtomicLongArray(KINDS.length);
  private final AtomicLongArray failed = new AtomicLongArray(KINDS.length);
  private final AtomicInteger serverCalls = new AtomicInteger();
  private volatile String firstFailure;

  private Soak() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> flags = Flags.parse(args, "minutes", "loss", "concurrency", "report_seconds",
        "seed", "engine");
    double minutes = Double.parseDouble(flags.getOrDefault("minutes", "10"));
    double loss = Double.parseDouble(flags.getOrDefault("loss", "1")) / 100;
    int concurrency = Integer.parseInt(flags.getOrDefault("concurrency", "8"));
    long reportSeconds = Long.parseLong(flags.getOrDefault("report_seconds", "30"));
    long seed = Long.parseLong(flags.getOrDefault("seed", "1"));
    QuicEngine engine = QuicEngines.named(flags.getOrDefault("engine", "kwik"));
    boolean passed = new Soak().run(minutes, loss, concurrency, reportSeconds, seed, engine);
    System.exit(passed ? 0 : 1);
  }

  private boolean run(double minutes, double loss, int concurrency, long reportSeconds, long seed,
      QuicEngine engine) throws Exception {
    Path dir = Files.createTempDirectory("grpc-quic-soak");
    DevCertificates certificates = CertificateGenerator.generate();
    for (Path file : certificates.writePem(dir)) {
      file.toFile().deleteOnExit();
    }
    dir.toFile().deleteOnExit();
    ScheduledExecutorService serviceExecutor = Executors.newScheduledThreadPool(2);
    Server server = QuicServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .engine(engine)
        .useTransportSecurity(dir.resolve("server.pem").toFile(), dir.resolve("server.key").toFile())
        .addService(ServerInterceptors.intercept(new TestServiceImpl(serviceExecutor),
            TestServiceImpl.interceptors()))
        .addStreamTracerFactory(new InFlight())
        .build()
        .start();
    InetSocketAddress serverAddress = (InetSocketAddress) server.getListenSockets().get(0);
    LossyUdpRelay relay = new LossyUdpRelay(serverAddress, 0, TimeUnit.MILLISECONDS, loss, seed);
    ManagedChannel channel = QuicChannelBuilder.forAddress("127.0.0.1", relay.address().getPort())
        .engine(engine)
        .overrideAuthority("localhost")
        .trustCertificates(new File(dir.resolve("ca.pem").toString()))
        .build();
    System.out.printf("soak: %.1f min, %.1f %% loss each way, %d calls at once, server %s, relay %d%n",
        minutes, loss * 100, concurrency, serverAddress, relay.address().getPort());

    ExecutorService workers = Executors.newFixedThreadPool(concurrency);
    long end = System.nanoTime() + (long) (minutes * 60e9);
    for (int w = 0; w < concurrency; w++) {
      int first = w;
      workers.execute(() -> {
        TestServiceGrpc.TestServiceBlockingStub blocking = TestServiceGrpc.newBlockingStub(channel);
        TestServiceGrpc.TestServiceStub async = TestServiceGrpc.newStub(channel);
        for (int i = first; System.nanoTime() < end && firstFailure == null; i++) {
          int kind = i % KINDS.length;
          try {
            call(kind, blocking.withDeadlineAfter(60, TimeUnit.SECONDS),
                async.withDeadlineAfter(60, TimeUnit.SECONDS));
            ok.incrementAndGet(kind);
          } catch (Exception e) {
            failed.incrementAndGet(kind);
            if (firstFailure == null) {
              firstFailure = KINDS[kind] + ": " + Status.fromThrowable(e);
            }
          }
        }
      });
    }
    workers.shutdown();

    long[] firstReport = null;
    long[] lastReport = null;
    long start = System.nanoTime();
    while (!workers.awaitTermination(reportSeconds, TimeUnit.SECONDS)) {
      long[] now = report(start, relay);
      // The first report is the warm-up's end: classes loaded, pools filled.
      if (firstReport == null) {
        firstReport = now;
      }
      lastReport = now;
    }
    channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    relay.close();
    serviceExecutor.shutdownNow();
    System.out.println("final:");
    long[] last = report(start, relay);
    if (lastReport == null) {
      lastReport = last;
    }

    boolean passed = true;
    long calls = 0;
    for (int k = 0; k < KINDS.length; k++) {
      calls += ok.get(k);
      if (failed.get(k) > 0) {
        passed = false;
      }
    }
    System.out.printf("calls: %d ok; failed: unary %d, server-streaming %d, client-streaming %d,"
        + " bidi %d%n", calls, failed.get(0), failed.get(1), failed.get(2), failed.get(3));
    if (firstFailure != null) {
      System.out.println("first failure: " + firstFailure);
    }
    if (firstReport != null && firstReport != lastReport) {
      long threads = lastReport[0] - firstReport[0];
      long heap = lastReport[1] - firstReport[1];
      System.out.printf("growth from the first report to the last: threads %+d, heap after GC"
          + " %+.1f MiB%n", threads, heap / 1048576.0);
      if (threads > THREAD_SLACK || heap > HEAP_SLACK) {
        System.out.println("FAIL: a figure grew");
        passed = false;
      }
    }
    System.out.println(passed ? "PASS" : "FAIL");
    return passed;
  }

  /** Prints and returns {threads, heap after GC, server calls in flight}. */
  private long[] report(long start, LossyUdpRelay relay) {
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    memory.gc();
    long heap = memory.getHeapMemoryUsage().getUsed();
    int threads = ManagementFactory.getThreadMXBean().getThreadCount();
    long total = 0;
    for (int k = 0; k < KINDS.length; k++) {
      total += ok.get(k);
    }
    System.out.printf("%6.0f s  threads %3d  heap after GC %6.1f MiB  server calls in flight %3d"
            + "  calls ok %8d  failed %d  datagrams dropped %d of %d%n",
        (System.nanoTime() - start) / 1e9, threads, heap / 1048576.0, serverCalls.get(), total,
        failed.get(0) + failed.get(1) + failed.get(2) + failed.get(3), relay.droppedDatagrams(),
        relay.droppedDatagrams() + relay.forwardedDatagrams());
    return new long[] {threads, heap, serverCalls.get()};
  }

  private static void call(int kind, TestServiceGrpc.TestServiceBlockingStub blocking,
      TestServiceGrpc.TestServiceStub async) throws Exception {
    Payload payload = Payload.newBuilder().setBody(ByteString.copyFrom(new byte[SIZE])).build();
    switch (kind) {
      case 0 -> {
        int size = blocking.unaryCall(SimpleRequest.newBuilder().setResponseSize(SIZE)
            .setPayload(payload).build()).getPayload().getBody().size();
        check(size == SIZE, "unary response of " + size + " bytes");
      }
      case 1 -> {
        Iterator<StreamingOutputCallResponse> responses =
            blocking.streamingOutputCall(outputRequest(payload, MESSAGES));
        int n = 0;
        while (responses.hasNext()) {
          responses.next();
          n++;
        }
        check(n == MESSAGES, n + " server-streaming responses");
      }
      case 2 -> {
        CompletableFuture<StreamingInputCallResponse> done = new CompletableFuture<>();
        StreamObserver<StreamingInputCallRequest> upload =
            async.streamingInputCall(observer(done, new AtomicLong()));
        for (int i = 0; i < MESSAGES; i++) {
          upload.onNext(StreamingInputCallRequest.newBuilder().setPayload(payload).build());
        }
        upload.onCompleted();
        int size = done.get(90, TimeUnit.SECONDS).getAggregatedPayloadSize();
        check(size == MESSAGES * SIZE, "client-streaming total " + size);
      }
      default -> {
        CompletableFuture<StreamingOutputCallResponse> done = new CompletableFuture<>();
        AtomicLong received = new AtomicLong();
        StreamObserver<StreamingOutputCallRequest> bidi =
            async.fullDuplexCall(observer(done, received));
        for (int i = 0; i < MESSAGES; i++) {
          bidi.onNext(outputRequest(payload, 1));
        }
        bidi.onCompleted();
        done.get(90, TimeUnit.SECONDS);
        check(received.get() == MESSAGES, received.get() + " bidi responses");
      }
    }
  }

  private static StreamingOutputCallRequest outputRequest(Payload payload, int responses) {
    StreamingOutputCallRequest.Builder request =
        StreamingOutputCallRequest.newBuilder().setPayload(payload);
    for (int i = 0; i < responses; i++) {
      request.addResponseParameters(ResponseParameters.newBuilder().setSize(SIZE));
    }
    return request.build();
  }

  private static void check(boolean condition, String what) {
    if (!condition) {
      throw new IllegalStateException("unexpected: " + what);
    }
  }

  private static <T> StreamObserver<T> observer(CompletableFuture<T> done, AtomicLong count) {
    return new StreamObserver<>() {
      private T last;

      @Override
      public void onNext(T value) {
        last = value;
        count.incrementAndGet();
      }

      @Override
      public void onError(Throwable t) {
        done.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {
        done.complete(last);
      }
    };
  }

  /** Counts the server's calls in flight. */
  private final class InFlight extends ServerStreamTracer.Factory {
    @Override
    public ServerStreamTracer newServerStreamTracer(String fullMethodName, Metadata headers) {
      serverCalls.incrementAndGet();
      return new ServerStreamTracer() {
        @Override
        public void streamClosed(Status status) {
          serverCalls.decrementAndGet();
        }
      };
    }
  }
}
