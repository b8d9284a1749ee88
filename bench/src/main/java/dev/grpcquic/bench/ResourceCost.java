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

  /**
   * Heap after GC, live threads (in all, and by name with the digits taken out), the process's
   * resident set (VmRSS) and committed heap: RSS minus committed heap is what lives outside the
   * Java heap (thread stacks, direct buffers, quiche's and BoringSSL's malloc, metaspace). It is
   * exact when the committed heap is all resident and fixed: run with equal -Xms and -Xmx and
   * -XX:+AlwaysPreTouch (bench/README.md); otherwise untouched committed pages count against it.
   */
  record Snapshot(long heapBytes, int threads, Map<String, Integer> threadsByName, long rssBytes,
      long committedHeapBytes) {
    static Snapshot take() {
      for (int i = 0; i < 3; i++) {
        System.gc();
      }
      java.lang.management.MemoryUsage usage =
          ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
      Map<String, Integer> byName = new java.util.TreeMap<>();
      for (Thread thread : Thread.getAllStackTraces().keySet()) {
        byName.merge(thread.getName().replaceAll("[0-9a-f]{6,}|[0-9]+", "#"), 1, Integer::sum);
      }
      return new Snapshot(usage.getUsed(), ManagementFactory.getThreadMXBean().getThreadCount(),
          byName, residentBytes(), usage.getCommitted());
    }

    /** Resident memory outside the committed Java heap; negative when RSS is unknown. */
    long outsideHeapBytes() {
      return rssBytes < 0 ? -1 : rssBytes - committedHeapBytes;
    }
  }

  /** VmRSS of /proc/self/status in bytes; -1 where there is no /proc (not Linux). */
  static long residentBytes() {
    try {
      for (String line : java.nio.file.Files.readAllLines(java.nio.file.Paths.get("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (java.io.IOException | RuntimeException e) {
      // not Linux
    }
    return -1;
  }

  /** Open file descriptors of this process (/proc/self/fd); -1 where unknown. */
  static int openFileDescriptors() {
    String[] fds = new java.io.File("/proc/self/fd").list();
    return fds == null ? -1 : fds.length;
  }

  /** The cost of {@code count} things (connections or streams). */
  record Cost(String what, int count, Snapshot before, Snapshot after, String failure,
      int openFds, Cost client) {
    Cost(String what, int count, Snapshot before, Snapshot after, String failure) {
      this(what, count, before, after, failure, openFileDescriptors(), null);
    }

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

    /** Growth of resident memory outside the committed heap, per thing; NaN when unknown. */
    double nativeKibEach() {
      if (before.outsideHeapBytes() < 0 || after.outsideHeapBytes() < 0) {
        return Double.NaN;
      }
      return (after.outsideHeapBytes() - before.outsideHeapBytes()) / 1024.0 / count;
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
        m.put("rssBytesBefore", before.rssBytes());
        m.put("rssBytesAfter", after.rssBytes());
        m.put("committedHeapBytesBefore", before.committedHeapBytes());
        m.put("committedHeapBytesAfter", after.committedHeapBytes());
        m.put("nativeKibEach", nativeKibEach());
        m.put("openFileDescriptorsAfter", openFds);
        m.put("threadsAddedByName", threadsAdded());
      }
      if (client != null) {
        m.put("client", client.toMap());
      }
      return m;
    }
  }

  private ResourceCost() {}

  /**
   * {@code count} channels to one server, each with one finished call: idle connections. The
   * clients run in a child process ({@link IdleClients}), so this process's figures are the
   * server's alone; the child's own figures are the {@link Cost#client()} side.
   */
  static Cost idleConnections(Transport transport, TlsFiles tls, int count) throws Exception {
    int threadsAtStart = ManagementFactory.getThreadMXBean().getThreadCount();
    // QUIC servers refuse connections beyond maxConnections (1000 by default); idle QUIC
    // connections end at the idle timeout (the clients send no keepalive), so their 1 h applies.
    Server server = GrpcEndpoint.startServer(transport, tls, 0,
        b -> b.maxConnections(count + 16).quicIdleTimeout(1, TimeUnit.HOURS));
    Process clients = null;
    try {
      List<String> command = new ArrayList<>();
      command.add(ProcessHandle.current().info().command().orElse("java"));
      // The same heap settings as this JVM (bench/README.md: fixed and pre-touched).
      for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
        if (arg.startsWith("-Xm") || arg.startsWith("-XX:")) {
          command.add(arg);
        }
      }
      command.addAll(List.of("-cp", System.getProperty("java.class.path"),
          IdleClients.class.getName(), "--transport", transport.name(),
          "--port", Integer.toString(GrpcEndpoint.port(server)), "--count", Integer.toString(count),
          "--tls", tls.dir.toString()));
      clients = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
      java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(
          clients.getInputStream(), java.nio.charset.StandardCharsets.UTF_8));
      java.io.Writer in = new java.io.OutputStreamWriter(clients.getOutputStream(),
          java.nio.charset.StandardCharsets.UTF_8);
      // One connection first, so that shared pools and classes are in the baseline.
      String line = out.readLine();
      if (!"first".equals(line)) {
        return new Cost("idle connection", count, null, null, "client process: " + line);
      }
      Snapshot before = Snapshot.take();
      in.write("go\n");
      in.flush();
      line = out.readLine();
      if (line == null || line.startsWith("failed")) {
        return new Cost("idle connection", count, null, null, "client process: " + line);
      }
      Snapshot after = Snapshot.take();
      int serverFds = openFileDescriptors();
      String[] c = out.readLine().split(" ");
      long[] v = new long[c.length - 1];
      for (int i = 1; i < c.length; i++) {
        v[i - 1] = Long.parseLong(c[i]);
      }
      Cost client = new Cost("idle connection (client process)", count,
          new Snapshot(v[0], (int) v[6], Map.of(), v[2], v[4]),
          new Snapshot(v[1], (int) v[7], Map.of(), v[3], v[5]), null, (int) v[8], null);
      return new Cost("idle connection", count, before, after, null, serverFds, client);
    } catch (Exception | OutOfMemoryError e) {
      return new Cost("idle connection", count, null, null, e.toString());
    } finally {
      if (clients != null) {
        clients.getOutputStream().close();
        if (!clients.waitFor(60, TimeUnit.SECONDS)) {
          clients.destroyForcibly();
        }
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
