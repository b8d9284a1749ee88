package dev.grpcquic.fuzz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grpcquic.engine.StreamHandler;
import dev.grpcquic.http3.FrameType;
import dev.grpcquic.http3.Frames;
import dev.grpcquic.http3.Header;
import dev.grpcquic.http3.Http3ErrorCode;
import dev.grpcquic.http3.Http3Exception;
import dev.grpcquic.http3.QpackEncoder;
import dev.grpcquic.http3.RequestStreamReader;
import dev.grpcquic.http3.VarInt;
import dev.grpcquic.transport.TransportFuzzAccess;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * One focused test per defect the fuzzers found (and per property checked by hand), plus a replay
 * of the crashing inputs as first found. See the "Fuzzing" section of docs/operations.md.
 */
@Timeout(30)
class FuzzFindingsTest {

  private static final QpackEncoder ENCODER = new QpackEncoder();

  // ---- 1. a -bin value that is not base64 threw IllegalArgumentException out of the parser

  @Test
  void binaryValueThatIsNotBase64IsAStreamMessageError() {
    for (String bad : List.of("AB\u0005C", "A", "AAEC,@@", "*")) {
      Http3Exception e = assertThrows(Http3Exception.class,
          () -> TransportFuzzAccess.toMetadata(List.of(new Header("x-bin", bad)), false), bad);
      assertFalse(e.isConnectionError());
      assertEquals(Http3ErrorCode.H3_MESSAGE_ERROR, e.errorCode());
    }
  }

  @Test
  void requestStreamWithBadBinaryHeaderFailsOnlyThatStream() {
    Outcome outcome = feedRequest(List.of(new Header(":status", "200"),
        new Header("x-trace-bin", "not base64!")));
    assertEquals(List.of(Http3ErrorCode.H3_MESSAGE_ERROR), outcome.streamErrors);
    assertTrue(outcome.connectionErrors.isEmpty());
  }

  // ---- 2. data on a control stream after a connection error threw IllegalStateException

  @Test
  void controlStreamDataAfterAConnectionErrorIsIgnored() {
    FuzzTargets.FakeConnection connection = new FuzzTargets.FakeConnection();
    var control = TransportFuzzAccess.http3Control(connection, s -> { }, id -> { });
    FuzzTargets.FakeStream stream = new FuzzTargets.FakeStream(3);
    StreamHandler handler = control.apply(stream);
    // Control stream type, then CANCEL_PUSH before SETTINGS: H3_MISSING_SETTINGS.
    handler.onData(ByteBuffer.wrap(new byte[] {0x00, 0x03, 0x01, 0x00}));
    assertEquals(List.of(Http3ErrorCode.H3_MISSING_SETTINGS), connection.closeCodes);
    assertDoesNotThrow(() -> handler.onData(ByteBuffer.wrap(new byte[] {0x07, 0x01, 0x00})));
    assertEquals(List.of(Http3ErrorCode.H3_MISSING_SETTINGS), connection.closeCodes);
  }

  // ---- 3. NUL, CR, LF in values and non-token names reached gRPC Metadata

  @Test
  void valueWithNulCrOrLfIsAStreamMessageError() {
    for (String value : List.of("a\r\nx-injected: 1", "a\u0000b", "a\nb", "a\rb")) {
      Outcome outcome = feedRequest(List.of(new Header(":status", "200"),
          new Header("grpc-message", value)));
      assertEquals(List.of(Http3ErrorCode.H3_MESSAGE_ERROR), outcome.streamErrors, value);
      assertTrue(outcome.delivered.isEmpty());
    }
    assertTrue(TransportFuzzAccess.isValidValue("tab\tand obs-text \u00ff are fine"));
  }

  @Test
  void fieldNamesMustBeLowercaseTokens() {
    for (String bad : List.of("x(y", "x\"y", "x,y", "x/y", "x{y}", "x@y", "x=y", ":", "::path",
        "a:b", "X-Upper", "bad name", "")) {
      assertFalse(TransportFuzzAccess.isValidName(bad), bad);
    }
    for (String good : List.of(":path", "x-user-bin", "grpc-timeout", "x!#$%&'*+-.^_`|~1")) {
      assertTrue(TransportFuzzAccess.isValidName(good), good);
    }
    Outcome outcome = feedRequest(List.of(new Header(":status", "200"), new Header("x(y", "v")));
    assertEquals(List.of(Http3ErrorCode.H3_MESSAGE_ERROR), outcome.streamErrors);
  }

  // ---- 4. a HEADERS frame header made us allocate the announced length before any payload

  @Test
  void headersFrameAllocatesWhatArrivedNotWhatWasAnnounced() throws Exception {
    // Integer.MAX_VALUE used to throw from the constructor (a server configured so failed every stream).
    RequestStreamReader reader = new RequestStreamReader(new RequestStreamReader.Listener() {
      @Override
      public void onHeaders(byte[] fieldSection) {}

      @Override
      public void onData(ByteBuffer payload) {}
    }, Integer.MAX_VALUE);
    ByteBuffer header = ByteBuffer.allocate(16);
    VarInt.write(header, FrameType.HEADERS);
    VarInt.write(header, 1L << 29); // 512 MiB announced
    header.put(new byte[] {0, 0, 1, 2});
    header.flip();
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long before = threads.getThreadAllocatedBytes(Thread.currentThread().getId());
    reader.feed(header);
    long allocated = threads.getThreadAllocatedBytes(Thread.currentThread().getId()) - before;
    assertTrue(allocated < 256 * 1024, "allocated " + allocated + " bytes for a 6-byte frame header");
  }

