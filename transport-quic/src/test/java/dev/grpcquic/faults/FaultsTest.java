package dev.grpcquic.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grpcquic.testing.ChildJvm;
import dev.grpcquic.testing.ConnectionCounter;
import dev.grpcquic.testing.QuicTestServer;
import dev.grpcquic.testing.TestService;
import dev.grpcquic.testing.TestTls;
import dev.grpcquic.testing.UdpRelay;
import io.grpc.CallOptions;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.net.InetSocketAddress;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Faults outside the protocol: a server process killed (SIGKILL) and restarted, a path that drops
 * everything, a client process killed. Calls end with the status G2 gives them within their
 * deadlines, and nothing is left behind.
 */
@Timeout(180)
class FaultsTest {

  private static ChildJvm childServer(int port) throws Exception {
    TestTls tls = TestTls.get();
    return new ChildJvm(ChildServer.class, String.valueOf(port),
        tls.serverCertChainPem().toString(), tls.serverKeyPem().toString());
  }

  private static byte[] echo(ManagedChannel channel, CallOptions options) {
    return ClientCalls.blockingUnaryCall(channel, TestService.ECHO,
        options.withDeadlineAfter(30, TimeUnit.SECONDS), new byte[] {5});
  }

  /** A HANG call with a deadline; the future completes with the status the client sees. */
  private static CompletableFuture<Status> hang(ManagedChannel channel, long seconds,
      ScheduledExecutorService scheduler) throws Exception {
    Context.CancellableContext context =
        Context.current().withDeadlineAfter(seconds, TimeUnit.SECONDS, scheduler);
    return context.call(() -> TestService.startHang(channel, new Metadata()));
  }

  @Test
  void serverKilledMidCallFailsUnavailableAndARestartedServerServesNewCalls() throws Exception {
    ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    ManagedChannel channel = null;
    ChildJvm server = childServer(0);
    try {
      int port = Integer.parseInt(server.awaitReady(60));
      // A killed process sends no CONNECTION_CLOSE: the client's idle timeout is what ends its
      // connection (the call's deadline, 60 s, would be later).
      channel = QuicTestServer.channelBuilder(port)
          .quicIdleTimeout(3, TimeUnit.SECONDS)
          .build();
      assertEquals(1, echo(channel, CallOptions.DEFAULT).length);
      CompletableFuture<Status> call = hang(channel, 60, scheduler);
      // The call is on the server once a later call on the same connection has come back.
      assertEquals(1, echo(channel, CallOptions.DEFAULT).length);

      server.kill();
      Status status = call.get(60, TimeUnit.SECONDS);
      assertEquals(Status.Code.UNAVAILABLE, status.getCode(), status.toString());

      // Same port, new process: the channel reconnects by itself.
      server = childServer(port);
      server.awaitReady(60);
      assertEquals(1, echo(channel, CallOptions.DEFAULT.withWaitForReady()).length);
    } finally {
      if (channel != null) {
        channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      }
      server.close();
      scheduler.shutdownNow();
    }
  }

  @Test
  void pathThatDropsEverythingEndsCallsWithinTheirDeadlinesAndLeavesNoThread() throws Exception {
    ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    Set<Thread> before = liveThreads();
    try (QuicTestServer server = new QuicTestServer();
        UdpRelay relay = new UdpRelay(new InetSocketAddress("127.0.0.1", server.port()), 1)) {
      ManagedChannel channel = server.track(QuicTestServer.channelBuilder(relay.port())
          .quicIdleTimeout(5, TimeUnit.SECONDS)
          .build());
      assertEquals(1, echo(channel, CallOptions.DEFAULT).length);
      CompletableFuture<Status> inFlight = hang(channel, 4, scheduler);
      assertEquals(1, echo(channel, CallOptions.DEFAULT).length);

      relay.blackhole(true);
      // A call in flight and a new one, each with a 4 s deadline.
      CompletableFuture<Status> fresh = hang(channel, 4, scheduler);
      for (CompletableFuture<Status> call : List.of(inFlight, fresh)) {
        Status status = call.get(30, TimeUnit.SECONDS);
        assertTrue(status.getCode() == Status.Code.DEADLINE_EXCEEDED
            || status.getCode() == Status.Code.UNAVAILABLE, status.toString());
      }
      // A new channel cannot even connect; its call still ends by its deadline.
      ManagedChannel cut = server.track(QuicTestServer.channelBuilder(relay.port()).build());
      try {
        ClientCalls.blockingUnaryCall(cut, TestService.ECHO,
            CallOptions.DEFAULT.withDeadlineAfter(4, TimeUnit.SECONDS), new byte[] {5});
      } catch (StatusRuntimeException e) {
        assertTrue(e.getStatus().getCode() == Status.Code.DEADLINE_EXCEEDED
            || e.getStatus().getCode() == Status.Code.UNAVAILABLE, e.getStatus().toString());
      }
    } finally {
      scheduler.shutdownNow();
    }
    // Channels, server and relay are closed: every thread they started ends.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    Set<String> left;
    do {
      TimeUnit.MILLISECONDS.sleep(100); // polling interval, not synchronisation
      left = newThreads(before);
    } while (!left.isEmpty() && System.nanoTime() - deadline < 0);
    assertTrue(left.isEmpty(), "threads left: " + left);
  }

  private static Set<Thread> liveThreads() {
    return new HashSet<>(Thread.getAllStackTraces().keySet());
  }

  /**
   * Threads started since {@code before}, but for JVM-wide daemon pools created on first use:
   * grpc-java's shared executor and timer (they linger idle) and the send-stall guard's timer.
   */
  private static Set<String> newThreads(Set<Thread> before) {
    return liveThreads().stream()
        .filter(t -> !before.contains(t))
        .map(Thread::getName)
        .filter(name -> !name.startsWith("grpc-default-executor")
            && !name.startsWith("grpc-timer") && !name.startsWith("grpc-shared-destroyer")
            && !name.startsWith("grpc-quic-kwik-send-guard"))
        .collect(Collectors.toSet());
  }

  @Test
  void clientKilledMidCallIsCancelledOnTheServerAndItsConnectionFreed() throws Exception {
    ConnectionCounter connections = new ConnectionCounter();
    try (QuicTestServer server = new QuicTestServer(b -> b
        .quicIdleTimeout(3, TimeUnit.SECONDS)
        .addTransportFilter(connections))) {
      server.service.hangStarted = new java.util.concurrent.CountDownLatch(1);
      try (ChildJvm client = new ChildJvm(ChildClient.class, String.valueOf(server.port()),
          TestTls.get().caPem().toString())) {
        client.awaitReady(60);
        assertTrue(server.service.hangStarted.await(60, TimeUnit.SECONDS));
        assertEquals(1, connections.live());
        client.kill();
      }
      Status seen = server.service.hangEnded.poll(60, TimeUnit.SECONDS);
      assertEquals(Status.Code.CANCELLED, seen.getCode(), String.valueOf(seen));
      assertTrue(connections.await(n -> n == 0, 60, TimeUnit.SECONDS),
          "connections " + connections.live());
    }
  }
}
