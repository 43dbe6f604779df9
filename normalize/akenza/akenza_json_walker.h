// The JSON payloads of akenza uplinks: one pass of simdjson on-demand over the
// whole document that validates every value (on-demand alone would skip over
// unread ones) and captures the values at the pointers of one data topic's
// plan, however many pointers there are.
//
// Who calls: AkenzaDecoder, on its thread, once per application/json uplink.
// The document, slots and scratch are the caller's (reused across messages);
// JSON that is not valid, too deep, or names a mapped key twice is a returned
// Reject, never an exception.
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <optional>
#include <vector>

#include "normalize/akenza/akenza_mapping.h"
#include "normalize/akenza/akenza_slot.h"
#include "normalize/model.h"

namespace mb::akenza {

// Fills `slots` (one per plan pointer, all absent on entry) from `doc`, the
// document simdjson iterates over the `size` bytes at `base`. `scratch` holds
// the pointer candidates per depth and is sized here.
std::optional<Reject> walk_json(simdjson::ondemand::document& doc, const char* base,
                                std::size_t size, const Plan& plan, std::vector<Slot>& slots,
                                std::vector<std::vector<std::size_t>>& scratch);

}  // namespace mb::akenza
