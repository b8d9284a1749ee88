package dev.grpcquic.interop;

import dev.grpcquic.QuicAttributes;
import dev.grpcquic.QuicChannelBuilder;
import dev.grpcquic.QuicEngine;
import dev.grpcquic.QuicEngines;
import dev.grpcquic.QuicServerBuilder;
import dev.grpcquic.certs.CertificateGenerator;
import dev.grpcquic.certs.DevCertificates;
import dev.grpcquic.stats.QuicConnectionStats;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.stub.StreamObserver;
import io.grpc.testing.protobuf.SimpleRequest;
import io.grpc.testing.protobuf.SimpleResponse;
import io.grpc.testing.protobuf.SimpleServiceGrpc;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * The README's first command: a QUIC gRPC server and client on 127.0.0.1, one call of each kind,
 * each call's latency and the protocol that carried it, and the connection's RTT and packet
 * counts. The server also serves HTTP/2 + TLS on TCP ({@code alsoServeTcp}) and the channel is
 * "QUIC preferred" ({@code tcpFallback}); a last call goes to a server whose UDP port drops
 * everything, and travels over TCP. {@code --engine=quiche} runs both ends on the quiche engine
 * (default kwik).
 *
 * <p>Flags: {@code --metrics=print} prints the transport's and grpc-java's OpenTelemetry metrics
 * (Prometheus text) at exit; {@code --metrics=prometheus} serves them for scraping on
 * 127.0.0.1:{@code --metrics-port} (default 9464) and keeps serving for {@code --linger} seconds
 * (default 60) after the calls.
 */
public final class Demo {
  private Demo() {}

