#include "dualpipe/trace/trace_text.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <string>

#include "dualpipe/trace/trace_error.h"
#include "trace_test_data.h"

namespace dualpipe::trace {
namespace {

// `text` compressed as one gzip member.
std::string gzip(const std::string& text) {
  z_stream stream{};
  deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&stream, text.size()) + 32, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  stream.avail_in = static_cast<uInt>(text.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

TEST(TraceText, CopyKeepsTheBytesAndZeroPadding) {
  const TraceText text = TraceText::copy_of("{\"a\": 1}");
  EXPECT_EQ(text.view(), "{\"a\": 1}");
  for (std::size_t i = 0; i < TraceText::kPadding; ++i) EXPECT_EQ(text.data()[text.size() + i], 0);
}

TEST(TraceText, DecodeInflatesGzipAndPassesPlainTextThrough) {
  const std::string json(100000, ' ');
  EXPECT_EQ(TraceText::decode(gzip(json), "x.gz").view(), json);
  EXPECT_EQ(TraceText::decode("[1, 2]", "x.json").view(), "[1, 2]");
}

TEST(TraceText, DecodeReadsConcatenatedGzipMembers) {
  EXPECT_EQ(TraceText::decode(gzip("[1,") + gzip(" 2]"), "x.gz").view(), "[1, 2]");
}

TEST(TraceText, CorruptGzipIsAnErrorWithTheCompressedOffset) {
  std::string bytes = gzip(std::string(5000, 'x'));
  bytes[bytes.size() / 2] ^= 0x55;
  bytes[bytes.size() / 2 + 1] ^= 0x55;
  EXPECT_THROW(TraceText::decode(bytes, "x.gz"), TraceFormatError);
}

TEST(TraceText, TruncatedGzipIsAnError) {
  const std::string bytes = gzip(std::string(5000, 'x'));
  try {
    TraceText::decode(bytes.substr(0, bytes.size() / 2), "x.gz");
    FAIL() << "no error";
  } catch (const TraceFormatError& error) {
    EXPECT_NE(std::string(error.what()).find("truncated gzip"), std::string::npos) << error.what();
  }
}

TEST(TraceText, LoadFileTellsGzipByContentNotName) {
  const TraceText plain = TraceText::load_file(testing::data_path("two_streams.json"));
  const TraceText unpacked = TraceText::load_file(testing::data_path("two_streams.json.gz"));
  EXPECT_EQ(plain.view(), unpacked.view());
}

TEST(TraceText, MissingFileIsAnError) {
  EXPECT_THROW(TraceText::load_file(testing::data_path("no_such_trace.json")), TraceFormatError);
}

TEST(TraceText, RefusesADirectoryWithOneLine) {
  const std::string dir = std::filesystem::temp_directory_path().string();
  try {
    TraceText::load_file(dir);
    FAIL() << "a directory was read";
  } catch (const TraceFormatError& error) {
    EXPECT_NE(std::string(error.what()).find("is a directory, not a trace file"), std::string::npos)
        << error.what();
  }
}

TEST(TraceText, RefusesAFifoWithoutWaitingForAWriter) {
  const std::string fifo = std::filesystem::temp_directory_path().string() + "/trace_text_fifo_" +
                           std::to_string(::getpid());
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  try {
    TraceText::load_file(fifo);
    ADD_FAILURE() << "a FIFO was read";
  } catch (const TraceFormatError& error) {
    EXPECT_NE(std::string(error.what()).find("is a FIFO"), std::string::npos) << error.what();
  }
  std::filesystem::remove(fifo);
}

TEST(TraceText, RefusesACharacterDevice) {
  EXPECT_THROW(TraceText::load_file("/dev/zero"), TraceFormatError);
}

}  // namespace
}  // namespace dualpipe::trace
