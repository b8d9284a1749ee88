package dev.grpcquic.engine.kwik;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.PortUnreachableException;
import java.net.SocketException;

/**
 * A client connection's UDP socket, connected to the server's address: holds what arrives until
 * the TLS engine can take the ServerHello ({@link ServerHelloGate}), tells the connection's
 * {@link QuietPathProbe} what arrives, and remembers what the network said when nothing did.
 * Connected, because only a connected UDP socket hears ICMP port unreachable (as
 * PortUnreachableException). Before the server ever answered, that ends the handshake at once
 * (kwik aborts the connection when a receive throws); afterwards it is ignored, and QUIC's own
 * timers decide, as RFC 9000 wants of an unauthenticated signal.
 */
final class ClientDatagramSocket extends DatagramSocket {

  private final QuietPathProbe probe;
  private final ServerHelloGate gate;
  private volatile boolean received;
  private volatile boolean portUnreachable;

  ClientDatagramSocket(QuietPathProbe probe, ServerHelloGate gate, InetAddress server, int port)
      throws SocketException {
    this.probe = probe;
    this.gate = gate;
    connect(server, port);
  }

  @Override
  public void receive(DatagramPacket packet) throws IOException {
    while (true) {
      try {
        super.receive(packet);
        break;
      } catch (PortUnreachableException e) {
        portUnreachable = true;
        if (!received) {
          throw e;
        }
      }
    }
    received = true;
    gate.awaitOpen();
    probe.received();
  }

  /** Whether any datagram arrived on this socket. */
  boolean received() {
    return received;
  }

  /** Whether an ICMP port unreachable arrived before any datagram. */
  boolean portUnreachable() {
    return portUnreachable && !received;
  }
}
