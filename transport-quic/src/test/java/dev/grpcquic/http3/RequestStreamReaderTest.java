package dev.grpcquic.http3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(20)
class RequestStreamReaderTest {

  /** Records headers blocks and DATA bytes; consecutive DATA slices are merged into one event. */
  static final class Recorder implements RequestStreamReader.Listener {
    final List<String> kinds = new ArrayList<>();
    final List<byte[]> blocks = new ArrayList<>();
    final List<Boolean> trailerFlags = new ArrayList<>();
    final ByteArrayOutputStream pendingData = new ByteArrayOutputStream();
    int dataCalls;
    int largestSlice;
    RequestStreamReader reader;

    @Override
    public void onHeaders(byte[] fieldSection) {
      flushData();
      kinds.add("H");
      blocks.add(fieldSection);
      trailerFlags.add(reader != null && reader.sawTrailers());
    }

    @Override
    public void onData(ByteBuffer payload) {
      assertTrue(payload.hasRemaining(), "empty data slice");
      dataCalls++;
      largestSlice = Math.max(largestSlice, payload.remaining());
      byte[] b = new byte[payload.remaining()];
      payload.get(b);
      pendingData.write(b, 0, b.length);
    }

    void flushData() {
      if (pendingData.size() > 0) {
        kinds.add("D");
        blocks.add(pendingData.toByteArray());
        trailerFlags.add(false);
        pendingData.reset();
      }
    }
  }

  private static byte[] concat(ByteBuffer... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (ByteBuffer p : parts) {
      byte[] b = new byte[p.remaining()];
      p.duplicate().get(b);
      out.write(b, 0, b.length);
    }
    return out.toByteArray();
  }

  private static ByteBuffer data(byte[] payload) {
    return ByteBuffer.wrap(concat(Frames.dataFrameHeader(payload.length), ByteBuffer.wrap(payload)));
  }

