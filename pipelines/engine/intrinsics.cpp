#include "pipelines/engine/intrinsics.h"

#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "pipelines/jsonata/hash.h"

namespace helix::asl {
namespace {

class CallParser {
 public:
  explicit CallParser(std::string_view text) : text_(text) {}

  tl::expected<IntrinsicCall, std::string> call() {
    skip();
    size_t start = pos_;
    while (pos_ < text_.size() &&
           (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '.'))
      ++pos_;
    IntrinsicCall out;
    out.name = std::string(text_.substr(start, pos_ - start));
    skip();
    if (!eat('(')) return tl::unexpected("expected '(' after " + out.name);
    skip();
    if (eat(')')) return out;
    while (true) {
      auto arg = argument();
      if (!arg) return tl::unexpected(arg.error());
      out.args.push_back(std::move(*arg));
      skip();
      if (eat(')')) break;
      if (!eat(',')) return tl::unexpected(std::string("expected ',' or ')' in arguments"));
      skip();
    }
    return out;
  }

  bool at_end() {
    skip();
    return pos_ >= text_.size();
  }

 private:
  void skip() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool eat(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  tl::expected<IntrinsicArg, std::string> argument() {
    IntrinsicArg arg;
    if (pos_ >= text_.size()) return tl::unexpected(std::string("missing argument"));
    char c = text_[pos_];
    if (c == '\'') {
      ++pos_;
      std::string s;
      while (pos_ < text_.size() && text_[pos_] != '\'') {
        if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) {
          // Only \' \{ \} and \\ are escapes in intrinsic string literals.
          char e = text_[pos_ + 1];
          if (e != '\'' && e != '{' && e != '}' && e != '\\')
            return tl::unexpected(std::string("invalid escape in string literal"));
          ++pos_;
        }
        s += text_[pos_++];
      }
      if (!eat('\'')) return tl::unexpected(std::string("unterminated string literal"));
      arg.literal = s;
      return arg;
    }
    if (c == '$') {
      // A path runs to the next top-level ',' or ')' outside brackets.
      size_t start = pos_;
      int depth = 0;
      while (pos_ < text_.size()) {
        char d = text_[pos_];
        if (d == '[' || d == '(') ++depth;
        if (d == ']' || (d == ')' && depth > 0)) --depth;
        if (depth == 0 && (d == ',' || d == ')')) break;
        ++pos_;
      }
      std::string_view raw = text_.substr(start, pos_ - start);
      while (!raw.empty() && std::isspace(static_cast<unsigned char>(raw.back())))
        raw.remove_suffix(1);
      auto path = JsonPath::parse(raw);
      if (!path) return tl::unexpected(path.error());
      arg.kind = IntrinsicArg::Kind::kPath;
      arg.path = std::make_shared<JsonPath>(std::move(*path));
      return arg;
    }
    if (text_.substr(pos_, 7) == "States.") {
      auto nested = call();
      if (!nested) return tl::unexpected(nested.error());
      arg.kind = IntrinsicArg::Kind::kCall;
      arg.call = std::make_shared<IntrinsicCall>(std::move(*nested));
      return arg;
    }
    size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != ')') ++pos_;
    std::string_view raw = text_.substr(start, pos_ - start);
    while (!raw.empty() && std::isspace(static_cast<unsigned char>(raw.back())))
      raw.remove_suffix(1);
    Json value = Json::parse(raw, nullptr, false);
    if (value.is_discarded() || value.is_object() || value.is_array())
      return tl::unexpected("bad literal argument '" + std::string(raw) + "'");
    arg.literal = value;
    return arg;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

AslResult<Json> failure(const std::string& cause) {
  return asl_fail("States.IntrinsicFailure", cause);
}

// Java's toString of the decoded value: States.Format prints objects as
// {a=1, b=[]} (recorded AWS behaviour), strings without quotes.
void java_string(const Json& v, std::string& out) {
  if (v.is_string()) {
    out += v.get_ref<const std::string&>();
  } else if (v.is_object()) {
    out += '{';
    bool first = true;
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (!first) out += ", ";
      first = false;
      out += it.key();
      out += '=';
      java_string(it.value(), out);
    }
    out += '}';
  } else if (v.is_array()) {
    out += '[';
    bool first = true;
    for (const auto& e : v) {
      if (!first) out += ", ";
      first = false;
      java_string(e, out);
    }
    out += ']';
  } else {
    out += v.dump();
  }
}

const char* kBase64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64_encode(const std::string& in) {
  std::string out;
  size_t i = 0;
  while (i + 2 < in.size()) {
    uint32_t n = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8) |
                 static_cast<uint8_t>(in[i + 2]);
    out += kBase64[(n >> 18) & 63];
    out += kBase64[(n >> 12) & 63];
    out += kBase64[(n >> 6) & 63];
    out += kBase64[n & 63];
    i += 3;
  }
  if (i + 1 == in.size()) {
    uint32_t n = static_cast<uint8_t>(in[i]) << 16;
    out += kBase64[(n >> 18) & 63];
    out += kBase64[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t n = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8);
    out += kBase64[(n >> 18) & 63];
    out += kBase64[(n >> 12) & 63];
    out += kBase64[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(const std::string& in) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  size_t pad = 0;
  for (char c : in) {
    if (c == '=') {
      ++pad;
      continue;
    }
    if (pad) return std::nullopt;
    const char* p = std::strchr(kBase64, c);
    if (!p || c == '\0') return std::nullopt;
    buffer = (buffer << 6) | static_cast<uint32_t>(p - kBase64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  if (in.size() % 4 != 0) return std::nullopt;
  return out;
}

int64_t java_round(double x) {
  double r = std::floor(x + 0.5);
  // Java's Math.round saturates at the long range; a plain cast past it is undefined.
  if (r >= 9.2233720368547758e18) return INT64_MAX;
  if (r <= -9.2233720368547758e18) return INT64_MIN;
  return static_cast<int64_t>(r);
}

bool is_integer(const Json& v) {
  // The same 2^53 bound for integers parsed as such: a uint64 past int64
  // reached the int64 cast through get<double>() (intrinsic_fuzz, CI).
  constexpr int64_t kExact = int64_t{1} << 53;
  if (v.is_number_unsigned()) return v.get<uint64_t>() <= static_cast<uint64_t>(kExact);
  if (v.is_number_integer()) {
    const int64_t i = v.get<int64_t>();
    return i >= -kExact && i <= kExact;
  }
  if (v.is_number_float()) {
    double d = v.get<double>();
    // Beyond 2^53 a double is no exact integer, and casting one past int64
    // is undefined (found by tests/fuzz/intrinsic_fuzz: ArrayRange 1.8e91).
    return std::floor(d) == d && std::fabs(d) <= 9007199254740992.0;
  }
  return false;
}

}  // namespace

bool looks_like_intrinsic(std::string_view text) { return text.substr(0, 7) == "States."; }

tl::expected<IntrinsicCall, std::string> parse_intrinsic(std::string_view text) {
  CallParser parser(text);
  auto call = parser.call();
  if (!call) return call;
  if (!parser.at_end()) return tl::unexpected(std::string("unexpected text after the call"));
  static const char* kNames[] = {
      "States.Format",         "States.StringToJson",  "States.JsonToString", "States.Array",
      "States.ArrayPartition", "States.ArrayContains", "States.ArrayRange",   "States.ArrayGetItem",
      "States.ArrayLength",    "States.ArrayUnique",   "States.Base64Encode", "States.Base64Decode",
      "States.Hash",           "States.JsonMerge",     "States.MathRandom",   "States.MathAdd",
      "States.StringSplit",    "States.UUID"};
  bool known = false;
  for (const char* n : kNames) known = known || call->name == n;
  if (!known) return tl::unexpected("unknown intrinsic function " + call->name);
  return call;
}

AslResult<Json> evaluate_intrinsic(const IntrinsicCall& call, const Scope& scope) {
  std::vector<Json> args;
  args.reserve(call.args.size());
  for (const auto& arg : call.args) {
    switch (arg.kind) {
      case IntrinsicArg::Kind::kLiteral:
        args.push_back(arg.literal);
        break;
      case IntrinsicArg::Kind::kPath: {
        auto value = resolve_path(*arg.path, scope);
        if (!value)
          return asl_fail("States.Runtime", "The JsonPath argument for the field '" +
                                                arg.path->text() +
                                                "' could not be found in the input");
        args.push_back(std::move(*value));
        break;
      }
      case IntrinsicArg::Kind::kCall: {
        auto value = evaluate_intrinsic(*arg.call, scope);
        if (!value) return value;
        args.push_back(std::move(*value));
        break;
      }
    }
  }
  const std::string& n = call.name;
  auto need = [&](size_t count) { return args.size() == count; };
  auto bad_args = [&]() {
    return failure("Invalid arguments in " + n + " (" + std::to_string(args.size()) + " given)");
  };

  if (n == "States.Format") {
    if (args.empty() || !args[0].is_string()) return bad_args();
    const std::string& fmt = args[0].get_ref<const std::string&>();
    std::string out;
    size_t next = 1;
    for (size_t i = 0; i < fmt.size(); ++i) {
      if (fmt[i] == '{' && i + 1 < fmt.size() && fmt[i + 1] == '}') {
        if (next >= args.size())
          return failure("Number of arguments in States.Format does not match the template");
        java_string(args[next++], out);
        ++i;
      } else {
        out += fmt[i];
      }
    }
    if (next != args.size())
      return failure("Number of arguments in States.Format does not match the template");
    return Json(out);
  }
  if (n == "States.StringToJson") {
    if (!need(1) || !args[0].is_string()) return bad_args();
    const auto& s = args[0].get_ref<const std::string&>();
    bool blank = true;
    for (char c : s) blank = blank && std::isspace(static_cast<unsigned char>(c));
    if (blank) return Json(nullptr);
    Json v = Json::parse(s, nullptr, false);
    if (v.is_discarded()) return failure("States.StringToJson could not parse '" + s + "'");
    return v;
  }
  if (n == "States.JsonToString") {
    if (!need(1)) return bad_args();
    return Json(args[0].dump());
  }
  if (n == "States.Array") return Json(args);
  if (n == "States.ArrayPartition") {
    if (!need(2) || !args[0].is_array() || !is_integer(args[1]) || args[1].get<double>() <= 0)
      return bad_args();
    auto size = static_cast<size_t>(args[1].get<double>());
    Json out = Json::array();
    for (size_t i = 0; i < args[0].size(); i += size) {
      Json chunk = Json::array();
      for (size_t k = i; k < std::min(i + size, args[0].size()); ++k) chunk.push_back(args[0][k]);
      out.push_back(std::move(chunk));
    }
    return out;
  }
  if (n == "States.ArrayContains") {
    if (!need(2) || !args[0].is_array()) return bad_args();
    for (const auto& e : args[0])
      if (e == args[1]) return Json(true);
    return Json(false);
  }
  if (n == "States.ArrayRange") {
    if (!need(3) || !is_integer(args[0]) || !is_integer(args[1]) || !is_integer(args[2]))
      return bad_args();
    auto first = static_cast<int64_t>(args[0].get<double>());
    auto last = static_cast<int64_t>(args[1].get<double>());
    auto step = static_cast<int64_t>(args[2].get<double>());
    if (step == 0) return failure("States.ArrayRange step must not be 0");
    Json out = Json::array();
    for (int64_t v = first; step > 0 ? v <= last : v >= last; v += step) {
      out.push_back(v);
      if (out.size() > 1000) return failure("States.ArrayRange result exceeds 1000 elements");
    }
    return out;
  }
  if (n == "States.ArrayGetItem") {
    if (!need(2) || !args[0].is_array() || !is_integer(args[1])) return bad_args();
    auto i = static_cast<int64_t>(args[1].get<double>());
    if (i < 0 || static_cast<size_t>(i) >= args[0].size())
      return failure("States.ArrayGetItem index " + std::to_string(i) + " is out of bounds");
    return args[0][static_cast<size_t>(i)];
  }
  if (n == "States.ArrayLength") {
    if (!need(1) || !args[0].is_array()) return bad_args();
    return Json(args[0].size());
  }
  if (n == "States.ArrayUnique") {
    if (!need(1) || !args[0].is_array()) return bad_args();
    Json out = Json::array();
    for (const auto& e : args[0]) {
      bool seen = false;
      for (const auto& o : out) seen = seen || o == e;
      if (!seen) out.push_back(e);
    }
    return out;
  }
  if (n == "States.Base64Encode") {
    if (!need(1) || !args[0].is_string()) return bad_args();
    return Json(base64_encode(args[0].get<std::string>()));
  }
  if (n == "States.Base64Decode") {
    if (!need(1) || !args[0].is_string()) return bad_args();
    auto out = base64_decode(args[0].get<std::string>());
    if (!out) return failure("States.Base64Decode input is not valid base64");
    return Json(*out);
  }
  if (n == "States.Hash") {
    if (!need(2) || !args[1].is_string()) return bad_args();
    std::string data = args[0].is_string() ? args[0].get<std::string>() : args[0].dump();
    auto digest = jsonata::hex_digest(args[1].get<std::string>(), data);
    if (!digest) return failure("States.Hash does not support the algorithm " + args[1].dump());
    return Json(*digest);
  }
  if (n == "States.JsonMerge") {
    if (!need(3) || !args[0].is_object() || !args[1].is_object() || !args[2].is_boolean())
      return bad_args();
    if (args[2].get<bool>()) return failure("States.JsonMerge supports only a shallow merge");
    Json out = args[0];
    for (auto it = args[1].begin(); it != args[1].end(); ++it) out[it.key()] = it.value();
    return out;
  }
  if (n == "States.MathRandom") {
    if ((!need(2) && !need(3)) || !args[0].is_number() || !args[1].is_number()) return bad_args();
    // java_round saturates (a bare cast of 7.7e30 is undefined: intrinsic_fuzz
    // in CI); the span is taken in uint64 so INT64_MIN..INT64_MAX cannot overflow.
    const int64_t low = java_round(args[0].get<double>());
    const int64_t high = java_round(args[1].get<double>());
    if (high <= low) return failure("States.MathRandom needs start < end");
    if (!scope.rng) return failure("no random source");
    const uint64_t span = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
    return Json(static_cast<int64_t>(static_cast<uint64_t>(low) + scope.rng->next_u64() % span));
  }
  if (n == "States.MathAdd") {
    if (!need(2) || !args[0].is_number() || !args[1].is_number()) return bad_args();
    return Json(java_round(args[0].get<double>()) + java_round(args[1].get<double>()));
  }
  if (n == "States.StringSplit") {
    if (!need(2) || !args[0].is_string() || !args[1].is_string()) return bad_args();
    const auto& s = args[0].get_ref<const std::string&>();
    const auto& delims = args[1].get_ref<const std::string&>();
    Json out = Json::array();
    std::string token;
    for (char c : s) {
      if (delims.find(c) != std::string::npos) {
        if (!token.empty()) out.push_back(token);
        token.clear();
      } else {
        token += c;
      }
    }
    if (!token.empty()) out.push_back(token);
    return out;
  }
  if (n == "States.UUID") {
    if (!need(0)) return bad_args();
    if (!scope.rng) return failure("no random source");
    return Json(make_uuid(*scope.rng));
  }
  return failure("unknown intrinsic function " + n);
}

}  // namespace helix::asl
