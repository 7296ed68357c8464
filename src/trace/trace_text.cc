#include "dualpipe/trace/trace_text.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "dualpipe/trace/trace_error.h"

namespace dualpipe::trace {
namespace {

bool is_gzip(std::string_view bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b;
}

// "a directory", "a FIFO", ... for a file that is not a regular one.
const char* file_type_name(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "a special file";
}

// Closes a file descriptor when it goes out of scope.
struct FdCloser {
  int fd;
  ~FdCloser() { ::close(fd); }
};

}  // namespace

void Unmapper::operator()(void* address) const { ::munmap(address, size); }

TraceText TraceText::map_file(int fd, std::size_t size, const std::string& path) {
  // Reserve size + padding of zero pages, then map the file over the front: the bytes after the
  // end of the file read as zeros, which is the padding the parser needs.
  const std::size_t total = size + kPadding;
  void* base = ::mmap(nullptr, total, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) throw TraceFormatError(path, 0, "cannot map the file into memory");
  TraceText text;
  text.mapped_ = std::unique_ptr<void, Unmapper>(base, Unmapper{total});
  if (size > 0 &&
      ::mmap(base, size, PROT_READ, MAP_PRIVATE | MAP_FIXED | MAP_POPULATE, fd, 0) == MAP_FAILED) {
    throw TraceFormatError(path, 0, std::string("cannot map the file: ") + std::strerror(errno));
  }
  ::madvise(base, size, MADV_SEQUENTIAL);
  text.size_ = size;
  return text;
}

void TraceText::reserve(std::size_t capacity) {
  if (capacity <= capacity_ && bytes_) return;
  std::unique_ptr<char[]> grown(new char[capacity + kPadding]);
  if (size_ > 0) std::memcpy(grown.get(), bytes_.get(), size_);
  bytes_ = std::move(grown);
  capacity_ = capacity;
}

void TraceText::resize(std::size_t size) {
  reserve(size);
  size_ = size;
  std::memset(bytes_.get() + size_, 0, capacity_ - size_ + kPadding);
}

TraceText TraceText::copy_of(std::string_view bytes) {
  TraceText text;
  text.resize(bytes.size());
  if (!bytes.empty()) std::memcpy(text.bytes_.get(), bytes.data(), bytes.size());
  return text;
}

TraceText TraceText::decode(std::string_view bytes, const std::string& source) {
  if (!is_gzip(bytes)) return copy_of(bytes);
  z_stream stream{};
  // 15 window bits + 32: accept gzip (and zlib) headers; concatenated members are read in turn.
  if (inflateInit2(&stream, 15 + 32) != Z_OK) {
    throw TraceFormatError(source, 0, "cannot initialise gzip decompression");
  }
  TraceText text;
  text.reserve(std::max<std::size_t>(bytes.size() * 4, 1 << 16));
  std::size_t consumed = 0;
  std::size_t produced = 0;
  int status = Z_OK;
  while (consumed < bytes.size()) {
    text.size_ = produced;  // what reserve() keeps when it grows the buffer
    if (produced == text.capacity_) text.reserve(text.capacity_ * 2);
    const std::size_t in_chunk =
        std::min<std::size_t>(bytes.size() - consumed, std::numeric_limits<uInt>::max());
    const std::size_t out_chunk =
        std::min<std::size_t>(text.capacity_ - produced, std::numeric_limits<uInt>::max());
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data() + consumed));
    stream.avail_in = static_cast<uInt>(in_chunk);
    stream.next_out = reinterpret_cast<Bytef*>(text.bytes_.get() + produced);
    stream.avail_out = static_cast<uInt>(out_chunk);
    status = inflate(&stream, Z_NO_FLUSH);
    consumed += in_chunk - stream.avail_in;
    produced += out_chunk - stream.avail_out;
    if (status == Z_STREAM_END) {
      // Another gzip member may follow (files written by concatenation).
      if (consumed < bytes.size() && is_gzip(bytes.substr(consumed))) {
        inflateReset(&stream);
        status = Z_OK;
        continue;
      }
      break;
    }
    if (status != Z_OK && status != Z_BUF_ERROR) break;
    if (status == Z_BUF_ERROR && stream.avail_in == 0 && consumed == bytes.size()) break;
  }
  const std::string message = stream.msg ? stream.msg : "";
  inflateEnd(&stream);
  if (status != Z_STREAM_END) {
    const std::string problem = status == Z_OK || status == Z_BUF_ERROR
                                    ? "truncated gzip data (compressed input ends early)"
                                    : "corrupt gzip data" + (message.empty() ? "" : ": " + message);
    throw TraceFormatError(source, consumed, problem + " (offset in the compressed file)");
  }
  text.resize(produced);
  return text;
}

TraceText TraceText::load_file(const std::string& path) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below).
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw TraceFormatError(path, 0, std::string("cannot open: ") + std::strerror(errno));
  const FdCloser closer{fd};
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    throw TraceFormatError(path, 0, std::string("cannot read: ") + std::strerror(errno));
  }
  if (!S_ISREG(info.st_mode)) {
    throw TraceFormatError(path, 0,
                           std::string("is ") + file_type_name(info.st_mode) +
                               ", not a trace file (give one JSON or .json.gz file per rank)");
  }
  const auto size = static_cast<std::size_t>(info.st_size);
  char magic[2] = {0, 0};
  if (!(::pread(fd, magic, 2, 0) == 2 && is_gzip(std::string_view(magic, 2)))) {
    return map_file(fd, size, path);
  }
  TraceText raw;
  raw.resize(size);
  std::size_t done = 0;
  while (done < size) {
    const ssize_t got = ::pread(fd, raw.bytes_.get() + done, size - done, static_cast<off_t>(done));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0)
      throw TraceFormatError(path, done, std::string("read error: ") + std::strerror(errno));
    if (got == 0) break;  // the file shrank while being read
    done += static_cast<std::size_t>(got);
  }
  raw.resize(done);
  return decode(raw.view(), path);
}

}  // namespace dualpipe::trace
