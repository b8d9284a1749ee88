package dev.grpcquic.bench;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerStreamTracer;
import io.grpc.Status;
import io.grpc.stub.ClientCalls;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Where a blocking 1 KiB unary call's time goes, leg by leg, per transport on loopback: the same
 * points on every transport, seen from grpc-core's side of it (interceptors and a server stream
 * tracer), so the split needs no change to any transport.
 *
 * <ul>
 *   <li>request: from the call's start until the server transport has the request's headers
 *       (it asks the server's stream tracer factory for the call's tracer): client grpc-core,
 *       client transport, the packets, server transport;
 *   <li>server hop: until the server's interceptor sees the call on an executor thread;
 *   <li>server grpc-core: until the unary handler runs (half-close: the request's message and
 *       end were delivered);
 *   <li>handler: until it closes the call;
 *   <li>response: from the close until the client's listener sees it (server transport, the
 *       packets, client transport, the hop to the calling thread).
 * </ul>
 *
 * <pre>java -cp bench/target/benchmarks.jar dev.grpcquic.bench.UnaryLegsBench [--rounds 2]
 *     [--calls 6000] [--only NETTY_TLS,QUIC_QUICHE,QUIC]</pre>
 */
public final class UnaryLegsBench {
  private static final String[] LEGS =
      {"whole call", "request", "server hop", "server grpc-core", "handler", "response"};

  /** The call being measured, or -1 (warm-up); set by the calling thread only. */
  private static volatile int current = -1;

  private UnaryLegsBench() {}

  public static void main(String[] args) throws Exception {
    LoopOptions options = LoopOptions.parse(args, 6000);
    System.out.print("| round | transport |");
    for (String leg : LEGS) {
      System.out.print(" " + leg + " p50 (p90) µs |");
    }
    System.out.println();
    System.out.println("|---|---|" + "---|".repeat(LEGS.length));
    try (TlsFiles tls = TlsFiles.create()) {
      for (int round = 1; round <= options.rounds(); round++) {
        for (Transport t : options.transports()) {
          System.out.printf(Locale.ROOT, "| %d | %s |%s%n", round, t.label,
              measure(t, tls, options.calls()));
        }
      }
    }
    System.out.printf(Locale.ROOT, "load average %.1f%n", java.lang.management.ManagementFactory
        .getOperatingSystemMXBean().getSystemLoadAverage());
    System.exit(0); // kwik's connector threads are not daemons
  }

  private static String measure(Transport t, TlsFiles tls, int calls) throws Exception {
    Points points = new Points(calls);
    Server server = GrpcEndpoint.serverBuilder(t, tls, new InetSocketAddress("127.0.0.1", 0))
        .addStreamTracerFactory(new ServerStreamTracer.Factory() {
          @Override
          public ServerStreamTracer newServerStreamTracer(String method, Metadata headers) {
            points.once(Points.HANDED_OVER);
            return new ServerStreamTracer() {};
          }
        })
        .intercept(points.serverSide())
        .build()
        .start();
    ManagedChannel channel =
        GrpcEndpoint.channelBuilder(t, tls, "127.0.0.1", GrpcEndpoint.port(server)).build();
    try {
      Channel observed = ClientInterceptors.intercept(channel, points.clientSide());
      byte[] request = new byte[BenchService.UNARY_SIZE];
      for (int i = 0; i < Math.min(calls, 3000); i++) {
        ClientCalls.blockingUnaryCall(observed, BenchService.UNARY, CallOptions.DEFAULT, request);
      }
      for (int i = 0; i < calls; i++) {
        points.at[Points.START][i] = System.nanoTime();
        current = i;
        ClientCalls.blockingUnaryCall(observed, BenchService.UNARY, CallOptions.DEFAULT, request);
        current = -1;
      }
      StringBuilder row = new StringBuilder();
      for (int leg = 0; leg < LEGS.length; leg++) {
        long[] micros = points.leg(leg == 0 ? Points.START : leg - 1,
            leg == 0 ? Points.CLIENT_CLOSED : leg);
        row.append(String.format(Locale.ROOT, " %d (%d) |", micros[0], micros[1]));
      }
      return row.toString();
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** Timestamps of each measured call at each point, in the order the call passes them. */
  private static final class Points {
    static final int START = 0;
    static final int HANDED_OVER = 1;
    static final int SERVER_STARTED = 2;
    static final int HALF_CLOSED = 3;
    static final int SERVER_CLOSED = 4;
    static final int CLIENT_CLOSED = 5;

    final long[][] at;

    Points(int calls) {
      at = new long[6][calls];
    }

    /** Marks the point for the current call if it was not marked yet (later tasks of it pass). */
    void once(int point) {
      int call = current;
      if (call >= 0 && at[point][call] == 0) {
        at[point][call] = System.nanoTime();
      }
    }

    long[] leg(int from, int to) {
      long[] nanos = new long[at[0].length];
      for (int i = 0; i < nanos.length; i++) {
        nanos[i] = at[to][i] - at[from][i];
      }
      Arrays.sort(nanos);
      return new long[] {nanos[nanos.length / 2] / 1000, nanos[nanos.length * 9 / 10] / 1000};
    }

    ServerInterceptor serverSide() {
      return new ServerInterceptor() {
        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call,
            Metadata headers, ServerCallHandler<Q, R> next) {
          once(SERVER_STARTED);
          ServerCall<Q, R> closing = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
              once(SERVER_CLOSED);
              super.close(status, trailers);
            }
          };
          return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(
              next.startCall(closing, headers)) {
            @Override
            public void onHalfClose() {
              once(HALF_CLOSED);
              super.onHalfClose();
            }
          };
        }
      };
    }

    ClientInterceptor clientSide() {
      return new ClientCloseHook(call -> once(CLIENT_CLOSED));
    }
  }
}
