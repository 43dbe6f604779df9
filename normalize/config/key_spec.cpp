#include "normalize/config/key_spec.h"

#include <fmt/format.h>

namespace mb {

namespace {

// Sizes read best in the unit an operator would write: 16777216 is "16MiB".
std::string size_text(std::int64_t bytes) {
    constexpr std::int64_t kKiB = 1024;
    if (bytes >= kKiB * kKiB * kKiB && bytes % (kKiB * kKiB * kKiB) == 0)
        return fmt::format("{}GiB", bytes / (kKiB * kKiB * kKiB));
    if (bytes >= kKiB * kKiB && bytes % (kKiB * kKiB) == 0)
        return fmt::format("{}MiB", bytes / (kKiB * kKiB));
    if (bytes >= kKiB && bytes % kKiB == 0) return fmt::format("{}KiB", bytes / kKiB);
    return fmt::format("{}", bytes);
}

}  // namespace

std::string_view to_string(KeyType type) {
    switch (type) {
        case KeyType::string:
            return "string";
        case KeyType::integer:
            return "integer";
        case KeyType::number:
            return "number";
        case KeyType::boolean:
            return "boolean";
        case KeyType::strings:
            return "strings";
        case KeyType::size:
            return "size";
        case KeyType::duration:
            return "duration";
        case KeyType::choice:
            return "choice";
        case KeyType::secret_file:
            return "secret file";
        case KeyType::table:
            return "table";
        case KeyType::tables:
            return "tables";
    }
    return "unknown";
}

std::string describe_range(const KeySpec& spec) {
    if (!spec.range.empty()) return std::string(spec.range);
    if (spec.type == KeyType::integer) return fmt::format("{}..{}", spec.min, spec.max);
    if (spec.type == KeyType::size)
        return fmt::format("{}..{}", size_text(spec.min), size_text(spec.max));
    if (spec.type == KeyType::choice) {
        std::string out;
        for (std::string_view c : spec.choices) {
            if (!out.empty()) out += " | ";
            out += c == "\t" ? std::string("\"\\t\"") : fmt::format("\"{}\"", c);
        }
        return out;
    }
    return {};
}

const KeySpec* find_key(std::span<const KeySpec> keys, std::string_view name) {
    for (const KeySpec& k : keys)
        if (k.name == name) return &k;
    return nullptr;
}

}  // namespace mb
