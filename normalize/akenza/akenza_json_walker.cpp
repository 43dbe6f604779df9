#include "normalize/akenza/akenza_json_walker.h"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <string>
#include <string_view>
#include <utility>

#include "normalize/number.h"
#include "normalize/topic.h"

namespace mb::akenza {

namespace {

using simdjson::ondemand::json_type;

// Far beyond any device payload; keeps the recursive walk's stack bounded.
constexpr std::size_t kMaxDepth = 128;

// Walks a whole JSON document with simdjson on-demand: validates every value
// (on-demand alone would skip over unread ones) and captures the values the
// plan's pointers name, in one pass however many pointers there are.
class JsonWalker {
  public:
    JsonWalker(const Plan& plan, std::vector<Slot>& slots,
               std::vector<std::vector<std::size_t>>& scratch)
        : plan_(plan), slots_(slots), scratch_(scratch) {}

    bool document(simdjson::ondemand::document& doc, const char* base, std::size_t size) {
        if (scratch_.size() < kMaxDepth + 2) scratch_.resize(kMaxDepth + 2);
        candidates(0).clear();
        for (std::size_t p = 0; p < plan_.tokens.size(); ++p) candidates(0).push_back(p);
        json_type t;
        if (doc.type().get(t)) return fail(RejectCode::malformed, "not valid JSON");
        if (t == json_type::object || t == json_type::array) {
            bool ok = false;
            if (t == json_type::object) {
                simdjson::ondemand::object obj;
                if (doc.get_object().get(obj)) return fail(RejectCode::malformed, "not valid JSON");
                ok = object(obj, 0);
            } else {
                simdjson::ondemand::array arr;
                if (doc.get_array().get(arr)) return fail(RejectCode::malformed, "not valid JSON");
                ok = array(arr, 0);
            }
            if (!ok) return false;
            // current_location() fails only once the whole input was consumed.
            const char* rest = nullptr;
            if (!doc.current_location().get(rest))
                return fail(RejectCode::malformed, "trailing bytes after the JSON document");
            return true;
        }
        std::string_view raw;
        if (doc.raw_json_token().get(raw)) return fail(RejectCode::malformed, "not valid JSON");
        // A scalar document is one token: nothing but blanks may follow it.
        const auto token_end = static_cast<std::size_t>(raw.data() - base) + raw.size();
        const std::string_view rest =
            token_end < size ? std::string_view(base + token_end, size - token_end) : "";
        if (!trim_blanks(rest).empty())
            return fail(RejectCode::malformed, "trailing bytes after the JSON document");
        if (t == json_type::string) {
            std::string_view s;
            if (doc.get_string().get(s)) return fail(RejectCode::malformed, "not valid JSON");
            return string(s, 0);
        }
        return scalar(t, trim_blanks(raw), 0);
    }

    RejectCode code = RejectCode::malformed;
    std::string detail;

  private:
    bool fail(RejectCode c, std::string d) {
        code = c;
        detail = std::move(d);
        return false;
    }

    // Sized once for the deepest walk: no resize (and no dangling reference) later.
    std::vector<std::size_t>& candidates(std::size_t depth) { return scratch_[depth]; }

    // The slots whose pointer ends at this node (candidates at `depth` match
    // every token before it).
    template <typename Fill>
    bool capture(std::size_t depth, Fill&& fill) {
        for (std::size_t p : candidates(depth)) {
            if (plan_.tokens[p].size() != depth) continue;
            Slot& slot = slots_[p];
            if (slot.type != Slot::Type::absent)
                return fail(RejectCode::invalid_value,
                            fmt::format("{} appears more than once in the payload (duplicate key)",
                                        show_pointer(plan_.pointers[p])));
            fill(slot);
        }
        return true;
    }

    void narrow(std::size_t depth, std::string_view token) {
        auto& next = candidates(depth + 1);
        next.clear();
        for (std::size_t p : candidates(depth)) {
            const auto& tokens = plan_.tokens[p];
            if (tokens.size() > depth && tokens[depth] == token) next.push_back(p);
        }
    }

