#include "scheduler/simulator/swf.h"

#include <zlib.h>

#include <charconv>
#include <cmath>

namespace helix::scheduler {

Result<std::string> maybe_gunzip(std::string_view bytes) {
  if (bytes.size() < 2 || static_cast<unsigned char>(bytes[0]) != 0x1f ||
      static_cast<unsigned char>(bytes[1]) != 0x8b) {
    return std::string(bytes);
  }
  z_stream stream{};
  if (inflateInit2(&stream, 15 + 32) != Z_OK) return fail(Error::internal("inflateInit2 failed"));
  std::string out;
  out.resize(bytes.size() * 4 + 1024);
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  stream.avail_in = static_cast<uInt>(bytes.size());
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    if (stream.total_out == out.size()) out.resize(out.size() * 2);
    stream.next_out = reinterpret_cast<Bytef*>(out.data() + stream.total_out);
    stream.avail_out = static_cast<uInt>(out.size() - stream.total_out);
    rc = inflate(&stream, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) break;
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      inflateEnd(&stream);
      return fail(Error::invalid("gzip", std::string("corrupt gzip data: ") +
                                             (stream.msg ? stream.msg : "inflate failed")));
    }
    if (rc == Z_BUF_ERROR && stream.avail_in == 0) {
      inflateEnd(&stream);
      return fail(Error::invalid("gzip", "truncated gzip data"));
    }
  }
  out.resize(stream.total_out);
  inflateEnd(&stream);
  return out;
}

namespace {

const char* field_name(int field) {
  switch (field) {
    case 1:
      return "job number";
    case 2:
      return "submit time";
    case 4:
      return "run time";
    case 5:
      return "allocated processors";
    case 8:
      return "requested processors";
    case 9:
      return "requested time";
    default:
      return "field";
  }
}

bool parse_number(std::string_view text, double& value) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  return ec == std::errc() && ptr == end && std::isfinite(value);
}

std::optional<int64_t> header_value(std::string_view line, std::string_view key) {
  // "; MaxNodes: 240"
  auto pos = line.find(key);
  if (pos == std::string_view::npos) return std::nullopt;
  auto rest = line.substr(pos + key.size());
  while (!rest.empty() && (rest.front() == ':' || rest.front() == ' ' || rest.front() == '\t'))
    rest.remove_prefix(1);
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
  if (ec != std::errc() || ptr == rest.data()) return std::nullopt;
  return value;
}

}  // namespace

Result<SwfTrace> parse_swf(std::string_view raw) {
  auto text = maybe_gunzip(raw);
  if (!text) return fail(text.error());
  std::string_view bytes = *text;
  SwfTrace trace;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < bytes.size()) {
    size_t eol = bytes.find('\n', pos);
    if (eol == std::string_view::npos) eol = bytes.size();
    std::string_view line = bytes.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos) continue;
    line.remove_prefix(first);
    if (line.front() == ';') {
      if (auto v = header_value(line, "MaxNodes")) trace.max_nodes = *v;
      if (auto v = header_value(line, "MaxProcs")) trace.max_procs = *v;
      continue;
    }
    int64_t fields[19] = {};
    int count = 0;
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      if (i >= line.size()) break;
      size_t j = i;
      while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
      std::string_view token = line.substr(i, j - i);
      ++count;
      if (count > 18) break;
      double value = 0;
      if (!parse_number(token, value)) {
        const std::string where = "line " + std::to_string(line_no);
        return fail(Error::invalid(where + ".field" + std::to_string(count),
                                   where + ": field " + std::to_string(count) + " (" +
                                       field_name(count) + "): '" + std::string(token) +
                                       "' is not a number"));
      }
      fields[count] = static_cast<int64_t>(value);
      i = j;
    }
    if (count != 18) {
      const std::string where = "line " + std::to_string(line_no);
      return fail(
          Error::invalid(where, where + ": expected 18 fields, found " +
                                    (count > 18 ? std::string("more") : std::to_string(count))));
    }
    trace.records.push_back({fields[1], fields[2], fields[4], fields[5], fields[8], fields[9]});
  }
  return trace;
}

}  // namespace helix::scheduler
