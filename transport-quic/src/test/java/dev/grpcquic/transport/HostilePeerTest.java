package dev.grpcquic.transport;

import static dev.grpcquic.testing.RawHttp3Client.concat;
import static dev.grpcquic.testing.RawHttp3Client.grpcHeaders;
import static dev.grpcquic.testing.RawHttp3Client.grpcMessage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grpcquic.engine.QuicStream;
import dev.grpcquic.http3.Http3ErrorCode;
import dev.grpcquic.http3.VarInt;
import dev.grpcquic.testing.CallCounter;
import dev.grpcquic.testing.ConnectionCounter;
import dev.grpcquic.testing.LogCapture;
import dev.grpcquic.testing.QuicTestServer;
import dev.grpcquic.testing.RawHttp3Client;
import dev.grpcquic.testing.TestService;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCalls;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.logging.Level;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A peer that abuses what is legal (many streams, unfinished headers, empty or unknown frames,
 * resets) gets the right treatment, and while it does a well-behaved client on another connection
 * has every call succeed within its deadline. Latency under these loads is measured, not
 * asserted, by {@code HostileLoadMeasurement}.
 */
@Timeout(300)
class HostilePeerTest {
  private static final int MAX_STREAMS = 100;
  private static final long HEADERS_TIMEOUT_MILLIS = 1000;

  private static final CallCounter calls = new CallCounter();
  private static final ConnectionCounter connections = new ConnectionCounter();
  private static QuicTestServer server;
  private static ManagedChannel goodChannel;

  @BeforeAll
  static void start() throws Exception {
    server = new QuicTestServer(b -> b
        .maxConcurrentCallsPerConnection(MAX_STREAMS)
        .requestHeadersTimeout(HEADERS_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)
        .addStreamTracerFactory(calls)
        .addTransportFilter(connections));
    goodChannel = server.channel();
    echo(); // connected before any attack
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  private static void echo() {
    byte[] reply = ClientCalls.blockingUnaryCall(goodChannel, TestService.ECHO,
        CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), new byte[] {1, 2, 3});
    assertEquals(3, reply.length);
  }

  /** Runs {@code attack} while the good client makes calls; returns how many it made. */
  private static int whileGoodClientCalls(Attack attack) throws Exception {
    AtomicBoolean done = new AtomicBoolean();
    ExecutorService good = Executors.newSingleThreadExecutor();
    try {
      Future<Integer> goodCalls = good.submit(() -> {
        int n = 0;
        while (!done.get()) {
          echo();
          n++;
        }
        return n;
      });
      try {
        attack.run();
      } finally {
        done.set(true);
      }
      int n = goodCalls.get(60, TimeUnit.SECONDS);
      assertTrue(n > 0, "the good client made no call during the attack");
      return n;
    } finally {
      good.shutdownNow();
    }
  }

  private interface Attack {
    void run() throws Exception;
  }

  @Test
  void tenThousandStreamsAtOnceWaitForMaxStreamsAndAllComplete() throws Exception {
    int count = 10_000;
    whileGoodClientCalls(() -> {
      try (RawHttp3Client client = new RawHttp3Client(server.port())) {
        List<CompletableFuture<RawHttp3Client.Response>> opened = new ArrayList<>();
        for (int i = 0; i < count; i++) {
          byte[] message = {(byte) i};
          // All opens are asked for at once; the engine holds those beyond MAX_STREAMS.
          opened.add(client.open(true).thenApply(response -> {
            response.stream().write(concat(grpcHeaders(TestService.ECHO), grpcMessage(message)),
                true);
            return response;
          }));
        }
        for (CompletableFuture<RawHttp3Client.Response> open : opened) {
          assertEquals("0", open.get(200, TimeUnit.SECONDS).grpcStatus());
        }
        assertFalse(client.closed.isDone(), "the server closed the connection");
      }
    });
    // One connection never had more than MAX_STREAMS calls at the server (plus the good one's).
    assertTrue(calls.peak() <= MAX_STREAMS + 1, "peak calls " + calls.peak());
    assertTrue(calls.awaitIdle(30, TimeUnit.SECONDS), "calls left: " + calls.live());
  }

