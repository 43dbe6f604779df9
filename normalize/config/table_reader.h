// TableReader: typed, position-aware access to one TOML table while loading
// the configuration. Every getter marks its key as known; finish() reports the
// keys nobody asked for as "unknown key". Problems are appended to the shared
// error list with file, line, column and the dotted key path, never thrown.
//
// A table whose keys are declared (declare(), key_spec.h) reads them by their
// spec: text(), integer(key) and bytes(key) take type, required, range and
// choices from it. Reading a declared key as another type than declared is a
// programming error (std::logic_error), and so is reading a key the declared
// tables do not name once refuse_undeclared() was called: so every key a
// connector row accepts stands in its table.
//
// Who calls: load_config() and the registry rows' parse_options/parse_job,
// on the main thread. Not thread-safe; lives only while a config is loaded.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "normalize/config/config_error.h"
#include "normalize/config/key_spec.h"

namespace mb {

class TableReader {
  public:
    // `path` is the dotted prefix of this table ("storage", "connectors[2]").
    TableReader(const toml::table& table, std::string path, std::string file,
                std::vector<ConfigError>& errors, std::vector<std::string>& warnings);

    // Declares the keys this table may hold (may be called more than once: the
    // declared set is the union). The tables must outlive the reader.
    void declare(std::span<const KeySpec> keys);
    // From now on, reading a key no declared table names throws std::logic_error.
    void refuse_undeclared() { refuse_undeclared_ = true; }
    // secret_file() keys are then read as names only, the files not checked
    // (children inherit it): for the verbs that never read a secret, so that
    // an operator who may not read the secrets can still use them.
    void skip_secret_file_checks() { check_secret_files_ = false; }
    // The spec of a declared key; std::logic_error when it is not declared.
    const KeySpec& spec(std::string_view key) const;

    // A declared string, choice or secret_file key, read as its spec says.
    std::optional<std::string> text(std::string_view key);
    // A declared integer or size key, within its spec's bounds.
    std::optional<std::int64_t> integer(std::string_view key);
    std::optional<std::uint64_t> bytes(std::string_view key);

    // Required keys report "missing required key" (at the table's position).
    std::optional<std::string> required_string(std::string_view key);
    std::optional<std::int64_t> required_int(std::string_view key);

    std::optional<std::string> string(std::string_view key);
    std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max);
    std::optional<double> number(std::string_view key);  // integer or float
    std::optional<bool> boolean(std::string_view key);
    // A string or an array of strings (a single string becomes one element).
    std::optional<std::vector<std::string>> string_list(std::string_view key);
    // Same, and `check` returns a problem with one element ("" when fine), which
    // is reported at that element ("connectors[0].topics[2]").
    using ElementCheck = std::function<std::string(std::string_view)>;
    std::optional<std::vector<std::string>> string_list(std::string_view key,
                                                        const ElementCheck& check);
    // A size in bytes: an integer, or a string with a binary unit ("64KiB", "16MiB").
    std::optional<std::uint64_t> bytes(std::string_view key, std::uint64_t min, std::uint64_t max);
    // ISO-8601 durations ("PT30M", "P365D", "P1Y") or compact ones ("50ms", "10s", "6h", "30d");
    // zero also as "0" or the integer 0. Every duration key is read here.
    std::optional<std::chrono::milliseconds> duration(std::string_view key);
    // A string that must be one of `choices`.
    std::optional<std::string> one_of(std::string_view key,
                                      std::initializer_list<std::string_view> choices);
    std::optional<std::string> one_of(std::string_view key,
                                      std::span<const std::string_view> choices);
    // A `*_file` key naming a secret (secret.h): empty, or a file the daemon could not
    // read at start (missing, unreadable, a directory, empty, too large) is an error
    // at the key. The value as written, also when the file has a problem.
    std::optional<std::string> secret_file(std::string_view key, bool required);
    // A sub-table, or nullptr (type errors are reported).
    const toml::table* table(std::string_view key);
    // An array of tables, or nullptr.
    const toml::array* table_array(std::string_view key);
    // Marks a key as known without reading it (handled elsewhere, or refused
    // with its own error); declared or not.
    void accept(std::string_view key);
    bool has(std::string_view key) const;

    // Reports an error at `key` (or at the table when `key` is empty / absent).
    void error(std::string_view key, std::string message);
    void warning(std::string_view key, std::string message);

    // Reports every key not read so far as unknown. Call once, at the end.
    void finish();

    const std::string& path() const { return path_; }
    const std::string& file() const { return file_; }
    std::uint32_t line() const;
    // Dotted path of a key in this table: "connectors[2].qos".
    std::string key_path(std::string_view key) const;
    // A child reader for a nested table, sharing the error lists. `child_path`
    // is relative to this table ("fields", "registers[0]"); a path that already
    // starts with this table's path is taken as it is.
    TableReader child(const toml::table& t, std::string child_path) const;

  private:
    // With declared keys: checks that `key` is declared as one of `types`.
    void expect(std::string_view key, std::initializer_list<KeyType> types) const;
    const toml::node* get(std::string_view key);
    void type_error(std::string_view key, const toml::node& n, std::string_view expected);
    toml::source_position position_of(std::string_view key) const;
    void report(std::string key_path, toml::source_position pos, std::string message);
    void report_warning(std::string key_path, toml::source_position pos, std::string message);

    const toml::table& table_;
    std::string path_;
    std::string file_;
    std::vector<ConfigError>& errors_;
    bool check_secret_files_ = true;
    std::vector<std::string>& warnings_;
    std::set<std::string, std::less<>> seen_;
    bool finished_ = false;  // a second finish() must not report everything twice
    std::vector<std::span<const KeySpec>> declared_;
    bool refuse_undeclared_ = false;
};

// ISO-8601 ("PT30M", "P1DT6H", "P2W", "P1Y" = 365 days, "P1M" = 30 days) or
// compact ("50ms", "10s", "5m", "6h", "30d") durations, or "0"; nullopt when invalid.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// Whether `host` names this machine: localhost, 127.0.0.0/8, ::1 (also in
// brackets, and IPv4-mapped). Plaintext is allowed by default only to these.
bool is_loopback_host(std::string_view host);

// Why `filter` is not a valid MQTT subscription filter, or "" when it is.
std::string mqtt_filter_problem(std::string_view filter);

}  // namespace mb
