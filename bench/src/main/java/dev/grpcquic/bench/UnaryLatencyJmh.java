package dev.grpcquic.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * JMH: unary round trip of 1 KiB each way, one call at a time, per transport. Each trial gets a
 * fresh server, channel and certificates. Run with
 * {@code java -cp bench/target/benchmarks.jar org.openjdk.jmh.Main UnaryLatencyJmh}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 5)
@Measurement(iterations = 5, time = 5)
public class UnaryLatencyJmh {

  @Param({"QUIC", "NETTY_TLS", "NETTY_H2C"})
  public Transport transport;

  private TlsFiles tls;
  private GrpcEndpoint endpoint;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    tls = TlsFiles.create();
    endpoint = GrpcEndpoint.start(transport, tls);
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    try {
      endpoint.close();
    } finally {
      tls.close();
    }
  }

  @Benchmark
  public byte[] unary1KiB() {
    return GrpcBench.unary(endpoint.channel);
  }
}
