// TraceText: the bytes of one trace file (decompressed when it was .gz), held with the zeroed tail
// padding the JSON parser reads past the end.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace dualpipe::trace {

// Unmaps a memory mapping of `size` bytes (the deleter of a mapped TraceText).
struct Unmapper {
  std::size_t size = 0;
  void operator()(void* address) const;
};

// Owns `size()` bytes of JSON text followed by kPadding zero bytes.
class TraceText {
 public:
  static constexpr std::size_t kPadding = 64;

  TraceText() = default;
  // Copies `bytes` as they are (no decompression).
  static TraceText copy_of(std::string_view bytes);
  // `bytes` itself when it does not start with the gzip magic, else its decompressed content.
  // Throws TraceFormatError (naming `source` and the compressed byte offset) on corrupt gzip data.
  static TraceText decode(std::string_view bytes, const std::string& source);
  // Reads the regular file at `path`, plain or gzip-compressed (told by its first bytes, not its
  // name). A plain file is memory-mapped rather than copied. Throws TraceFormatError when the file
  // cannot be opened or read, is not a regular file (a directory, FIFO or device: refused without
  // reading, so nothing blocks), or its gzip data is corrupt.
  static TraceText load_file(const std::string& path);

  const char* data() const {
    return mapped_ ? static_cast<const char*>(mapped_.get()) : bytes_.get();
  }
  std::size_t size() const { return size_; }
  std::string_view view() const { return {data(), size_}; }

 private:
  static TraceText map_file(int fd, std::size_t size, const std::string& path);

  void reserve(std::size_t capacity);       // room for `capacity` content bytes; keeps the content
  void resize(std::size_t size);            // sets size() and zeroes the padding after it
  std::unique_ptr<char[]> bytes_;           // heap copy (decompressed or copied text)
  std::unique_ptr<void, Unmapper> mapped_;  // or a read-only mapping of the file
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace dualpipe::trace
