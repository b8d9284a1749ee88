package dev.grpcquic.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.locks.LockSupport;

/**
 * The options of the interleaved unary loops on loopback ({@link ExecutorHopBench},
 * {@link UnaryLegsBench}): {@code [--rounds N] [--calls N] [--only T,T,..] [--pause-micros N]}, by
 * default two rounds of Netty TLS and QUIC on quiche, calls back to back. A pause between calls
 * lets what a call leaves behind (acknowledgements, stream clean-up) finish before the next one
 * starts, so the difference says what that trailing work costs the next call.
 */
record LoopOptions(int rounds, int calls, List<Transport> transports, long pauseMicros) {

  static LoopOptions parse(String[] args, int defaultCalls) {
    int rounds = 2;
    int calls = defaultCalls;
    long pauseMicros = 0;
    List<Transport> transports =
        new ArrayList<>(List.of(Transport.NETTY_TLS, Transport.QUIC_QUICHE));
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--rounds" -> rounds = Integer.parseInt(args[++i]);
        case "--calls" -> calls = Integer.parseInt(args[++i]);
        case "--pause-micros" -> pauseMicros = Long.parseLong(args[++i]);
        case "--only" -> {
          transports.clear();
          for (String name : args[++i].split(",")) {
            transports.add(Transport.valueOf(name.trim().toUpperCase(Locale.ROOT)));
          }
        }
        default -> throw new IllegalArgumentException(
            "options: [--rounds N] [--calls N] [--only T,T,..] [--pause-micros N]");
      }
    }
    return new LoopOptions(rounds, calls, List.copyOf(transports), pauseMicros);
  }

  /** Waits the pause, if any, before the next measured call (not timed: it precedes the start). */
  void pause() {
    if (pauseMicros > 0) {
      LockSupport.parkNanos(pauseMicros * 1000);
    }
  }
}
