// The canonical readings of a quoalise response, from its records once all
// are read (SenmlReader): the load-curve stamping (fixed or detected), the
// window of requested days, the French local day of daily values, duplicate
// intervals, then electricity.power.* / electricity.energy.* readings of the
// usage point in time order. The rules are quoalise_decoder.h's.
//
// Who calls: the quoalise decoder, on its caller's thread, once per response.
// Pure (reads Europe/Paris through paris_day.h, which the caller has checked
// exists); sorts `pending` in place; a response that breaks a rule is a
// rejected QuoaliseDecoding.
#pragma once

#include <cstdint>
#include <vector>

#include "normalize/enedis/quoalise_decoder.h"
#include "normalize/enedis/senml_reader.h"

namespace mb::quoalise {

// get_load_curve: intervals of `sampling_s` seconds stamped by `conv`.
QuoaliseDecoding load_curve_readings(const QuoaliseRequest& req, StampConvention conv,
                                     std::int64_t sampling_s, std::vector<Pending>& pending);

// get_daily: one French local day per record.
QuoaliseDecoding daily_readings(const QuoaliseRequest& req, std::vector<Pending>& pending);

}  // namespace mb::quoalise
