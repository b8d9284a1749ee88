package dev.grpcquic.stats;

/**
 * A snapshot of one QUIC connection's statistics, as {@code QuicAttributes.CONNECTION_STATS}
 * reports them. The same on every engine; a figure the engine cannot tell is -1.
 *
 * @param smoothedRttMillis smoothed round-trip time
 * @param rttVarianceMillis round-trip time variance
 * @param latestRttMillis the last round-trip sample
 * @param packetsSent packets sent
 * @param packetsLost packets declared lost
 * @param bytesSent bytes sent in datagrams
 * @param datagramsSent datagrams sent
 * @param congestionWindowBytes the sender's congestion window, -1 when the engine cannot tell
 * @param bytesInFlight bytes sent and neither acknowledged nor declared lost, -1 when unknown
 * @param streamBytesRead stream payload the application read from the connection
 * @param peakDeliveryRate highest rate of {@code streamBytesRead} over RTT-long intervals, in
 *     bytes per second (0 before any interval completed)
 * @param streamReceiveWindow receive window this end advertised for each request stream
 * @param streamBytesUnread stream bytes received and held by the QUIC engine, not yet read by the
 *     transport (over the connection's open streams)
 */
public record QuicConnectionStats(
    int smoothedRttMillis, int rttVarianceMillis, int latestRttMillis,
    long packetsSent, long packetsLost, long bytesSent, long datagramsSent,
    long congestionWindowBytes, long bytesInFlight,
    long streamBytesRead, double peakDeliveryRate, long streamReceiveWindow,
    long streamBytesUnread) {
}
