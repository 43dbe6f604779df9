// The vendor fixtures of tests/fixtures/<vendor>/, read whole (bytes as stored).
#pragma once

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

#ifndef MB_SOURCE_DIR
#error "MB_SOURCE_DIR must name the source tree (for tests/fixtures)"
#endif

namespace mb::test {

inline std::filesystem::path fixture_path(const std::string& vendor, const std::string& name) {
    return std::filesystem::path(MB_SOURCE_DIR) / "tests" / "fixtures" / vendor / name;
}

// Throws std::runtime_error naming the file when it is missing.
inline std::string read_fixture(const std::string& vendor, const std::string& name) {
    std::ifstream in(fixture_path(vendor, name), std::ios::binary);
    if (!in) throw std::runtime_error("missing fixture " + vendor + "/" + name);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace mb::test
