#include "normalize/akenza/akenza_slot.h"

#include <array>
#include <charconv>
#include <cmath>

#include "normalize/number.h"
#include "normalize/topic.h"

namespace mb::akenza {

namespace {

// Integers up to 2^53 are exact in a double.
constexpr double kMaxExactInteger = 9007199254740992.0;

// By Slot::Type.
constexpr std::array<std::string_view, 7> kTypeNames{
    "nothing", "null", "a number", "a string", "a boolean", "an object", "an array"};

}  // namespace

void set_number(Slot& slot, std::string_view literal) {
    slot.type = Slot::Type::number;
    slot.text.assign(literal);
    std::string_view lit = literal;
    if (lit.front() == '+') lit.remove_prefix(1);
    const char* end = lit.data() + lit.size();
    double d = 0;
    const auto [p, ec] = std::from_chars(lit.data(), end, d);
    slot.representable = ec == std::errc{} && p == end && std::isfinite(d);
    slot.number = slot.representable ? d : 0;
    slot.integral = false;
    if (lit.find_first_of(".eE") == lit.npos) {
        std::int64_t i = 0;
        const auto [ip, iec] = std::from_chars(lit.data(), end, i);
        if (iec == std::errc{} && ip == end) {
            slot.integral = true;
            slot.integer = i;
        }
    } else if (slot.representable && std::trunc(d) == d && std::fabs(d) <= kMaxExactInteger) {
        slot.integral = true;  // 1.6e12 is an integer too
        slot.integer = static_cast<std::int64_t>(d);
    }
}

void set_text(Slot& slot, std::string_view raw) {
    const std::string_view v = trim_blanks(raw);
    if (v.empty()) {
        slot = Slot{};
        return;
    }
    if (is_decimal(v)) {
        set_number(slot, v);
        return;
    }
    slot.type = Slot::Type::string;
    slot.text.assign(v);
}

std::string_view type_name(Slot::Type t) {
    const auto i = static_cast<std::size_t>(t);
    return i < kTypeNames.size() ? kTypeNames[i] : "something else";
}

}  // namespace mb::akenza
