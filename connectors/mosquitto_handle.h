// RAII ownership of a libmosquitto client handle, and the library's one-time
// global initialisation. A handle is used by the one connector thread that
// owns it (threaded mode "external": we run the I/O loop ourselves).
#pragma once

#include <mosquitto.h>

#include <memory>

namespace mb {

struct MosquittoDeleter {
    void operator()(mosquitto* m) const { mosquitto_destroy(m); }
};
using MosquittoHandle = std::unique_ptr<mosquitto, MosquittoDeleter>;

// mosquitto_lib_init() exactly once per process (it is not thread-safe);
// cleanup is left to process exit because handles may outlive any owner.
void ensure_mosquitto_initialised();

}  // namespace mb
