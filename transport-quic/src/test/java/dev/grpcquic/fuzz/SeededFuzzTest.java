package dev.grpcquic.fuzz;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * A bounded, seeded structured fuzzer over the same targets as {@link Http3FuzzTest}: it mutates
 * the seed corpus (the committed Jazzer inputs plus {@link SeedCorpus}) with bit flips, interesting
 * bytes, truncation, insertion, duplication, splicing and varint/length tweaks. Deterministic for a
 * given seed and iteration count; each target stops at {@code fuzz.iterations} inputs or
 * {@code fuzz.seconds}, whichever comes first (defaults: 20000 and 3 s).
 *
 * <p>Longer: {@code -Dfuzz.iterations=100000000 -Dfuzz.seconds=300 -Dfuzz.seed=N}. Each target's
 * timeout follows {@code fuzz.seconds} (twice it, plus two minutes), so a long run is not cut off.
 */
class SeededFuzzTest {

  private static final long ITERATIONS = Long.getLong("fuzz.iterations", 20000);
  private static final long SECONDS = Long.getLong("fuzz.seconds", 3);
  private static final long SEED = Long.getLong("fuzz.seed", 0x5eed);

  @Test
  void requestStreamReader() {
    run("requestStreamReader", FuzzTargets::requestStreamReader);
  }

  @Test
  void controlStreamReader() {
    run("controlStreamReader", FuzzTargets::controlStreamReader);
  }

  @Test
  void uniStreams() {
    run("uniStreams", FuzzTargets::uniStreams);
  }

  @Test
  void http3RequestStream() {
    run("http3RequestStream", FuzzTargets::http3RequestStream);
  }

  @Test
  void qpackDecode() {
    run("qpackDecode", FuzzTargets::qpackDecode);
  }

  @Test
  void huffman() {
    run("huffman", FuzzTargets::huffman);
  }

  @Test
  void qpackRoundTrip() {
    run("qpackRoundTrip", FuzzTargets::qpackRoundTrip);
  }

  @Test
  void headersToMetadata() {
    run("headersToMetadata", FuzzTargets::headersToMetadata);
  }

  @Test
  void messageDeframer() {
    run("messageDeframer", FuzzTargets::messageDeframer);
  }

  private static void run(String target, Consumer<byte[]> fuzzTarget) {
    assertTimeoutPreemptively(Duration.ofSeconds(2 * SECONDS + 120), () -> fuzz(target, fuzzTarget),
        target + ": a target hung");
  }

  private static void fuzz(String target, Consumer<byte[]> fuzzTarget) {
    List<byte[]> pool = new ArrayList<>(SeedCorpus.seeds(target));
    pool.addAll(committedCorpus(target));
    for (byte[] seed : pool) {
      replay(target, fuzzTarget, seed, -1);
    }
    Random random = new Random(SEED ^ target.hashCode());
    long deadline = System.nanoTime() + SECONDS * 1_000_000_000L;
    long i = 0;
    for (; i < ITERATIONS && System.nanoTime() < deadline; i++) {
      byte[] input = mutate(random, pool);
      replay(target, fuzzTarget, input, i);
      if (random.nextInt(64) == 0 && pool.size() < 256) {
        pool.add(input); // keep some mutants so that mutations stack
      }
    }
    System.out.printf("seeded fuzz %s: %d inputs (seed %d)%n", target, i, SEED);
    assertTrue(i > 0, "no input ran");
  }

  private static void replay(String target, Consumer<byte[]> fuzzTarget, byte[] input, long i) {
    try {
      fuzzTarget.accept(input.clone());
    } catch (Throwable t) {
      throw new AssertionError(target + " failed on input " + i + " (seed " + SEED + "): "
          + HexFormat.of().formatHex(input), t);
    }
  }

  private static final int[] INTERESTING = {0x00, 0x01, 0x3f, 0x40, 0x7f, 0x80, 0xbf, 0xc0, 0xff};

  static byte[] mutate(Random r, List<byte[]> pool) {
    byte[] b = pool.get(r.nextInt(pool.size())).clone();
    int rounds = 1 + r.nextInt(4);
    for (int k = 0; k < rounds; k++) {
      int len = b.length;
      int pos = len == 0 ? 0 : r.nextInt(len);
      switch (r.nextInt(9)) {
        case 0 -> {
          if (len > 0) {
            b[pos] ^= (byte) (1 << r.nextInt(8));
          }
        }
        case 1 -> {
          if (len > 0) {
            b[pos] = (byte) INTERESTING[r.nextInt(INTERESTING.length)];
          }
        }
        case 2 -> b = Arrays.copyOf(b, len == 0 ? 0 : r.nextInt(len + 1)); // truncate
        case 3 -> { // insert random bytes
          byte[] ins = new byte[1 + r.nextInt(8)];
          r.nextBytes(ins);
          b = splice(b, pos, ins, 0);
        }
        case 4 -> { // duplicate a slice (repeated frames)
          if (len > 0) {
            int from = r.nextInt(len);
            int n = 1 + r.nextInt(Math.min(64, len - from));
            b = splice(b, pos, Arrays.copyOfRange(b, from, from + n), 0);
          }
        }
        case 5 -> { // splice in part of another input
          byte[] other = pool.get(r.nextInt(pool.size()));
          if (other.length > 0) {
            int from = r.nextInt(other.length);
            b = splice(b, pos, Arrays.copyOfRange(other, from, other.length), 0);
          }
        }
        case 6 -> { // a big varint where a length may be: 2, 4 or 8 bytes, large values
          byte[] v = switch (r.nextInt(4)) {
            case 0 -> new byte[] {0x7f, (byte) 0xff};
            case 1 -> new byte[] {(byte) 0xbf, (byte) 0xff, (byte) 0xff, (byte) 0xff};
            case 2 -> new byte[] {(byte) 0xc0, 0, 0, 0, 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xf0};
            default -> new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff,
                (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff};
          };
          b = splice(b, pos, v, len == 0 ? 0 : 1);
        }
        case 7 -> { // nudge a byte (lengths off by one)
          if (len > 0) {
            b[pos] = (byte) (b[pos] + (r.nextBoolean() ? 1 : -1));
          }
        }
        default -> { // delete a range
          if (len > 0) {
            int n = 1 + r.nextInt(Math.min(16, len - pos));
            byte[] out = new byte[len - n];
            System.arraycopy(b, 0, out, 0, pos);
            System.arraycopy(b, pos + n, out, pos, len - pos - n);
            b = out;
          }
        }
      }
      if (b.length > 4096) {
        b = Arrays.copyOf(b, 4096);
      }
    }
    return b;
  }

  /** {@code b} with {@code replaced} bytes at {@code pos} replaced by {@code ins}. */
  private static byte[] splice(byte[] b, int pos, byte[] ins, int replaced) {
    replaced = Math.min(replaced, b.length - pos);
    byte[] out = new byte[b.length - replaced + ins.length];
    System.arraycopy(b, 0, out, 0, pos);
    System.arraycopy(ins, 0, out, pos, ins.length);
    System.arraycopy(b, pos + replaced, out, pos + ins.length, b.length - pos - replaced);
    return out;
  }

  static List<byte[]> committedCorpus(String target) {
    URL url = SeededFuzzTest.class.getResource("Http3FuzzTestInputs/" + target);
    if (url == null) {
      return List.of();
    }
    try (Stream<Path> files = Files.list(Path.of(url.toURI()))) {
      List<byte[]> out = new ArrayList<>();
      for (Path p : files.sorted().toList()) {
        out.add(Files.readAllBytes(p));
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }
}
