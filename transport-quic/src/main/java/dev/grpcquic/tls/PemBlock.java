package dev.grpcquic.tls;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * One block of a PEM file (RFC 7468): its label and its decoded content. Text outside blocks is
 * ignored, as OpenSSL does; RFC 1421 header lines inside a block (an OpenSSL encrypted key's
 * {@code Proc-Type}) are kept as a flag.
 */
record PemBlock(String label, byte[] der, boolean hasHeaders) {
  private static final String BEGIN = "-----BEGIN ";
  private static final String END = "-----END ";
  private static final String DASHES = "-----";

  /** Every block of {@code pem}, in order. */
  static List<PemBlock> parse(InputStream pem) throws IOException {
    List<PemBlock> blocks = new ArrayList<>();
    BufferedReader reader =
        new BufferedReader(new InputStreamReader(pem, StandardCharsets.US_ASCII));
    String label = null;
    boolean headers = false;
    StringBuilder base64 = new StringBuilder();
    String line;
    while ((line = reader.readLine()) != null) {
      line = line.strip();
      if (label == null) {
        if (line.startsWith(BEGIN) && line.endsWith(DASHES)) {
          label = line.substring(BEGIN.length(), line.length() - DASHES.length());
          headers = false;
          base64.setLength(0);
        }
      } else if (line.startsWith(END)) {
        if (!line.equals(END + label + DASHES)) {
          throw new IOException("PEM block " + label + " ends with " + line);
        }
        try {
          blocks.add(new PemBlock(label, Base64.getDecoder().decode(base64.toString()),
              headers));
        } catch (IllegalArgumentException e) {
          throw new IOException("PEM block " + label + " is not valid base64", e);
        }
        label = null;
      } else if (line.indexOf(':') >= 0) {
        headers = true;
      } else {
        base64.append(line);
      }
    }
    if (label != null) {
      throw new IOException("PEM block " + label + " has no END line");
    }
    return blocks;
  }
}
