package dev.grpcquic.http3;

import java.util.Objects;

/**
 * One HTTP field. Names and values are HTTP field bytes mapped 1:1 to chars through ISO-8859-1,
 * so any byte sequence survives encoding and decoding unchanged; chars above 0xFF are not allowed.
 */
public record Header(String name, String value) {

  public Header {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(value, "value");
  }
}
