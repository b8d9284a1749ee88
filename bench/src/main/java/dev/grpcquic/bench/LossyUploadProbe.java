package dev.grpcquic.bench;

import dev.grpcquic.QuicChannelBuilder;
import dev.grpcquic.QuicEngines;
import io.grpc.ManagedChannel;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;

/**
 * One client-to-server transfer on the emulated 4G path at 5 % loss, on a fresh channel or after
 * the full plan's unary latency phase (about 25 s of one call at a time), for quiche with BBR and
 * Netty TLS. It isolates why the full run's client streaming on that path falls far below TCP
 * while a fresh connection's does not (docs/benchmarks.md, "5 % loss, client to server").
 *
 * <pre>java -cp bench/target/benchmarks.jar dev.grpcquic.bench.LossyUploadProbe
 *     [--rounds 2] [--qlog DIR]</pre>
 *
 * Needs what the link emulator needs (root, TUN). {@code --qlog}: the QUIC client's qlog files.
 */
public final class LossyUploadProbe {
  private LossyUploadProbe() {}

  public static void main(String[] args) throws Exception {
    int rounds = 2;
    Path qlog = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--rounds" -> rounds = Integer.parseInt(args[++i]);
        case "--qlog" -> qlog = Paths.get(args[++i]);
        default -> throw new IllegalArgumentException("options: [--rounds N] [--qlog DIR]");
      }
    }
    Profile path = Profile.G4_LOSS_5;
    Plan plan = Plan.forPath(Plan.full(), path);
    try (TlsFiles tls = TlsFiles.create(); LinkEmulator link = LinkEmulator.start(path)) {
      String host = link.serverAddress().getHostAddress();
      Map<String, Integer> ports = BenchRunner.startServers(link, tls);
      link.apply(path);
      System.out.println("| round | transport | before the upload | upload MiB/s |");
      System.out.println("|---|---|---|---:|");
      for (int round = 1; round <= rounds; round++) {
        for (boolean afterLatency : new boolean[] {false, true}) {
          for (Transport transport : List.of(Transport.QUIC_QUICHE_BBR, Transport.NETTY_TLS)) {
            link.awaitQuiet();
            link.reseed();
            io.grpc.ManagedChannelBuilder<?> builder = GrpcEndpoint.channelBuilder(transport, tls,
                host, ports.get(transport.name()));
            if (qlog != null && builder instanceof QuicChannelBuilder quic) {
              quic.engine(QuicEngines.quiche().congestionControl("bbr").qlogDirectory(qlog));
            }
            ManagedChannel channel = builder.build();
            try {
              GrpcBench.unary(channel);
              if (afterLatency) {
                GrpcBench.unaryLatency(transport.label, channel, plan);
              }
              BulkResult up = GrpcBench.upload(transport.label, channel, plan);
              System.out.printf("| %d | %s | %s | %.2f |%n", round, transport.label,
                  afterLatency ? "the plan's unary latency phase" : "one call",
                  up.mibPerSecond.get(0));
            } finally {
              channel.shutdownNow();
            }
          }
        }
      }
    }
  }
}
