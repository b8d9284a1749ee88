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
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
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
 * <p>A second table takes the slowest 1 % of calls apart the same way (the median of each leg
 * among them: which leg makes the p99), beside what the whole loop spent waiting for a core
 * ({@link RunQueueWait}) and in garbage collection.
 *
 * <pre>java -cp bench/target/benchmarks.jar dev.grpcquic.bench.UnaryLegsBench [--rounds 2]
 *     [--calls 6000] [--only NETTY_TLS,QUIC_QUICHE,QUIC] [--pause-micros 0]</pre>
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
    StringBuilder tails = new StringBuilder();
    try (TlsFiles tls = TlsFiles.create()) {
      for (int round = 1; round <= options.rounds(); round++) {
        for (Transport t : options.transports()) {
          String[] rows = measure(t, tls, options);
          System.out.printf(Locale.ROOT, "| %d | %s |%s%n", round, t.label, rows[0]);
          tails.append(String.format(Locale.ROOT, "| %d | %s |%s%n", round, t.label, rows[1]));
        }
      }
    }
    System.out.print("\nThe slowest 1 % of calls\n\n| round | transport | whole call p99 µs |");
    for (String leg : LEGS) {
      System.out.print(" " + leg + " |");
    }
    System.out.println(" waiting for a core, µs per call (most: group) | GC pauses (ms) |");
    System.out.println("|---|---|---|" + "---|".repeat(LEGS.length) + "---|---|");
    System.out.print(tails);
    System.out.printf(Locale.ROOT, "load average %.1f%n", ManagementFactory
        .getOperatingSystemMXBean().getSystemLoadAverage());
    System.exit(0); // kwik's connector threads are not daemons
  }

  /** The legs' row and the slowest calls' row of one transport. */
  private static String[] measure(Transport t, TlsFiles tls, LoopOptions options)
      throws Exception {
    int calls = options.calls();
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
      Map<String, Long> waitedBefore = RunQueueWait.byGroup();
      long[] gcBefore = gcPauses();
      for (int i = 0; i < calls; i++) {
        options.pause();
        points.at[Points.START][i] = System.nanoTime();
        current = i;
        ClientCalls.blockingUnaryCall(observed, BenchService.UNARY, CallOptions.DEFAULT, request);
        current = -1;
      }
      long[] gcAfter = gcPauses();
      Map<String, Long> waitedAfter = RunQueueWait.byGroup();
      StringBuilder row = new StringBuilder();
      StringBuilder tail = new StringBuilder();
      long p99 = points.wholeCallAt(0.99);
      boolean[] slowest = points.wholeCallAtLeast(p99);
      tail.append(String.format(Locale.ROOT, " %d |", p99 / 1000));
      for (int leg = 0; leg < LEGS.length; leg++) {
        int from = leg == 0 ? Points.START : leg - 1;
        int to = leg == 0 ? Points.CLIENT_CLOSED : leg;
        long[] micros = points.leg(from, to);
        row.append(String.format(Locale.ROOT, " %d (%d) |", micros[0], micros[1]));
        tail.append(String.format(Locale.ROOT, " %d |", points.median(from, to, slowest)));
      }
      Map<String, Long> waited = ThreadCpu.since(waitedBefore, waitedAfter); // largest first
      long waitedTotal = waited.values().stream().mapToLong(Long::longValue).sum();
      String most = waited.entrySet().stream().findFirst()
          .map(e -> String.format(Locale.ROOT, "%.1f: %s", e.getValue() / 1000.0 / calls,
              e.getKey()))
          .orElse("-");
      tail.append(String.format(Locale.ROOT, " %.1f (%s) | %d (%d) |",
          waitedTotal / 1000.0 / calls, most, gcAfter[0] - gcBefore[0], gcAfter[1] - gcBefore[1]));
      return new String[] {row.toString(), tail.toString()};
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** Collections so far and their time in milliseconds, over every collector. */
  private static long[] gcPauses() {
    long count = 0;
    long millis = 0;
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      count += Math.max(0, gc.getCollectionCount());
      millis += Math.max(0, gc.getCollectionTime());
    }
    return new long[] {count, millis};
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
      long[] nanos = durations(from, to);
      Arrays.sort(nanos);
      return new long[] {nanos[nanos.length / 2] / 1000, nanos[nanos.length * 9 / 10] / 1000};
    }

    long[] durations(int from, int to) {
      long[] nanos = new long[at[0].length];
      for (int i = 0; i < nanos.length; i++) {
        nanos[i] = at[to][i] - at[from][i];
      }
      return nanos;
    }

    /** The whole call's duration at quantile {@code p} (nearest rank), in nanoseconds. */
    long wholeCallAt(double p) {
      long[] whole = durations(START, CLIENT_CLOSED);
      Arrays.sort(whole);
      return whole[(int) (whole.length * p)];
    }

    /** Which calls took at least {@code nanos} in all. */
    boolean[] wholeCallAtLeast(long nanos) {
      long[] whole = durations(START, CLIENT_CLOSED);
      boolean[] slow = new boolean[whole.length];
      for (int i = 0; i < whole.length; i++) {
        slow[i] = whole[i] >= nanos;
      }
      return slow;
    }

    /** The median of one leg among the chosen calls, in microseconds. */
    long median(int from, int to, boolean[] chosen) {
      long[] all = durations(from, to);
      long[] picked = new long[all.length];
      int n = 0;
      for (int i = 0; i < all.length; i++) {
        if (chosen[i]) {
          picked[n++] = all[i];
        }
      }
      Arrays.sort(picked, 0, n);
      return n == 0 ? 0 : picked[n / 2] / 1000;
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
