// Envelope: one received message and what its decoder made of it, on its way
// to the store. Built on a connector thread, moved into the writer's queue,
// consumed by the writer thread.
#pragma once

#include <cstddef>
#include <vector>

#include "normalize/model.h"

namespace mb {

struct Envelope {
    RawMessage raw;
    DecodeResult result;

    // Weight in the writer's bounded queue: rows it will write.
    std::size_t rows() const { return 1 + result.readings.size() + result.states.size(); }
};

using Batch = std::vector<Envelope>;

}  // namespace mb
