// Notifications to the service manager (sd_notify, Type=notify): the one place
// their text is built. A value may quote what a peer wrote (STATUS= carries
// each connector's last error, e.g. an XMPP server's stream error text), and
// systemd reads every line of a notification as a field of its own: a newline
// in such text would let the peer send WATCHDOG=, READY= or a STATUS= of its
// choice. So every value has its control characters escaped (a newline becomes
// \u000a) and, as systemd ignores a STATUS= that is not UTF-8, a value that is
// not has its bytes above 0x7F escaped as \xNN (normalize/detail_text.h's
// printable()). Values are cut ("...") so that the whole message stays under
// the 4096 bytes systemd reads (a longer datagram is dropped whole).
//
// Who calls: App, on the main thread; the functions are pure or stateless and
// safe from any thread. No errors: sd_notify's result is ignored, as systemd
// not listening is no reason to stop.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>

namespace mb {

struct NotifyField {
    std::string_view name;  // READY, STATUS, WATCHDOG …: the program's own constants
    std::string_view value;
};

inline constexpr std::size_t kMaxNotification = 4000;

// "NAME=value\nNAME=value", every value made safe as above.
std::string notification(std::initializer_list<NotifyField> fields);

// Sends notification(fields) to $NOTIFY_SOCKET (nothing when it is not set).
void notify(std::initializer_list<NotifyField> fields);

}  // namespace mb
