package dev.grpcquic.fuzz;

import dev.grpcquic.engine.ConnectionStats;
import dev.grpcquic.engine.QuicConnection;
import dev.grpcquic.engine.QuicStream;
import dev.grpcquic.engine.StreamHandler;
import dev.grpcquic.http3.ControlStreamReader;
import dev.grpcquic.http3.Header;
import dev.grpcquic.http3.Http3ErrorCode;
import dev.grpcquic.http3.Http3Exception;
import dev.grpcquic.http3.Http3FuzzAccess;
import dev.grpcquic.http3.QpackDecoder;
import dev.grpcquic.http3.QpackEncoder;
import dev.grpcquic.http3.RequestStreamReader;
import dev.grpcquic.transport.TransportFuzzAccess;
import io.grpc.Codec;
import io.grpc.Decompressor;
import io.grpc.InternalMetadata;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.internal.MessageDeframer;
import io.grpc.internal.ReadableBuffers;
import io.grpc.internal.StatsTraceContext;
import io.grpc.internal.StreamListener;
import io.grpc.internal.TransportTracer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;

/**
 * The fuzz targets: one static method per parser that reads peer bytes. Each takes arbitrary
 * bytes, drives the parser the way the transport does, and throws (an AssertionError, or whatever
 * the parser let escape) when a property is broken. The properties:
 *
 * <ul>
 *   <li>only the documented failure escapes: {@link Http3Exception} with a legal code of the right
 *       kind (connection or stream); for gRPC deframing, {@link StatusRuntimeException};
 *   <li>the result does not depend on how QUIC chunked the bytes;
 *   <li>flow-control credit adds up (frame overhead is given back, DATA is handed up);
 *   <li>round trips: QpackEncoder to QpackDecoder, Huffman encode to decode, decode to re-encode.
 * </ul>
 *
 * Jazzer ({@link Http3FuzzTest}) and the seeded mutation fuzzer ({@link SeededFuzzTest}) both call
 * these, so a crash found by either is replayed by both.
 */
public final class FuzzTargets {

  private FuzzTargets() {}

  // ---------------------------------------------------------------- request stream frame reader

  private static final long[] HEADER_LIMITS = {0, 16, 1024, 8192};

  /**
   * {@link RequestStreamReader}: byte 0 picks the field-section limit and the chunking; the rest is
   * the stream. Fed whole and in random chunks; both must give the same events and outcome.
   */
  public static void requestStreamReader(byte[] input) {
    if (input.length == 0) {
      return;
    }
    int cfg = input[0] & 0xff;
    long limit = HEADER_LIMITS[cfg & 3];
    byte[] body = Arrays.copyOfRange(input, 1, input.length);
    String whole = readRequestStream(List.of(ByteBuffer.wrap(body)), limit);
    String chunked = readRequestStream(chunks(body, cfg >>> 2), limit);
    check(whole.equals(chunked), "chunking changed the result:\n whole:   " + whole
        + "\n chunked: " + chunked);
  }

  private static String readRequestStream(List<ByteBuffer> chunks, long limit) {
    Trace trace = new Trace();
    RequestStreamReader[] holder = new RequestStreamReader[1];
    RequestStreamReader reader = new RequestStreamReader(new RequestStreamReader.Listener() {
      @Override
      public void onHeaders(byte[] fieldSection) {
        check(fieldSection.length <= limit, "field section over the limit");
        trace.flushData();
        trace.add((holder[0].sawTrailers() ? "T" : "H") + hex(fieldSection));
      }

      @Override
      public void onData(ByteBuffer payload) {
        check(payload.hasRemaining(), "empty DATA slice");
        check(holder[0].sawHeaders() && !holder[0].sawTrailers(), "DATA outside the message");
        trace.data(payload);
      }
    }, limit);
    holder[0] = reader;
    try {
      for (ByteBuffer chunk : chunks) {
        int size = chunk.remaining();
        long dataBefore = trace.dataBytes;
        int overhead = reader.feed(chunk);
        check(!chunk.hasRemaining(), "chunk not fully consumed");
        check(overhead + (trace.dataBytes - dataBefore) == size,
            "overhead " + overhead + " + data " + (trace.dataBytes - dataBefore) + " != " + size);
      }
      reader.endOfStream();
      trace.flushData();
      trace.add("END");
    } catch (Http3Exception e) {
      trace.flushData();
      expect(e, Set.of(Http3ErrorCode.H3_FRAME_UNEXPECTED, Http3ErrorCode.H3_FRAME_ERROR),
          Set.of(Http3ErrorCode.H3_EXCESSIVE_LOAD));
      trace.add("ERR " + Http3ErrorCode.name(e.errorCode()) + (e.isConnectionError() ? " conn" : " stream"));
    }
    return trace.toString();
  }

