package dev.grpcquic.bench;

import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The clients of {@link ResourceCost#idleConnections}, in a process of their own so that the
 * server's process counts only the server's side: {@code java -cp benchmarks.jar
 * dev.grpcquic.bench.IdleClients --transport T --port P --count N --tls DIR}. Opens one channel
 * with one call and prints {@code first}; on a line from stdin opens N more channels (one call
 * each), checks that all are still READY and prints {@code open} and its own snapshots
 * ({@code client heapBefore heapAfter rssBefore rssAfter committedBefore committedAfter
 * threadsBefore threadsAfter openFiles}), or {@code failed <reason>}; exits when stdin closes.
 */
public final class IdleClients {
  /** Keepalive PINGs of the TCP channels (as before this runner split clients off). */
  private static final Duration KEEPALIVE = Duration.ofSeconds(10);
  /**
   * QUIC's idle timeout on both ends (the server's is set to match): opening thousands takes
   * minutes, longer than the default 30 s, and the quiche engine sends no keepalive PING.
   */
  private static final Duration QUIC_IDLE_TIMEOUT = Duration.ofHours(1);

  private IdleClients() {}

  private static ManagedChannel channel(Transport transport, TlsFiles tls, int port)
      throws java.io.IOException {
    if (transport == Transport.QUIC || transport == Transport.QUIC_QUICHE) {
      return GrpcEndpoint.quicChannelBuilder(tls, "127.0.0.1", port)
          .engine(GrpcEndpoint.engine(transport))
          .quicIdleTimeout(QUIC_IDLE_TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
          .build();
    }
    return GrpcEndpoint.newChannel(transport, tls, port, 0, KEEPALIVE);
  }

  public static void main(String[] args) throws Exception {
    Transport transport = null;
    int port = 0;
    int count = 0;
    String tlsDir = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--transport" -> transport = Transport.valueOf(args[++i]);
        case "--port" -> port = Integer.parseInt(args[++i]);
        case "--count" -> count = Integer.parseInt(args[++i]);
        case "--tls" -> tlsDir = args[++i];
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    TlsFiles tls = TlsFiles.in(Paths.get(tlsDir));
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    List<ManagedChannel> channels = new ArrayList<>();
    try {
      ManagedChannel first = channel(transport, tls, port);
      channels.add(first);
      GrpcBench.unary(first);
      System.out.println("first");
      System.out.flush();
      if (in.readLine() == null) {
        return;
      }
      ResourceCost.Snapshot before = ResourceCost.Snapshot.take();
      String failure = null;
      try {
        for (int i = 0; i < count; i++) {
          ManagedChannel channel = channel(transport, tls, port);
          channels.add(channel);
          GrpcBench.unary(channel);
          if ((i + 1) % Math.max(250, count / 10) == 0) {
            Progress.log("%s: %d connections open", transport.label, i + 1);
          }
        }
        for (ManagedChannel channel : channels) {
          if (channel.getState(false) != ConnectivityState.READY) {
            failure = "a channel was " + channel.getState(false) + " after opening all";
            break;
          }
        }
      } catch (RuntimeException | java.io.IOException | OutOfMemoryError e) {
        failure = "after " + (channels.size() - 1) + " connections: " + e;
      }
      if (failure != null) {
        System.out.println("failed " + failure.replace('\n', ' '));
      } else {
        ResourceCost.Snapshot after = ResourceCost.Snapshot.take();
        System.out.println(String.format(Locale.ROOT, "open%nclient %d %d %d %d %d %d %d %d %d",
            before.heapBytes(), after.heapBytes(), before.rssBytes(), after.rssBytes(),
            before.committedHeapBytes(), after.committedHeapBytes(), before.threads(),
            after.threads(), ResourceCost.openFileDescriptors()));
      }
      System.out.flush();
      while (in.readLine() != null) {
        // the runner closes stdin when it has measured
      }
    } finally {
      channels.forEach(ManagedChannel::shutdownNow);
      System.exit(0);
    }
  }
}
