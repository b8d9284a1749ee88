package dev.grpcquic.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grpcquic.QuicAttributes;
import dev.grpcquic.testing.LogCapture;
import dev.grpcquic.testing.QuicTestServer;
import dev.grpcquic.testing.TestService;
import io.grpc.Attributes;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.ServerTransportFilter;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A request above the server's maxInboundMessageSize fails with RESOURCE_EXHAUSTED, and that is
 * all: the server logs nothing above FINE (it once threw inside its own error path, from
 * grpc-core's closeListener) and lets the stream go, so its unread bytes stop counting against the
 * connection.
 */
@Timeout(120)
class OversizedRequestTest {

  @Test
  void oversizedRequestFailsQuietlyAndReleasesTheStream() throws Exception {
    AtomicReference<LongSupplier> serverBuffered = new AtomicReference<>();
    ServerTransportFilter filter = new ServerTransportFilter() {
      @Override
      public Attributes transportReady(Attributes attrs) {
        serverBuffered.set(attrs.get(QuicAttributes.RECEIVE_BUFFERED_BYTES));
        return attrs;
      }
    };
    // Root logger: grpc-core's own loggers (SerializingExecutor, ServerImpl) count as well.
    try (LogCapture logs = new LogCapture("", Level.CONFIG);
        QuicTestServer server = new QuicTestServer(b -> b.addTransportFilter(filter))) {
      ManagedChannel channel = server.channel();
      for (int i = 0; i < 3; i++) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
            () -> ClientCalls.blockingUnaryCall(channel, TestService.ECHO, CallOptions.DEFAULT,
                new byte[5 * 1024 * 1024]));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode(), e.toString());
      }
      // The connection still serves calls.
      byte[] small = new byte[1000];
      assertArrayEquals(small, ClientCalls.blockingUnaryCall(channel, TestService.ECHO,
          CallOptions.DEFAULT, small));

      LongSupplier buffered = serverBuffered.get();
      assertNotNull(buffered);
      // Released streams hold nothing; bytes of a request still in flight when the stream was
      // let go are counted and dropped as they arrive, so wait for the count to settle at 0.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (buffered.getAsLong() != 0 && System.nanoTime() < deadline) {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
      }
      assertEquals(0, buffered.getAsLong(),
          "bytes the server holds for streams that ended; logs: " + logs.lines());

      List<String> above = logs.records().stream()
          .filter(r -> r.getLevel().intValue() > Level.FINE.intValue())
          .map(r -> r.getLevel() + " " + r.getLoggerName() + ": " + r.getMessage()
              + (r.getThrown() == null ? "" : " " + r.getThrown()))
          .toList();
      assertTrue(above.isEmpty(), "logged above FINE: " + above);
    }
  }
}
