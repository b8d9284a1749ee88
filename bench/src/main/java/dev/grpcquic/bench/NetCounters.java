package dev.grpcquic.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The machine's packet counters from Linux's {@code /proc/net/snmp}: UDP datagrams and TCP
 * segments sent, and UDP datagrams dropped for a full receive buffer. Machine-wide, so they
 * describe a phase only when nothing else sends; on loopback each packet is sent once.
 * All zero where the file is missing.
 */
record NetCounters(long udpSent, long tcpSent, long udpReceiveBufferDrops) {
  private static final Path SNMP = Path.of("/proc/net/snmp");

  static NetCounters now() {
    try {
      List<String> lines = Files.readAllLines(SNMP);
      return new NetCounters(field(lines, "Udp:", "OutDatagrams"),
          field(lines, "Tcp:", "OutSegs"), field(lines, "Udp:", "RcvbufErrors"));
    } catch (IOException | RuntimeException notLinux) {
      return new NetCounters(0, 0, 0);
    }
  }

  /** What was counted from {@code before} until this snapshot. */
  NetCounters since(NetCounters before) {
    return new NetCounters(udpSent - before.udpSent, tcpSent - before.tcpSent,
        udpReceiveBufferDrops - before.udpReceiveBufferDrops);
  }

  /** Packets of either protocol. */
  long packetsSent() {
    return udpSent + tcpSent;
  }

  /** The file has a header line then a value line per protocol. */
  private static long field(List<String> lines, String protocol, String name) {
    String[] header = null;
    for (String line : lines) {
      if (!line.startsWith(protocol)) {
        continue;
      }
      String[] cells = line.trim().split("\\s+");
      if (header == null) {
        header = cells;
      } else {
        for (int i = 1; i < header.length; i++) {
          if (header[i].equals(name)) {
            return Long.parseLong(cells[i]);
          }
        }
      }
    }
    throw new IllegalStateException(protocol + " " + name + " not in " + SNMP);
  }
}