    bool value(simdjson::ondemand::value v, std::size_t depth) {
        json_type t;
        if (v.type().get(t)) return fail(RejectCode::malformed, "not valid JSON");
        switch (t) {
            case json_type::object: {
                simdjson::ondemand::object obj;
                if (v.get_object().get(obj)) return fail(RejectCode::malformed, "not valid JSON");
                return object(obj, depth);
            }
            case json_type::array: {
                simdjson::ondemand::array arr;
                if (v.get_array().get(arr)) return fail(RejectCode::malformed, "not valid JSON");
                return array(arr, depth);
            }
            case json_type::string: {
                std::string_view s;
                if (v.get_string().get(s)) return fail(RejectCode::malformed, "not valid JSON");
                return string(s, depth);
            }
            default:
                return scalar(t, trim_blanks(v.raw_json_token()), depth);
        }
    }

    bool object(simdjson::ondemand::object obj, std::size_t depth) {
        if (depth >= kMaxDepth)
            return fail(RejectCode::out_of_range,
                        fmt::format("JSON nested deeper than {} levels", kMaxDepth));
        if (!capture(depth, [](Slot& s) { s.type = Slot::Type::object; })) return false;
        for (auto maybe_field : obj) {
            simdjson::ondemand::field field;
            std::string_view key;
            if (std::move(maybe_field).get(field) || field.unescaped_key().get(key))
                return fail(RejectCode::malformed, "not valid JSON");
            narrow(depth, key);
            if (!value(field.value(), depth + 1)) return false;
        }
        return true;
    }

    bool array(simdjson::ondemand::array arr, std::size_t depth) {
        if (depth >= kMaxDepth)
            return fail(RejectCode::out_of_range,
                        fmt::format("JSON nested deeper than {} levels", kMaxDepth));
        if (!capture(depth, [](Slot& s) { s.type = Slot::Type::array; })) return false;
        std::size_t index = 0;
        std::array<char, 24> buf{};
        for (auto maybe_element : arr) {
            simdjson::ondemand::value element;
            if (std::move(maybe_element).get(element))
                return fail(RejectCode::malformed, "not valid JSON");
            const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), index);
            (void)ec;  // 24 chars hold any size_t
            narrow(depth, std::string_view(buf.data(), static_cast<std::size_t>(end - buf.data())));
            if (!value(element, depth + 1)) return false;
            ++index;
        }
        return true;
    }

    bool string(std::string_view s, std::size_t depth) {
        return capture(depth, [&](Slot& slot) {
            slot.type = Slot::Type::string;
            slot.text.assign(s);
        });
    }

    // Numbers, booleans and null, validated from their raw token (on-demand
    // checks nothing it is not asked to convert).
    bool scalar(json_type t, std::string_view raw, std::size_t depth) {
        switch (t) {
            case json_type::number:
                if (!is_json_number(raw))
                    return fail(RejectCode::malformed, "not valid JSON: bad number");
                return capture(depth, [&](Slot& s) { set_number(s, raw); });
            case json_type::boolean:
                if (raw != "true" && raw != "false")
                    return fail(RejectCode::malformed, "not valid JSON");
                return capture(depth, [&](Slot& s) {
                    s.type = Slot::Type::boolean;
                    s.boolean = raw == "true";
                });
            case json_type::null:
                if (raw != "null") return fail(RejectCode::malformed, "not valid JSON");
                return capture(depth, [](Slot& s) { s.type = Slot::Type::null; });
            default:
                return fail(RejectCode::malformed, "not valid JSON");
        }
    }

    const Plan& plan_;
    std::vector<Slot>& slots_;
    std::vector<std::vector<std::size_t>>& scratch_;
};

}  // namespace

std::optional<Reject> walk_json(simdjson::ondemand::document& doc, const char* base,
                                std::size_t size, const Plan& plan, std::vector<Slot>& slots,
                                std::vector<std::vector<std::size_t>>& scratch) {
    JsonWalker walker(plan, slots, scratch);
    if (walker.document(doc, base, size)) return std::nullopt;
    return Reject{walker.code, std::move(walker.detail)};
}

}  // namespace mb::akenza
