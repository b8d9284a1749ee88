package dev.grpcquic.interop.peer;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * gRPC's wire format written by hand for the Netty peer (PROTOCOL-HTTP2.md): the 5-byte message
 * prefix, grpc-message percent-encoding, and base64 for -bin metadata.
 */
final class GrpcWire {
  private GrpcWire() {}

  /** One length-prefixed, uncompressed message. */
  static ByteBuf frame(ByteBufAllocator alloc, byte[] message) {
    ByteBuf buf = alloc.buffer(5 + message.length);
    buf.writeByte(0);
    buf.writeInt(message.length);
    buf.writeBytes(message);
    return buf;
  }

  /** Reassembles 5-byte-prefixed messages across DATA frames, whose boundaries mean nothing. */
  static final class Deframer {
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

    /** Adds bytes and returns every message now complete. Throws on a compressed message. */
    List<byte[]> add(ByteBuf data) {
      byte[] bytes = new byte[data.readableBytes()];
      data.readBytes(bytes);
      pending.writeBytes(bytes);
      List<byte[]> out = new ArrayList<>();
      byte[] all = pending.toByteArray();
      int pos = 0;
      while (all.length - pos >= 5) {
        int flag = all[pos];
        int length = ((all[pos + 1] & 0xff) << 24) | ((all[pos + 2] & 0xff) << 16)
            | ((all[pos + 3] & 0xff) << 8) | (all[pos + 4] & 0xff);
        if (flag != 0) {
          throw new IllegalStateException("compressed flag " + flag + " (peer sends no encoding)");
        }
        if (all.length - pos - 5 < length) {
          break;
        }
        byte[] message = new byte[length];
        System.arraycopy(all, pos + 5, message, 0, length);
        out.add(message);
        pos += 5 + length;
      }
      pending.reset();
      pending.write(all, pos, all.length - pos);
      return out;
    }

    /** Bytes of an unfinished message (non-zero at the end of a stream: truncated). */
    int pendingBytes() {
      return pending.size();
    }
  }

  /** grpc-message encoding: bytes 0x20-0x7E except '%' as they are, all others as %XX. */
  static String percentEncode(String message) {
    StringBuilder sb = new StringBuilder();
    for (byte b : message.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if (c >= 0x20 && c <= 0x7e && c != '%') {
        sb.append((char) c);
      } else {
        sb.append('%').append(String.format("%02X", c));
      }
    }
    return sb.toString();
  }

  /** Decodes a grpc-message; a bad escape is kept as it is (never an error). */
  static String percentDecode(CharSequence value) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    String s = value.toString();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '%' && i + 2 < s.length()
          && hex(s.charAt(i + 1)) >= 0 && hex(s.charAt(i + 2)) >= 0) {
        out.write(hex(s.charAt(i + 1)) * 16 + hex(s.charAt(i + 2)));
        i += 2;
      } else {
        out.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
      }
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  private static int hex(char c) {
    return Character.digit(c, 16);
  }

  /** -bin values are sent unpadded (as grpc-java does); both forms are accepted on input. */
  static String base64(byte[] value) {
    return Base64.getEncoder().withoutPadding().encodeToString(value);
  }

  static byte[] unbase64(CharSequence value) {
    return Base64.getDecoder().decode(value.toString());
  }

  /** True if every char of a received grpc-message is one a conforming encoder may send. */
  static boolean isWellFormedGrpcMessage(CharSequence value) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < 0x20 || c > 0x7e) {
        return false;
      }
    }
    return true;
  }
}
