// ChunkedText: builds a file's text in one reused buffer and hands it to a sink piece by piece, so
// that writing a large plan touches a few pages of memory instead of the whole file's size.
// Internal header.
#pragma once

#include <array>
#include <charconv>
#include <cstring>
#include <memory>
#include <string_view>

#include "dualpipe/eplb/plan_formats.h"

namespace dualpipe::eplb::detail {

// The decimal text of 0..999 (slot and expert ids), written as one 4-byte copy.
struct SmallNumberText {
  char digits[3];
  unsigned char length;
};

constexpr std::array<SmallNumberText, 1000> small_number_texts() {
  std::array<SmallNumberText, 1000> texts{};
  for (int value = 0; value < 1000; ++value) {
    SmallNumberText& text = texts[value];
    text.length = value < 10 ? 1 : value < 100 ? 2 : 3;
    for (int position = text.length - 1, rest = value; position >= 0; --position, rest /= 10) {
      text.digits[position] = static_cast<char>('0' + rest % 10);
    }
  }
  return texts;
}

inline constexpr std::array<SmallNumberText, 1000> kSmallNumberTexts = small_number_texts();

class ChunkedText {
 public:
  // The buffer's size: pieces handed to the sink are at most this long.
  static constexpr std::size_t kChunkBytes = 16 * 1024;

  explicit ChunkedText(const TextSink& sink)
      : sink_(sink),
        buffer_(new char[kChunkBytes]),
        end_(buffer_.get()),
        limit_(buffer_.get() + kChunkBytes) {}
  ChunkedText(const ChunkedText&) = delete;
  ChunkedText& operator=(const ChunkedText&) = delete;

  ChunkedText& operator<<(std::string_view text) {
    if (text.size() > static_cast<std::size_t>(limit_ - end_)) {
      flush();
      if (text.size() > kChunkBytes) {
        sink_(text);
        return *this;
      }
    }
    std::memcpy(end_, text.data(), text.size());
    end_ += text.size();
    return *this;
  }
  ChunkedText& operator<<(const char* text) { return *this << std::string_view(text); }
  ChunkedText& operator<<(char c) {
    if (end_ == limit_) flush();
    *end_++ = c;
    return *this;
  }
  // Integers in decimal; floating-point numbers as the shortest text that reads back exactly.
  ChunkedText& operator<<(int value) {
    if (limit_ - end_ < kLongestNumber) flush();
    end_ = put(end_, value);
    return *this;
  }
  ChunkedText& operator<<(double value) { return append_number(value); }

  // "[a, b, c]".
  ChunkedText& list(const int* values, int count) {
    *this << '[';
    for (int i = 0; i < count; ++i) {
      if (limit_ - end_ < kLongestNumber) flush();
      if (i) {
        end_[0] = ',';
        end_[1] = ' ';
        end_ += 2;
      }
      end_ = put(end_, values[i]);
    }
    return *this << ']';
  }

  // Hands what is buffered to the sink (done whenever the buffer is full; call it at the end).
  void flush() {
    if (end_ != buffer_.get())
      sink_(std::string_view(buffer_.get(), static_cast<std::size_t>(end_ - buffer_.get())));
    end_ = buffer_.get();
  }

 private:
  static constexpr std::ptrdiff_t kLongestNumber = 32;

  // Writes `value` at `at` (kLongestNumber bytes of room) and returns the end of its text.
  static char* put(char* at, int value) {
    if (static_cast<unsigned>(value) < kSmallNumberTexts.size()) {
      std::memcpy(at, &kSmallNumberTexts[value], sizeof(SmallNumberText));
      return at + kSmallNumberTexts[value].length;
    }
    if (value == -1) {  // log2phy's padding
      std::memcpy(at, "-1", 2);
      return at + 2;
    }
    return std::to_chars(at, at + kLongestNumber, value).ptr;
  }

  template <typename Number>
  ChunkedText& append_number(Number value) {
    if (limit_ - end_ < kLongestNumber) flush();
    end_ = std::to_chars(end_, end_ + kLongestNumber, value).ptr;
    return *this;
  }

  const TextSink& sink_;
  std::unique_ptr<char[]> buffer_;
  char* end_;
  char* limit_;
};

}  // namespace dualpipe::eplb::detail
