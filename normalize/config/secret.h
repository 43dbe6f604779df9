// Secrets (broker and XMPP passwords) live in files, never in the config or
// in logs. Under systemd they come from LoadCredential=, which exposes each
// credential as a file in $CREDENTIALS_DIRECTORY: a bare name there ("mqtt.pass")
// is looked up in that directory, so the same config works under systemd and
// (with the env var unset) from the current directory.
//
// Who calls: load_config() checks every secret file (secret_file_problem, via
// TableReader::secret_file) so that `check-config` fails on a missing one;
// connectors read the secret when they start, on their owner's thread.
#pragma once

#include <filesystem>
#include <string>

namespace mb {

// Where `path` points: a name without '/' is taken in $CREDENTIALS_DIRECTORY
// when that variable is set and non-empty; anything else is used as given
// (relative to the current directory).
std::filesystem::path resolve_secret_path(const std::string& path);

// Why read_secret_file(path) would fail, or "" when it would not: the file
// (resolved as above) does not exist, cannot be opened for reading by this
// process, is a directory, is empty or is too large. The secret itself is not
// read. A bare name with $CREDENTIALS_DIRECTORY unset says where it was looked
// for.
std::string secret_file_problem(const std::string& path);

// The content of the secret file, without one trailing newline ("\n" or "\r\n").
// Throws std::runtime_error naming the file and the reason (missing, unreadable,
// empty, too large); the message never contains any of the file's content.
std::string read_secret_file(const std::string& path);

}  // namespace mb
