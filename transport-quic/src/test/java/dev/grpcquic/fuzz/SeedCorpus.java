package dev.grpcquic.fuzz;

import dev.grpcquic.http3.FrameType;
import dev.grpcquic.http3.Frames;
import dev.grpcquic.http3.Header;
import dev.grpcquic.http3.Http3FuzzAccess;
import dev.grpcquic.http3.QpackEncoder;
import dev.grpcquic.http3.SettingId;
import dev.grpcquic.http3.StreamType;
import dev.grpcquic.http3.VarInt;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

/**
 * Valid inputs for each fuzz target, built with our own writers (Frames, QpackEncoder, Huffman):
 * the starting points that both fuzzers mutate. {@link #main} writes them as the committed Jazzer
 * seed corpus.
 */
public final class SeedCorpus {

  private SeedCorpus() {}

  static final List<String> TARGETS = List.of("requestStreamReader", "controlStreamReader",
      "uniStreams", "http3RequestStream", "qpackDecode", "huffman", "qpackRoundTrip",
      "headersToMetadata", "messageDeframer");

  static List<byte[]> seeds(String target) {
    return switch (target) {
      case "requestStreamReader" -> requestStreams(false);
      case "http3RequestStream" -> requestStreams(true);
      case "controlStreamReader" -> controlStreams();
      case "uniStreams" -> uniStreams();
      case "qpackDecode" -> fieldSections();
      case "huffman" -> huffmanStrings();
      case "qpackRoundTrip", "headersToMetadata" -> structured();
      case "messageDeframer" -> grpcMessages();
      default -> throw new IllegalArgumentException(target);
    };
  }

  private static final QpackEncoder ENCODER = new QpackEncoder();

  static List<Header> request() {
    return List.of(new Header(":method", "POST"), new Header(":scheme", "https"),
        new Header(":path", "/grpc.testing.TestService/UnaryCall"),
        new Header(":authority", "localhost"), new Header("content-type", "application/grpc"),
        new Header("te", "trailers"), new Header("grpc-timeout", "100m"),
        new Header("grpc-encoding", "gzip"), new Header("x-user-bin", "AAECAwQ"),
        new Header("x-user", "v"));
  }

  private static List<byte[]> requestStreams(boolean withConfigVariants) {
    byte[] headers = bytes(Frames.headers(ENCODER.encode(request())));
    byte[] response = bytes(Frames.headers(ENCODER.encode(List.of(new Header(":status", "200"),
        new Header("content-type", "application/grpc")))));
    byte[] trailers = bytes(Frames.headers(ENCODER.encode(List.of(new Header("grpc-status", "0"),
        new Header("grpc-message", "ok%20done")))));
    byte[] payload = {0, 0, 0, 0, 3, 1, 2, 3};
    byte[] data = concat(bytes(Frames.dataFrameHeader(payload.length)), payload);
    byte[] grease = bytes(Frames.frame(0x21 + 0x1f * 3, new byte[] {9, 9, 9}));
    byte[] emptyData = bytes(Frames.dataFrameHeader(0));
    List<byte[]> out = new ArrayList<>();
    int[] cfgs = withConfigVariants ? new int[] {0x02, 0x06, 0x0b, 0x3f} : new int[] {0x02, 0x07, 0x41};
    for (int cfg : cfgs) {
      out.add(concat(new byte[] {(byte) cfg}, headers, data, trailers));
      out.add(concat(new byte[] {(byte) cfg}, response, grease, data, emptyData, data, trailers));
      out.add(concat(new byte[] {(byte) cfg}, headers, data));
    }
    out.add(concat(new byte[] {3}, bytes(Frames.dataFrameHeader(5))));
    out.add(concat(new byte[] {3}, headers, bytes(Frames.settings(Map.of()))));
    return out;
  }

  private static List<byte[]> controlStreams() {
    Map<Long, Long> settings = new LinkedHashMap<>();
    settings.put(SettingId.QPACK_MAX_TABLE_CAPACITY, 0L);
    settings.put(SettingId.QPACK_BLOCKED_STREAMS, 0L);
    settings.put(SettingId.MAX_FIELD_SECTION_SIZE, 8192L);
    settings.put(0x21L, 7L);
    byte[] s = bytes(Frames.settings(settings));
    List<byte[]> out = new ArrayList<>();
    out.add(concat(new byte[] {1}, s));
    out.add(concat(new byte[] {5}, s, bytes(Frames.goaway(100)), bytes(Frames.goaway(8))));
    out.add(concat(new byte[] {9}, s, bytes(Frames.frame(FrameType.MAX_PUSH_ID, VarInt.encode(3))),
        bytes(Frames.frame(0x40, new byte[] {1, 2})), bytes(Frames.frame(FrameType.CANCEL_PUSH,
            VarInt.encode(1)))));
    out.add(concat(new byte[] {2}, bytes(Frames.goaway(4))));
    return out;
  }

