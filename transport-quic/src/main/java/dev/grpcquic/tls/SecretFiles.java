package dev.grpcquic.tls;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/** Files that hold secrets (TLS key logs): readable by their owner only where POSIX allows. */
public final class SecretFiles {
  public static final boolean POSIX =
      FileSystems.getDefault().supportedFileAttributeViews().contains("posix");

  private SecretFiles() {}

  /** Creates {@code file} as rw------- unless it exists (then its permissions stay the user's). */
  public static void createIfAbsent(Path file) throws IOException {
    if (POSIX && !Files.exists(file)) {
      try {
        Files.createFile(file,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      } catch (FileAlreadyExistsException raced) {
        // another process made it meanwhile
      }
    }
  }
}
