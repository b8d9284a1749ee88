package dev.grpcquic.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A {@link TestService#PING_PONG} call kept open: each message sent comes back as a pong. */
public final class PingPongCall {
  public final ClientCall<byte[], byte[]> call;
  public final LinkedBlockingQueue<byte[]> pongs = new LinkedBlockingQueue<>();
  public final CompletableFuture<Metadata> headers = new CompletableFuture<>();
  public final CompletableFuture<Status> closed = new CompletableFuture<>();

  public PingPongCall(Channel channel, CallOptions options) {
    call = channel.newCall(TestService.PING_PONG, options);
    call.start(new ClientCall.Listener<>() {
      @Override
      public void onHeaders(Metadata responseHeaders) {
        headers.complete(responseHeaders);
      }

      @Override
      public void onMessage(byte[] message) {
        pongs.add(message);
        call.request(1);
      }

      @Override
      public void onClose(Status status, Metadata trailers) {
        closed.complete(status);
      }
    }, new Metadata());
    call.request(1);
  }

  /** Sends {@code n} and checks that it comes back. */
  public void roundTrip(int n) throws InterruptedException {
    call.sendMessage(new byte[] {(byte) n});
    byte[] echoed = pongs.poll(40, TimeUnit.SECONDS);
    assertNotNull(echoed, "no pong for " + n);
    assertArrayEquals(new byte[] {(byte) n}, echoed);
  }

  /** Half-closes and checks that the call ends OK. */
  public void finishOk() throws Exception {
    call.halfClose();
    Status status = closed.get(40, TimeUnit.SECONDS);
    assertTrue(status.isOk(), "call ended " + status);
  }
}
