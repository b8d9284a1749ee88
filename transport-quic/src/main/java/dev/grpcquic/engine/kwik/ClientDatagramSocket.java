package dev.grpcquic.engine.kwik;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.SocketException;

/**
 * A client connection's UDP socket: holds what arrives until the TLS engine can take the
 * ServerHello ({@link ServerHelloGate}) and tells the connection's {@link QuietPathProbe} what
 * arrives.
 */
final class ClientDatagramSocket extends DatagramSocket {

  private final QuietPathProbe probe;
  private final ServerHelloGate gate;

  ClientDatagramSocket(QuietPathProbe probe, ServerHelloGate gate) throws SocketException {
    this.probe = probe;
    this.gate = gate;
  }

  @Override
  public void receive(DatagramPacket packet) throws IOException {
    super.receive(packet);
    gate.awaitOpen();
    probe.received();
  }
}
