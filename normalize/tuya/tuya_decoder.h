// Tuya IoT Edge Gateway, smart water meter (shared/seeds/002): the PURE
// codec of the platform side, the wire protocol both ways. meterbridge plays
// the platform: the gateway publishes uplinks on gateway_id/<gw>/{devices/sync,
// properties/report, devices/status, commands/response}; meterbridge answers on
// …/devices/sync/response and …/properties/report/response and sends …/commands.
// The DP table is tuya_dp.h; what a report becomes in the canonical model is
// tuya_canonical.h. Topics, message parsing and the answer/command encoders
// stay in one file: they share the document's limits and JSON conventions.
//
// Everything here is a function of its inputs: no I/O, no clock (times are
// parameters), no logging, no exceptions for per-message failures. A failed
// parse is a TuyaError carrying the document's global error code and message
// (so the connector can answer the gateway) plus the request_id/cid when they
// could be read (an error without request_id cannot be answered: store it as
// rejected only). tuya_reject() maps an error to the rejected-table reason.
//
// Validation (the document's tables; decisions where it is silent):
//   - missing required field, or an empty required string/array → 1100;
//   - a field that is JSON null → 1102; wrong JSON type → 1103 (also: not JSON,
//     not an object, a number that is not an integer, a timestamp DP whose text
//     is not decimal digits);
//   - `t` not a positive integer Unix time (seconds; a value >= 1e11 is read as
//     milliseconds) up to year 9999 → 1001;
//   - a DP value outside its documented range / enum set, or an id/cid/
//     request_id longer than 256 bytes → 1101; a DP id not in the table → 2002.
//   Unknown fields are ignored in every message: the document's own sync sample
//   carries "device_name", which its table does not list, so it is not strict.
//   A property report carries ONE DP (param.cid, param.id, param.value) and no
//   per-DP time: readings are stamped with the report's `t`, except the paired
//   first/last readings of day/month (see TuyaPairing in tuya_canonical.h).
//
// One TuyaParser per thread (it reuses a simdjson DOM parser; payloads need no
// padding, the parser copies them).
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "normalize/model.h"
#include "normalize/tuya/tuya_dp.h"

namespace mb {

// --- global error codes (the document's table, codes and messages verbatim) --

enum class TuyaCode : int {
    success = 0,
    uplink_error = 400,            // "tedge error: uplink specific error message"
    system_error = 500,            // "system error, please contact the admin"
    request_time_invalid = 1001,   // "request time is invalid"
    params_empty = 1100,           // "params is empty"
    params_range_invalid = 1101,   // "params range invalid"
    params_null = 1102,            // "params is null"
    params_type_incorrect = 1103,  // "params type is incorrect"
    device_offline = 2001,         // "device is offline"
    not_supported = 2002,          // "command or value not support"
    device_not_exist = 2003,       // "device not exist"
};

// The document's message for a code ("success" for 0); "" for a code not in the table.
std::string_view tuya_message(int code);

struct TuyaError {
    TuyaCode code = TuyaCode::params_type_incorrect;
    std::string detail;      // which field/rule failed (one line, for operators)
    std::string request_id;  // "" when not readable: then no response can be sent
    std::string cid;         // "" when not readable
    bool malformed = false;  // not JSON at all (still code 1103 towards the gateway)