  // ---------------------------------------------------------------- control stream reader

  /** {@link ControlStreamReader}: byte 0 picks the chunking; the rest follows the stream type. */
  public static void controlStreamReader(byte[] input) {
    if (input.length == 0) {
      return;
    }
    byte[] body = Arrays.copyOfRange(input, 1, input.length);
    String whole = readControlStream(List.of(ByteBuffer.wrap(body)));
    String chunked = readControlStream(chunks(body, input[0] & 0xff));
    check(whole.equals(chunked), "chunking changed the result:\n whole:   " + whole
        + "\n chunked: " + chunked);
  }

  private static final Set<Long> CONTROL_ERRORS = Set.of(Http3ErrorCode.H3_MISSING_SETTINGS,
      Http3ErrorCode.H3_FRAME_UNEXPECTED, Http3ErrorCode.H3_EXCESSIVE_LOAD,
      Http3ErrorCode.H3_ID_ERROR, Http3ErrorCode.H3_FRAME_ERROR, Http3ErrorCode.H3_SETTINGS_ERROR);

  private static String readControlStream(List<ByteBuffer> chunks) {
    Trace trace = new Trace();
    long[] lastGoaway = {Long.MAX_VALUE};
    ControlStreamReader reader = new ControlStreamReader(new ControlStreamReader.Listener() {
      @Override
      public void onSettings(Map<Long, Long> settings) {
        check(trace.events.isEmpty(), "SETTINGS not first, or twice");
        trace.add("S" + settings);
      }

      @Override
      public void onGoaway(long id) {
        check(id <= lastGoaway[0], "GOAWAY id grew");
        lastGoaway[0] = id;
        trace.add("G" + id);
      }
    });
    try {
      for (ByteBuffer chunk : chunks) {
        reader.feed(chunk);
        check(!chunk.hasRemaining(), "chunk not fully consumed");
      }
      try {
        reader.endOfStream();
        throw new AssertionError("end of the control stream accepted");
      } catch (Http3Exception e) {
        expect(e, Set.of(Http3ErrorCode.H3_CLOSED_CRITICAL_STREAM), Set.of());
      }
      trace.add("END");
    } catch (Http3Exception e) {
      expect(e, CONTROL_ERRORS, Set.of());
      trace.add("ERR " + Http3ErrorCode.name(e.errorCode()));
    }
    return trace.toString();
  }

  // ---------------------------------------------------------------- Http3Control: uni streams

  /**
   * {@code Http3Control}'s handling of peer unidirectional streams (type, then control/QPACK/unknown
   * content), up to four streams, each chunked, ended, reset or left open; data keeps arriving after
   * a connection error, as it can from an engine that had already read it. The engine's credit is
   * respected.
   */
  public static void uniStreams(byte[] input) {
    Bytes in = new Bytes(input);
    FakeConnection connection = new FakeConnection();
    int[] settingsCalls = {0};
    var control = TransportFuzzAccess.http3Control(connection,
        s -> settingsCalls[0]++, id -> { });
    int streams = 1 + in.u8() % 4;
    for (int s = 0; s < streams && in.has(); s++) {
      FakeStream stream = new FakeStream(4 * s + 3);
      StreamHandler handler = control.apply(stream);
      int mode = in.u8();
      byte[] body = in.bytes(in.u8() + (mode & 0x40) * 4);
      for (ByteBuffer chunk : chunks(body, mode)) {
        while (chunk.hasRemaining() && stream.credit > 0) {
          int n = (int) Math.min(stream.credit, chunk.remaining());
          stream.credit -= n;
          handler.onData(chunk.slice(chunk.position(), n));
          chunk.position(chunk.position() + n);
        }
      }
      switch (mode & 3) {
        case 1 -> handler.onEndOfStream();
        case 2 -> handler.onReset(-1);
        case 3 -> handler.onStopSending(0x10c);
        default -> { }
      }
    }
    check(settingsCalls[0] <= 1, "SETTINGS reported twice");
    for (long code : connection.closeCodes) {
      check(code == Http3ErrorCode.H3_STREAM_CREATION_ERROR || code == Http3ErrorCode.H3_ID_ERROR
          || code == Http3ErrorCode.H3_CLOSED_CRITICAL_STREAM || CONTROL_ERRORS.contains(code),
          "connection closed with " + Http3ErrorCode.name(code));
    }
  }