  @Test
  void largeHeadersFrameArrivingInSmallChunksIsDeliveredWhole() throws Exception {
    byte[] section = new byte[70_000];
    new Random(7).nextBytes(section);
    List<byte[]> blocks = new ArrayList<>();
    RequestStreamReader reader = new RequestStreamReader(new RequestStreamReader.Listener() {
      @Override
      public void onHeaders(byte[] fieldSection) {
        blocks.add(fieldSection);
      }

      @Override
      public void onData(ByteBuffer payload) {}
    }, 100_000);
    byte[] frame = SeedCorpus.bytes(Frames.headers(section));
    for (ByteBuffer chunk : FuzzTargets.chunks(frame, 11)) {
      reader.feed(chunk);
    }
    reader.endOfStream();
    assertEquals(1, blocks.size());
    assertArrayEquals(section, blocks.get(0));
  }

  // ---- 6. an interim (1xx) response made the final response count as trailers (found by review)

  @Test
  void interimResponseIsNotMistakenForTheResponseHeaders() {
    List<String> events = new ArrayList<>();
    List<Long> errors = new ArrayList<>();
    FuzzTargets.FakeStream stream = new FuzzTargets.FakeStream(0);
    StreamHandler handler = TransportFuzzAccess.requestStream(stream, new TransportFuzzAccess.Events() {
      @Override
      public void onHeaders(List<Header> f) {
        events.add("H" + f.get(0).value());
      }

      @Override
      public void onData(ByteBuffer payload) {
        events.add("D" + payload.remaining());
      }

      @Override
      public void onEndOfStream() {
        events.add("END");
      }

      @Override
      public void onProtocolError(Http3Exception error) {
        errors.add(error.errorCode());
      }

      @Override
      public void onConnectionError(Http3Exception error) {}
    }, 8192, 65536);
    handler.onData(Frames.headers(ENCODER.encode(List.of(new Header(":status", "103"),
        new Header("link", "</a>; rel=preload")))));
    handler.onData(Frames.headers(ENCODER.encode(List.of(new Header(":status", "200"),
        new Header("content-type", "application/grpc")))));
    handler.onData(Frames.dataFrameHeader(5));
    handler.onData(ByteBuffer.wrap(new byte[5]));
    handler.onData(Frames.headers(ENCODER.encode(List.of(new Header("grpc-status", "0")))));
    handler.onEndOfStream();
    assertEquals(List.of(), errors);
    assertEquals(List.of("H103", "H200", "D5", "H0", "END"), events);
  }

  @Test
  void dataAfterAnInterimResponseIsStillDataBeforeHeaders() throws Exception {
    RequestStreamReader[] holder = new RequestStreamReader[1];
    holder[0] = new RequestStreamReader(new RequestStreamReader.Listener() {
      @Override
      public void onHeaders(byte[] fieldSection) {
        holder[0].interimResponse();
      }

      @Override
      public void onData(ByteBuffer payload) {}
    }, 8192);
    holder[0].feed(Frames.headers(new byte[] {0, 0, (byte) 0xff, 0x21}));
    Http3Exception e = assertThrows(Http3Exception.class,
        () -> holder[0].feed(Frames.dataFrameHeader(1)));
    assertEquals(Http3ErrorCode.H3_FRAME_UNEXPECTED, e.errorCode());
  }

  // ---- the crashing inputs as the seeded fuzzer first found them (also in the Jazzer corpus)

  @Test
  void replayFirstFoundInputs() {
    HexFormat hex = HexFormat.of();
    assertDoesNotThrow(() -> FuzzTargets.headersToMetadata(
        hex.parseHex("020461620378797a1105602d62696e044105602d62696e414543a006a8120a992c8201ff")));
    assertDoesNotThrow(() -> FuzzTargets.uniStreams(hex.parseHex("010406004003064064080600ff03064064")));
    assertDoesNotThrow(() -> FuzzTargets.http3RequestStream(hex.parseHex(
        "3f01160000d95f1d106170706c69636174696f6e2f67727063407e03090909000800000000030102030000"
            + "00080000000003010203012900002704677270632d73746174757301302705677270632d6d657373"
            + "616765096f6b2532c00000007ffffff0646f6e65")));
  }

  // ---- helpers

  private static final class Outcome {
    final List<Long> streamErrors = new ArrayList<>();
    final List<Long> connectionErrors = new ArrayList<>();
    final List<List<Header>> delivered = new ArrayList<>();
  }

  /** One HEADERS frame through the transport's request stream, converted as a client would. */
  private static Outcome feedRequest(List<Header> fields) {
    Outcome outcome = new Outcome();
    FuzzTargets.FakeStream stream = new FuzzTargets.FakeStream(0);
    StreamHandler handler = TransportFuzzAccess.requestStream(stream, new TransportFuzzAccess.Events() {
      @Override
      public void onHeaders(List<Header> f) throws Http3Exception {
        TransportFuzzAccess.toMetadata(f, true);
        outcome.delivered.add(f);
      }

      @Override
      public void onData(ByteBuffer payload) {}

      @Override
      public void onEndOfStream() {}

      @Override
      public void onProtocolError(Http3Exception error) {
        (error.isConnectionError() ? outcome.connectionErrors : outcome.streamErrors)
            .add(error.errorCode());
      }

      @Override
      public void onConnectionError(Http3Exception error) {}
    }, 8192, 65536);
    assertDoesNotThrow(() -> handler.onData(Frames.headers(ENCODER.encode(fields))));
    return outcome;
  }
}
