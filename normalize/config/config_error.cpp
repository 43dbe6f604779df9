#include "normalize/config/config_error.h"

#include <fmt/format.h>

namespace mb {

std::string ConfigError::to_string() const {
    std::string out = file;
    if (line > 0) out += fmt::format(":{}:{}", line, column);
    out += ": ";
    if (!key.empty()) {
        out += key;
        out += ": ";
    }
    out += message;
    return out;
}

}  // namespace mb
