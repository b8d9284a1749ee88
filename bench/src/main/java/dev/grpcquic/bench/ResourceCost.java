package dev.grpcquic.bench;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * What idle connections and open streams cost: heap after GC and live threads, before and after
 * opening them, client and server in the same JVM (so each figure is both sides together).
 */
final class ResourceCost {

  /** Heap after GC and live threads (in all, and by name with the digits taken out). */
  record Snapshot(long heapBytes, int threads, Map<String, Integer> threadsByName) {
    static Snapshot take() {
      for (int i = 0; i < 3; i++) {
        System.gc();
      }
      long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
      Map<String, Integer> byName = new java.util.TreeMap<>();
      for (Thread thread : Thread.getAllStackTraces().keySet()) {
        byName.merge(thread.getName().replaceAll("[0-9a-f]{6,}|[0-9]+", "#"), 1, Integer::sum);
      }
      return new Snapshot(heap, ManagementFactory.getThreadMXBean().getThreadCount(), byName);
    }
  }

  /** The cost of {@code count} things (connections or streams). */
  record Cost(String what, int count, Snapshot before, Snapshot after, String failure) {
    double heapKibEach() {
      return (after.heapBytes() - before.heapBytes()) / 1024.0 / count;
    }

    /** Thread names (digits as #) whose count grew, with the growth, largest first. */
    Map<String, Integer> threadsAdded() {
      Map<String, Integer> added = new LinkedHashMap<>();
      after.threadsByName().entrySet().stream()
          .map(e -> Map.entry(e.getKey(),
              e.getValue() - before.threadsByName().getOrDefault(e.getKey(), 0)))
          .filter(e -> e.getValue() > 0)
          .sorted((a, b) -> b.getValue() - a.getValue())
          .forEach(e -> added.put(e.getKey(), e.getValue()));
      return added;
    }

    double threadsEach() {
      return (after.threads() - before.threads()) / (double) count;
    }

    Map<String, Object> toMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("what", what);
      m.put("count", count);
      if (failure != null) {
        m.put("failure", failure);
      }
      if (after != null) {
        m.put("heapBytesBefore", before.heapBytes());
        m.put("heapBytesAfter", after.heapBytes());
        m.put("threadsBefore", before.threads());
        m.put("threadsAfter", after.threads());
        m.put("heapKibEach", heapKibEach());
        m.put("threadsEach", threadsEach());
        m.put("threadsAddedByName", threadsAdded());
      }
      return m;
    }
  }

  /**
   * Keepalive of the idle connections: opening a thousand takes minutes, longer than QUIC's 30 s
   * idle timeout, and an idle connection that is meant to stay open needs one.
   */
  private static final java.time.Duration KEEPALIVE = java.time.Duration.ofSeconds(10);

  private ResourceCost() {}

  /** {@code count} channels to one server, each with one finished call: idle connections. */
  static Cost idleConnections(Transport transport, TlsFiles tls, int count) throws Exception {
    int threadsAtStart = ManagementFactory.getThreadMXBean().getThreadCount();
    Server server = GrpcEndpoint.startServer(transport, tls, 0);
    List<ManagedChannel> channels = new ArrayList<>();
    try {
      // One connection first, so that shared pools and classes are in the baseline.
      ManagedChannel first =
          GrpcEndpoint.newChannel(transport, tls, GrpcEndpoint.port(server), 0, KEEPALIVE);
      channels.add(first);
      GrpcBench.unary(first);
      Snapshot before = Snapshot.take();
      for (int i = 0; i < count; i++) {
        ManagedChannel channel =
            GrpcEndpoint.newChannel(transport, tls, GrpcEndpoint.port(server), 0, KEEPALIVE);
        channels.add(channel);
        GrpcBench.unary(channel);
        if ((i + 1) % 250 == 0) {
          Progress.log("%s: %d connections open", transport.label, i + 1);
        }
      }
      Snapshot after = Snapshot.take();
      // Every connection must still be open.
      for (ManagedChannel channel : channels) {
        if (channel.getState(false) != io.grpc.ConnectivityState.READY) {
          return new Cost("idle connection", count, null, null,
              "a channel was " + channel.getState(false) + " after opening all");
        }
      }
      return new Cost("idle connection", count, before, after, null);
    } catch (Exception | OutOfMemoryError e) {
      return new Cost("idle connection", count, null, null, e.toString());
    } finally {
      for (ManagedChannel channel : channels) {
        channel.shutdownNow();
      }
      for (ManagedChannel channel : channels) {
        channel.awaitTermination(10, TimeUnit.SECONDS);
      }
      server.shutdownNow().awaitTermination(30, TimeUnit.SECONDS);
      awaitThreadsBelow(threadsAtStart + 50);
    }
  }

  /**
   * Threads of closed connections end a little after the close; the next measurement's baseline
   * must not count them. Waits (at most a minute) until fewer than {@code limit} are alive.
   */
  private static void awaitThreadsBelow(int limit) {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (ManagementFactory.getThreadMXBean().getThreadCount() > limit
        && System.nanoTime() < until) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
    }
  }

  /** {@code count} open calls (HOLD: server streaming, nothing sent) on one connection. */
  static Cost openStreams(Transport transport, TlsFiles tls, int count) throws Exception {
    int threadsAtStart = ManagementFactory.getThreadMXBean().getThreadCount();
    int limit = count + 16;
    Server server = GrpcEndpoint.startServer(transport, tls, limit);
    ManagedChannel channel =
        GrpcEndpoint.newChannel(transport, tls, GrpcEndpoint.port(server), limit, null);
    List<ClientCall<byte[], byte[]>> calls = new ArrayList<>();
    try {
      GrpcBench.unary(channel);
      Snapshot before = Snapshot.take();
      int heldBefore = BenchService.HELD.get();
      for (int i = 0; i < count; i++) {
        ClientCall<byte[], byte[]> call = channel.newCall(BenchService.HOLD, CallOptions.DEFAULT);
        call.start(new ClientCall.Listener<>() { }, new Metadata());
        call.request(1);
        call.sendMessage(new byte[0]);
        call.halfClose();
        calls.add(call);
      }
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
      while (BenchService.HELD.get() - heldBefore < count && System.nanoTime() < until) {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
      }
      int open = BenchService.HELD.get() - heldBefore;
      if (open < count) {
        return new Cost("open stream", count, null, null,
            "only " + open + " of " + count + " calls reached the server in 180 s");
      }
      Progress.log("%s: %d calls open on one connection", transport.label, count);
      return new Cost("open stream", count, before, Snapshot.take(), null);
    } catch (Exception | OutOfMemoryError e) {
      return new Cost("open stream", count, null, null, e.toString());
    } finally {
      for (ClientCall<byte[], byte[]> call : calls) {
        call.cancel("done", null);
      }
      channel.shutdownNow().awaitTermination(30, TimeUnit.SECONDS);
      server.shutdownNow().awaitTermination(30, TimeUnit.SECONDS);
      awaitThreadsBelow(threadsAtStart + 50);
    }
  }
}