  public static void main(String[] args) throws Exception {
    java.util.Map<String, String> flags =
        Flags.parse(args, "engine", "metrics", "metrics-port", "linger");
    QuicEngine engine = QuicEngines.named(flags.getOrDefault("engine", "kwik"));
    String metricsMode = flags.get("metrics");
    if (metricsMode != null && !metricsMode.equals("print") && !metricsMode.equals("prometheus")) {
      throw new IllegalArgumentException("--metrics=print or --metrics=prometheus");
    }
    DemoMetrics metrics = metricsMode == null ? null : new DemoMetrics(
        Integer.parseInt(flags.getOrDefault("metrics-port",
            metricsMode.equals("print") ? "0" : "9464")));
    Path certDir = Files.createTempDirectory("grpc-quic-demo");
    DevCertificates certificates = CertificateGenerator.generate();
    certificates.writePem(certDir);
    QuicServerBuilder serverBuilder =
        QuicServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .engine(engine)
        .useTransportSecurity(certDir.resolve("server.pem").toFile(),
            certDir.resolve("server.key").toFile())
        .addService(new DemoService())
        .alsoServeTcp(true);
    if (metrics != null) {
      metrics.configure(serverBuilder);
    }
    Server server = serverBuilder.build().start();
    int port = ((InetSocketAddress) server.getListenSockets().get(0)).getPort();
    System.out.println("QUIC gRPC server on 127.0.0.1:" + port + " (UDP, HTTP/3, TLS 1.3, "
        + engine.name() + " engine), HTTP/2 + TLS on TCP port " + port);

    AtomicReference<Supplier<QuicConnectionStats>> stats = new AtomicReference<>();
    QuicChannelBuilder channelBuilder = QuicChannelBuilder.forAddress("127.0.0.1", port)
        .engine(engine)
        .overrideAuthority("localhost") // the certificate's DNS name
        .trustCertificates(certDir.resolve("ca.pem").toFile())
        .tcpFallback(true); // QUIC preferred, HTTP/2 over TCP when QUIC cannot connect
    if (metrics != null) {
      metrics.configure(channelBuilder);
    }
    ManagedChannel channel = channelBuilder.build();
    try {
      Channel observed = ClientInterceptors.intercept(channel, new StatsCapture(stats));
      SimpleServiceGrpc.SimpleServiceBlockingStub blocking =
          SimpleServiceGrpc.newBlockingStub(observed);
      SimpleServiceGrpc.SimpleServiceStub async = SimpleServiceGrpc.newStub(observed);

      // The first call pays for the handshake; time it apart from the others.
      long start = System.nanoTime();
      SimpleResponse first = blocking.unaryRpc(request("hello"));
      report("unary (with handshake)", start, first.getResponseMessage());

      start = System.nanoTime();
      SimpleResponse unary = blocking.unaryRpc(request("hello again"));
      report("unary", start, unary.getResponseMessage());

      start = System.nanoTime();
      Iterator<SimpleResponse> stream = blocking.serverStreamingRpc(request("count to 5"));
      int received = 0;
      while (stream.hasNext()) {
        stream.next();
        received++;
      }
      report("server streaming", start, received + " responses");

      start = System.nanoTime();
      CompletableFuture<SimpleResponse> total = new CompletableFuture<>();
      StreamObserver<SimpleRequest> upload = async.clientStreamingRpc(observer(total));
      for (int i = 0; i < 5; i++) {
        upload.onNext(request("part " + i));
      }
      upload.onCompleted();
      report("client streaming", start, total.get(10, TimeUnit.SECONDS).getResponseMessage());

      start = System.nanoTime();
      CompletableFuture<SimpleResponse> lastEcho = new CompletableFuture<>();
      StreamObserver<SimpleRequest> bidi = async.bidiStreamingRpc(observer(lastEcho));
      for (int i = 0; i < 5; i++) {
        bidi.onNext(request("ping " + i));
      }
      bidi.onCompleted();
      report("bidi streaming", start, lastEcho.get(10, TimeUnit.SECONDS).getResponseMessage());

      Supplier<QuicConnectionStats> quicStats = stats.get();
      if (quicStats != null && quicStats.get() != null) {
        QuicConnectionStats s = quicStats.get();
        String variance = s.rttVarianceMillis() < 0 ? "" // quiche does not report it
            : " (variance " + s.rttVarianceMillis() + " ms)";
        System.out.printf("connection: smoothed RTT %d ms%s, %d packets sent, "
                + "%d lost, %d datagrams, %d bytes sent%n",
            s.smoothedRttMillis(), variance, s.packetsSent(), s.packetsLost(),
            s.datagramsSent(), s.bytesSent());
      }
      udpBlackHoled(certDir);
      if (metrics != null && metricsMode.equals("prometheus")) {
        int linger = Integer.parseInt(flags.getOrDefault("linger", "60"));
        System.out.println("metrics: curl " + metrics.url() + "   (serving for " + linger
            + " s; Ctrl-C ends)");
        Thread.sleep(TimeUnit.SECONDS.toMillis(linger));
      }
    } finally {
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      if (metrics != null) {
        if (metricsMode.equals("print")) {
          System.out.println();
          // Histogram buckets left out: counts and sums are what a reader of the demo wants.
          metrics.scrape().lines().filter(line -> !line.contains("_bucket{"))
              .forEach(System.out::println);
        }
        metrics.close();
      }
      try (var files = Files.list(certDir)) {
        for (Path file : (Iterable<Path>) files::iterator) {
          Files.delete(file);
        }
      }
      Files.delete(certDir);
    }
  }

