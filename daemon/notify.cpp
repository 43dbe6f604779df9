#include "daemon/notify.h"

#include <systemd/sd-daemon.h>

#include <algorithm>

#include "normalize/detail_text.h"

namespace mb {

std::string notification(std::initializer_list<NotifyField> fields) {
    std::size_t budget = kMaxNotification;
    for (const NotifyField& f : fields) budget -= std::min(budget, f.name.size() + 2);
    std::string out;
    for (const NotifyField& f : fields) {
        // printable() cuts its input and appends "..."; one escaped byte takes up
        // to 6 bytes, so text made of escapes is cut six times shorter.
        const std::size_t room = budget > 3 ? budget - 3 : 0;
        std::string value = printable(f.value, room);
        if (value.size() > budget) value = printable(f.value, room / 6);
        budget -= std::min(budget, value.size());
        if (!out.empty()) out += '\n';
        out += f.name;
        out += '=';
        out += value;
    }
    return out;
}

void notify(std::initializer_list<NotifyField> fields) {
    sd_notify(0, notification(fields).c_str());
}

}  // namespace mb