  private static List<byte[]> uniStreams() {
    byte[] control = bytes(Frames.controlStreamPreface(Map.of(SettingId.MAX_FIELD_SECTION_SIZE, 100L)));
    byte[] goaway = bytes(Frames.goaway(0));
    List<byte[]> out = new ArrayList<>();
    out.add(uni(new byte[][] {concat(control, goaway)}, new int[] {0}));
    out.add(uni(new byte[][] {control, {(byte) StreamType.QPACK_ENCODER, 0x3f, 0x01},
        {(byte) StreamType.QPACK_DECODER}, VarInt.encode(0x21 + 0x1f)}, new int[] {0, 0, 0, 1}));
    out.add(uni(new byte[][] {control, control}, new int[] {4, 8}));
    out.add(uni(new byte[][] {{(byte) StreamType.PUSH, 0}}, new int[] {0}));
    out.add(uni(new byte[][] {control}, new int[] {1}));
    return out;
  }

  /** Layout read by {@link FuzzTargets#uniStreams}: count, then per stream mode, length, bytes. */
  private static byte[] uni(byte[][] streams, int[] modes) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(streams.length - 1);
    for (int i = 0; i < streams.length; i++) {
      out.write(modes[i] & 0xbf);
      out.write(streams[i].length);
      out.write(streams[i], 0, streams[i].length);
    }
    return out.toByteArray();
  }

  private static List<byte[]> fieldSections() {
    List<byte[]> out = new ArrayList<>();
    out.add(ENCODER.encode(request()));
    out.add(ENCODER.encode(List.of(new Header(":status", "200"), new Header("grpc-status", "13"),
        new Header("grpc-message", "x".repeat(300)))));
    ByteArrayOutputStream huff = new ByteArrayOutputStream();
    huff.write(0);
    huff.write(0);
    byte[] name = Http3FuzzAccess.huffmanEncode("custom-key".getBytes(StandardCharsets.ISO_8859_1));
    FuzzTargets.prefixedInt(huff, 0x28, 3, name.length);
    huff.write(name, 0, name.length);
    byte[] value = Http3FuzzAccess.huffmanEncode("custom-value".getBytes(StandardCharsets.ISO_8859_1));
    FuzzTargets.prefixedInt(huff, 0x80, 7, value.length);
    huff.write(value, 0, value.length);
    out.add(huff.toByteArray());
    out.add(new byte[] {0, 0, (byte) 0xd1, (byte) 0xd7, 0x5f, 0x1d, 3, 'a', 'b', 'c'});
    return out;
  }

  private static List<byte[]> huffmanStrings() {
    List<byte[]> out = new ArrayList<>();
    for (String s : new String[] {"www.example.com", "no-cache", "custom-value", "application/grpc",
        "\u0000\u00ff\u0080 binary \u00fe"}) {
      out.add(Http3FuzzAccess.huffmanEncode(s.getBytes(StandardCharsets.ISO_8859_1)));
    }
    return out;
  }

  private static List<byte[]> structured() {
    List<byte[]> out = new ArrayList<>();
    out.add(HexFormat.of().parseHex("01050001ff0301037a2d620a000102030405060708098101080b"));
    out.add("\u0000\u0008\u0002\u0004ab\u0003xyz\u0011\u0005a-bin\u0004AAEC\u00a0\u0006\u0001\u00ff"
        .getBytes(StandardCharsets.ISO_8859_1));
    out.add(HexFormat.of().parseHex("0106" + "00" + "04" + "ff" + "12" + "02" + "05" + "e1" + "03"
        + "616263" + "93" + "04" + "0a0b0c0d"));
    return out;
  }

  private static List<byte[]> grpcMessages() {
    List<byte[]> out = new ArrayList<>();
    byte[] plain = {0, 0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o', 0, 0, 0, 0, 0};
    out.add(concat(new byte[] {0x04}, plain));
    out.add(concat(new byte[] {0x12}, plain));
    byte[] gz = gzip(new byte[2000]);
    byte[] compressed = concat(new byte[] {1}, ByteBuffer.allocate(4).putInt(gz.length).array(), gz);
    out.add(concat(new byte[] {0x0c}, compressed)); // gzip, limit 1024: the message is too large
    out.add(concat(new byte[] {0x1d}, compressed, plain)); // gzip, 4 MiB limit
    out.add(concat(new byte[] {0x03}, new byte[] {0, 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff}));
    return out;
  }

  static byte[] gzip(byte[] data) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(data);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  static byte[] bytes(ByteBuffer buf) {
    byte[] b = new byte[buf.remaining()];
    buf.duplicate().get(b);
    return b;
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.write(p, 0, p.length);
    }
    return out.toByteArray();
  }

  /** Writes the seeds as the Jazzer corpus: {@code SeedCorpus <resources dir>}. */
  public static void main(String[] args) throws IOException {
    Path root = Path.of(args[0], "dev/grpcquic/fuzz/Http3FuzzTestInputs");
    for (String target : TARGETS) {
      Path dir = root.resolve(target);
      Files.createDirectories(dir);
      List<byte[]> seeds = seeds(target);
      for (int i = 0; i < seeds.size(); i++) {
        Files.write(dir.resolve(String.format("seed-%02d", i)), seeds.get(i));
      }
    }
  }
}
