package dev.grpcquic.http3;

/** Test-only door to the package-private parts of {@code dev.grpcquic.http3} for the fuzz targets. */
public final class Http3FuzzAccess {

  private Http3FuzzAccess() {}

  public static byte[] huffmanDecode(byte[] src) throws Http3Exception {
    return Huffman.decode(src, 0, src.length);
  }

  public static byte[] huffmanEncode(byte[] src) {
    return Huffman.encode(src);
  }

  public static int staticTableSize() {
    return StaticTable.ENTRIES.length;
  }

  public static Header staticEntry(int index) {
    return StaticTable.ENTRIES[index];
  }
}
