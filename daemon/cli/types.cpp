// `meterbridge types [TYPE]`: the connector types of the registry, or one
// type's keys (those of every connector, its transport's, its own, its jobs')
// with type, default, range and description, and the verbs it supplies. Read
// from the rows' key tables, so that the help is what the loader checks.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <memory>
#include <span>

#include "connectors/mqtt/mqtt_config.h"
#include "connectors/registry.h"
#include "daemon/cli/verb.h"

namespace mb {

namespace {

// Aligned columns: every row's cells padded to the widest of their column.
class Columns {
  public:
    void heading(std::string line) { lines_.push_back({std::move(line), {}}); }
    void row(std::vector<std::string> cells) { lines_.push_back({{}, std::move(cells)}); }

    void print() const {
        std::vector<std::size_t> width;
        for (const auto& l : lines_)
            for (std::size_t i = 0; i < l.cells.size(); ++i) {
                if (width.size() <= i) width.push_back(0);
                width[i] = std::max(width[i], display_width(l.cells[i]));
            }
        for (const auto& l : lines_) {
            if (l.cells.empty()) {
                fmt::print("{}\n", l.heading);
                continue;
            }
            std::string out;
            for (std::size_t i = 0; i < l.cells.size(); ++i) {
                out += l.cells[i];
                if (i + 1 < l.cells.size())
                    out.append(width[i] - display_width(l.cells[i]) + 2, ' ');
            }
            fmt::print("{}\n", out);
        }
    }

  private:
    struct Line {
        std::string heading;
        std::vector<std::string> cells;
    };
    // UTF-8 code points, which is what a terminal shows of these texts.
    static std::size_t display_width(const std::string& s) {
        return static_cast<std::size_t>(
            std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
    }
    std::vector<Line> lines_;
};

void key_rows(Columns& out, std::span<const KeySpec> keys, const std::string& prefix) {
    for (const KeySpec& k : keys) {
        const std::string name = prefix + std::string(k.name);
        const std::string value = k.required                ? std::string("required")
                                  : k.default_value.empty() ? std::string("-")
                                                            : std::string(k.default_value);
        const std::string range = describe_range(k);
        out.row({"  " + name, std::string(to_string(k.type)), value, range.empty() ? "-" : range,
                 std::string(k.description)});
        if (k.type == KeyType::tables) key_rows(out, k.keys, name + "[].");
        if (k.type == KeyType::table) key_rows(out, k.keys, name + ".<id>.");
    }
}

void key_section(Columns& out, std::string heading, std::span<const KeySpec> keys) {
    out.heading("");
    out.heading(std::move(heading));
    if (keys.empty()) {
        out.heading("  (none)");
        return;
    }
    out.row({"  KEY", "TYPE", "DEFAULT", "RANGE", "DESCRIPTION"});
    key_rows(out, keys, "");
}

int list_types(const ConnectorRegistry& registry) {
    Columns out;
    out.row({"TYPE", "TRANSPORT", "DESCRIPTION"});
    for (const std::string& name : registry.type_names()) {
        const ConnectorType& t = *registry.find(name);
        out.row({t.type, std::string(to_string(t.transport)), t.description});
    }
    out.print();
    fmt::print("\n`meterbridge types TYPE` shows the keys of one type.\n");
    return kExitOk;
}

int show_type(const ConnectorRegistry& registry, const std::string& name) {
    const ConnectorType* t = registry.find(name);
    if (t == nullptr) {
        fmt::print(stderr, "types: unknown connector type '{}' (known types: {})\n", name,
                   fmt::join(registry.type_names(), ", "));
        return kExitUsage;
    }
    fmt::print("{} ({}): {}\n", t->type, to_string(t->transport), t->description);
    Columns out;
    key_section(out, "Keys of every [[connectors]] table:", connector_keys());
    if (t->transport == Transport::mqtt)
        key_section(
            out, "Keys of every MQTT connector (brokers: [brokers.NAME]):", mqtt_connector_keys());
    key_section(out, fmt::format("Keys of type {}:", t->type), t->keys);
    if (!t->jobs.empty()) {
        key_section(out, "Keys of every [[jobs]] table:", job_keys());
        for (const JobSpec& j : t->jobs)
            key_section(
                out,
                fmt::format("Keys of a job with command = \"{}\" ({}):", j.command, j.description),
                j.keys);
    }
    out.print();
    if (!t->verbs.empty()) {
        fmt::print("\nVerbs:\n");
        Columns verbs;
        for (const VendorVerb& v : t->verbs) verbs.row({"  meterbridge " + v.name, v.help});
        verbs.print();
    }
    return kExitOk;
}

}  // namespace

Verb add_types_verb(CLI::App& cli, const ConnectorRegistry& registry) {
    auto type = std::make_shared<std::string>();
    auto* sub = cli.add_subcommand(
        "types", "the connector types, or the configuration keys of one type and its verbs");
    sub->add_option("TYPE", *type, "a connector type (default: list them all)");
    return {sub, [&registry, type] {
                return type->empty() ? list_types(registry) : show_type(registry, *type);
            }};
}

}  // namespace mb
