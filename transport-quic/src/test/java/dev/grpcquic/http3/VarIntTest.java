package dev.grpcquic.http3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class VarIntTest {

  private static final long[] BOUNDARIES = {
    0, 63, 64, 16383, 16384, (1L << 30) - 1, 1L << 30, (1L << 62) - 1
  };
  private static final int[] LENGTHS = {1, 1, 2, 2, 4, 4, 8, 8};

  @Test
  void roundTripsAtEveryBoundary() {
    for (int i = 0; i < BOUNDARIES.length; i++) {
      long v = BOUNDARIES[i];
      assertEquals(LENGTHS[i], VarInt.length(v), "length of " + v);
      byte[] enc = VarInt.encode(v);
      assertEquals(LENGTHS[i], enc.length);
      ByteBuffer buf = ByteBuffer.wrap(enc);
      assertEquals(v, VarInt.read(buf));
      assertEquals(0, buf.remaining());
    }
  }

  @Test
  void encodesRfc9000Examples() {
    // RFC 9000 Appendix A.1 sample encodings.
    assertArrayEquals(hex("c2197c5eff14e88c"), VarInt.encode(151288809941952652L));
    assertArrayEquals(hex("9d7f3e7d"), VarInt.encode(494878333L));
    assertArrayEquals(hex("7bbd"), VarInt.encode(15293));
    assertArrayEquals(hex("25"), VarInt.encode(37));
    assertEquals(37, VarInt.read(ByteBuffer.wrap(hex("4025")))); // non-minimal form is still valid
  }

  @Test
  void partialReadReturnsMinusOneAndKeepsPosition() {
    for (long v : BOUNDARIES) {
      byte[] enc = VarInt.encode(v);
      for (int cut = 0; cut < enc.length; cut++) {
        ByteBuffer buf = ByteBuffer.allocate(enc.length);
        buf.put(enc, 0, cut).flip();
        assertEquals(-1, VarInt.read(buf), "value " + v + " cut at " + cut);
        assertEquals(0, buf.position());
        assertEquals(cut, buf.remaining());
      }
    }
  }

  @Test
  void readsFromNonZeroPosition() {
    ByteBuffer buf = ByteBuffer.allocate(16);
    buf.put((byte) 0x7f);
    VarInt.write(buf, 16384);
    VarInt.write(buf, 5);
    buf.flip().position(1);
    assertEquals(16384, VarInt.read(buf));
    assertEquals(5, VarInt.read(buf));
    assertEquals(-1, VarInt.read(buf));
  }

  @Test
  void rejectsOutOfRange() {
    assertThrows(IllegalArgumentException.class, () -> VarInt.encode(1L << 62));
    assertThrows(IllegalArgumentException.class, () -> VarInt.length(Long.MAX_VALUE));
    assertThrows(IllegalArgumentException.class, () -> VarInt.write(ByteBuffer.allocate(8), -1));
  }

  static byte[] hex(String s) {
    byte[] b = new byte[s.length() / 2];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
    }
    return b;
  }
}
