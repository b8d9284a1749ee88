package dev.grpcquic.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grpcquic.testing.QuicTestServer;
import dev.grpcquic.testing.TestService;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Deadlines travel as grpc-timeout and expire on both sides; either side can cancel a call. */
@Timeout(60)
class DeadlineAndCancellationTest {
  private static QuicTestServer server;
  private static ManagedChannel channel;

  @BeforeAll
  static void start() throws Exception {
    server = new QuicTestServer();
    channel = server.channel();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @BeforeEach
  void reset() {
    server.service.hangEnded.clear();
    server.service.hangStarted = new CountDownLatch(1);
  }

  @Test
  void deadlineExpiresOnClientAndServer() throws Exception {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> ClientCalls.blockingUnaryCall(channel, TestService.HANG,
            CallOptions.DEFAULT.withDeadlineAfter(300, TimeUnit.MILLISECONDS), new byte[0]));
    assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
    // The server learnt the deadline from grpc-timeout, or saw the client's reset: either way the
    // call ends there too.
    Status serverSide = server.service.hangEnded.poll(10, TimeUnit.SECONDS);
    assertNotNull(serverSide, "server call did not end");
    assertTrue(serverSide.getCode() == Status.Code.DEADLINE_EXCEEDED
        || serverSide.getCode() == Status.Code.CANCELLED, serverSide.toString());
  }

  @Test
  void serverExpiresCallWhoseDeadlineOnlyItKnows() throws Exception {
    // The client has no deadline of its own (grpc-core would replace the header); the server gets
    // a short one through a hand-made grpc-timeout, so only the server can end the call: it resets
    // the stream.
    Metadata.Key<String> timeout = Metadata.Key.of("grpc-timeout", Metadata.ASCII_STRING_MARSHALLER);
    Metadata headers = new Metadata();
    headers.put(timeout, "200m");
    CompletableFuture<Status> closed = TestService.startHang(channel, headers);
    Status serverSide = server.service.hangEnded.poll(10, TimeUnit.SECONDS);
    assertNotNull(serverSide);
    assertEquals(Status.Code.DEADLINE_EXCEEDED, serverSide.getCode());
    Status clientSide = closed.get(10, TimeUnit.SECONDS);
    // G2 maps the server's H3_REQUEST_CANCELLED to CANCELLED (and kwik hides the code anyway).
    assertEquals(Status.Code.CANCELLED, clientSide.getCode(), clientSide.toString());
  }

  @Test
  void clientCancellationReachesServer() throws Exception {
    Context.CancellableContext context = Context.current().withCancellation();
    CompletableFuture<Status> closed =
        context.call(() -> TestService.startHang(channel, new Metadata()));
    assertTrue(server.service.hangStarted.await(10, TimeUnit.SECONDS));
    context.cancel(null);
    assertEquals(Status.Code.CANCELLED, closed.get(10, TimeUnit.SECONDS).getCode());
    Status serverSide = server.service.hangEnded.poll(10, TimeUnit.SECONDS);
    assertNotNull(serverSide, "server did not see the cancellation");
    assertEquals(Status.Code.CANCELLED, serverSide.getCode());
  }

  @Test
  void cancelBeforeAnyMessage() throws Exception {
    ClientCall<byte[], byte[]> call = channel.newCall(TestService.PING_PONG, CallOptions.DEFAULT);
    CompletableFuture<Status> closed = new CompletableFuture<>();
    call.start(new ClientCall.Listener<>() {
      @Override
      public void onClose(Status status, Metadata trailers) {
        closed.complete(status);
      }
    }, new Metadata());
    call.cancel("changed my mind", null);
    Status status = closed.get(10, TimeUnit.SECONDS);
    assertEquals(Status.Code.CANCELLED, status.getCode());
    // The connection is still good for the next call.
    assertEquals(3, ClientCalls.blockingUnaryCall(channel, TestService.ECHO,
        CallOptions.DEFAULT, new byte[3]).length);
  }

  @Test
  void expiredDeadlineFailsWithoutReachingServer() {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> ClientCalls.blockingUnaryCall(channel, TestService.ECHO,
            CallOptions.DEFAULT.withDeadline(Deadline.after(-1, TimeUnit.SECONDS)), new byte[0]));
    assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
  }
}