  private static byte[] bytes(int n, int seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static final byte[] HEADERS_BLOCK = bytes(300, 1);
  private static final byte[] TRAILERS_BLOCK = bytes(20, 2);
  private static final byte[] DATA_A = bytes(70, 3);
  private static final byte[] DATA_B = bytes(20000, 4);

  /** HEADERS, DATA, grease, empty DATA, DATA, unknown, trailing HEADERS. */
  private static byte[] sampleStream() {
    return concat(
        Frames.headers(HEADERS_BLOCK),
        data(DATA_A),
        Frames.frame(0x21 + 0x1f * 7, bytes(33, 5)),
        Frames.dataFrameHeader(0),
        data(DATA_B),
        Frames.frame(0x12345, new byte[0]),
        Frames.headers(TRAILERS_BLOCK));
  }

  private static final class Fed {
    Recorder recorder;
    long creditBack;
  }

  private static Fed feedAll(byte[] stream, int[] chunkSizes) throws Http3Exception {
    Fed fed = new Fed();
    fed.recorder = new Recorder();
    RequestStreamReader reader = new RequestStreamReader(fed.recorder, 1024);
    fed.recorder.reader = reader;
    int pos = 0;
    int i = 0;
    while (pos < stream.length) {
      int n = Math.min(chunkSizes[i++ % chunkSizes.length], stream.length - pos);
      // A fresh buffer per chunk, as a network read would give, with an offset to catch index bugs.
      ByteBuffer chunk = ByteBuffer.allocate(n + 3);
      chunk.position(3);
      chunk.put(stream, pos, n);
      chunk.position(3);
      fed.creditBack += reader.feed(chunk);
      assertFalse(chunk.hasRemaining(), "feed must consume the whole chunk");
      pos += n;
    }
    reader.endOfStream();
    fed.recorder.flushData();
    assertTrue(reader.sawHeaders());
    assertTrue(reader.sawTrailers());
    return fed;
  }

  private static void assertSample(Fed fed, int streamLength) {
    Recorder r = fed.recorder;
    assertEquals(List.of("H", "D", "H"), r.kinds);
    assertArrayEquals(HEADERS_BLOCK, r.blocks.get(0));
    byte[] expectedData = concat(ByteBuffer.wrap(DATA_A), ByteBuffer.wrap(DATA_B));
    assertArrayEquals(expectedData, r.blocks.get(1));
    assertArrayEquals(TRAILERS_BLOCK, r.blocks.get(2));
    assertEquals(List.of(false, false, true), r.trailerFlags);
    assertEquals(streamLength - expectedData.length, fed.creditBack);
  }

  @Test
  void roundTripWholeStream() throws Http3Exception {
    byte[] stream = sampleStream();
    assertSample(feedAll(stream, new int[] {stream.length}), stream.length);
  }

  @Test
  void roundTripOneByteAtATime() throws Http3Exception {
    byte[] stream = sampleStream();
    Fed fed = feedAll(stream, new int[] {1});
    assertSample(fed, stream.length);
    assertEquals(1, fed.recorder.largestSlice);
  }

  @Test
  void roundTripRandomChunks() throws Http3Exception {
    byte[] stream = sampleStream();
    for (int seed = 0; seed < 50; seed++) {
      Random random = new Random(seed);
      int[] sizes = new int[64];
      for (int i = 0; i < sizes.length; i++) {
        sizes[i] = 1 + random.nextInt(random.nextBoolean() ? 8 : 3000);
      }
      assertSample(feedAll(stream, sizes), stream.length);
    }
  }

  @Test
  void dataIsStreamedNotBuffered() throws Http3Exception {
    Recorder r = new Recorder();
    RequestStreamReader reader = new RequestStreamReader(r, 1024);
    reader.feed(Frames.headers(new byte[] {0, 0}));
    reader.feed(Frames.dataFrameHeader(1_000_000));
    for (int i = 0; i < 1000; i++) {
      assertEquals(0, reader.feed(ByteBuffer.allocate(1000)));
    }
    reader.endOfStream();
    assertEquals(1000, r.dataCalls);
    assertEquals(1000, r.largestSlice);
  }

  @Test
  void zeroLengthDataDeliversNothing() throws Http3Exception {
    Recorder r = new Recorder();
    RequestStreamReader reader = new RequestStreamReader(r, 1024);
    byte[] stream = concat(Frames.headers(new byte[] {0, 0}), Frames.dataFrameHeader(0),
        Frames.dataFrameHeader(0));
    assertEquals(stream.length, reader.feed(ByteBuffer.wrap(stream)));
    reader.endOfStream();
    assertEquals(0, r.dataCalls);
    assertTrue(reader.sawHeaders());
    assertFalse(reader.sawTrailers());
  }

  @Test
  void hugeUnknownFrameIsSkipped() throws Http3Exception {
    Recorder r = new Recorder();
    RequestStreamReader reader = new RequestStreamReader(r, 16);
    ByteBuffer hdr = ByteBuffer.allocate(16);
    VarInt.write(hdr, 0x21 + 0x1f * 3L);
    VarInt.write(hdr, 1L << 40);
    hdr.flip();
    int n = hdr.remaining();
    assertEquals(n, reader.feed(hdr));
    assertEquals(4096, reader.feed(ByteBuffer.allocate(4096)));
    assertTrue(r.kinds.isEmpty());
    // The stream is in the middle of that frame: FIN now is a truncated frame.
    Http3Exception e = assertThrows(Http3Exception.class, reader::endOfStream);
    assertEquals(Http3ErrorCode.H3_FRAME_ERROR, e.errorCode());
  }

  private static Http3Exception failure(byte[] stream) {
    RequestStreamReader reader = new RequestStreamReader(new Recorder(), 1024);
    return assertThrows(Http3Exception.class, () -> {
      reader.feed(ByteBuffer.wrap(stream));
      reader.endOfStream();
    });
  }

  private static void assertConnectionError(long code, Http3Exception e) {
    assertEquals(code, e.errorCode(), e.getMessage());
    assertTrue(e.isConnectionError(), "expected a connection error: " + e.getMessage());
  }

  @Test
  void dataBeforeHeadersIsUnexpected() {
    assertConnectionError(Http3ErrorCode.H3_FRAME_UNEXPECTED, failure(concat(data(new byte[3]))));
    assertConnectionError(Http3ErrorCode.H3_FRAME_UNEXPECTED,
        failure(concat(Frames.dataFrameHeader(0))));
  }

  @Test
  void anythingButUnknownAfterTrailersIsUnexpected() {
    ByteBuffer h = Frames.headers(new byte[] {0, 0});
    ByteBuffer t = Frames.headers(new byte[] {0, 0});
    assertConnectionError(Http3ErrorCode.H3_FRAME_UNEXPECTED,
        failure(concat(h.duplicate(), t.duplicate(), data(new byte[1]))));
    assertConnectionError(Http3ErrorCode.H3_FRAME_UNEXPECTED,
        failure(concat(h.duplicate(), data(new byte[1]), t.duplicate(), Frames.headers(new byte[2]))));
    assertDoesNotThrow(() -> {
      RequestStreamReader reader = new RequestStreamReader(new Recorder(), 1024);
      reader.feed(ByteBuffer.wrap(
          concat(h.duplicate(), t.duplicate(), Frames.frame(0x21, new byte[5]))));
      reader.endOfStream();
    });
  }

  @Test
  void controlAndPushFramesAreUnexpected() {
    long[] types = {FrameType.SETTINGS, FrameType.GOAWAY, FrameType.MAX_PUSH_ID,
        FrameType.CANCEL_PUSH, FrameType.PUSH_PROMISE, 0x2, 0x6, 0x8, 0x9};
    for (long type : types) {
      // Before and after HEADERS.
      assertConnectionError(Http3ErrorCode.H3_FRAME_UNEXPECTED,
          failure(concat(Frames.frame(type, new byte[] {0}))));
      assertConnectionError(Http3ErrorCode.H3_FRAME_UNEXPECTED,
          failure(concat(Frames.headers(new byte[] {0, 0}), Frames.frame(type, new byte[] {0}))));
    }
  }

  @Test
  void oversizedHeadersIsRefusedBeforeBuffering() throws Http3Exception {
    RequestStreamReader reader = new RequestStreamReader(new Recorder(), 100);
    reader.feed(Frames.headers(new byte[100])); // exactly the limit is fine
    ByteBuffer hdr = ByteBuffer.allocate(16);
    VarInt.write(hdr, FrameType.HEADERS);
    VarInt.write(hdr, 101);
    hdr.flip();
    // Only the frame header is fed: the verdict must not wait for the payload.
    Http3Exception e = assertThrows(Http3Exception.class, () -> reader.feed(hdr));
    assertEquals(Http3ErrorCode.H3_EXCESSIVE_LOAD, e.errorCode());
    assertFalse(e.isConnectionError());
    assertThrows(IllegalStateException.class, () -> reader.feed(ByteBuffer.allocate(1)));
  }

  @Test
  void finInsideAFrameIsFrameError() throws Http3Exception {
    ByteBuffer headers = Frames.headers(new byte[] {0, 0, 1});
    ByteBuffer data = data(new byte[100]); // two-byte length varint
    ByteBuffer grease = Frames.frame(0x21 + 0x1f * 100, new byte[3]); // two-byte type varint
    int h = headers.remaining();
    int d = data.remaining();
    byte[] stream = concat(headers, data, grease);
    // Every cut point except the frame boundaries must fail.
    List<Integer> boundaries = Arrays.asList(0, h, h + d, stream.length);
    for (int cut = 0; cut <= stream.length; cut++) {
      RequestStreamReader reader = new RequestStreamReader(new Recorder(), 1024);
      int c = cut;
      if (c > 0) {
        reader.feed(ByteBuffer.wrap(stream, 0, c));
      }
      if (boundaries.contains(c)) {
        assertDoesNotThrow(reader::endOfStream, "cut " + c);
      } else {
        Http3Exception e = assertThrows(Http3Exception.class, reader::endOfStream, "cut " + c);
        assertConnectionError(Http3ErrorCode.H3_FRAME_ERROR, e);
      }
    }
  }

  @Test
  void listenerFailurePropagatesAndKillsReader() {
    RequestStreamReader reader = new RequestStreamReader(new RequestStreamReader.Listener() {
      @Override
      public void onHeaders(byte[] fieldSection) throws Http3Exception {
        throw Http3Exception.stream(Http3ErrorCode.H3_MESSAGE_ERROR, "bad");
      }

      @Override
      public void onData(ByteBuffer payload) {}
    }, 1024);
    Http3Exception e = assertThrows(Http3Exception.class,
        () -> reader.feed(Frames.headers(new byte[] {0, 0})));
    assertEquals(Http3ErrorCode.H3_MESSAGE_ERROR, e.errorCode());
    assertThrows(IllegalStateException.class, reader::endOfStream);
  }
}
