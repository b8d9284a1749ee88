package dev.grpcquic.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.grpcquic.engine.quiche.QuicheAvailability;
import java.time.Duration;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The raw-engine exchanges on each engine: real server and connection on 127.0.0.1. */
class RawEngineBenchTest {
  /** Two 2 MiB downloads in 64 KiB messages (one a warm-up), no cap that a loaded machine hits. */
  private static final Plan SMALL = new Plan("test",
      0, Duration.ofSeconds(5), 20, Duration.ofSeconds(60),
      1, Duration.ofSeconds(1), Duration.ofSeconds(1),
      2L * Plan.MIB, 2L * Plan.MIB, 64 * 1024, 1, Duration.ofSeconds(60), false, false);

  @ParameterizedTest
  @EnumSource(RawEngine.class)
  @Timeout(120)
  void unaryAndDownloadOnBareStreams(RawEngine engine) throws Exception {
    if (engine == RawEngine.QUICHE) {
      assumeTrue(QuicheAvailability.unavailableReason() == null,
          QuicheAvailability.unavailableReason());
    }
    try (TlsFiles tls = TlsFiles.create();
        RawEngineBench bench = RawEngineBench.start(engine, tls)) {
      assertEquals(engine, bench.engine);
      assertTrue(bench.connectMicros > 0, "handshake time " + bench.connectMicros);
      LatencyStats latency = bench.unaryLatency(SMALL);
      assertEquals(20, latency.samples(), "every unary exchange answered with 1 KiB and FIN");
      BulkResult download = bench.download(SMALL);
      assertNull(download.failure);
      assertEquals(1, download.bytes.size());
      assertEquals(2L * Plan.MIB, download.bytes.get(0));
      assertTrue(download.complete.get(0));
      assertTrue(download.median() > 0);
    }
  }
}