  @Test
  void headersNeverFinishedAreRejectedAfterTheTimeoutAndFreeTheirSlots() throws Exception {
    LogCapture log = new LogCapture(QuicServerTransport.class.getName(), Level.FINE);
    try {
      whileGoodClientCalls(() -> {
        try (RawHttp3Client client = new RawHttp3Client(server.port())) {
          // Twice the connection's streams, each stuck inside its HEADERS frame: the second half
          // only gets a stream once the timeout has freed a slot of the first.
          List<CompletableFuture<RawHttp3Client.Response>> stuck = new ArrayList<>();
          for (int i = 0; i < 2 * MAX_STREAMS; i++) {
            ByteBuffer partial = i % 2 == 0
                ? ByteBuffer.wrap(new byte[] {0x01}) // the frame type only
                : truncated(grpcHeaders(TestService.ECHO), 5); // type, length, 3 bytes of 40
            stuck.add(client.open(true).thenApply(response -> {
              response.stream().write(partial, false);
              return response;
            }));
          }
          for (CompletableFuture<RawHttp3Client.Response> open : stuck) {
            // Reset (kwik does not tell the code; the log below does).
            open.get(60, TimeUnit.SECONDS).reset.get(60, TimeUnit.SECONDS);
          }
          // The connection serves on.
          RawHttp3Client.Response ok = client.send(true,
              concat(grpcHeaders(TestService.ECHO), grpcMessage(new byte[] {9})), true);
          assertEquals("0", ok.grpcStatus());
        }
      });
    } finally {
      log.close();
    }
    assertEquals(2 * MAX_STREAMS, log.records().stream()
        .filter(r -> r.getMessage().contains("no HEADERS")).count());
  }

  private static ByteBuffer truncated(ByteBuffer frame, int length) {
    ByteBuffer part = frame.duplicate();
    part.limit(part.position() + length);
    return part;
  }

  @Test
  void floodsOfEmptyDataAndUnknownFramesAreSkippedAndTheCallCompletes() throws Exception {
    int frames = 100_000;
    whileGoodClientCalls(() -> {
      try (RawHttp3Client client = new RawHttp3Client(server.port())) {
        RawHttp3Client.Response response = client.open(true).get(20, TimeUnit.SECONDS);
        response.stream().write(grpcHeaders(TestService.ECHO), false);
        int perChunk = 5_000;
        for (int sent = 0; sent < frames; sent += perChunk) {
          response.stream().write(emptyDataFrames(perChunk), false);
          response.stream().write(unknownFrames(perChunk), false);
        }
        response.stream().write(grpcMessage(new byte[] {4, 2}), true);
        assertEquals("0", response.grpcStatus());
        assertFalse(client.closed.isDone(), "the server closed the connection");
      }
    });
    assertTrue(calls.awaitIdle(30, TimeUnit.SECONDS), "calls left: " + calls.live());
    assertTrue(connections.awaitNothingBuffered(30, TimeUnit.SECONDS),
        "still buffered: " + connections.bufferedBytes() + " bytes");
  }

  /** {@code n} DATA frames of length 0 (RFC 9114 allows them; they carry nothing). */
  private static ByteBuffer emptyDataFrames(int n) {
    ByteBuffer frames = ByteBuffer.allocate(2 * n);
    for (int i = 0; i < n; i++) {
      frames.put((byte) 0x00).put((byte) 0x00);
    }
    return frames.flip();
  }

  /** {@code n} frames of reserved (greasing) types 0x1f * k + 0x21, with 0 to 7 bytes each. */
  private static ByteBuffer unknownFrames(int n) {
    ByteBuffer frames = ByteBuffer.allocate(n * 20);
    for (int i = 0; i < n; i++) {
      int length = i % 8;
      VarInt.write(frames, 0x1fL * (i % 1000) + 0x21);
      VarInt.write(frames, length);
      frames.put(new byte[length]);
    }
    return frames.flip();
  }

