#include "connectors/spool/line_reader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace mb {

LineReader::LineReader(ReadFn read, std::size_t max_line, std::size_t keep, std::size_t buffer_size)
    : read_(std::move(read)),
      max_line_(max_line),
      keep_(keep),
      buf_(std::max<std::size_t>(buffer_size, 1)) {}

bool LineReader::fill() {
    if (eof_ || error_ != 0) return false;
    for (;;) {
        const ssize_t n = read_(buf_.data(), buf_.size());
        if (n > 0) {
            pos_ = 0;
            len_ = static_cast<std::size_t>(n);
            return true;
        }
        if (n == 0) {
            eof_ = true;
            return false;
        }
        if (errno == EINTR) continue;
        error_ = errno != 0 ? errno : EIO;
        return false;
    }
}

std::optional<LineReader::Line> LineReader::next() {
    Line line;
    bool any = false;
    bool ended = false;
    char last = 0;
    // Kept whole up to max_line + 1 bytes: the extra one may be the "\r" of "\r\n".
    const std::size_t whole = max_line_ + 1;
    while (!ended) {
        if (pos_ == len_ && !fill()) break;
        const char* begin = buf_.data() + pos_;
        const std::size_t avail = len_ - pos_;
        const void* nl = std::memchr(begin, '\n', avail);
        const std::size_t n =
            nl != nullptr ? static_cast<std::size_t>(static_cast<const char*>(nl) - begin) : avail;
        any = true;
        if (n > 0) {
            last = begin[n - 1];
            line.size += n;
            if (!line.oversized && line.text.size() + n > whole) {
                line.oversized = true;
                if (line.text.size() > keep_) line.text.resize(keep_);
            }
            const std::size_t room =
                line.oversized ? (keep_ > line.text.size() ? keep_ - line.text.size() : 0) : n;
            line.text.append(begin, std::min(n, room));
        }
        pos_ += n;
        if (nl != nullptr) {
            ++pos_;
            ended = true;
        }
    }
    if (error_ != 0 || !any) return std::nullopt;
    if (last == '\r') {
        // The text still ends with the "\r" when it holds every byte of the line.
        if (line.text.size() == line.size) line.text.pop_back();
        --line.size;
    }
    line.oversized = line.size > max_line_;
    if (line.oversized && line.text.size() > keep_) line.text.resize(keep_);
    return line;
}

}  // namespace mb
