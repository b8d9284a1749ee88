package dev.grpcquic.bench;

import dev.grpcquic.QuicAttributes;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.ClientCalls;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Fill the pipe: one download on one stream, and the goodput it reached. */
final class FillThePipe {
  private static final int MESSAGE = 64 * 1024;

  /**
   * One download: {@code window} is the stream receive window the client advertised (QUIC), or -1
   * where the transport does not report it.
   */
  record Result(String windows, long window, long bytes, double seconds) {
    double mbit() {
      return bytes * 8 / seconds / 1e6;
    }

    Map<String, Object> toMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("windows", windows);
      m.put("streamWindow", window);
      m.put("bytes", bytes);
      m.put("seconds", seconds);
      m.put("mbit", mbit());
      return m;
    }
  }

  private FillThePipe() {}

  /** Downloads {@code bytes} on one stream of {@code channel} and times it. */
  static Result download(String windows, ManagedChannel channel, long bytes, boolean quic)
      throws Exception {
    long window = quic ? streamWindow(channel) : -1;
    long start = System.nanoTime();
    long got = 0;
    Iterator<byte[]> it = ClientCalls.blockingServerStreamingCall(channel, BenchService.DOWNLOAD,
        CallOptions.DEFAULT.withDeadlineAfter(600, TimeUnit.SECONDS),
        BenchService.downloadRequest(bytes, MESSAGE));
    while (it.hasNext()) {
      got += it.next().length;
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    if (got != bytes) {
      throw new IllegalStateException("downloaded " + got + " of " + bytes);
    }
    return new Result(windows, window, bytes, seconds);
  }

  /**
   * The stream window of the channel's current connection, read from the statistics of one unary
   * call (which also opens the connection when there is none).
   */
  private static long streamWindow(ManagedChannel channel) throws Exception {
    CompletableFuture<Long> window = new CompletableFuture<>();
    ClientCall<byte[], byte[]> call = channel.newCall(BenchService.UNARY,
        CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS));
    call.start(new ClientCall.Listener<>() {
      @Override
      public void onHeaders(Metadata headers) {
        window.complete(call.getAttributes().get(QuicAttributes.CONNECTION_STATS).get()
            .streamReceiveWindow());
      }

      @Override
      public void onClose(Status status, Metadata trailers) {
        window.completeExceptionally(status.asRuntimeException());
      }
    }, new Metadata());
    call.request(1);
    call.sendMessage(BenchService.payload(HeadOfLine.SMALL));
    call.halfClose();
    return window.get(60, TimeUnit.SECONDS);
  }
}