  // ---------------------------------------------------------------- Http3RequestStream

  /**
   * The transport's {@code Http3RequestStream} (frames, QPACK, field validation) with a gRPC side
   * that converts every field section to Metadata the way both transports do. Byte 0: limit, which
   * side, chunking.
   */
  public static void http3RequestStream(byte[] input) {
    if (input.length == 0) {
      return;
    }
    int cfg = input[0] & 0xff;
    long limit = new long[] {64, 1024, 8192, 65536}[cfg & 3];
    boolean client = (cfg & 4) != 0;
    byte[] body = Arrays.copyOfRange(input, 1, input.length);
    int window = 1 << 16;
    FakeStream stream = new FakeStream(0);
    long[] data = {0};
    List<Http3Exception> protocolErrors = new ArrayList<>();
    List<Http3Exception> connectionErrors = new ArrayList<>();
    boolean[] ended = {false};
    StreamHandler handler = TransportFuzzAccess.requestStream(stream,
        new TransportFuzzAccess.Events() {
          @Override
          public void onHeaders(List<Header> fields) throws Http3Exception {
            check(!ended[0], "headers after the end");
            useMetadata(TransportFuzzAccess.toMetadata(fields, client), true);
          }

          @Override
          public void onData(ByteBuffer payload) {
            data[0] += payload.remaining();
          }

          @Override
          public void onEndOfStream() {
            ended[0] = true;
          }

          @Override
          public void onProtocolError(Http3Exception error) {
            protocolErrors.add(error);
          }

          @Override
          public void onConnectionError(Http3Exception error) {
            connectionErrors.add(error);
          }
        }, limit, window);
    check(stream.credit == window, "initial credit");
    long fed = 0;
    for (ByteBuffer chunk : chunks(body, cfg >>> 3)) {
      fed += chunk.remaining();
      handler.onData(chunk);
      if (protocolErrors.isEmpty()) {
        // Credit given: the window, plus all but DATA payload (given back only when consumed).
        check(stream.requested == window + fed - data[0],
            "credit " + stream.requested + " != " + window + " + " + fed + " - " + data[0]);
      }
    }
    handler.onEndOfStream();
    check(protocolErrors.size() <= 1, "more than one protocol error: " + protocolErrors);
    check(!ended[0] || protocolErrors.isEmpty(), "ended and failed");
    for (Http3Exception e : protocolErrors) {
      expect(e,
          Set.of(Http3ErrorCode.H3_FRAME_UNEXPECTED, Http3ErrorCode.H3_FRAME_ERROR,
              Http3ErrorCode.QPACK_DECOMPRESSION_FAILED),
          Set.of(Http3ErrorCode.H3_EXCESSIVE_LOAD, Http3ErrorCode.H3_MESSAGE_ERROR));
      check(connectionErrors.equals(e.isConnectionError() ? List.of(e) : List.of()),
          "connection error not (or wrongly) reported to the connection");
    }
    check(!connectionErrors.isEmpty() || protocolErrors.isEmpty()
        || !protocolErrors.get(0).isConnectionError(), "connection error lost");
  }

