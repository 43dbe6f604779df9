// Canonical quantity names and their units (DESIGN.md §2, contract).
//
// Decoders name quantities through these constants so that a typo is a
// compile error, and validate configured mappings through `find_quantity`.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "normalize/model.h"

namespace mb::quantity {

inline constexpr std::string_view energy_consumption = "electricity.energy.consumption";
inline constexpr std::string_view energy_production = "electricity.energy.production";
inline constexpr std::string_view power_consumption = "electricity.power.consumption";
inline constexpr std::string_view power_production = "electricity.power.production";
inline constexpr std::string_view energy_consumption_index = "electricity.energy.consumption.index";
inline constexpr std::string_view water_volume_index = "water.volume.index";
inline constexpr std::string_view water_volume_day = "water.volume.day";
inline constexpr std::string_view water_volume_month = "water.volume.month";
inline constexpr std::string_view water_volume_shared_cold = "water.volume.shared.cold";
inline constexpr std::string_view water_volume_shared_hot = "water.volume.shared.hot";

// Prefix of the quantities of unmapped registers: "register.<id>".
inline constexpr std::string_view register_prefix = "register.";

struct Info {
    std::string_view name;
    std::string_view unit;
    Kind kind;
    std::string_view description;
};

// Every canonical quantity, in the order of DESIGN.md §2.
std::span<const Info> all();

// The canonical quantity of that name, if it is one.
std::optional<Info> find(std::string_view name);

// True for a canonical name or a "register.<id>" name; configured mappings may
// only target these (or a name under a documented vendor prefix).
bool is_valid_name(std::string_view name);

}  // namespace mb::quantity
