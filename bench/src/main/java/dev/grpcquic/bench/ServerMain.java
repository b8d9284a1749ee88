package dev.grpcquic.bench;

import io.grpc.Server;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The server side of an emulated-path run, started by the runner in the emulator's server
 * namespace: {@code java -cp benchmarks.jar dev.grpcquic.bench.ServerMain --tls DIR --bind ADDR}.
 * Serves every transport and raw engine on an ephemeral port of ADDR, prints one line
 * {@code ports QUIC=.. QUIC_QUICHE=.. NETTY_TLS=.. NETTY_H2C=.. RAW_KWIK=.. RAW_QUICHE=..}, and
 * exits when its stdin closes (the runner ends, or dies).
 */
public final class ServerMain {
  private ServerMain() {}

  public static void main(String[] args) throws Exception {
    String tlsDir = null;
    String bind = "0.0.0.0";
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--tls" -> tlsDir = args[++i];
        case "--bind" -> bind = args[++i];
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    if (tlsDir == null) {
      throw new IllegalArgumentException("--tls DIR is required");
    }
    TlsFiles tls = TlsFiles.in(Paths.get(tlsDir));
    InetSocketAddress address = new InetSocketAddress(bind, 0);
    List<Server> servers = new ArrayList<>();
    StringBuilder ports = new StringBuilder("ports");
    for (Transport t : Transport.values()) {
      Server server = GrpcEndpoint.startServer(t, tls, address);
      servers.add(server);
      ports.append(String.format(Locale.ROOT, " %s=%d", t.name(), GrpcEndpoint.port(server)));
    }
    List<RawEngineBench.Server> raws = new ArrayList<>();
    for (RawEngine engine : RawEngine.values()) {
      RawEngineBench.Server raw = RawEngineBench.Server.start(engine, tls, address);
      raws.add(raw);
      ports.append(" ").append(engine.key()).append('=').append(raw.port());
    }
    System.out.println(ports);
    System.out.flush();

    InputStream in = System.in;
    while (in.read() >= 0) {
      // the runner never writes; EOF is the signal
    }
    for (Server s : servers) {
      s.shutdownNow();
    }
    for (Server s : servers) {
      s.awaitTermination(5, TimeUnit.SECONDS);
    }
    raws.forEach(RawEngineBench.Server::close);
    System.exit(0); // kwik's connector threads are not daemons
  }
}
