// The SenML records of a quoalise response (RFC 8428 §4.5, XML form), read one
// by one into times and values in the canonical unit, with the checks a single
// record allows: base fields in force, the series name, the unit, the
// sampling grid, the value's range. The checks that need the whole response
// (window, stamping, duplicates) are quoalise_readings.h's.
//
// Who calls: the quoalise decoder, on its caller's thread, one reader per
// response, records in document order. It keeps views into the caller's
// pugixml document (the base name), valid while the document lives; a record
// that cannot be used is a returned Reject naming the record index and the
// attribute, never an exception.
#pragma once

#include <pugixml.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "normalize/enedis/quoalise_number.h"
#include "normalize/enedis/quoalise_request.h"
#include "normalize/model.h"

namespace mb::quoalise {

// The units a command answers in, for details.
inline std::string_view expected_units(QuoaliseCommand c) {
    return c == QuoaliseCommand::daily ? "Wh, kWh" : "W, kW";
}

// A record, read, before the checks that need the whole response.
struct Pending {
    std::size_t index;
    TimeMs time;
    double value;
    bool zero_offset;  // written at its base time (t absent or 0)
    TimeMs start = 0;
    TimeMs end = 0;
};

class SenmlReader {
  public:
    // `meta_unit` (may be null) and `sampling_s` (load curves: the grid the
    // times must sit on) come from the response's meta.
    SenmlReader(const QuoaliseRequest& req, const Unit* meta_unit,
                std::optional<std::int64_t> sampling_s)
        : req_(req), meta_unit_(meta_unit), sampling_s_(sampling_s) {}

    // Reads `record`, the senml element of document-order `index` (0-based),
    // into pending(), or says why it cannot be used.
    std::optional<Reject> read(const pugi::xml_node& record, std::size_t index);

    std::vector<Pending>& pending() { return pending_; }

  private:
    // SenML base fields in force (RFC 8428 §4.1): from their record on.
    struct Base {
        std::string_view name;
        double time_ms = 0;
        const Unit* unit = nullptr;  // bu, looked up where it is written
        // bv, parsed once for each unit scale (W or Wh, and k…): its unit is
        // that of each record it is added to.
        std::optional<std::string_view> value;
        std::array<Number, 2> scaled;
    };
    struct Fields;

    bool daily() const { return req_.command == QuoaliseCommand::daily; }

    std::optional<Reject> read_fields(const pugi::xml_node& record, std::size_t index,
                                      Fields& f) const;
    static std::optional<Reject> number(std::size_t index, std::string_view field,
                                        std::string_view text, int shift, double& out);
    static std::optional<Reject> unit(std::size_t index, std::string_view field,
                                      std::string_view text, const Unit*& out);
    std::optional<Reject> check_name(std::size_t index, std::string_view base,
                                     std::string_view suffix);

    const QuoaliseRequest& req_;
    const Unit* meta_unit_;
    std::optional<std::int64_t> sampling_s_;
    Base base_;
    std::optional<std::string> series_name_;        // bn + n of record 0
    std::string_view series_base_, series_suffix_;  // in the document
    std::vector<Pending> pending_;
};

}  // namespace mb::quoalise
