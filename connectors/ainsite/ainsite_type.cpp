#include "connectors/ainsite/ainsite_type.h"

#include <fmt/format.h>

#include <cmath>
#include <map>
#include <set>
#include <stdexcept>
#include <utility>
#include <vector>

#include "connectors/mqtt/mqtt_type.h"
#include "normalize/ainsite/ainsite_decoder.h"
#include "normalize/config/table_reader.h"
#include "normalize/quantity.h"
#include "normalize/topic.h"

namespace mb {

namespace {

using ainsite::RegisterMap;
using ainsite::RegisterMapping;

constexpr std::string_view kGatewayKinds[] = {"instant", "cumulative"};
constexpr std::string_view kMeterIds[] = {"external", "gateway"};

constexpr KeySpec kConsumerRegisterKeys[] = {
    {.name = "quantity",
     .default_value = "register.<id>",
     .description = "a canonical quantity of the register's kind, or register.<name>"},
    {.name = "unit",
     .description = "register.<name> only (at most 32 bytes); canonical quantities have theirs"},
    {.name = "scale",
     .type = KeyType::number,
     .default_value = "1",
     .range = "finite, not 0",
     .description = "the value is multiplied by it (1000: kWh → Wh)"},
};

constexpr KeySpec kGatewayRegisterKeys[] = {
    kConsumerRegisterKeys[0],
    kConsumerRegisterKeys[1],
    kConsumerRegisterKeys[2],
    {.name = "kind",
     .type = KeyType::choice,
     .choices = kGatewayKinds,
     .description = "register.<name> only; canonical quantities have theirs (default: none)"},
};

constexpr KeySpec kConsumerKeys[] = {
    {.name = "registers",
     .type = KeyType::table,
     .keys = kConsumerRegisterKeys,
     .description = "[connectors.registers.<id>]: a register id to its quantity (default: "
                    "register 2 is the energy index, others register.<id>); the kind comes "
                    "from the payload"},
};

constexpr KeySpec kGatewayKeys[] = {
    {.name = "meter_id",
     .type = KeyType::choice,
     .default_value = "external",
     .choices = kMeterIds,
     .description = "the meter: meter_external_id, or "
                    "<service_account_id>/<parser_id>/<meter_external_id>"},
    {.name = "registers",
     .type = KeyType::table,
     .keys = kGatewayRegisterKeys,
     .description = "[connectors.registers.<id>]: a register type id to its quantity (default: "
                    "register.<id>)"},
};

bool is_wildcard(std::string_view level) {
    return level == "+" || level == "#";
}

// Whether a filter of these levels can match some topic of exactly `n` levels
// ('#' also matches its parent level, so "a/#" matches "a").
bool can_match_levels(const std::vector<std::string_view>& levels, std::size_t n) {
    if (levels.back() == "#") return levels.size() - 1 <= n;
    return levels.size() == n;
}

// Units of register.<id> quantities are free text, but end up in every view row.
std::string unit_problem(std::string_view unit) {
    if (unit.size() > 32) return "must be at most 32 bytes";
    for (char c : unit)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            return "must not contain control characters";
    return {};
}

// Re-reads `topics` (already checked as MQTT filters by the loader) against
// the vendor's shape, reporting at each element. Filters the loader rejected
// are skipped: reported once is enough.
void check_topics(TableReader& r, const ConnectorConfig& c,
                  std::string (*problem)(std::string_view)) {
    if (!r.has("topics") || c.topics.empty()) return;
    r.string_list("topics", [problem](std::string_view f) -> std::string {
        if (!mqtt_filter_problem(f).empty()) return {};
        return problem(f);
    });
}

// Whose rules a register mapping follows: the consumer's kinds come from the
// payload version (v1 cumulative, v2 interval); the gateway's readings are
// instants or cumulative (no interval: a bare number at the time of receipt).
enum class Side { consumer, gateway };

std::optional<RegisterMapping> parse_register(TableReader& one, std::uint32_t id, Side side) {
    RegisterMapping m;
    bool ok = true;
    const auto q = one.text("quantity");
    m.quantity = q.value_or(fmt::format("{}{}", quantity::register_prefix, id));
    if (q && !quantity::is_valid_name(*q)) {
        one.error("quantity",
                  fmt::format("'{}' is not a canonical quantity (docs/data-model.md) nor "
                              "register.<name> (letters, digits, '_', '.', '-')",
                              *q));
        ok = false;
    }
    const auto unit = one.text("unit");
    if (auto s = one.number("scale")) {
        if (!std::isfinite(*s) || *s == 0) {
            one.error("scale", fmt::format("must be a finite number other than 0 (got {})", *s));
            ok = false;
        } else {
            m.scale = *s;
        }
    }
    std::optional<Kind> kind;
    if (side == Side::gateway) {
        if (auto k = one.text("kind"))
            kind = parse_kind(*k);
        else if (one.has("kind"))
            ok = false;
    } else if (one.has("kind")) {
        one.accept("kind");
        one.error("kind",
                  "type 'ainsite' takes the kind from the payload: schema version 1 (register 2) "
                  "gives cumulative readings, version 2 (the other registers) interval readings");
        ok = false;
    }

    if (const auto info = quantity::find(m.quantity)) {
        if (unit && *unit != info->unit) {
            one.error("unit", fmt::format("must be '{}', the unit of {} (convert with scale, "
                                          "e.g. scale = 1000 from kWh to Wh)",
                                          info->unit, m.quantity));
            ok = false;
        }
        m.unit = std::string(info->unit);
        if (side == Side::consumer) {
            const bool v1 = id == ainsite::kAccumulatedEnergyRegister;
            const Kind arrives = v1 ? Kind::cumulative : Kind::interval;
            if (info->kind != arrives) {
                one.error("quantity",
                          fmt::format("register {} arrives in schema version {} as {} readings, "
                                      "but {} is {}",
                                      id, v1 ? 1 : 2, to_string(arrives), m.quantity,
                                      to_string(info->kind)));
                ok = false;
            }
        } else if (info->kind == Kind::interval) {
            one.error("quantity",
                      fmt::format("{} is an interval quantity, but a gateway reading is an "
                                  "instant (the time of receipt)",
                                  m.quantity));
            ok = false;
        } else if (kind && *kind != info->kind) {
            one.error("kind", fmt::format("must be '{}', the kind of {}", to_string(info->kind),
                                          m.quantity));
            ok = false;
        }
        m.kind = info->kind;
    } else {
        if (unit) {
            if (std::string p = unit_problem(*unit); !p.empty()) {
                one.error("unit", std::move(p));
                ok = false;
            }
            m.unit = *unit;
        }
        m.kind = kind;
    }
    one.finish();
    if (!ok) return std::nullopt;
    return m;
}

// `registers`: a table of register id → mapping. Two registers must not end
// up as one quantity (their readings would overwrite each other), counting
// the names unconfigured registers keep: register 2's index and register.<n>.
RegisterMap parse_registers(TableReader& r, Side side) {
    RegisterMap out;
    const toml::table* t = r.table("registers");
    if (t == nullptr) return out;
    TableReader rr = r.child(*t, "registers");
    std::set<std::uint32_t> configured;
    for (const auto& [key, node] : *t)
        if (auto id = ainsite::parse_register_id(key.str())) configured.insert(*id);

    std::map<std::string, std::uint32_t, std::less<>> taken;
    for (const auto& [key, node] : *t) {
        const std::string_view k = key.str();
        const auto id = ainsite::parse_register_id(k);
        if (!id) {
            rr.accept(k);
            rr.error(k, fmt::format("register ids are decimal integers from 0 to {} without sign "
                                    "or leading zero (got '{}')",
                                    ainsite::kMaxRegisterId, k));
            continue;
        }
        const toml::table* sub = rr.table(k);
        if (sub == nullptr) continue;
        TableReader one = rr.child(*sub, rr.key_path(k));
        one.declare(r.spec("registers").keys);
        one.refuse_undeclared();
        auto m = parse_register(one, *id, side);
        if (!m) continue;

        std::optional<std::uint32_t> other;
        if (auto it = taken.find(m->quantity); it != taken.end()) {
            other = it->second;
        } else if (m->quantity == quantity::energy_consumption_index &&
                   *id != ainsite::kAccumulatedEnergyRegister &&
                   !configured.contains(ainsite::kAccumulatedEnergyRegister)) {
            other = ainsite::kAccumulatedEnergyRegister;
        } else if (m->quantity.starts_with(quantity::register_prefix)) {
            const auto n = ainsite::parse_register_id(
                std::string_view(m->quantity).substr(quantity::register_prefix.size()));
            if (n && *n != *id && !configured.contains(*n)) other = *n;
        }
        if (other) {
            one.error("quantity",
                      fmt::format("register {} would also become {}, like register {}: their "
                                  "readings would overwrite each other",
                                  *id, m->quantity, *other));
            continue;
        }
        taken.emplace(m->quantity, *id);
        out.emplace(*id, std::move(*m));
    }
    rr.finish();
    return out;
}

// The document's broker section asks for QoS 1 on both sides.
void warn_qos0(TableReader& r, const ConnectorConfig& c) {
    if (c.qos == 0)
        r.warning(
            "qos",
            "qos = 0: Å Insite asks for QoS 1 (\"to prevent data loss\"); at QoS 0 the broker "
            "neither queues readings while the daemon is away nor resends lost ones");
}

std::shared_ptr<const ConnectorOptions> parse_consumer(TableReader& r, ConnectorConfig& c) {
    r.declare(kConsumerKeys);
    check_topics(r, c, ainsite_filter_problem);
    warn_qos0(r, c);
    auto o = std::make_shared<AinsiteOptions>();
    o->registers = parse_registers(r, Side::consumer);
    return o;
}

std::shared_ptr<const ConnectorOptions> parse_gateway(TableReader& r, ConnectorConfig& c) {
    r.declare(kGatewayKeys);
    if (!r.has("topics"))
        c.topics = {std::string(kGatewayDefaultFilter)};
    else
        check_topics(r, c, ainsite_gateway_filter_problem);
    warn_qos0(r, c);
    auto o = std::make_shared<AinsiteGatewayOptions>();
    if (auto v = r.text("meter_id"))
        o->settings.meter_id = *v == "gateway" ? GatewayMeterId::gateway : GatewayMeterId::external;
    o->settings.registers = parse_registers(r, Side::gateway);
    return o;
}

template <typename Options>
const Options* options_of(const ConnectorConfig& config) {
    if (!config.options) return nullptr;
    const auto* o = dynamic_cast<const Options*>(config.options.get());
    if (o == nullptr)
        throw std::runtime_error(
            fmt::format("connector {}: options of another type given to an {} decoder", config.name,
                        config.type));
    return o;
}

}  // namespace

std::string ainsite_filter_problem(std::string_view filter) {
    const auto levels = topic_levels(filter);
    if (levels.size() < 3 || levels[0] != "meters" || levels[1] != "outbound" ||
        is_wildcard(levels[2]) || levels[2].empty())
        return "an Å Insite subscription must include the customer id: start it with "
               "meters/outbound/<customer-id>/ where <customer-id> is written out, not + or # "
               "(Å Insite grants each consumer its customer's base topic only and disconnects a "
               "session that subscribes elsewhere, e.g. to a root #)";
    if (!can_match_levels(levels, 5))
        return "matches no Å Insite topic: they have 5 levels, "
               "meters/outbound/<customer-id>/<subscription-id>/<meter-id>";
    for (std::size_t i = 3; i < levels.size(); ++i)
        if (levels[i].empty())
            return fmt::format("level {} is empty, which no Å Insite topic has", i + 1);
    return {};
}

std::string ainsite_gateway_filter_problem(std::string_view filter) {
    const auto levels = topic_levels(filter);
    if (is_wildcard(levels[0]))
        return "must start with the gateway prefix (gateways/generic/…), not a wildcard, which "
               "would take every topic on the broker";
    if (!can_match_levels(levels, kGatewayTopicLevels))
        return "matches no gateway topic: they have 7 levels, "
               "<gateway prefix: 4 levels>/<utility>/<meter_external_id>/<register_type_id>";
    for (std::size_t i = 0; i < levels.size(); ++i)
        if (levels[i].empty())
            return fmt::format("level {} is empty, which no gateway topic has", i + 1);
    if (levels.size() > 4 && !is_wildcard(levels[4]) && !is_gateway_utility(levels[4]))
        return fmt::format(
            "level 5 is the utility: Electrical, Thermal, Water or NaturalGas, or + (got '{}')",
            levels[4]);
    if (levels.size() > 6 && !is_wildcard(levels[6]) && !ainsite::parse_register_id(levels[6]))
        return fmt::format("level 7 is the register type id: a decimal integer, or + (got '{}')",
                           levels[6]);
    return {};
}

std::unique_ptr<Decoder> make_ainsite_decoder(const ConnectorConfig& config) {
    const auto* o = options_of<AinsiteOptions>(config);
    return std::make_unique<AinsiteDecoder>(o ? o->registers : RegisterMap{});
}

std::unique_ptr<Decoder> make_ainsite_gateway_decoder(const ConnectorConfig& config) {
    const auto* o = options_of<AinsiteGatewayOptions>(config);
    return std::make_unique<AinsiteGatewayDecoder>(o ? o->settings : AinsiteGatewaySettings{});
}

void register_ainsite(ConnectorRegistry& registry) {
    registry.add(make_mqtt_type(MqttTypeSpec{
        "ainsite",
        "Å Insite MQTT service for data consumers (meters/outbound/<customer-id>/…, JSON)",
        parse_consumer,
        make_ainsite_decoder,
        {},
        kConsumerKeys,
        {},
    }));
    registry.add(make_mqtt_type(MqttTypeSpec{
        "ainsite-gateway",
        "Å Insite standard gateway format (gateways/generic/…, bare numbers)",
        parse_gateway,
        make_ainsite_gateway_decoder,
        {},
        kGatewayKeys,
        {},
    }));
}

}  // namespace mb
