#include "normalize/config/table_reader.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <limits>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "normalize/config/secret.h"
#include "normalize/topic.h"

namespace mb {

namespace {

// Operators read these messages; TOML's own vocabulary is what they wrote.
std::string_view type_name(toml::node_type t) {
    switch (t) {
        case toml::node_type::table:
            return "a table";
        case toml::node_type::array:
            return "an array";
        case toml::node_type::string:
            return "a string";
        case toml::node_type::integer:
            return "an integer";
        case toml::node_type::floating_point:
            return "a float";
        case toml::node_type::boolean:
            return "a boolean";
        case toml::node_type::date:
            return "a date";
        case toml::node_type::time:
            return "a time";
        case toml::node_type::date_time:
            return "a date-time";
        case toml::node_type::none:
            break;
    }
    return "nothing";
}

bool is_bare_key(std::string_view key) {
    if (key.empty()) return false;
    for (char c : key) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

// A key as TOML would need it written, so that a reported path can be pasted back.
std::string format_key(std::string_view key) {
    if (is_bare_key(key)) return std::string(key);
    std::string out = "\"";
    for (char c : key) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    out += '"';
    return out;
}

// Values echoed in messages are shortened: a pasted blob must not flood the log.
std::string quote_value(std::string_view v) {
    constexpr std::size_t max = 60;
    if (v.size() <= max) return fmt::format("'{}'", v);
    return fmt::format("'{}…'", v.substr(0, max));
}

bool is_secret_key(std::string_view key) {
    return key == "password" || key == "secret" || key == "token";
}

// Parses a run of decimal digits at `pos`; false on none or on overflow.
bool parse_digits(std::string_view s, std::size_t& pos, std::int64_t& out) {
    const std::size_t start = pos;
    std::int64_t v = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        const int d = s[pos] - '0';
        if (v > (std::numeric_limits<std::int64_t>::max() - d) / 10) return false;
        v = v * 10 + d;
        ++pos;
    }
    out = v;
    return pos > start;
}

// Adds `n * unit_ms` to `total`, false on overflow.
bool add_scaled(std::int64_t& total, std::int64_t n, std::int64_t unit_ms) {
    if (n > std::numeric_limits<std::int64_t>::max() / unit_ms) return false;
    const std::int64_t part = n * unit_ms;
    if (total > std::numeric_limits<std::int64_t>::max() - part) return false;
    total += part;
    return true;
}

constexpr std::int64_t kSecond = 1000;
constexpr std::int64_t kMinute = 60 * kSecond;
constexpr std::int64_t kHour = 60 * kMinute;
constexpr std::int64_t kDay = 24 * kHour;

std::optional<std::chrono::milliseconds> parse_iso_duration(std::string_view s) {
    // Designators in the order ISO-8601 requires them, with their length in ms.
    // Months and years are calendar-dependent; fixed lengths keep retention and
    // backfill predictable (documented in the example config).
    struct Unit {
        char designator;
        std::int64_t ms;
    };
    constexpr std::array<Unit, 4> date_units{
        {{'Y', 365 * kDay}, {'M', 30 * kDay}, {'W', 7 * kDay}, {'D', kDay}}};
    constexpr std::array<Unit, 3> time_units{{{'H', kHour}, {'M', kMinute}, {'S', kSecond}}};

    std::size_t pos = 1;  // past 'P'
    std::int64_t total = 0;
    int components = 0;
    std::size_t next_unit = 0;
    while (pos < s.size() && s[pos] != 'T') {
        std::int64_t n = 0;
        if (!parse_digits(s, pos, n) || pos >= s.size()) return std::nullopt;
        while (next_unit < date_units.size() && date_units[next_unit].designator != s[pos])
            ++next_unit;
        if (next_unit == date_units.size()) return std::nullopt;
        if (!add_scaled(total, n, date_units[next_unit].ms)) return std::nullopt;
        ++next_unit;
        ++pos;
        ++components;
    }
    if (pos < s.size()) {  // 'T'
        ++pos;
        if (pos == s.size()) return std::nullopt;  // "PT" or "P1DT" names no time
        next_unit = 0;
        while (pos < s.size()) {
            std::int64_t n = 0;
            if (!parse_digits(s, pos, n) || pos >= s.size()) return std::nullopt;
            std::int64_t fraction_ms = 0;
            if (s[pos] == '.' || s[pos] == ',') {
                // Only seconds may carry a fraction, to the millisecond.
                ++pos;
                const std::size_t start = pos;
                std::int64_t digits = 0;
                if (!parse_digits(s, pos, digits) || pos - start > 3 || pos >= s.size() ||
                    s[pos] != 'S')
                    return std::nullopt;
                for (std::size_t i = pos - start; i < 3; ++i) digits *= 10;
                fraction_ms = digits;
            }
            while (next_unit < time_units.size() && time_units[next_unit].designator != s[pos])
                ++next_unit;
            if (next_unit == time_units.size()) return std::nullopt;
            if (!add_scaled(total, n, time_units[next_unit].ms)) return std::nullopt;
            if (!add_scaled(total, fraction_ms, 1)) return std::nullopt;
            ++next_unit;
            ++pos;
            ++components;
        }
    }
    if (components == 0) return std::nullopt;
    return std::chrono::milliseconds{total};
}

std::optional<std::chrono::milliseconds> parse_compact_duration(std::string_view s) {
    std::size_t pos = 0;
    std::int64_t n = 0;
    if (!parse_digits(s, pos, n)) return std::nullopt;
    const std::string_view unit = s.substr(pos);
    std::int64_t unit_ms = 0;
    if (unit == "ms")
        unit_ms = 1;
    else if (unit == "s")
        unit_ms = kSecond;
    else if (unit == "m")
        unit_ms = kMinute;
    else if (unit == "h")
        unit_ms = kHour;
    else if (unit == "d")
        unit_ms = kDay;
    else
        return std::nullopt;
    std::int64_t total = 0;
    if (!add_scaled(total, n, unit_ms)) return std::nullopt;
    return std::chrono::milliseconds{total};
}

std::optional<std::uint64_t> parse_bytes(std::string_view s) {
    std::size_t pos = 0;
    std::int64_t n = 0;
    if (!parse_digits(s, pos, n)) return std::nullopt;
    std::string_view unit = s.substr(pos);
    if (unit.starts_with(' ')) unit.remove_prefix(1);
    std::int64_t scale = 0;
    if (unit.empty() || unit == "B")
        scale = 1;
    else if (unit == "KiB")
        scale = 1024;
    else if (unit == "MiB")
        scale = 1024 * 1024;
    else if (unit == "GiB")
        scale = 1024 * 1024 * 1024;
    else
        return std::nullopt;
    std::int64_t total = 0;
    if (!add_scaled(total, n, scale)) return std::nullopt;
    return static_cast<std::uint64_t>(total);
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
    if (text.empty()) return std::nullopt;
    // Zero is zero in every unit; any other number needs one.
    if (text == "0") return std::chrono::milliseconds{0};
    if (text.front() == 'P') return parse_iso_duration(text);
    return parse_compact_duration(text);
}

std::string mqtt_filter_problem(std::string_view filter) {
    if (filter.empty()) return "an empty topic filter matches nothing";
    if (filter.size() > 65535) return "a topic filter is at most 65535 bytes";
    if (filter.find('\0') != std::string_view::npos) return "a topic filter cannot contain NUL";
    const auto levels = topic_levels(filter);
    for (std::size_t i = 0; i < levels.size(); ++i) {
        const std::string_view level = levels[i];
        const bool last = i + 1 == levels.size();
        if (level.find('#') != std::string_view::npos) {
            if (level != "#") return "'#' must be a whole level";
            if (!last) return "'#' is only allowed as the last level";
        }
        if (level.find('+') != std::string_view::npos && level != "+")
            return "'+' must be a whole level";
    }
    return {};
}

TableReader::TableReader(const toml::table& table, std::string path, std::string file,
                         std::vector<ConfigError>& errors, std::vector<std::string>& warnings)
    : table_(table),
      path_(std::move(path)),
      file_(std::move(file)),
      errors_(errors),
      warnings_(warnings) {}

void TableReader::declare(std::span<const KeySpec> keys) {
    declared_.push_back(keys);
}

const KeySpec& TableReader::spec(std::string_view key) const {
    for (const auto& keys : declared_)
        if (const KeySpec* k = find_key(keys, key)) return *k;
    throw std::logic_error(fmt::format("{}: the key is not declared in its key table",
                                       key_path(key)));
}

void TableReader::expect(std::string_view key, std::initializer_list<KeyType> types) const {
    const KeySpec* found = nullptr;
    for (const auto& keys : declared_)
        if ((found = find_key(keys, key)) != nullptr) break;
    if (found == nullptr) {
        if (refuse_undeclared_) spec(key);  // throws
        return;
    }
    const KeySpec& k = *found;
    if (std::find(types.begin(), types.end(), k.type) == types.end())
        throw std::logic_error(fmt::format("{}: declared as {}, read as another type",
                                           key_path(key), to_string(k.type)));
}

std::optional<std::string> TableReader::text(std::string_view key) {
    const KeySpec& k = spec(key);
    switch (k.type) {
        case KeyType::string:
            return k.required ? required_string(key) : string(key);
        case KeyType::choice:
            if (k.required && !has(key)) return required_string(key);
            return one_of(key, k.choices);
        case KeyType::secret_file:
            return secret_file(key, k.required);
        default:
            break;
    }
    throw std::logic_error(
        fmt::format("{}: declared as {}, read as text", key_path(key), to_string(k.type)));
}

std::optional<std::int64_t> TableReader::integer(std::string_view key) {
    const KeySpec& k = spec(key);
    if (k.required && !has(key)) return required_int(key);
    return integer(key, k.min, k.max);
}

std::optional<std::uint64_t> TableReader::bytes(std::string_view key) {
    const KeySpec& k = spec(key);
    return bytes(key, static_cast<std::uint64_t>(k.min), static_cast<std::uint64_t>(k.max));
}

const toml::node* TableReader::get(std::string_view key) {
    // Asking for a key makes it known even when absent: finish() then reports
    // exactly the keys that no reader asked for.
    seen_.emplace(key);
    return table_.get(key);
}

toml::source_position TableReader::position_of(std::string_view key) const {
    if (!key.empty())
        if (const toml::node* n = table_.get(key)) return n->source().begin;
    return table_.source().begin;
}

void TableReader::report(std::string key_path, toml::source_position pos, std::string message) {
    errors_.push_back(
        ConfigError{file_, pos.line, pos.column, std::move(key_path), std::move(message)});
}

void TableReader::report_warning(std::string key_path, toml::source_position pos,
                                 std::string message) {
    // Same shape as ConfigError::to_string so both read alike in the journal.
    warnings_.push_back(
        ConfigError{file_, pos.line, pos.column, std::move(key_path), std::move(message)}
            .to_string());
}

void TableReader::type_error(std::string_view key, const toml::node& n, std::string_view expected) {
    report(key_path(key), n.source().begin,
           fmt::format("expected {}, got {}", expected, type_name(n.type())));
}

std::optional<std::string> TableReader::required_string(std::string_view key) {
    expect(key, {KeyType::string, KeyType::choice, KeyType::secret_file});
    if (!has(key)) {
        seen_.emplace(key);
        error(key, "missing required key");
        return std::nullopt;
    }
    return string(key);
}

std::optional<std::int64_t> TableReader::required_int(std::string_view key) {
    expect(key, {KeyType::integer});
    if (!has(key)) {
        seen_.emplace(key);
        error(key, "missing required key");
        return std::nullopt;
    }
    return integer(key, std::numeric_limits<std::int64_t>::min(),
                   std::numeric_limits<std::int64_t>::max());
}

std::optional<std::string> TableReader::secret_file(std::string_view key, bool required) {
    expect(key, {KeyType::secret_file});
    auto v = required ? required_string(key) : string(key);
    if (v && check_secret_files_)
        if (std::string problem = secret_file_problem(*v); !problem.empty())
            error(key, std::move(problem));
    return v;
}

std::optional<std::string> TableReader::string(std::string_view key) {
    expect(key, {KeyType::string, KeyType::choice, KeyType::secret_file});
    const toml::node* n = get(key);
    if (n == nullptr) return std::nullopt;
    if (const auto* s = n->as_string()) return s->get();
    type_error(key, *n, "a string");
    return std::nullopt;
}

std::optional<std::int64_t> TableReader::integer(std::string_view key, std::int64_t min,
                                                 std::int64_t max) {
    expect(key, {KeyType::integer});
    const toml::node* n = get(key);
    if (n == nullptr) return std::nullopt;
    const auto* i = n->as_integer();
    if (i == nullptr) {
        type_error(key, *n, "an integer");
        return std::nullopt;
    }
    const std::int64_t v = i->get();
    if (v < min || v > max) {
        error(key, fmt::format("must be between {} and {} (got {})", min, max, v));
        return std::nullopt;
    }
    return v;
}

std::optional<double> TableReader::number(std::string_view key) {
    expect(key, {KeyType::number});
    const toml::node* n = get(key);
    if (n == nullptr) return std::nullopt;
    if (const auto* f = n->as_floating_point()) return f->get();
    if (const auto* i = n->as_integer()) return static_cast<double>(i->get());
    type_error(key, *n, "a number");
    return std::nullopt;
}

std::optional<bool> TableReader::boolean(std::string_view key) {
    expect(key, {KeyType::boolean});
    const toml::node* n = get(key);
    if (n == nullptr) return std::nullopt;
    if (const auto* b = n->as_boolean()) return b->get();
    type_error(key, *n, "a boolean (true or false)");
    return std::nullopt;
}

std::optional<std::vector<std::string>> TableReader::string_list(std::string_view key) {
    return string_list(key, ElementCheck{});
}

std::optional<std::vector<std::string>> TableReader::string_list(std::string_view key,
                                                                 const ElementCheck& check) {
    expect(key, {KeyType::strings});
    const toml::node* n = get(key);
    if (n == nullptr) return std::nullopt;
    if (const auto* s = n->as_string()) {
        if (check) {
            std::string problem = check(s->get());
            if (!problem.empty()) {
                report(key_path(key), n->source().begin, std::move(problem));
                return std::nullopt;
            }
        }
        return std::vector<std::string>{s->get()};
    }
    const auto* arr = n->as_array();
    if (arr == nullptr) {
        type_error(key, *n, "a string or an array of strings");
        return std::nullopt;
    }
    std::vector<std::string> out;
    bool ok = true;
    for (std::size_t i = 0; i < arr->size(); ++i) {
        const toml::node& element = *arr->get(i);
        const std::string element_path = fmt::format("{}[{}]", key_path(key), i);
        const auto* s = element.as_string();
        if (s == nullptr) {
            report(element_path, element.source().begin,
                   fmt::format("expected a string, got {}", type_name(element.type())));
            ok = false;
            continue;
        }
        if (check) {
            std::string problem = check(s->get());
            if (!problem.empty()) {
                report(element_path, element.source().begin, std::move(problem));
                ok = false;
                continue;
            }
        }
        out.push_back(s->get());
    }
    if (!ok) return std::nullopt;
    return out;
}

std::optional<std::uint64_t> TableReader::bytes(std::string_view key, std::uint64_t min,
                                                std::uint64_t max) {
    expect(key, {KeyType::size});
    const toml::node* n = get(key);
    if (n == nullptr) return std::nullopt;
    std::optional<std::uint64_t> v;
    if (const auto* i = n->as_integer()) {
        if (i->get() < 0) {
            error(key, fmt::format("must be between {} and {} bytes (got {})", min, max, i->get()));
            return std::nullopt;
        }
        v = static_cast<std::uint64_t>(i->get());
    } else if (const auto* s = n->as_string()) {
        v = parse_bytes(s->get());
        if (!v) {
            error(key, fmt::format("invalid size {}: use a number of bytes or a number with "
                                   "B, KiB, MiB or GiB (\"64KiB\")",
                                   quote_value(s->get())));
            return std::nullopt;
        }
    } else {
        type_error(key, *n, "a size (an integer, or a string like \"64KiB\")");
        return std::nullopt;
    }
    if (*v < min || *v > max) {
        error(key, fmt::format("must be between {} and {} bytes (got {})", min, max, *v));
        return std::nullopt;
    }
    return v;
}

std::optional<std::chrono::milliseconds> TableReader::duration(std::string_view key) {
    expect(key, {KeyType::duration});
    const toml::node* n = get(key);
    if (n == nullptr) return std::nullopt;
    constexpr std::string_view forms =
        "use ISO-8601 (\"PT30S\", \"PT5M\", \"P1DT6H\", \"P2W\", \"P30D\", \"P1M\" = 30 days, "
        "\"P1Y\" = 365 days) or a number with ms, s, m, h or d (\"50ms\", \"10s\", \"5m\", "
        "\"6h\", \"30d\"); 0 alone is zero";
    if (const auto* i = n->as_integer()) {
        // `raw_retention = 0` reads naturally; which unit another number means does not.
        if (i->get() == 0) return std::chrono::milliseconds{0};
        error(key, fmt::format("{} is not a duration: {}", i->get(), forms));
        return std::nullopt;
    }
    const auto* s = n->as_string();
    if (s == nullptr) {
        report(key_path(key), n->source().begin,
               fmt::format("expected a duration, got {}: {}", type_name(n->type()), forms));
        return std::nullopt;
    }
    auto d = parse_duration(s->get());
    if (!d) {
        error(key, fmt::format("invalid duration {}: {}", quote_value(s->get()), forms));
        return std::nullopt;
    }
    return d;
}

std::optional<std::string> TableReader::one_of(std::string_view key,
                                               std::initializer_list<std::string_view> choices) {
    return one_of(key, std::span<const std::string_view>(choices.begin(), choices.size()));
}

std::optional<std::string> TableReader::one_of(std::string_view key,
                                               std::span<const std::string_view> choices) {
    expect(key, {KeyType::choice});
    auto v = string(key);
    if (!v) return std::nullopt;
    for (std::string_view c : choices)
        if (*v == c) return v;
    std::string list;
    for (std::string_view c : choices) {
        if (!list.empty()) list += ", ";
        list += fmt::format("\"{}\"", c);
    }
    error(key, fmt::format("must be one of {} (got {})", list, quote_value(*v)));
    return std::nullopt;
}

const toml::table* TableReader::table(std::string_view key) {
    expect(key, {KeyType::table});
    const toml::node* n = get(key);
    if (n == nullptr) return nullptr;
    if (const auto* t = n->as_table()) return t;
    type_error(key, *n, "a table");
    return nullptr;
}

const toml::array* TableReader::table_array(std::string_view key) {
    expect(key, {KeyType::tables});
    const toml::node* n = get(key);
    if (n == nullptr) return nullptr;
    const auto* arr = n->as_array();
    if (arr == nullptr) {
        type_error(key, *n, fmt::format("an array of tables ([[{}]])", key));
        return nullptr;
    }
    bool ok = true;
    for (std::size_t i = 0; i < arr->size(); ++i) {
        const toml::node& element = *arr->get(i);
        if (element.is_table()) continue;
        report(fmt::format("{}[{}]", key_path(key), i), element.source().begin,
               fmt::format("expected a table, got {}", type_name(element.type())));
        ok = false;
    }
    return ok ? arr : nullptr;
}

void TableReader::accept(std::string_view key) {
    seen_.emplace(key);
}

bool TableReader::has(std::string_view key) const {
    return table_.contains(key);
}

void TableReader::error(std::string_view key, std::string message) {
    report(key.empty() ? path_ : key_path(key), position_of(key), std::move(message));
}

void TableReader::warning(std::string_view key, std::string message) {
    report_warning(key.empty() ? path_ : key_path(key), position_of(key), std::move(message));
}

void TableReader::finish() {
    if (finished_) return;
    finished_ = true;
    for (const auto& [k, node] : table_) {
        const std::string_view key = k.str();
        if (seen_.contains(key)) continue;
        // The key itself is what is wrong here, so point at it, not at its value.
        const toml::source_position pos =
            k.source().begin.line > 0 ? k.source().begin : node.source().begin;
        if (is_secret_key(key))
            report(key_path(key), pos,
                   fmt::format("secrets are not accepted inline; put it in a file and use {}_file",
                               key));
        else
            report(key_path(key), pos, "unknown key");
    }
}

std::uint32_t TableReader::line() const {
    return table_.source().begin.line;
}

std::string TableReader::key_path(std::string_view key) const {
    if (path_.empty()) return format_key(key);
    return fmt::format("{}.{}", path_, format_key(key));
}

TableReader TableReader::child(const toml::table& t, std::string child_path) const {
    std::string full;
    const bool already_full = !path_.empty() && child_path.size() > path_.size() &&
                              child_path.starts_with(path_) &&
                              (child_path[path_.size()] == '.' || child_path[path_.size()] == '[');
    if (already_full || path_.empty())
        full = std::move(child_path);
    else if (child_path.starts_with('['))
        full = path_ + child_path;
    else
        full = fmt::format("{}.{}", path_, child_path);
    TableReader c(t, std::move(full), file_, errors_, warnings_);
    c.check_secret_files_ = check_secret_files_;
    return c;
}

bool is_loopback_host(std::string_view host) {
    std::string h(host);
    std::transform(h.begin(), h.end(), h.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (h == "localhost" || h == "localhost.") return true;
    if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
    in_addr v4{};
    if (inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
    std::array<unsigned char, 16> v6{};
    if (inet_pton(AF_INET6, h.c_str(), v6.data()) == 1) {
        const bool first_ten_zero =
            std::all_of(v6.begin(), v6.begin() + 10, [](auto b) { return b == 0; });
        if (first_ten_zero && v6[10] == 0 && v6[11] == 0 && v6[12] == 0 && v6[13] == 0 &&
            v6[14] == 0 && v6[15] == 1)
            return true;  // ::1
        return first_ten_zero && v6[10] == 0xff && v6[11] == 0xff &&
               v6[12] == 127;  // ::ffff:127/104
    }
    return false;
}

}  // namespace mb
