#include "normalize/quantity.h"

#include <array>

namespace mb::quantity {

namespace {
constexpr std::array<Info, 10> kQuantities{{
    {energy_consumption, "Wh", Kind::interval, "active energy consumed over the interval"},
    {energy_production, "Wh", Kind::interval, "active energy produced over the interval"},
    {power_consumption, "W", Kind::interval, "average active power consumed over the interval"},
    {power_production, "W", Kind::interval, "average active power produced over the interval"},
    {energy_consumption_index, "Wh", Kind::cumulative, "consumption register index"},
    {water_volume_index, "m3", Kind::cumulative, "water meter index"},
    {water_volume_day, "m3", Kind::interval, "water volume over one day"},
    {water_volume_month, "m3", Kind::interval, "water volume over one month"},
    {water_volume_shared_cold, "m3", Kind::instant, "shared cold water usage"},
    {water_volume_shared_hot, "m3", Kind::instant, "shared hot water usage"},
}};

bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}
}  // namespace

std::span<const Info> all() {
    return kQuantities;
}

std::optional<Info> find(std::string_view name) {
    for (const auto& q : kQuantities)
        if (q.name == name) return q;
    return std::nullopt;
}

bool is_valid_name(std::string_view name) {
    if (find(name)) return true;
    if (!name.starts_with(register_prefix) || name.size() == register_prefix.size()) return false;
    for (char c : name.substr(register_prefix.size()))
        if (!is_name_char(c)) return false;
    return true;
}

}  // namespace mb::quantity
