// KeySpec: one configuration key declared as data — its name, value type,
// default, allowed range or values and a one-line description. A connector
// row lists its keys in a constant table of KeySpecs; TableReader reads a
// declared key by its spec (type, required, range, choices) and refuses to
// read a key its table does not declare, and `meterbridge types` prints the
// same tables: validation and help come from one place and cannot drift.
//
// Checks that one spec cannot say (cross-key rules, per-element checks,
// messages naming what a missing key is for) stay in the row's code, next to
// the reading; the key still stands in the table with its description.
//
// Who uses: the registry rows (static tables), TableReader while a config is
// loaded (main thread), the CLI. Plain constant data: every string is a
// literal, nothing is owned.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace mb {

enum class KeyType : std::uint8_t {
    string,
    integer,
    number,  // integer or float
    boolean,
    strings,      // a string or an array of strings
    size,         // bytes: an integer or "64KiB"
    duration,     // "PT30S", "10s"
    choice,       // a string among `choices`
    secret_file,  // a file holding a secret (secret.h)
    table,        // a sub-table
    tables,       // an array of tables ([[...]])
};

struct KeySpec {
    std::string_view name{};
    KeyType type = KeyType::string;
    // For string, choice, secret_file and integer keys the reader reports
    // "missing required key"; for the other types the row reports it, saying
    // what the key is for.
    bool required = false;
    std::string_view default_value{};  // as written in the file; "" = none, or see the description
    std::int64_t min = 0, max = 0;     // integer and size: inclusive bounds the reader checks
    std::span<const std::string_view> choices{};  // choice: the accepted values
    // table and tables: the keys of the sub-table(s), for tables whose keys
    // are fixed (for `registers.<id>`, of each table inside).
    std::span<const KeySpec> keys{};
    std::string_view range{};  // shown when the row checks the bounds itself ("1s..600s")
    std::string_view description{};
};

// "string", "integer", "size", ...: how `meterbridge types` names a KeyType.
std::string_view to_string(KeyType type);

// The allowed values in words: "0..2", "\"a\" | \"b\"", the spec's `range`,
// or "" when any value of the type is accepted.
std::string describe_range(const KeySpec& spec);

// The spec named `name` in `keys`, or nullptr.
const KeySpec* find_key(std::span<const KeySpec> keys, std::string_view name);

}  // namespace mb