    std::string_view msg() const { return tuya_message(static_cast<int>(code)); }
    bool answerable() const { return !request_id.empty(); }
    bool operator==(const TuyaError&) const = default;
};

// An error of `code` about `detail` (e.g. device_not_exist from the registry).
TuyaError tuya_error(TuyaCode code, std::string detail, std::string request_id = {},
                     std::string cid = {});

// For the rejected table: 1100→missing_field, 1101/1001→out_of_range,
// 1102/1103→wrong_type (malformed→malformed), 2002→invalid_value,
// 2003→unknown_device, others→upstream_error. detail = "<code> <msg>: <detail>".
Reject tuya_reject(const TuyaError& e);

// Either a value or an error.
template <class T>
struct TuyaResult {
    std::optional<T> value;
    std::optional<TuyaError> error;
    bool ok() const { return value.has_value(); }
};

// --- topics --------------------------------------------------------------

enum class TuyaUplink : std::uint8_t {
    devices_sync,
    properties_report,
    devices_status,
    commands_response
};
enum class TuyaDownlink : std::uint8_t {
    devices_sync_response,
    properties_report_response,
    commands
};

struct TuyaTopic {
    std::string gateway;
    TuyaUplink kind = TuyaUplink::devices_sync;
    bool operator==(const TuyaTopic&) const = default;
};

// "gateway_id/<gw>/<kind>" → gateway and kind. Rejected bad_topic: another
// prefix, an empty gateway level, a downlink or unknown kind, or a gateway not
// in `gateways` (compared exactly).
struct TuyaTopicResult {
    std::optional<TuyaTopic> topic;
    std::optional<Reject> reject;
};
TuyaTopicResult tuya_parse_topic(std::string_view topic, std::span<const std::string> gateways);

// Why `gateway` cannot be a topic level ("" when it can): empty, '/', '+', '#',
// NUL, or longer than 1024 bytes.
std::string tuya_gateway_problem(std::string_view gateway);

// "gateway_id/<gw>/devices/sync" … (the subscription topics), and
// "gateway_id/<gw>/devices/sync/response", "…/properties/report/response",
// "…/commands". "" when tuya_gateway_problem(gateway) is not empty.
std::string tuya_topic(std::string_view gateway, TuyaUplink kind);
std::string tuya_topic(std::string_view gateway, TuyaDownlink kind);
std::string_view tuya_kind_name(TuyaUplink kind);  // "devices/sync", …

// The latest time a message may carry: 9999-12-31T23:59:59.999Z.
inline constexpr TimeMs tuya_max_time_ms = 253402300799999;

// --- uplinks ---------------------------------------------------------------

struct TuyaDeviceSync {
    TimeMs t = 0;  // the message's t, as ms
    std::string request_id, cid, product_id;
    // The optional registry fields of the document (absent ≠ ""; "" is kept:
    // the sample sends "").
    std::optional<std::string> vendor_code, comm_type, device_ip, mac_address, device_name,
        device_desc, install_location, device_server_id, product_sub_type;
    bool operator==(const TuyaDeviceSync&) const = default;
};

struct TuyaPropertyReport {
    TimeMs t = 0;
    std::string request_id, cid;
    int dp = 0;
    TuyaDpValue value;
    bool operator==(const TuyaPropertyReport&) const = default;
};

struct TuyaDeviceStatus {
    std::string cid;
    bool online = false;
    bool operator==(const TuyaDeviceStatus&) const = default;
};

struct TuyaDevicesStatus {
    TimeMs t = 0;
    std::string request_id;  // required by the document; no response topic exists
    std::vector<TuyaDeviceStatus> devices;
};

struct TuyaCommandResponse {
    TimeMs t = 0;
    std::string request_id, cid;
    int code = 0;  // any integer: the gateway may use codes outside the table
    std::string msg;
    bool success() const { return code == 0; }
};

class TuyaParser {
  public:
    TuyaResult<TuyaDeviceSync> device_sync(std::string_view payload);
    // Checks the DP against the table (2002 / 1103 / 1101); not the registry
    // (2003 is the connector's: tuya_error(TuyaCode::device_not_exist, …)).
    TuyaResult<TuyaPropertyReport> property_report(std::string_view payload);
    TuyaResult<TuyaDevicesStatus> devices_status(std::string_view payload);
    TuyaResult<TuyaCommandResponse> command_response(std::string_view payload);

  private:
    simdjson::dom::parser parser_;
};

// --- downlinks ----------------------------------------------------------------

// The response to a sync or a property report, exactly the document's shape
// and key order, compact: {"t":<t_s>,"request_id":"…","param":{"cid":"…","msg":"…","code":<code>}}.
// t is Unix seconds (the document's samples have 10 digits). Strings are
// JSON-escaped.
std::string tuya_response(std::int64_t t_s, std::string_view request_id, std::string_view cid,
                          TuyaCode code);
// Code 0 / "success".
std::string tuya_success(std::int64_t t_s, std::string_view request_id, std::string_view cid);
// The response for a parse error (call only when e.answerable()).
std::string tuya_error_response(std::int64_t t_s, const TuyaError& e);

// An operator's command value, given as text, validated for a writable DP
// (by id "9" or code "valve_state"): unknown or read-only DP → 2002; text not
// of the DP's type (bool: "true"/"false"; value: decimal integer) → 1103;
// outside the range / enum set → 1101.
TuyaResult<TuyaDpValue> tuya_command_value(std::string_view dp, std::string_view text);

// The …/commands payload: {"t":<t_s>,"cid":"…","request_id":"…","param":{"id":"<dp>","value":<v>}}
// with value a JSON bool, string (enum) or integer by the DP's type.
std::string tuya_command(std::int64_t t_s, std::string_view cid, std::string_view request_id,
                         int dp, const TuyaDpValue& value);

// --- misc -----------------------------------------------------------------------

// The gateway's MQTT password: md5(clientId + username), lowercase hex (OpenSSL
// EVP: the library needs OpenSSL::Crypto).
std::string tuya_gateway_password(std::string_view client_id, std::string_view username);

// The document asks gateways to report status at least every minute.
inline constexpr TimeMs tuya_default_stale_ms = 3 * 60 * 1000;
// True when a device last seen at last_seen_ms is older than `period_ms` at now_ms.
bool tuya_is_stale(TimeMs last_seen_ms, TimeMs now_ms, TimeMs period_ms = tuya_default_stale_ms);

}  // namespace mb
