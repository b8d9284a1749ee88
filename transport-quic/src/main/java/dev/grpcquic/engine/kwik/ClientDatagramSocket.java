package dev.grpcquic.engine.kwik;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.SocketException;

/** A client connection's UDP socket: tells the connection's {@link QuietPathProbe} what arrives. */
final class ClientDatagramSocket extends DatagramSocket {

  private final QuietPathProbe probe;

  ClientDatagramSocket(QuietPathProbe probe) throws SocketException {
    this.probe = probe;
  }

  @Override
  public void receive(DatagramPacket packet) throws IOException {
    super.receive(packet);
    probe.received();
  }
}
