package dev.grpcquic.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.grpcquic.testing.QuicTestServer;
import dev.grpcquic.testing.TestService;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * grpc-core's {@code Server.getListenSockets()} asks the transport server for its address under
 * grpc-core's lock, the lock that a new connection's transportCreated takes while the transport
 * server accepts it. The address must not wait for the transport server's own lock: it did, and
 * the caller and the engine's accepting thread deadlocked (seen in FlupkeClientToQuicServerTest:
 * the test's thread in getListenSockets, kwik's receiver in QuicInternalServer.accept).
 */
@Timeout(120)
class ListenSocketsWhileAcceptingTest {

  @Test
  void listenSocketsAreReadWhileConnectionsArrive() throws Exception {
    QuicTestServer server = new QuicTestServer();
    AtomicBoolean stop = new AtomicBoolean();
    Thread asker = new Thread(() -> {
      while (!stop.get()) {
        server.server().getListenSockets();
      }
    }, "listen-sockets-asker");
    asker.setDaemon(true);
    asker.start();
    try {
      for (int i = 0; i < 20; i++) {
        ManagedChannel channel = server.channel();
        try {
          byte[] reply = ClientCalls.blockingUnaryCall(channel, TestService.ECHO,
              CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), new byte[] {7});
          assertEquals(1, reply.length);
        } catch (StatusRuntimeException e) {
          String deadlock = deadlocked();
          // A deadlocked server cannot be shut down (grpc-core's lock is held for good): fail
          // without closing it.
          assertNull(deadlock, "connection " + i + " failed (" + e.getStatus() + "); deadlock:\n"
              + deadlock);
          throw e;
        } finally {
          channel.shutdownNow();
        }
      }
    } finally {
      stop.set(true);
    }
    asker.join(TimeUnit.SECONDS.toMillis(10));
    assertNull(deadlocked());
    server.close();
  }

  /** The JVM's deadlocked threads and the monitors they wait for, or null. */
  private static String deadlocked() {
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    long[] ids = threads.findDeadlockedThreads();
    if (ids == null) {
      return null;
    }
    return Arrays.stream(threads.getThreadInfo(ids, true, true))
        .map(ThreadInfo::toString)
        .collect(Collectors.joining("\n"));
  }
}
