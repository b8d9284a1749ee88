package dev.grpcquic.engine.kwik;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketException;

/**
 * A client connection's UDP socket: holds what arrives until the TLS engine can take the
 * ServerHello ({@link ServerHelloGate}) and tells the connection's {@link QuietPathProbe} what
 * arrives.
 *
 * <p>It is connected to the server's address before kwik uses it, so that the kernel reports an
 * ICMP port unreachable: the next receive throws {@link java.net.PortUnreachableException},
 * kwik's receiver aborts the connection, and a handshake to a port where nothing listens fails at
 * once instead of at the connect timeout (which lets a "QUIC preferred" channel start TCP at
 * once). Connected before use because the JDK's connect waits for a receive in progress to end.
 */
final class ClientDatagramSocket extends DatagramSocket {

  private final QuietPathProbe probe;
  private final ServerHelloGate gate;

  ClientDatagramSocket(QuietPathProbe probe, ServerHelloGate gate, InetSocketAddress server)
      throws SocketException {
    this.probe = probe;
    this.gate = gate;
    if (server != null && !server.isUnresolved()) {
      connect(server);
    }
  }

  @Override
  public void receive(DatagramPacket packet) throws IOException {
    super.receive(packet);
    gate.awaitOpen();
    probe.received();
  }
}