  /**
   * What grpc-core and an application may do with received Metadata; none of it may throw. Every
   * name must be an RFC 9110 token in lowercase (RFC 9114 §4.2, §10.3) and no value may hold NUL,
   * CR or LF (RFC 9110 §5.5).
   */
  private static void useMetadata(Metadata metadata, boolean checkValues) {
    for (String key : metadata.keys()) {
      check(isLowercaseToken(key.startsWith(":") ? key.substring(1) : key),
          "invalid field name reached gRPC: " + key);
      if (!checkValues || !key.matches("[0-9a-z_.-]+")) {
        continue; // an HTTP token gRPC's Key.of would refuse; the application can still iterate it
      }
      if (key.endsWith(Metadata.BINARY_HEADER_SUFFIX)) {
        metadata.getAll(Metadata.Key.of(key, Metadata.BINARY_BYTE_MARSHALLER));
      } else {
        for (String value : metadata.getAll(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER))) {
          check(value.indexOf('\0') < 0 && value.indexOf('\r') < 0 && value.indexOf('\n') < 0,
              "NUL, CR or LF in a value reached gRPC: " + key);
        }
      }
    }
    metadata.toString();
    io.grpc.internal.TransportFrameUtil.toHttp2Headers(metadata);
  }

  private static boolean isLowercaseToken(String name) {
    if (name.isEmpty()) {
      return false;
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      boolean ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  // ---------------------------------------------------------------- QPACK decoding

  private static final QpackDecoder DECODER = new QpackDecoder();
  private static final QpackEncoder ENCODER = new QpackEncoder();

  /**
   * {@link QpackDecoder} on arbitrary field sections; what decodes must survive re-encoding and
   * decoding again unchanged.
   */
  public static void qpackDecode(byte[] input) {
    List<Header> fields;
    try {
      fields = DECODER.decode(input);
    } catch (Http3Exception e) {
      expect(e, Set.of(Http3ErrorCode.QPACK_DECOMPRESSION_FAILED), Set.of());
      return;
    }
    long chars = 0;
    for (Header h : fields) {
      chars += h.name().length() + h.value().length();
      checkLatin1(h.name());
      checkLatin1(h.value());
    }
    // Literal bytes at most 8/5 larger after Huffman; static entries are shared objects.
    check(fields.size() <= input.length, "more fields than bytes");
    try {
      check(DECODER.decode(ENCODER.encode(fields)).equals(fields), "decode/encode/decode changed fields");
    } catch (Http3Exception e) {
      throw new AssertionError("re-encoded section did not decode", e);
    }
    check(chars >= 0, "unreachable");
  }

  /** Huffman decoding of arbitrary bytes; whatever decodes must re-encode to the same bytes. */
  public static void huffman(byte[] input) {
    byte[] decoded;
    try {
      decoded = Http3FuzzAccess.huffmanDecode(input);
    } catch (Http3Exception e) {
      expect(e, Set.of(Http3ErrorCode.QPACK_DECOMPRESSION_FAILED), Set.of());
      decoded = null;
    }
    if (decoded != null) {
      check(decoded.length <= input.length * 8 / 5, "Huffman output too long");
      check(Arrays.equals(Http3FuzzAccess.huffmanEncode(decoded), input),
          "Huffman decode is not the inverse of encode");
    }
    // And the other direction on the same bytes as plain input.
    try {
      check(Arrays.equals(Http3FuzzAccess.huffmanDecode(Http3FuzzAccess.huffmanEncode(input)), input),
          "Huffman round trip changed the bytes");
    } catch (Http3Exception e) {
      throw new AssertionError("our own Huffman output did not decode", e);
    }
  }

  /**
   * Round trip: arbitrary ISO-8859-1 header lists through {@link QpackEncoder} and {@link
   * QpackDecoder}, and through a field section written here with Huffman-coded literals.
   */
  public static void qpackRoundTrip(byte[] input) {
    List<Header> fields = headerList(new Bytes(input));
    try {
      check(DECODER.decode(ENCODER.encode(fields)).equals(fields), "QPACK round trip changed fields");
      check(DECODER.decode(huffmanSection(fields)).equals(fields), "Huffman section round trip");
    } catch (Http3Exception e) {
      throw new AssertionError("valid section refused", e);
    }
  }

  /** Literal-name, Huffman-coded field lines, written independently of QpackEncoder. */
  private static byte[] huffmanSection(List<Header> fields) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(0);
    out.write(0);
    for (Header h : fields) {
      byte[] name = Http3FuzzAccess.huffmanEncode(h.name().getBytes(StandardCharsets.ISO_8859_1));
      prefixedInt(out, 0x20 | 0x08, 3, name.length);
      out.write(name, 0, name.length);
      byte[] value = Http3FuzzAccess.huffmanEncode(h.value().getBytes(StandardCharsets.ISO_8859_1));
      prefixedInt(out, 0x80, 7, value.length);
      out.write(value, 0, value.length);
    }
    return out.toByteArray();
  }

  static void prefixedInt(ByteArrayOutputStream out, int flags, int prefixBits, long value) {
    long max = (1L << prefixBits) - 1;
    if (value < max) {
      out.write(flags | (int) value);
      return;
    }
    out.write(flags | (int) max);
    value -= max;
    do {
      int b = (int) (value & 0x7f);
      value >>>= 7;
      out.write(value > 0 ? b | 0x80 : b);
    } while (value > 0);
  }

  // ---------------------------------------------------------------- HeaderBlocks.toMetadata

  private static final String[] NAMES = {
    "grpc-timeout", "grpc-encoding", "grpc-accept-encoding", "grpc-status", "grpc-message",
    "content-type", "te", ":status", ":path", "x-bin", "a-bin", "-bin", "grpc-trace-bin", "x",
    "user-agent", "authorization",
  };

  /**
   * {@code HeaderBlocks.toMetadata} on arbitrary names and values, with a bias towards gRPC's own
   * names and -bin values that are or are not base64. Valid names as the request stream would
   * pass them; the Metadata must then be usable, and non-binary values must arrive unchanged.
   */
  public static void headersToMetadata(byte[] input) {
    Bytes in = new Bytes(input);
    boolean keepPseudo = (in.u8() & 1) != 0;
    List<Header> fields = new ArrayList<>();
    int n = in.u8() % 12;
    for (int i = 0; i < n && in.has(); i++) {
      int kind = in.u8();
      String name = (kind & 1) == 0 ? NAMES[(kind >>> 1) % NAMES.length] : latin1(in.bytes(in.u8() % 24));
      if ((kind & 0x60) == 0x60 && !name.endsWith("-bin")) {
        name = name + "-bin";
      }
      String value;
      if ((kind & 0x80) != 0) {
        // base64 of some bytes, standard or URL alphabet, padded or not, maybe comma-joined.
        byte[] raw = in.bytes(in.u8() % 40);
        Base64.Encoder enc = (kind & 0x10) != 0 ? Base64.getEncoder() : Base64.getEncoder().withoutPadding();
        value = enc.encodeToString(raw);
        if ((kind & 0x08) != 0) {
          value = value + "," + enc.encodeToString(in.bytes(in.u8() % 8));
        }
      } else {
        value = latin1(in.bytes(in.u8() % 40));
      }
      fields.add(new Header(name, value));
    }
    List<Header> valid = new ArrayList<>();
    for (Header h : fields) {
      if (TransportFuzzAccess.isValidName(h.name())) {
        valid.add(h);
      }
    }
    Metadata metadata;
    try {
      metadata = TransportFuzzAccess.toMetadata(valid, keepPseudo);
    } catch (Http3Exception e) {
      expect(e, Set.of(), Set.of(Http3ErrorCode.H3_MESSAGE_ERROR));
      return;
    }
    useMetadata(metadata, false);
    byte[][] serialized = InternalMetadata.serialize(metadata);
    List<String> plainOut = new ArrayList<>();
    for (int i = 0; i < serialized.length; i += 2) {
      String name = latin1(serialized[i]);
      if (!name.endsWith("-bin")) {
        plainOut.add(name + "=" + latin1(serialized[i + 1]));
      }
    }
    List<String> plainIn = new ArrayList<>();
    for (Header h : valid) {
      if (!h.name().endsWith("-bin") && (keepPseudo || !h.name().startsWith(":"))) {
        plainIn.add(h.name() + "=" + h.value());
      }
    }
    check(plainIn.equals(plainOut), "non-binary fields changed: " + plainIn + " -> " + plainOut);
  }

  // ---------------------------------------------------------------- gRPC message deframing

  private static final int[] MAX_MESSAGE = {0, 1, 5, 64, 1024, 4 * 1024 * 1024};

  /**
   * grpc-core's {@link MessageDeframer} as our streams drive it: arbitrary DATA payload, in
   * chunks, with a max message size and identity or gzip. Only StatusRuntimeException may escape,
   * from deframing or from reading a message; no message may be read beyond the limit.
   */
  public static void messageDeframer(byte[] input) {
    if (input.length == 0) {
      return;
    }
    int cfg = input[0] & 0xff;
    int max = MAX_MESSAGE[(cfg & 7) % MAX_MESSAGE.length];
    Decompressor decompressor = (cfg & 8) != 0 ? new Codec.Gzip() : Codec.Identity.NONE;
    byte[] body = Arrays.copyOfRange(input, 1, input.length);
    long[] bytesRead = {0};
    boolean[] failed = {false};
    MessageDeframer deframer = new MessageDeframer(new MessageDeframer.Listener() {
      @Override
      public void bytesRead(int n) {
        bytesRead[0] += n;
      }

      @Override
      public void messagesAvailable(StreamListener.MessageProducer producer) {
        InputStream message;
        while ((message = producer.next()) != null) {
          drain(message, max);
        }
      }

      @Override
      public void deframerClosed(boolean hasPartialMessage) {}

      @Override
      public void deframeFailed(Throwable cause) {
        failed[0] = true;
      }
    }, decompressor, max, StatsTraceContext.NOOP, new TransportTracer());
    deframer.request(1 + (cfg >>> 4) * 4);
    try {
      for (ByteBuffer chunk : chunks(body, cfg >>> 4)) {
        deframer.deframe(ReadableBuffers.wrap(chunk));
      }
      deframer.request(1000);
      deframer.closeWhenComplete();
    } catch (StatusRuntimeException expected) {
      // What the transport's deframeFailed turns into a call status.
    } finally {
      deframer.close();
    }
    check(bytesRead[0] <= body.length, "deframer read more than it got");
  }

  private static void drain(InputStream message, int max) {
    byte[] buf = new byte[4096];
    long total = 0;
    try (message) {
      int n;
      while ((n = message.read(buf)) != -1) {
        total += n;
        check(total <= max, "read " + total + " bytes of a message limited to " + max);
      }
    } catch (StatusRuntimeException expected) {
      // RESOURCE_EXHAUSTED for a decompressed message over the limit: fails the call.
    } catch (IOException e) {
      // A corrupt gzip stream: grpc-core's message parsing turns it into a call failure.
    }
  }

  // ---------------------------------------------------------------- helpers

  static List<Header> headerList(Bytes in) {
    List<Header> fields = new ArrayList<>();
    int n = in.u8() % 16;
    for (int i = 0; i < n && in.has(); i++) {
      int kind = in.u8();
      if ((kind & 3) == 0) {
        fields.add(Http3FuzzAccess.staticEntry(in.u8() % Http3FuzzAccess.staticTableSize()));
      } else if ((kind & 3) == 1) {
        Header h = Http3FuzzAccess.staticEntry(in.u8() % Http3FuzzAccess.staticTableSize());
        fields.add(new Header(h.name(), latin1(in.bytes(in.u8() + (kind & 0x80) * 2))));
      } else {
        fields.add(new Header(latin1(in.bytes(in.u8() % 200)),
            latin1(in.bytes(in.u8() + (kind & 0x80) * 2))));
      }
    }
    return fields;
  }

  /** Splits {@code data} into chunks of 1 to 17 bytes chosen by {@code seed}, often 1 byte. */
  static List<ByteBuffer> chunks(byte[] data, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    List<ByteBuffer> out = new ArrayList<>();
    int pos = 0;
    while (pos < data.length) {
      int n = Math.min(data.length - pos, random.nextInt(4) == 0 ? 1 : 1 + random.nextInt(17));
      // A fresh array per chunk, as an engine would hand out: no peeking past its end.
      out.add(ByteBuffer.wrap(Arrays.copyOfRange(data, pos, pos + n)));
      pos += n;
    }
    return out;
  }

  private static void expect(Http3Exception e, Set<Long> connectionCodes, Set<Long> streamCodes) {
    Set<Long> allowed = e.isConnectionError() ? connectionCodes : streamCodes;
    if (!allowed.contains(e.errorCode())) {
      throw new AssertionError("unexpected " + (e.isConnectionError() ? "connection" : "stream")
          + " error " + Http3ErrorCode.name(e.errorCode()), e);
    }
  }

  private static void checkLatin1(String s) {
    for (int i = 0; i < s.length(); i++) {
      check(s.charAt(i) <= 0xff, "char above 0xff");
    }
  }

  static void check(boolean ok, String message) {
    if (!ok) {
      throw new AssertionError(message);
    }
  }

  static String latin1(byte[] b) {
    return new String(b, StandardCharsets.ISO_8859_1);
  }

  static String hex(byte[] b) {
    return HexFormat.of().formatHex(b);
  }

  /** Reads bytes of a fuzz input; past the end every read gives zeros. */
  static final class Bytes {
    private final byte[] data;
    private int pos;

    Bytes(byte[] data) {
      this.data = data;
    }

    boolean has() {
      return pos < data.length;
    }

    int u8() {
      return pos < data.length ? data[pos++] & 0xff : 0;
    }

    byte[] bytes(int n) {
      int k = Math.max(0, Math.min(n, data.length - pos));
      byte[] out = Arrays.copyOfRange(data, pos, pos + k);
      pos += k;
      return out;
    }
  }

  /** Records events; consecutive DATA is merged so that chunking does not show. */
  private static final class Trace {
    final List<String> events = new ArrayList<>();
    final ByteArrayOutputStream data = new ByteArrayOutputStream();
    long dataBytes;

    void add(String event) {
      events.add(event);
    }

    void data(ByteBuffer payload) {
      byte[] b = new byte[payload.remaining()];
      payload.get(b);
      data.write(b, 0, b.length);
      dataBytes += b.length;
    }

    void flushData() {
      if (data.size() > 0) {
        events.add("D" + hex(data.toByteArray()));
        data.reset();
      }
    }

    @Override
    public String toString() {
      return events.toString();
    }
  }

  /** A QUIC stream that records credit and ignores writes (also for unit tests elsewhere). */
  public static final class FakeStream implements QuicStream {
    final long id;
    long credit;
    long requested;

    public FakeStream(long id) {
      this.id = id;
    }

    @Override
    public long id() {
      return id;
    }

    @Override
    public boolean isBidirectional() {
      return id % 4 < 2;
    }

    @Override
    public void request(int bytes) {
      check(bytes > 0, "request(" + bytes + ")");
      credit += bytes;
      requested += bytes;
    }

    @Override
    public void write(ByteBuffer data, boolean fin) {}

    @Override
    public long queuedBytes() {
      return 0;
    }

    @Override
    public void reset(long applicationErrorCode) {}

    @Override
    public void stopSending(long applicationErrorCode) {}
  }

  /** A connection that records how it was closed; our own streams never open. */
  static final class FakeConnection implements QuicConnection {
    final List<Long> closeCodes = new ArrayList<>();

    @Override
    public CompletableFuture<QuicStream> openStream(boolean bidirectional, StreamHandler handler) {
      return new CompletableFuture<>();
    }

    @Override
    public void close(long applicationErrorCode, String reason) {
      closeCodes.add(applicationErrorCode);
    }

    @Override
    public ConnectionStats stats() {
      throw new UnsupportedOperationException();
    }

    @Override
    public InetSocketAddress remoteAddress() {
      return new InetSocketAddress(0);
    }

    @Override
    public InetSocketAddress localAddress() {
      return new InetSocketAddress(0);
    }

    @Override
    public boolean isOpen() {
      return closeCodes.isEmpty();
    }
  }
}