  /**
   * The rapid-reset pattern: calls (HEADERS and a message of a method that never answers) opened
   * in batches of half the stream limit, each batch reset in both directions at once as soon as
   * the server has started its calls. Every call is cancelled on the server, the connection is not
   * closed, nothing stays buffered. (The wait for the server matters: kwik drops a RESET_STREAM or
   * STOP_SENDING that overtakes a stream's first bytes, see streamsResetBeforeAnyByte...)
   */
  @Test
  void resetStormOfCallsCancelsEveryCall() throws Exception {
    callStorm(60, false, stream -> {
      stream.reset(Http3ErrorCode.H3_REQUEST_CANCELLED);
      stream.stopSending(Http3ErrorCode.H3_REQUEST_CANCELLED);
    });
  }

  /**
   * Complete requests (FIN sent) cancelled by STOP_SENDING alone, which is all a client can send
   * after its FIN: the server notices (StopSendingWatch) and ends the calls.
   */
  @Test
  void stopSendingStormAfterCompleteRequestsCancelsEveryCall() throws Exception {
    callStorm(20, true, stream -> stream.stopSending(Http3ErrorCode.H3_REQUEST_CANCELLED));
  }

  private static void callStorm(int batches, boolean fin, Consumer<QuicStream> abuse)
      throws Exception {
    int batch = MAX_STREAMS / 2;
    whileGoodClientCalls(() -> {
      try (RawHttp3Client client = new RawHttp3Client(server.port())) {
        for (int b = 0; b < batches; b++) {
          long before = calls.started(TestService.HANG);
          List<RawHttp3Client.Response> opened = new ArrayList<>();
          for (int i = 0; i < batch; i++) {
            RawHttp3Client.Response response = client.open(true).get(60, TimeUnit.SECONDS);
            response.stream().write(
                concat(grpcHeaders(TestService.HANG), grpcMessage(new byte[] {1})), fin);
            opened.add(response);
          }
          assertTrue(calls.awaitStarted(TestService.HANG, before + batch, 60, TimeUnit.SECONDS),
              "batch " + b + " not started");
          for (RawHttp3Client.Response response : opened) {
            abuse.accept(response.stream());
          }
        }
        assertServesOnAndHoldsNothing(client);
      }
    });
  }

  /**
   * Streams reset in both directions before any byte. kwik (0.10.8) ignores a RESET_STREAM or
   * STOP_SENDING for a stream it has not seen, so such a stream never returns its MAX_STREAMS
   * credit: the peer only uses up its own connection's slots (fewer than all of them here), and
   * the server holds nothing for them.
   */
  @Test
  void streamsResetBeforeAnyByteCostTheServerNothing() throws Exception {
    whileGoodClientCalls(() -> {
      try (RawHttp3Client client = new RawHttp3Client(server.port())) {
        for (int i = 0; i < MAX_STREAMS / 2; i++) {
          QuicStream stream = client.open(true).get(60, TimeUnit.SECONDS).stream();
          stream.reset(Http3ErrorCode.H3_REQUEST_CANCELLED);
          stream.stopSending(Http3ErrorCode.H3_REQUEST_CANCELLED);
        }
        assertServesOnAndHoldsNothing(client);
      }
    });
  }

  private static void assertServesOnAndHoldsNothing(RawHttp3Client client) throws Exception {
    RawHttp3Client.Response ok = client.send(true,
        concat(grpcHeaders(TestService.ECHO), grpcMessage(new byte[] {9})), true);
    assertEquals("0", ok.grpcStatus());
    assertTrue(calls.awaitIdle(60, TimeUnit.SECONDS), "calls left: " + calls.live());
    assertFalse(client.closed.isDone(), "the server closed the connection");
    assertTrue(connections.awaitNothingBuffered(30, TimeUnit.SECONDS),
        "still buffered: " + connections.bufferedBytes() + " bytes");
    // This client's and the good client's; a previous test's client may still be closing.
    assertTrue(connections.await(n -> n == 2, 30, TimeUnit.SECONDS),
        "live connections: " + connections.live());
  }
}
