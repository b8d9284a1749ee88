package dev.grpcquic.http3;

import java.io.ByteArrayOutputStream;
import java.util.List;

/**
 * Encodes a field section (RFC 9204 §4.5) with the static table and plain literals only: no
 * dynamic table (so no encoder stream and no blocked streams), no Huffman.
 *
 * <p>We write our own instead of using tech.kwik.qpack's encoder because its prefixed-integer
 * loop is wrong for some lengths (255, 16511, 16512, names of 135 bytes), which corrupts headers.
 * Stateless and thread safe.
 */
public final class QpackEncoder {

  /** Encodes {@code fields} in order. Throws IllegalArgumentException for chars above 0xFF. */
  public byte[] encode(List<Header> fields) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(64);
    // Required Insert Count 0 (8-bit prefix), then Sign 0 and Delta Base 0 (7-bit prefix).
    out.write(0);
    out.write(0);
    for (Header field : fields) {
      int exact = StaticTable.indexOf(field);
      if (exact >= 0) {
        // Indexed field line, static: 1 T=1 index(6).
        writeInt(out, 0xc0, 6, exact);
        continue;
      }
      int nameIndex = StaticTable.nameIndexOf(field.name());
      if (nameIndex >= 0) {
        // Literal with name reference, static: 0 1 N=0 T=1 index(4).
        writeInt(out, 0x50, 4, nameIndex);
      } else {
        // Literal with literal name: 0 0 1 N=0 H=0 length(3), name bytes.
        byte[] name = bytes(field.name());
        writeInt(out, 0x20, 3, name.length);
        out.write(name, 0, name.length);
      }
      byte[] value = bytes(field.value());
      writeInt(out, 0x00, 7, value.length); // H=0
      out.write(value, 0, value.length);
    }
    return out.toByteArray();
  }

  /**
   * RFC 7541 §5.1 prefixed integer: {@code flags} holds the bits above the prefix. Values that
   * do not fit the prefix continue in 7-bit groups, low group first.
   */
  static void writeInt(ByteArrayOutputStream out, int flags, int prefixBits, long value) {
    int max = (1 << prefixBits) - 1;
    if (value < max) {
      out.write(flags | (int) value);
      return;
    }
    out.write(flags | max);
    long rest = value - max;
    while (rest >= 0x80) {
      out.write((int) (rest & 0x7f) | 0x80);
      rest >>>= 7;
    }
    out.write((int) rest);
  }

  /** ISO-8859-1 bytes, refusing chars that would otherwise silently become '?'. */
  private static byte[] bytes(String s) {
    byte[] b = new byte[s.length()];
    for (int i = 0; i < b.length; i++) {
      char c = s.charAt(i);
      if (c > 0xff) {
        throw new IllegalArgumentException("char U+" + Integer.toHexString(c) + " is not a field byte");
      }
      b[i] = (byte) c;
    }
    return b;
  }
}