  /**
   * A server whose UDP port reads and drops every datagram (as a firewall that blocks UDP would)
   * and that serves HTTP/2 + TLS on the TCP port: the channel's first call goes over TCP once
   * QUIC has had its head start.
   */
  private static void udpBlackHoled(Path certDir) throws Exception {
    Server tcpOnly = io.grpc.netty.NettyServerBuilder.forAddress(
            new InetSocketAddress("127.0.0.1", 0),
            io.grpc.TlsServerCredentials.create(certDir.resolve("server.pem").toFile(),
                certDir.resolve("server.key").toFile()))
        .addService(new DemoService())
        .build()
        .start();
    int port = ((InetSocketAddress) tcpOnly.getListenSockets().get(0)).getPort();
    ManagedChannel channel = null;
    try (java.net.DatagramSocket hole = new java.net.DatagramSocket(
        new InetSocketAddress("127.0.0.1", port))) {
      Thread drop = new Thread(() -> {
        byte[] buffer = new byte[2048];
        while (!hole.isClosed()) {
          try {
            hole.receive(new java.net.DatagramPacket(buffer, buffer.length));
          } catch (java.io.IOException e) {
            return;
          }
        }
      }, "demo-udp-black-hole");
      drop.setDaemon(true);
      drop.start();
      System.out.println("server on 127.0.0.1:" + port + " with UDP black-holed, HTTP/2 on TCP:");
      channel = QuicChannelBuilder.forAddress("127.0.0.1", port)
          .overrideAuthority("localhost")
          .trustCertificates(certDir.resolve("ca.pem").toFile())
          .tcpFallback(true)
          .build();
      Channel observed = ClientInterceptors.intercept(channel,
          new StatsCapture(new AtomicReference<>()));
      long start = System.nanoTime();
      SimpleResponse first = SimpleServiceGrpc.newBlockingStub(observed)
          .unaryRpc(request("hello over whatever works"));
      report("unary (with handshakes)", start, first.getResponseMessage());
    } finally {
      if (channel != null) {
        channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      }
      tcpOnly.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  private static SimpleRequest request(String text) {
    return SimpleRequest.newBuilder().setRequestMessage(text).build();
  }

  /** The protocol of the last call that received headers (calls here run one at a time). */
  private static final AtomicReference<String> LAST_PROTOCOL = new AtomicReference<>("?");

  private static void report(String call, long startNanos, String result) {
    double micros = (System.nanoTime() - startNanos) / 1000.0;
    System.out.printf("%-24s %9.0f us  %s  %s%n", call, micros, LAST_PROTOCOL.get(), result);
  }

  private static <T> StreamObserver<T> observer(CompletableFuture<T> last) {
    return new StreamObserver<>() {
      T value;

      @Override
      public void onNext(T v) {
        value = v;
      }

      @Override
      public void onError(Throwable t) {
        last.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {
        last.complete(value);
      }
    };
  }

  /** The demo's service: answers every kind of call. */
  private static final class DemoService extends SimpleServiceGrpc.SimpleServiceImplBase {
    @Override
    public void unaryRpc(SimpleRequest request, StreamObserver<SimpleResponse> responses) {
      responses.onNext(response("echo: " + request.getRequestMessage()));
      responses.onCompleted();
    }

    @Override
    public void serverStreamingRpc(SimpleRequest request,
        StreamObserver<SimpleResponse> responses) {
      for (int i = 1; i <= 5; i++) {
        responses.onNext(response(Integer.toString(i)));
      }
      responses.onCompleted();
    }

    @Override
    public StreamObserver<SimpleRequest> clientStreamingRpc(
        StreamObserver<SimpleResponse> responses) {
      return new StreamObserver<>() {
        int parts;

        @Override
        public void onNext(SimpleRequest value) {
          parts++;
        }

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {
          responses.onNext(response("received " + parts + " parts"));
          responses.onCompleted();
        }
      };
    }

    @Override
    public StreamObserver<SimpleRequest> bidiStreamingRpc(
        StreamObserver<SimpleResponse> responses) {
      return new StreamObserver<>() {
        @Override
        public void onNext(SimpleRequest value) {
          responses.onNext(response("pong for " + value.getRequestMessage()));
        }

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {
          responses.onCompleted();
        }
      };
    }

    private static SimpleResponse response(String text) {
      return SimpleResponse.newBuilder().setResponseMessage(text).build();
    }
  }

  /** Keeps the connection statistics handle and protocol that the transport puts on each call. */
  private static final class StatsCapture implements ClientInterceptor {
    private final AtomicReference<Supplier<QuicConnectionStats>> stats;

    StatsCapture(AtomicReference<Supplier<QuicConnectionStats>> stats) {
      this.stats = stats;
    }

    @Override
    public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
        MethodDescriptor<ReqT, RespT> method, CallOptions options, Channel next) {
      return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
        @Override
        public void start(Listener<RespT> listener, Metadata headers) {
          ClientCall<ReqT, RespT> call = this;
          super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(
              listener) {
            @Override
            public void onHeaders(Metadata responseHeaders) {
              stats.set(call.getAttributes().get(QuicAttributes.CONNECTION_STATS));
              LAST_PROTOCOL.set(call.getAttributes().get(QuicAttributes.TRANSPORT_PROTOCOL));
              super.onHeaders(responseHeaders);
            }
          }, headers);
        }
      };
    }
  }
}
