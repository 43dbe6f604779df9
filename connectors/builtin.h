// The connector types built into meterbridge: one register_<folder>() per
// vendor folder of connectors/, called in order of folder name. The list is
// written by the build (connectors/CMakeLists.txt, cmake/builtin.cpp.in) from
// the folders that declare a vendor with mb_vendor(): adding a vendor
// touches no list.
//
// Who calls: the daemon, tests and benches, from any thread; the registry is
// built on first use (thread-safe static initialisation) and immutable.
#pragma once

namespace mb {

class ConnectorRegistry;

const ConnectorRegistry& builtin_registry();

}  // namespace mb
