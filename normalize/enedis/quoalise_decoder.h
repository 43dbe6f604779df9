// Quoalise decoder: the answers of the Enedis DataConnect proxy (consometers,
// shared/seeds/003) to the XEP-0050 commands get_load_curve and get_daily,
//   <quoalise xmlns="urn:quoalise:0"><data><meta>…</meta>
//     <sensml xmlns="urn:ietf:params:xml:ns:senml"><senml bn=… bt=… t=… v=… bu=…/>…</sensml>
//   </data></quoalise>
// alone or inside the whole <iq> stanza, turned into canonical readings.
//
// Who calls: the Enedis connector, on its XMPP thread, with the iq it received
// and the request that iq answers (the response alone does not tell which days
// were asked for, nor whether the upstream stamped intervals by their start or
// their end). The connector stores the request as RawMessage::topic
// (quoalise_request_topic, quoalise_request.h) so that a stored raw message can be decoded again
// later by QuoaliseDecoder, like any MQTT message.
//
// Contract: pure (decoder.h): no I/O, no clock, no exceptions; every failure is
// a DecodeResult::reject with a one-line detail naming the element, the record
// index (0-based, in document order) and the attribute, untrusted text quoted
// through printable(). Any thread; the free functions keep no state.
//
// What is accepted:
// - The quoalise element wherever it is (elements are matched by local name;
//   exactly one quoalise, holding exactly one data). An iq of type "error"
//   (the document's <error> with <upstream-error issuer code>) or a command
//   answered with <note type="error"> becomes RejectCode::upstream_error with
//   the upstream's condition, text and code.
// - meta in either form: nested (device/identifier@value, measurement/
//   physical@quantity/@unit, business@direction, aggregate@type,
//   sampling@interval) as in the document, or flat (measurement@direction,
//   @quantity, @unit, @aggregation, @sampling-interval) as in the proxy's current
//   code; the nested one wins where both are present. The identifier must be the
//   requested usage point and the direction the requested one (both required);
//   quantity (power|energy), unit and aggregation (average|mean for load curves,
//   sum for daily), when present, must fit the command. Sampling is seconds
//   ("1800") or an ISO-8601 duration ("PT30M", "P1D"): required for load curves
//   (60 s to 1 h, dividing the hour, so that DST shifts keep the grid), 86400 s
//   when present for daily.
// - SenML records (RFC 8428 §4.5, XML form): bn, bt, bu, bv apply from their
//   record on until replaced; name = bn + n, time = bt + t (seconds, decimals
//   or exponents, rounded to ms), value = bv + v, unit = u, else bu, else the
//   meta unit. Units W, kW, Wh, kWh (k converted by shifting the decimal point,
//   exactly). Fields ending in "_" (must-understand) are refused; vs/vb/vd are
//   the wrong type; other attributes are ignored. Every record of a response
//   is one series: a name, when given, is the same on every record and reads
//   "urn:dev:prm:<usage point>" followed by anything but a digit (the proxy
//   writes "…_production_load", "…_daily_consumption"). Times below 2^28 s
//   (relative times, RFC 8428 §4.5.3) are refused: the proxy never sends them.
// - No records (<sensml/>) is a valid answer with no readings.
//
// What comes out: meter = the usage point, in time order.
// - get_load_curve: electricity.power.<direction> in W, kind interval, one
//   sampling interval each. Stamping (StampConvention): `start` = the record's
//   time starts its interval, `end` = it ends it. `auto_detect` decides per
//   response: the earliest record at the window's start (Paris or UTC midnight
//   of start_date) says start-stamped, the latest at the window's end (Paris or
//   UTC midnight of end_date) says end-stamped; when both hold (possible only
//   with hourly sampling in winter, where Paris midnight + 1 h is UTC midnight)
//   an earliest record written with offset t = 0 says start-stamped (producers
//   that anchor bt on the first interval count from 0), anything else end; with
//   neither, end (what the proxy's current code sends). A wrong guess is
//   refused on a complete response (see the window rule), except in that
//   hourly winter case, where both readings fit.
//   Records must sit on the sampling grid (epoch multiples of the interval).
// - get_daily: electricity.energy.<direction> in Wh, kind interval over the
//   French local day (Europe/Paris midnight to the next: 23 h or 25 h on DST
//   days) that contains the record's time. Both stamps seen in the wild designate
//   their day that way: UTC midnight of day D (the document) is 01:00 or 02:00
//   in Paris on D, Paris midnight of D (the proxy's code) is 00:00 on D. Both
//   sources date a daily value by its day, never by its end, so the
//   StampConvention does not apply (an end stamp, the next Paris midnight,
//   would fall on the next day: outside the window on the last day).
//
// Window rule: the requested days are French local days [start_date,
// end_date), but the document's example stamps them from UTC midnight. A load
// curve is accepted when all its intervals lie within the Paris-midnight window
// or all within the UTC-midnight window (one reading for the whole response,
// never a mix, so that a curve decoded with the wrong stamping, which overhangs
// one end of the window, is refused rather than stored shifted by one
// interval). A daily record's day must be one of the requested days.
//
// Reject codes: malformed (XML not well-formed: pugixml's description and byte
// offset; several root elements; a number that is not one; an attribute given
// twice), invalid_value (a DOCTYPE: never processed, XMPP forbids it; a meta
// or record that contradicts the request; an unknown unit, named; a time off
// the sampling grid), missing_field, wrong_type (vs, vb, vd), unknown_field
// (must-understand fields, elements other than senml in sensml), out_of_range
// (NaN, infinities, |value| > 1e15 in W or Wh, times outside the window),
// duplicate_timestamp (two records for one interval), bad_topic (a request
// that is not valid), oversized (> 16 MiB), upstream_error.
//
// Europe/Paris comes from the system tz database through date's tz library
// (tzdata), looked up once per process; the decoder is still a function of its
// inputs and that reference data.
//
// Its parts: quoalise_landmarks.h (the XML tree, error answers),
// senml_reader.h (one record at a time), quoalise_number.h (numbers, units,
// durations), quoalise_readings.h (window, stamping, canonical readings),
// quoalise_request.h and upstream_error.h.
#pragma once

#include <date/date.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "normalize/decoder.h"
#include "normalize/enedis/quoalise_request.h"
#include "normalize/model.h"

namespace mb {

// How a load-curve record's time relates to its interval.
enum class StampConvention : std::uint8_t { start, end, auto_detect };

// "start" / "end" / "auto": the configuration's spelling.
std::string_view to_string(StampConvention c);
std::optional<StampConvention> parse_stamp_convention(std::string_view s);

// A decode and, for load curves, the stamping that was applied (what
// auto_detect chose, or the fixed convention); unset for daily responses and
// rejections.
struct QuoaliseDecoding {
    DecodeResult result;
    std::optional<StampConvention> stamping;
};

QuoaliseDecoding decode_quoalise_detailed(std::string_view xml, const QuoaliseRequest& req,
                                          StampConvention conv);

// decode_quoalise_detailed(…).result.
DecodeResult decode_quoalise(std::string_view xml, const QuoaliseRequest& req,
                             StampConvention conv);

// The Decoder of stored or live responses: the request comes from the topic
// (RejectCode::bad_topic when it does not parse). Stateless: any thread.
class QuoaliseDecoder final : public Decoder {
  public:
    explicit QuoaliseDecoder(StampConvention conv = StampConvention::auto_detect) : conv_(conv) {}
    DecodeResult decode(const RawMessage& message) override;

  private:
    StampConvention conv_;
};

}  // namespace mb
