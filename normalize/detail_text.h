// Text for reject details, shared by the decoders: a vendor value quoted in a
// reason must keep the reason short, on one line and valid UTF-8, whatever
// the value holds. Pure functions; any thread.
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace mb {

// At most `max` bytes of `s` (cut on a UTF-8 boundary, then "..."), control
// characters escaped as \uXXXX. Input that is not valid UTF-8 (topics, CLI
// text; JSON strings are validated by the parser) has its non-ASCII bytes
// escaped as \xNN.
std::string printable(std::string_view s, std::size_t max = 64);

// "not valid JSON", with what simdjson found when an operator can act on it
// (invalid UTF-8, nesting too deep, a number out of range).
std::string not_valid_json(simdjson::error_code e);

// "an array", "a number", "null", ... for "must be X, not Y" details.
std::string_view json_type_name(simdjson::dom::element_type t);
std::string_view json_type_name(simdjson::ondemand::json_type t);

}  // namespace mb
