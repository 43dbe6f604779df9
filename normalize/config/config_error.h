// A problem found in the configuration, as an operator reads it: file, line,
// column and the dotted key. Collected, never thrown, so that every problem of a
// file is reported at once (TableReader appends them).
#pragma once

#include <cstdint>
#include <string>

namespace mb {

struct ConfigError {
    std::string file;
    std::uint32_t line = 0;  // 0 when the problem has no position (missing file)
    std::uint32_t column = 0;
    std::string key;  // dotted path: "connectors[1].broker", "" for the file itself
    std::string message;

    // "etc/x.toml:12:1: connectors[1].brokr: unknown key"
    std::string to_string() const;
};

}  // namespace mb
