package dev.grpcquic.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grpcquic.testing.ConnectionCounter;
import dev.grpcquic.testing.QuicTestServer;
import dev.grpcquic.testing.TestService;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code maxConnections}: a connection beyond the limit is closed at once, the others serve on. */
@Timeout(90)
class MaxConnectionsTest {

  private static byte[] echo(ManagedChannel channel) {
    return ClientCalls.blockingUnaryCall(channel, TestService.ECHO,
        CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS), new byte[] {7});
  }

  @Test
  void connectionBeyondTheLimitIsRefusedAndServedOnceOneEnds() throws Exception {
    ConnectionCounter counter = new ConnectionCounter();
    try (QuicTestServer server = new QuicTestServer(
        b -> b.maxConnections(2).addTransportFilter(counter))) {
      ManagedChannel first = server.channel();
      ManagedChannel second = server.channel();
      echo(first);
      echo(second);
      assertEquals(2, counter.live());

      ManagedChannel third = server.channel();
      StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
          () -> echo(third));
      assertEquals(Status.Code.UNAVAILABLE, refused.getStatus().getCode(),
          refused.getStatus().toString());
      assertTrue(refused.getStatus().getDescription().contains("too many connections"),
          refused.getStatus().toString());
      // The refused connection never became a transport; the two others still serve.
      assertEquals(2, counter.peak());
      echo(first);
      echo(second);

      first.shutdownNow();
      assertTrue(first.awaitTermination(10, TimeUnit.SECONDS));
      assertTrue(counter.await(n -> n == 1, 20, TimeUnit.SECONDS), "live " + counter.live());
      // A free slot: the refused channel reconnects (its backoff may delay the first try).
      byte[] reply = ClientCalls.blockingUnaryCall(third, TestService.ECHO,
          CallOptions.DEFAULT.withWaitForReady().withDeadlineAfter(30, TimeUnit.SECONDS),
          new byte[] {7});
      assertEquals(1, reply.length);
      assertEquals(2, counter.live());
    }
  }
}
