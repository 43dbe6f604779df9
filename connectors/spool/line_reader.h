// LineReader: the lines of a byte stream (a spool file) read through a fixed
// buffer, so that memory stays bounded whatever the input: a line longer than
// `max_line` is consumed to its end without being kept whole, and only its
// first `keep` bytes and its length are returned. A read error ends the
// stream and is reported, so that a caller never takes a file cut short by an
// I/O error for a complete one.
//
// Who calls: SpoolConnector, on its own thread; one reader per file. Not
// thread-safe. The read function has read(2)'s contract: bytes read, 0 at the
// end, -1 with errno set (EINTR is retried).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace mb {

class LineReader {
  public:
    using ReadFn = std::function<ssize_t(char* buf, std::size_t n)>;

    LineReader(ReadFn read, std::size_t max_line, std::size_t keep,
               std::size_t buffer_size = 64 * 1024);

    struct Line {
        // The line without its "\n" (or "\r\n"); the first `keep` bytes when oversized.
        std::string text;
        std::size_t size = 0;    // the whole line's length, without its line ending
        bool oversized = false;  // size > max_line
    };

    // The next line (the last one may lack its "\n"); nullopt at the end of
    // the input or after a read error (then error() is set).
    std::optional<Line> next();

    // The errno of the read that failed, 0 when none did.
    int error() const { return error_; }

  private:
    // false at the end of the input or on an error.
    bool fill();

    ReadFn read_;
    std::size_t max_line_, keep_;
    std::vector<char> buf_;
    std::size_t pos_ = 0, len_ = 0;
    bool eof_ = false;
    int error_ = 0;
};

}  // namespace mb
