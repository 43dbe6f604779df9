// A mapped field's value as an akenza payload gives it, read from one JSON
// document (akenza_json_walker.h), a text/plain payload or a CSV line, before any
// mapping turns it into a reading, a state or a time.
//
// Who calls: the akenza decoder's parts, on the decoder's thread. Plain values
// owned by the caller (the decoder reuses one row of slots); no errors: text
// that is not a number is a string slot, and the mapping decides.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "normalize/detail_text.h"

namespace mb::akenza {

struct Slot {
    enum class Type : std::uint8_t { absent, null, number, string, boolean, object, array };
    Type type = Type::absent;
    bool boolean = false;
    bool representable = false;  // number: fits a double
    bool integral = false;       // number: an integer that fits int64
    double number = 0;
    std::int64_t integer = 0;
    std::string text;  // string content, or the number as written
};

// A number slot of `literal`, which has passed is_json_number or is_decimal
// (number.h).
void set_number(Slot& slot, std::string_view literal);

// A text value (text/plain payload, CSV cell): empty is absent, a number is a
// number, anything else is a string. Text payloads and CSV cells are written by
// hand or by small firmware: a leading '+', "5." and ".5" are numbers there.
void set_text(Slot& slot, std::string_view raw);

// "nothing", "null", "a number", ... for "must be X, got Y" details.
std::string_view type_name(Slot::Type t);

// Values echoed in details are shortened and kept on one line: a pasted blob
// must not flood the table.
inline std::string shorten(std::string_view s) {
    return printable(s, 80);
}

}  // namespace mb::akenza
