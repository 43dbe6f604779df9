#include "normalize/ainsite/ainsite_gateway_decoder.h"

#include <fmt/format.h>

#include <array>
#include <string>
#include <utility>

#include "normalize/detail_text.h"
#include "normalize/quantity.h"
#include "normalize/topic.h"

namespace mb {

namespace {

constexpr std::array<std::string_view, 4> kUtilities{"Electrical", "Thermal", "Water",
                                                     "NaturalGas"};

enum Level : std::size_t {
    kServiceAccount = 2,
    kParser = 3,
    kUtility = 4,
    kMeterExternalId = 5,
    kRegisterType = 6,
};

constexpr std::array<std::string_view, kGatewayTopicLevels> kLevelNames{
    "level 1", "level 2",           "service_account_id", "parser_id",
    "utility", "meter_external_id", "register_type_id"};

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

}  // namespace

bool is_gateway_utility(std::string_view utility) {
    for (std::string_view u : kUtilities)
        if (u == utility) return true;
    return false;
}

AinsiteGatewayDecoder::AinsiteGatewayDecoder(AinsiteGatewaySettings settings)
    : settings_(std::move(settings)) {}

DecodeResult AinsiteGatewayDecoder::decode(const RawMessage& message) {
    const std::string_view topic = message.topic;
    std::array<std::string_view, kGatewayTopicLevels> levels;
    const std::size_t count = topic_levels(topic, levels);
    const auto bad_topic = [&](const std::string& why) {
        return DecodeResult::rejected(
            RejectCode::bad_topic,
            fmt::format("{} is not <gateway prefix: 4 levels>/<utility>/<meter_external_id>/"
                        "<register_type_id>: {}",
                        quoted(topic, 200), why));
    };
    if (count != kGatewayTopicLevels)
        return bad_topic(fmt::format("{} level{} instead of {}", count, count == 1 ? "" : "s",
                                     kGatewayTopicLevels));
    for (std::size_t i = 0; i < levels.size(); ++i) {
        if (levels[i].empty()) return bad_topic(fmt::format("{} is empty", kLevelNames[i]));
        if (levels[i].find_first_of("+#") != std::string_view::npos)
            return bad_topic(fmt::format("{} contains a wildcard", kLevelNames[i]));
    }
    const auto id = ainsite::parse_register_id(levels[kRegisterType]);
    if (!id)
        return bad_topic(fmt::format(
            "register_type_id {} is not a register id (a decimal integer 0..{} without sign or "
            "leading zero)",
            quoted(levels[kRegisterType]), ainsite::kMaxRegisterId));
    const std::string_view utility = levels[kUtility];
    if (!is_gateway_utility(utility))
        return DecodeResult::rejected(
            RejectCode::invalid_value,
            fmt::format("utility {} is not Electrical, Thermal, Water or NaturalGas",
                        quoted(utility)));

    std::string_view text = message.payload;
    if (text.size() > kGatewayMaxPayload)
        return DecodeResult::rejected(RejectCode::oversized,
                                      fmt::format("{} bytes; a numeric payload is at most {}",
                                                  text.size(), kGatewayMaxPayload));
    while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
    while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
    if (text.empty()) return DecodeResult::rejected(RejectCode::malformed, "empty payload");

    ainsite::RegisterMapping m;
    if (auto it = settings_.registers.find(*id); it != settings_.registers.end())
        m = it->second;
    else if (*id == ainsite::kAccumulatedEnergyRegister && utility == "Electrical")
        m = ainsite::accumulated_energy_mapping();
    else
        m = ainsite::unmapped_register(*id);
    Kind kind = m.kind.value_or(*id == ainsite::kAccumulatedEnergyRegister ? Kind::cumulative
                                                                           : Kind::instant);
    if (const auto info = quantity::find(m.quantity)) kind = info->kind;
    if (kind == Kind::interval)
        return DecodeResult::rejected(
            RejectCode::invalid_value,
            fmt::format("register {} is configured as {}, an interval quantity, but a gateway "
                        "reading is an instant",
                        *id, m.quantity));

    const auto n = ainsite::scale_decimal(text, m.scale, "payload");
    if (n.problem) return DecodeResult::rejected(n.problem->code, n.problem->detail);

    Reading r;
    if (settings_.meter_id == GatewayMeterId::gateway)
        r.meter = fmt::format("{}/{}/{}", levels[kServiceAccount], levels[kParser],
                              levels[kMeterExternalId]);
    else
        r.meter = std::string(levels[kMeterExternalId]);
    r.quantity = std::move(m.quantity);
    r.unit = std::move(m.unit);
    r.kind = kind;
    r.ts_start = message.received_at;
    r.ts_end = message.received_at;
    r.value = n.value;
    DecodeResult out;
    out.readings.push_back(std::move(r));
    return out;
}

}  // namespace mb
