package dev.grpcquic.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The options of the interleaved unary loops on loopback ({@link ExecutorHopBench},
 * {@link UnaryLegsBench}): {@code [--rounds N] [--calls N] [--only T,T,..]}, by default two rounds
 * of Netty TLS and QUIC on quiche.
 */
record LoopOptions(int rounds, int calls, List<Transport> transports) {

  static LoopOptions parse(String[] args, int defaultCalls) {
    int rounds = 2;
    int calls = defaultCalls;
    List<Transport> transports =
        new ArrayList<>(List.of(Transport.NETTY_TLS, Transport.QUIC_QUICHE));
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--rounds" -> rounds = Integer.parseInt(args[++i]);
        case "--calls" -> calls = Integer.parseInt(args[++i]);
        case "--only" -> {
          transports.clear();
          for (String name : args[++i].split(",")) {
            transports.add(Transport.valueOf(name.trim().toUpperCase(Locale.ROOT)));
          }
        }
        default -> throw new IllegalArgumentException(
            "options: [--rounds N] [--calls N] [--only T,T,..]");
      }
    }
    return new LoopOptions(rounds, calls, List.copyOf(transports));
  }
}
