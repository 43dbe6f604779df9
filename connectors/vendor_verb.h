// VendorVerb: a command-line verb a connector row supplies
// (`meterbridge akenza-downlink`, `meterbridge tuya-password`), declared as
// data: name, help, arguments, and a run function taking the parsed values.
// The daemon's CLI (daemon/cli/vendor_verbs.cpp) turns each into a
// subcommand, so a vendor's verbs live in its folder and main knows none.
//
// Who calls: the CLI, on the main thread, once per process; `run` runs at most
// once. Errors: `run` throws std::runtime_error with a message fit for an
// operator (never a secret); the CLI prints it as "<verb>: <message>" and
// exits 1.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/connector_config.h"

namespace mb {

enum class ArgumentType : std::uint8_t { text, integer };

// One `--name VALUE` option of a verb.
struct VerbArgument {
    std::string_view name{};  // without the dashes: "client-id"
    ArgumentType type = ArgumentType::text;
    bool required = true;
    std::int64_t default_value = 0, min = 0, max = 0;  // integer arguments
    std::string_view help{};
};

struct VerbInput {
    // The arguments given (text by name; integers by name, defaults included).
    std::map<std::string, std::string, std::less<>> text;
    std::map<std::string, std::int64_t, std::less<>> integers;
    // With VendorVerb::uses_config: the loaded configuration's file, brokers
    // and connectors, valid during run.
    std::filesystem::path config_file;
    const std::map<std::string, BrokerConfig>* brokers = nullptr;
    const std::vector<ConnectorConfig>* connectors = nullptr;
};

struct VendorVerb {
    std::string name;
    std::string help;
    // Takes -c/--config: the CLI loads and validates it before run (its
    // errors exit 78, as for every verb).
    bool uses_config = false;
    // Reads secrets: the CLI keeps the process out of core dumps first.
    bool reads_secrets = false;
    std::span<const VerbArgument> arguments{};  // a static table
    // What to print on stdout on success (one line, without its newline).
    std::function<std::string(const VerbInput&)> run;
};

}  // namespace mb
