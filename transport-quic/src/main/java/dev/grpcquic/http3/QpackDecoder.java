package dev.grpcquic.http3;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes one field section (RFC 9204 §4.5) for a peer to whom we advertised a dynamic table
 * capacity of 0: static table, literals and Huffman strings; any dynamic-table reference is
 * QPACK_DECOMPRESSION_FAILED. Order and duplicate names are preserved. Stateless and thread safe.
 *
 * <p>Written here rather than wrapping tech.kwik.qpack's decoder, which ignores the Required
 * Insert Count, silently drops indexed dynamic-table references, overflows on long integers and
 * does not validate Huffman padding.
 */
public final class QpackDecoder {

  public List<Header> decode(byte[] fieldSection) throws Http3Exception {
    Reader in = new Reader(fieldSection);
    if (in.prefixedInt(8) != 0) {
      throw fail("Required Insert Count is not 0 but our dynamic table capacity is 0");
    }
    in.prefixedInt(7); // Sign and Delta Base: meaningless without dynamic references.
    List<Header> fields = new ArrayList<>();
    while (in.hasMore()) {
      int b = in.peek();
      if ((b & 0x80) != 0) {
        // Indexed field line: 1 T index(6).
        boolean isStatic = (b & 0x40) != 0;
        long index = in.prefixedInt(6);
        fields.add(staticEntry(isStatic, index));
      } else if ((b & 0x40) != 0) {
        // Literal with name reference: 0 1 N T index(4).
        boolean isStatic = (b & 0x10) != 0;
        long index = in.prefixedInt(4);
        String name = staticEntry(isStatic, index).name();
        fields.add(new Header(name, in.string(7)));
      } else if ((b & 0x20) != 0) {
        // Literal with literal name: 0 0 1 N H length(3).
        String name = in.string(3);
        fields.add(new Header(name, in.string(7)));
      } else {
        // 0001xxxx indexed post-base and 0000xxxx literal with post-base name reference.
        throw fail("post-base (dynamic table) reference");
      }
    }
    return fields;
  }

  private static Header staticEntry(boolean isStatic, long index) throws Http3Exception {
    if (!isStatic) {
      throw fail("dynamic table reference");
    }
    if (index >= StaticTable.ENTRIES.length) {
      throw fail("static table index " + index + " out of range");
    }
    return StaticTable.ENTRIES[(int) index];
  }

  private static Http3Exception fail(String message) {
    return Http3Exception.connection(Http3ErrorCode.QPACK_DECOMPRESSION_FAILED, message);
  }

  /** Cursor over the field section; every read checks bounds so truncation is an error. */
  private static final class Reader {
    private final byte[] buf;
    private int pos;

    Reader(byte[] buf) {
      this.buf = buf;
    }

    boolean hasMore() {
      return pos < buf.length;
    }

    int peek() {
      return buf[pos] & 0xff;
    }

    private int next() throws Http3Exception {
      if (pos >= buf.length) {
        throw fail("truncated field section");
      }
      return buf[pos++] & 0xff;
    }

    /** RFC 7541 §5.1 prefixed integer; the bits above the prefix have been looked at via peek. */
    long prefixedInt(int prefixBits) throws Http3Exception {
      int max = (1 << prefixBits) - 1;
      long value = next() & max;
      if (value < max) {
        return value;
      }
      for (int shift = 0; ; shift += 7) {
        int b = next();
        // Eight continuation bytes already exceed anything legitimate; stop before long overflow.
        if (shift > 49) {
          throw fail("prefixed integer too large");
        }
        value += (long) (b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
          return value;
        }
      }
    }

    /** A string literal whose H bit sits just above a {@code prefixBits} length prefix. */
    String string(int prefixBits) throws Http3Exception {
      if (!hasMore()) {
        throw fail("truncated field section");
      }
      boolean huffman = (peek() & (1 << prefixBits)) != 0;
      long length = prefixedInt(prefixBits);
      if (length > buf.length - pos) {
        throw fail("string of " + length + " bytes overruns the field section");
      }
      int len = (int) length;
      byte[] raw;
      if (huffman) {
        raw = Huffman.decode(buf, pos, len);
      } else {
        raw = new byte[len];
        System.arraycopy(buf, pos, raw, 0, len);
      }
      pos += len;
      return new String(raw, StandardCharsets.ISO_8859_1);
    }
  }
}
