// The JSONata function library (docs.jsonata.org, "Function Library") and
// the functions Step Functions adds ($partition, $range, $hash, $random
// with a seed, $uuid, $parse). Each function is registered with its JSONata
// signature; validate_arguments() applies it before the call, so the
// implementations see arguments of the declared types (or undefined).

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>

#include "common/rng.h"
#include "pipelines/jsonata/evaluator.h"
#include "pipelines/jsonata/hash.h"

namespace helix::jsonata {
namespace {

using nlohmann::json;
using Args = std::vector<Value>;

// ---------------------------------------------------------------------------
// Signatures

char symbol_of(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      return 'm';
    case Value::Kind::kNull:
      return 'l';
    case Value::Kind::kBool:
      return 'b';
    case Value::Kind::kNumber:
      return 'n';
    case Value::Kind::kString:
      return 's';
    case Value::Kind::kArray:
      return 'a';
    case Value::Kind::kObject:
      return 'o';
    case Value::Kind::kFunction:
    case Value::Kind::kRegex:
      return 'f';
  }
  return 'm';
}

// Regex-like matching of the argument symbols against the parameters, greedy
// with backtracking as the reference implementation's generated regex.
// counts[p] receives how many arguments parameter p took. With `anchored`
// false it returns the length of the first match of a prefix.
int match_params(const std::vector<SignatureParam>& params, size_t p, size_t end_param,
                 const std::string& syms, size_t a, bool anchored, std::vector<size_t>& counts) {
  if (p == end_param) return (!anchored || a == syms.size()) ? static_cast<int>(a) : -1;
  const auto& param = params[p];
  size_t max = param.one_or_more ? syms.size() - a : std::min<size_t>(1, syms.size() - a);
  size_t min = (param.optional || param.context) ? 0 : 1;
  size_t ok = 0;
  while (ok < max && param.types.find(syms[a + ok]) != std::string::npos) ++ok;
  for (size_t n = ok + 1; n-- > min;) {
    if (n < min) break;
    counts[p] = n;
    int r = match_params(params, p + 1, end_param, syms, a + n, anchored, counts);
    if (r >= 0) return r;
    if (n == 0) break;
  }
  return -1;
}

std::string quote_json(const std::string& s) { return stringify(Value::string(s), false); }

[[noreturn]] void signature_error(const std::string& name, size_t index) {
  raise("T0410", "Argument " + std::to_string(index) + " of function " + quote_json(name) +
                     " does not match function signature");
}

}  // namespace

std::vector<SignatureParam> parse_signature(const std::string& sig) {
  std::vector<SignatureParam> params;
  for (size_t i = 1; i < sig.size(); ++i) {
    char c = sig[i];
    if (c == ':' || c == '>') break;
    switch (c) {
      case 's':
      case 'n':
      case 'b':
      case 'l':
      case 'o':
        params.push_back(SignatureParam{std::string(1, c) + "m"});
        break;
      case 'a': {
        SignatureParam p{"asnblfom"};
        p.is_array = true;
        params.push_back(p);
        break;
      }
      case 'f':
        params.push_back(SignatureParam{"f"});
        break;
      case 'j':
        params.push_back(SignatureParam{"asnblom"});
        break;
      case 'x':
        params.push_back(SignatureParam{"asnblfom"});
        break;
      case '-':
        params.back().context = true;
        break;
      case '?':
        params.back().optional = true;
        break;
      case '+':
        params.back().one_or_more = true;
        break;
      case '(': {
        size_t end = sig.find(')', i);
        params.push_back(SignatureParam{sig.substr(i + 1, end - i - 1) + "m"});
        i = end;
        break;
      }
      case '<': {
        int depth = 1;
        size_t start = i + 1;
        while (depth > 0 && ++i < sig.size()) {
          if (sig[i] == '<') ++depth;
          if (sig[i] == '>') --depth;
        }
        if (params.back().is_array) params.back().subtype = sig[start];
        break;
      }
      default:
        break;
    }
  }
  return params;
}

void validate_arguments(const Builtin& b, std::vector<Value>& args, const Value& input) {
  validate_arguments(b.name, b.params, args, input);
}

void validate_arguments(const std::string& name, const std::vector<SignatureParam>& params,
                        std::vector<Value>& args, const Value& input) {
  std::string syms;
  for (const auto& a : args) syms += symbol_of(a);
  std::vector<size_t> counts(params.size(), 0);
  if (match_params(params, 0, params.size(), syms, 0, true, counts) < 0) {
    size_t good_to = 0;
    for (size_t p = 0; p < params.size(); ++p) {
      std::vector<size_t> partial(params.size(), 0);
      int r = match_params(params, 0, p + 1, syms, 0, false, partial);
      if (r < 0) signature_error(name, good_to + 1);
      good_to = static_cast<size_t>(r);
    }
    signature_error(name, good_to + 1);
  }
  std::vector<Value> out;
  size_t ai = 0;
  for (size_t p = 0; p < params.size(); ++p) {
    const auto& param = params[p];
    if (counts[p] == 0) {
      if (param.context) {
        char c = symbol_of(input);
        if (param.types.find(c) == std::string::npos)
          raise("T0411", "Context value is not a compatible type with argument " +
                             std::to_string(ai + 1) + " of function " + quote_json(name));
        Value ctx = input;
        if (param.is_array && !ctx.is_array() && !ctx.is_undefined()) ctx = Value::array({ctx});
        out.push_back(ctx);
      } else {
        out.push_back(ai < args.size() ? args[ai] : Value());
        ++ai;
      }
      continue;
    }
    for (size_t k = 0; k < counts[p]; ++k, ++ai) {
      Value arg = args[ai];
      if (param.is_array && !arg.is_undefined()) {
        if (param.subtype) {
          bool ok = true;
          if (!arg.is_array()) {
            ok = symbol_of(arg) == param.subtype;
          } else if (arg.size() > 0) {
            char first = symbol_of(arg.at(0));
            ok = first == param.subtype;
            for (size_t i = 1; ok && i < arg.size(); ++i) ok = symbol_of(arg.at(i)) == first;
          }
          if (!ok) {
            static const std::map<char, std::string> kPlural = {
                {'a', "arrays"},  {'b', "booleans"}, {'f', "functions"},
                {'n', "numbers"}, {'o', "objects"},  {'s', "strings"}};
            auto it = kPlural.find(param.subtype);
            raise("T0412", "Argument " + std::to_string(ai + 1) + " of function " +
                               quote_json(name) + " must be an array of " +
                               (it == kPlural.end() ? std::string("values") : it->second));
          }
        }
        if (!arg.is_array()) arg = Value::array({arg});
      }
      out.push_back(std::move(arg));
    }
  }
  args = std::move(out);
}

namespace {

// ---------------------------------------------------------------------------
// Helpers

Value str(std::string s) { return Value::string(std::move(s)); }
Value num(double d) { return Value::number(d); }
Value boolean(bool b) { return Value::boolean(b); }

// The arguments $map, $filter, $each ... pass: as many as the function takes.
std::vector<Value> hof_args(const Value& fn, Value a1, Value a2, Value a3) {
  std::vector<Value> out{std::move(a1)};
  int arity = fn.as_function().arity();
  if (arity >= 2) out.push_back(std::move(a2));
  if (arity >= 3) out.push_back(std::move(a3));
  return out;
}

std::string js_slice(const std::vector<char32_t>& cps, double start, std::optional<double> end) {
  auto len = static_cast<double>(cps.size());
  auto clamp = [&](double v) {
    v = std::trunc(v);
    if (v < 0) v = std::max(0.0, len + v);
    return std::min(v, len);
  };
  double s = clamp(start);
  double e = end ? clamp(*end) : len;
  if (e <= s) return "";
  return from_code_points(cps.data() + static_cast<size_t>(s), cps.data() + static_cast<size_t>(e));
}

// Shortest round-trip digits as JavaScript's Number#toString (no 15-digit
// rounding), for $round's decimal shifting.
std::string js_exact(double d) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", d);
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*e", precision - 1, d);
    if (std::strtod(buf, nullptr) == d) break;
  }
  return buf;  // d.ddde±xx: enough for shifting the exponent
}

double shift_decimal(double d, int places) {
  std::string s = js_exact(d);
  size_t e = s.find('e');
  int exponent = std::atoi(s.c_str() + e + 1) + places;
  std::string shifted = s.substr(0, e) + "e" + std::to_string(exponent);
  return std::strtod(shifted.c_str(), nullptr);
}

struct RegexMatch {
  std::string match;
  size_t start = 0;  // byte offsets
  size_t end = 0;
  std::vector<Value> groups;
};

// libstdc++'s std::regex matcher recurses once per repetition of a
// quantifier, so a long run matched by /a+/ overflows the stack (about
// 20,000 characters on an 8 MiB stack). Until the library runs on an
// iterative engine, subjects of patterns with quantifiers are capped.
constexpr size_t kMaxRegexSubject = 8192;

void check_regex_subject(const Regex& re, const std::string& s) {
  if (s.size() <= kMaxRegexSubject) return;
  bool has_quantifier = false;
  for (size_t i = 0; i < re.source.size(); ++i) {
    char c = re.source[i];
    if (c == '\\') {
      ++i;
      continue;
    }
    if (c == '*' || c == '+' || c == '{') has_quantifier = true;
  }
  if (has_quantifier)
    raise("D1005", "Regular expression /" + re.source + "/ cannot be applied to a string of " +
                       std::to_string(s.size()) + " characters by this implementation (limit " +
                       std::to_string(kMaxRegexSubject) + " when the pattern repeats)");
}

std::vector<RegexMatch> all_matches(const Regex& re, const std::string& s, bool reject_empty,
                                    std::optional<double> limit = std::nullopt) {
  check_regex_subject(re, s);
  std::vector<RegexMatch> out;
  try {
    for (auto it = std::sregex_iterator(s.begin(), s.end(), re.re); it != std::sregex_iterator();
         ++it) {
      if (limit && static_cast<double>(out.size()) >= *limit) break;
      const auto& m = *it;
      if (m.length(0) == 0) {
        if (reject_empty) raise("D1004", "Regular expression matches zero length string");
        continue;
      }
      RegexMatch r;
      r.match = m.str(0);
      r.start = static_cast<size_t>(m.position(0));
      r.end = r.start + static_cast<size_t>(m.length(0));
      for (size_t g = 1; g < m.size(); ++g)
        r.groups.push_back(m[g].matched ? str(m[g].str()) : str(""));
      out.push_back(std::move(r));
    }
  } catch (const std::regex_error&) {
    raise("D1004", "Regular expression could not be evaluated: /" + re.source + "/");
  }
  return out;
}

size_t code_point_index(const std::string& s, size_t byte_offset) {
  size_t n = 0;
  for (size_t i = 0; i < byte_offset && i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xc0) != 0x80) ++n;
  return n;
}

Value match_object(const RegexMatch& m, const std::string& s) {
  std::map<std::string, Value> obj;
  obj["match"] = str(m.match);
  obj["index"] = num(static_cast<double>(code_point_index(s, m.start)));
  obj["groups"] = Value::array(m.groups);
  return Value::object(std::move(obj));
}

double require_rng_unit(Evaluator& ev, const char* fn) {
  if (ev.env().rng == nullptr)
    raise("D3170",
          std::string("The ") + fn + " function needs a random source, and none was given");
  return static_cast<double>(ev.env().rng->next_u64() >> 11) * (1.0 / 9007199254740992.0);
}

// ---------------------------------------------------------------------------
// Aggregation

Value fn_sum(Evaluator&, Args& a, const Value&) {
  if (a[0].is_undefined()) return Value();
  double total = 0;
  for (size_t i = 0; i < a[0].size(); ++i) total += a[0].at(i).as_number();
  return num(total);
}

Value fn_count(Evaluator&, Args& a, const Value&) {
  if (a[0].is_undefined()) return num(0);
  return num(static_cast<double>(a[0].size()));
}

Value fn_max(Evaluator&, Args& a, const Value&) {
  if (a[0].is_undefined() || a[0].size() == 0) return Value();
  double m = -INFINITY;
  for (size_t i = 0; i < a[0].size(); ++i) m = std::max(m, a[0].at(i).as_number());
  return num(m);
}

Value fn_min(Evaluator&, Args& a, const Value&) {
  if (a[0].is_undefined() || a[0].size() == 0) return Value();
  double m = INFINITY;
  for (size_t i = 0; i < a[0].size(); ++i) m = std::min(m, a[0].at(i).as_number());
  return num(m);
}

Value fn_average(Evaluator& ev, Args& a, const Value& in) {
  if (a[0].is_undefined() || a[0].size() == 0) return Value();
  return num(fn_sum(ev, a, in).as_number() / static_cast<double>(a[0].size()));
}

// ---------------------------------------------------------------------------
// Strings

Value fn_string(Evaluator&, Args& a, const Value&) {
  return string_of(a[0], a[1].is_bool() && a[1].as_bool());
}

Value fn_substring(Evaluator&, Args& a, const Value&) {
  if (a[0].is_undefined()) return Value();
  auto cps = to_code_points(a[0].as_string());
  auto len = static_cast<double>(cps.size());
  double start = a[1].as_number();
  if (len + start < 0) start = 0;
  if (!a[2].is_undefined()) {
    double length = a[2].as_number();
    if (length <= 0) return str("");
    double end = start >= 0 ? start + length : len + start + length;
    return str(js_slice(cps, start, end));
  }
  return str(js_slice(cps, start, std::nullopt));
}

Value fn_substring_before(Evaluator&, Args& a, const Value&) {
  if (a[0].is_undefined()) return Value();
  if (!a[1].is_string()) return a[0];
  const std::string& s = a[0].as_string();
  size_t pos = s.find(a[1].as_string());
  return pos == std::string::npos ? a[0] : str(s.substr(0, pos));
}

Value fn_substring_after(Evaluator&, Args& a, const Value&) {
  if (a[0].is_undefined()) return Value();
  if (!a[1].is_string()) return a[0];
  const std::string& s = a[0].as_string();
  const std::string& chars = a[1].as_string();
  size_t pos = s.find(chars);
  return pos == std::string::npos ? a[0] : str(s.substr(pos + chars.size()));
}

// Case mapping for ASCII, Latin-1, Greek and Cyrillic letters (JavaScript
// maps all of Unicode; other scripts pass through unchanged here).
char32_t to_upper_cp(char32_t c) {
  if (c >= 'a' && c <= 'z') return c - 32;
  if ((c >= 0xe0 && c <= 0xfe && c != 0xf7)) return c - 32;
  if (c >= 0x3b1 && c <= 0x3c9 && c != 0x3c2) return c - 32;
  if (c >= 0x430 && c <= 0x44f) return c - 32;
  if (c >= 0x450 && c <= 0x45f) return c - 80;
  return c;
}

char32_t to_lower_cp(char32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if ((c >= 0xc0 && c <= 0xde && c != 0xd7)) return c + 32;
  if (c >= 0x391 && c <= 0x3a9 && c != 0x3a2) return c + 32;
  if (c >= 0x410 && c <= 0x42f) return c + 32;
  if (c >= 0x400 && c <= 0x40f) return c + 80;
  return c;
}

Value map_case(const Value& v, char32_t (*f)(char32_t)) {
  if (v.is_undefined()) return Value();
  auto cps = to_code_points(v.as_string());
  for (auto& c : cps) c = f(c);
  return str(from_code_points(cps.data(), cps.data() + cps.size()));
}

Value fn_lowercase(Evaluator&, Args& a, const Value&) { return map_case(a[0], to_lower_cp); }

Value fn_uppercase(Evaluator&, Args& a, const Value&) { return map_case(a[0], to_upper_cp); }

Value fn_length(Evaluator&, Args& a, const Value&) {
  if (a[0].is_undefined()) return Value();
  return num(static_cast<double>(to_code_points(a[0].as_string()).size()));
}

Value fn_trim(Evaluator&, Args& a, const Value&) {
  if (a[0].is_undefined()) return Value();
  std::string out;
  bool space = false;
  for (char c : a[0].as_string()) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return str(out);
}

Value fn_pad(Evaluator&, Args& a, const Value&) {
  if (a[0].is_undefined()) return Value();
  std::string pad_char = a[2].is_string() && !a[2].as_string().empty() ? a[2].as_string() : " ";
  auto cps = to_code_points(a[0].as_string());
  double width = a[1].as_number();
  double pad_length = std::fabs(width) - static_cast<double>(cps.size());
  if (pad_length <= 0) return a[0];
  auto pad_cps = to_code_points(pad_char);
  std::vector<char32_t> padding;
  while (static_cast<double>(padding.size()) < pad_length)
    padding.push_back(pad_cps[padding.size() % pad_cps.size()]);
  std::string p = from_code_points(padding.data(), padding.data() + padding.size());
  return str(width > 0 ? a[0].as_string() + p : p + a[0].as_string());
}

Value fn_contains(Evaluator&, Args& a, const Value&) {
  if (a[0].is_undefined() || a[1].is_undefined()) return Value();
  if (a[1].is_string())
    return boolean(a[0].as_string().find(a[1].as_string()) != std::string::npos);
  if (a[1].is_regex()) {
    try {
      check_regex_subject(a[1].as_regex(), a[0].as_string());
      return boolean(std::regex_search(a[0].as_string(), a[1].as_regex().re));
    } catch (const std::regex_error&) {
      raise("D1004", "Regular expression could not be evaluated");
    }
  }
  raise("T0410", "Argument 2 of function \"contains\" does not match function signature");
}

Value fn_split(Evaluator&, Args& a, const Value&) {
  if (a[0].is_undefined()) return Value();
  std::optional<double> limit;
  if (!a[2].is_undefined()) {
    if (a[2].as_number() < 0)
      raise("D3020", "Third argument of split function must evaluate to a positive number");
    limit = std::floor(a[2].as_number());
  }
  const std::string& s = a[0].as_string();
  std::vector<Value> out;
  auto push = [&](std::string part) {
    if (limit && static_cast<double>(out.size()) >= *limit) return;
    out.push_back(str(std::move(part)));
  };
  if (a[1].is_string()) {
    const std::string& sep = a[1].as_string();
    if (sep.empty()) {
      auto cps = to_code_points(s);
      for (char32_t cp : cps) push(from_code_points(&cp, &cp + 1));
    } else {
      size_t start = 0;
      for (;;) {
        size_t pos = s.find(sep, start);
        if (pos == std::string::npos) {
          push(s.substr(start));
          break;
        }
        push(s.substr(start, pos - start));
        start = pos + sep.size();
      }
    }
  } else if (a[1].is_regex()) {
    size_t start = 0;
    for (const auto& m : all_matches(a[1].as_regex(), s, false)) {
      push(s.substr(start, m.start - start));
      for (const auto& g : m.groups) push(g.as_string());
      start = m.end;
    }
    push(s.substr(start));
  } else {
    raise("T0410", "Argument 2 of function \"split\" does not match function signature");
  }
  return Value::array(std::move(out));
}

Value fn_join(Evaluator&, Args& a, const Value&) {
  if (a[0].is_undefined()) return Value();
  std::string sep = a[1].is_string() ? a[1].as_string() : "";
  std::string out;
  for (size_t i = 0; i < a[0].size(); ++i) {
    if (i) out += sep;
    out += a[0].at(i).as_string();
  }
  return str(out);
}

Value fn_match(Evaluator&, Args& a, const Value&) {
  if (a[0].is_undefined()) return Value();
  std::optional<double> limit;
  if (!a[2].is_undefined()) {
    if (a[2].as_number() < 0)
      raise("D3040", "Third argument of match function must evaluate to a positive number");
    limit = a[2].as_number();
  }
  if (!a[1].is_regex())
    raise("T0410", "Argument 2 of function \"match\" does not match function signature");
  std::vector<Value> out;
  const std::string& s = a[0].as_string();
  for (const auto& m : all_matches(a[1].as_regex(), s, true, limit))
    out.push_back(match_object(m, s));
  return Value::sequence(std::move(out));
}

// Replaces $0, $1.. and $$ in `replacement` as the reference implementation.
std::string substitute(const std::string& replacement, const RegexMatch& m) {
  std::string out;
  size_t pos = 0;
  while (pos < replacement.size()) {
    size_t dollar = replacement.find('$', pos);
    if (dollar == std::string::npos) break;
    out += replacement.substr(pos, dollar - pos);
    pos = dollar + 1;
    if (pos >= replacement.size()) {
      out += '$';
      break;
    }
    char c = replacement[pos];
    if (c == '$') {
      out += '$';
      ++pos;
    } else if (c == '0') {
      out += m.match;
      ++pos;
    } else {
      size_t groups = m.groups.size();
      size_t max_digits = groups == 0 ? 1 : static_cast<size_t>(std::floor(std::log10(groups))) + 1;
      size_t digits = 0;
      while (digits < max_digits && pos + digits < replacement.size() &&
             std::isdigit(static_cast<unsigned char>(replacement[pos + digits])))
        ++digits;
      if (digits == 0) {
        out += '$';
        continue;
      }
      size_t index = std::stoul(replacement.substr(pos, digits));
      if (digits > 1 && index > groups) {
        --digits;
        index = std::stoul(replacement.substr(pos, digits));
      }
      if (groups > 0 && index >= 1 && index <= groups) out += m.groups[index - 1].as_string();
      pos += digits;
    }
  }
  if (pos < replacement.size()) out += replacement.substr(pos);
  return out;
}

Value fn_replace(Evaluator& ev, Args& a, const Value& input) {
  if (a[0].is_undefined()) return Value();
  const std::string& s = a[0].as_string();
  if (a[1].is_string() && a[1].as_string().empty())
    raise("D3010", "Second argument of replace function cannot be an empty string");
  std::optional<double> limit;
  if (!a[3].is_undefined()) {
    if (a[3].as_number() < 0)
      raise("D3011", "Fourth argument of replace function must evaluate to a positive number");
    limit = a[3].as_number();
  }
  std::vector<RegexMatch> matches;
  if (a[1].is_string()) {
    const std::string& pat = a[1].as_string();
    size_t start = 0;
    for (;;) {
      if (limit && static_cast<double>(matches.size()) >= *limit) break;
      size_t pos = s.find(pat, start);
      if (pos == std::string::npos) break;
      RegexMatch m;
      m.match = pat;
      m.start = pos;
      m.end = pos + pat.size();
      matches.push_back(m);
      start = m.end;
    }
  } else if (a[1].is_regex()) {
    matches = all_matches(a[1].as_regex(), s, true, limit);
  } else {
    raise("T0410", "Argument 2 of function \"replace\" does not match function signature");
  }
  std::string out;
  size_t pos = 0;
  for (const auto& m : matches) {
    out += s.substr(pos, m.start - pos);
    if (a[2].is_string()) {
      out += a[1].is_regex() ? substitute(a[2].as_string(), m) : a[2].as_string();
    } else if (a[2].is_lambda_or_builtin()) {
      Value r = ev.apply(a[2], {match_object(m, s)}, input);
      if (!r.is_string())
        raise("D3012", "Attempted to replace a matched string with a non-string value");
      out += r.as_string();
    } else {
      raise("T0410", "Argument 3 of function \"replace\" does not match function signature");
    }
    pos = m.end;
  }
  out += s.substr(pos);
  return str(out);
}

const char* kBase64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

Value fn_base64encode(Evaluator&, Args& a, const Value&) {
  if (a[0].is_undefined()) return Value();
  const std::string& s = a[0].as_string();
  std::string out;
  size_t i = 0;
  for (; i + 2 < s.size(); i += 3) {
    uint32_t v = (static_cast<uint8_t>(s[i]) << 16) | (static_cast<uint8_t>(s[i + 1]) << 8) |
                 static_cast<uint8_t>(s[i + 2]);
    out += kBase64[v >> 18];
    out += kBase64[(v >> 12) & 63];
    out += kBase64[(v >> 6) & 63];
    out += kBase64[v & 63];
  }
  if (i < s.size()) {
    uint32_t v = static_cast<uint8_t>(s[i]) << 16;
    if (i + 1 < s.size()) v |= static_cast<uint8_t>(s[i + 1]) << 8;
    out += kBase64[v >> 18];
    out += kBase64[(v >> 12) & 63];
    out += i + 1 < s.size() ? kBase64[(v >> 6) & 63] : '=';
    out += '=';
  }
  return str(out);
}

Value fn_base64decode(Evaluator&, Args& a, const Value&) {
  if (a[0].is_undefined()) return Value();
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : a[0].as_string()) {
    const char* p = std::strchr(kBase64, c);
    if (c == '=' || c == '\0' || p == nullptr) continue;
    acc = (acc << 6) | static_cast<uint32_t>(p - kBase64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return str(out);
}

Value encode_uri(const Value& v, const char* keep) {
  if (v.is_undefined()) return Value();
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : v.as_string()) {
    if (std::isalnum(c) || (c < 0x80 && std::strchr(keep, c) != nullptr && c != 0)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return str(out);
}

Value decode_uri(const Value& v, const char* reserved, const char* name) {
  if (v.is_undefined()) return Value();
  const std::string& s = v.as_string();
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(s[i + 2])))
      raise("D3140", std::string("Malformed URL passed to $") + name + "(): " + quote_json(s));
    char c = static_cast<char>(std::strtol(s.substr(i + 1, 2).c_str(), nullptr, 16));
    if (std::strchr(reserved, c) != nullptr && c != 0)
      out += s.substr(i, 3);
    else
      out += c;
    i += 2;
  }
  return str(out);
}

Value fn_encode_url_component(Evaluator&, Args& a, const Value&) {
  return encode_uri(a[0], "-_.!~*'()");
}
Value fn_encode_url(Evaluator&, Args& a, const Value&) {
  return encode_uri(a[0], "-_.!~*'();/?:@&=+$,#");
}
Value fn_decode_url_component(Evaluator&, Args& a, const Value&) {
  return decode_uri(a[0], "", "decodeUrlComponent");
}
Value fn_decode_url(Evaluator&, Args& a, const Value&) {
  return decode_uri(a[0], ";/?:@&=+$,#", "decodeUrl");
}

// ---------------------------------------------------------------------------
// Numbers

Value fn_number(Evaluator&, Args& a, const Value&) {
  const Value& v = a[0];
  if (v.is_undefined()) return Value();
  if (v.is_number()) return v;
  if (v.is_bool()) return num(v.as_bool() ? 1 : 0);
  const std::string& s = v.as_string();
  static const std::regex kDecimal(R"(^-?(0|([1-9][0-9]*))(\.[0-9]+)?([Ee][-+]?[0-9]+)?$)");
  static const std::regex kRadix(R"(^0([xX][0-9A-Fa-f]+|[oO][0-7]+|[bB][01]+)$)");
  if (std::regex_match(s, kDecimal)) {
    double d = std::strtod(s.c_str(), nullptr);
    if (std::isfinite(d)) return num(d);
  } else if (std::regex_match(s, kRadix)) {
    int base = (s[1] == 'x' || s[1] == 'X') ? 16 : (s[1] == 'o' || s[1] == 'O') ? 8 : 2;
    return num(static_cast<double>(std::strtoull(s.c_str() + 2, nullptr, base)));
  }
  raise("D3030", "Unable to cast value to a number: " + quote_json(s));
}

Value fn_abs(Evaluator&, Args& a, const Value&) {
  return a[0].is_undefined() ? Value() : num(std::fabs(a[0].as_number()));
}
Value fn_floor(Evaluator&, Args& a, const Value&) {
  return a[0].is_undefined() ? Value() : num(std::floor(a[0].as_number()));
}
Value fn_ceil(Evaluator&, Args& a, const Value&) {
  return a[0].is_undefined() ? Value() : num(std::ceil(a[0].as_number()));
}

// Round half to even ("banker's rounding") at `precision` decimal places,
// shifting the decimal point in text so 2.675 is not seen as 2.67499...
Value fn_round(Evaluator&, Args& a, const Value&) {
  if (a[0].is_undefined()) return Value();
  double x = a[0].as_number();
  int precision = a[1].is_number() ? static_cast<int>(a[1].as_number()) : 0;
  if (precision != 0) x = shift_decimal(x, precision);
  double r = std::floor(x + 0.5);
  if (std::fabs(r - x) == 0.5 && std::fabs(std::fmod(r, 2.0)) == 1) r -= 1;
  if (precision != 0) r = shift_decimal(r, -precision);
  if (r == 0) r = 0;  // no -0 in JSON
  return num(r);
}

Value fn_power(Evaluator&, Args& a, const Value&) {
  if (a[0].is_undefined()) return Value();
  double r = std::pow(a[0].as_number(), a[1].as_number());
  if (!std::isfinite(r))
    raise("D3061",
          "The power function has resulted in a value that cannot be represented as a "
          "JSON number: base=" +
              format_number(a[0].as_number()) + ", exponent=" + format_number(a[1].as_number()));
  return num(r);
}

Value fn_sqrt(Evaluator&, Args& a, const Value&) {
  if (a[0].is_undefined()) return Value();
  if (a[0].as_number() < 0)
    raise("D3060", "The sqrt function cannot be applied to a negative number: " +
                       format_number(a[0].as_number()));
  return num(std::sqrt(a[0].as_number()));
}

// $random(): from the Environment's Rng. $random(seed) (Step Functions):
// the same seed gives the same number.
Value fn_random(Evaluator& ev, Args& a, const Value&) {
  if (a[0].is_number()) {
    SeededRng rng(static_cast<uint64_t>(static_cast<int64_t>(a[0].as_number())));
    return num(static_cast<double>(rng.next_u64() >> 11) * (1.0 / 9007199254740992.0));
  }
  return num(require_rng_unit(ev, "$random"));
}

Value fn_format_base(Evaluator&, Args& a, const Value&) {
  if (a[0].is_undefined()) return Value();
  double radix = a[1].is_undefined() ? 10 : a[1].as_number();
  if (radix < 2 || radix > 36)
    raise("D3100", "The radix of the formatBase function must be between 2 and 36.  It was given " +
                       format_number(radix));
  double v = std::round(a[0].as_number());
  bool negative = v < 0;
  auto n = static_cast<uint64_t>(std::fabs(v));
  auto base = static_cast<uint64_t>(radix);
  std::string digits;
  do {
    digits += "0123456789abcdefghijklmnopqrstuvwxyz"[n % base];
    n /= base;
  } while (n > 0);
  if (negative) digits += '-';
  std::reverse(digits.begin(), digits.end());
  return str(digits);
}

// $formatNumber with the common XPath picture features: '0' and '#'
// digits, ',' grouping, '.' decimal point, '%' and '‰', prefix and suffix
// text, and a second sub-picture for negative numbers. Exponents and
// custom decimal formats (the options argument) are not supported.
std::string pad_number(int64_t v, size_t width);

Value fn_format_number(Evaluator&, Args& a, const Value&) {
  if (a[0].is_undefined()) return Value();
  double value = a[0].as_number();
  if (!a[1].is_string())
    raise("T0410", "Argument 2 of function \"formatNumber\" does not match function signature");
  std::string picture = a[1].as_string();
  std::string negative_picture;
  size_t semi = picture.find(';');
  if (semi != std::string::npos) {
    negative_picture = picture.substr(semi + 1);
    picture = picture.substr(0, semi);
    if (negative_picture.find(';') != std::string::npos)
      raise("D3080", "The picture string must only contain a maximum of two sub-pictures");
  }
  bool use_negative = value < 0 && !negative_picture.empty();
  const std::string& pic = use_negative ? negative_picture : picture;
  auto is_active = [](char c) {
    return (c >= '0' && c <= '9') || c == '#' || c == '.' || c == ',';
  };
  size_t first = 0;
  while (first < pic.size() && !is_active(pic[first]) && pic[first] != '%') ++first;
  size_t last = pic.size();
  while (last > first && !is_active(pic[last - 1])) --last;
  std::string prefix = pic.substr(0, first);
  std::string body = pic.substr(first, last - first);
  std::string suffix = pic.substr(last);
  if (std::count(body.begin(), body.end(), '.') > 1)
    raise("D3081",
          "The sub-picture must not contain more than one instance of the 'decimal-separator' "
          "character");
  bool percent = pic.find('%') != std::string::npos;
  bool permille = pic.find("\xe2\x80\xb0") != std::string::npos;
  if (percent) value *= 100;
  if (permille) value *= 1000;
  // An exponent: "00.000e0" (the 'e' followed by digits ends the mantissa).
  int min_exp = -1;
  size_t e_pos = body.find('e');
  if (e_pos != std::string::npos && e_pos + 1 < body.size() &&
      std::all_of(body.begin() + static_cast<std::ptrdiff_t>(e_pos) + 1, body.end(),
                  [](char c) { return c >= '0' && c <= '9'; })) {
    if (percent || permille)
      raise("D3092",
            "A sub-picture that contains a 'percent' or 'per-mille' character must not contain "
            "a character treated as an 'exponent-separator'");
    min_exp = static_cast<int>(body.size() - e_pos - 1);
    body = body.substr(0, e_pos);
  }
  size_t dot = body.find('.');
  std::string int_part = body.substr(0, dot);
  std::string frac_part = dot == std::string::npos ? "" : body.substr(dot + 1);
  int min_int = 0, min_frac = 0, max_frac = 0;
  for (char c : int_part)
    if (c >= '0' && c <= '9') ++min_int;
  for (char c : frac_part) {
    if (c >= '0' && c <= '9') ++min_frac, ++max_frac;
    if (c == '#') ++max_frac;
  }
  // Grouping positions counted from the decimal point.
  std::vector<int> groups;
  int digits_seen = 0;
  for (size_t i = int_part.size(); i-- > 0;) {
    if (int_part[i] == ',')
      groups.push_back(digits_seen);
    else
      ++digits_seen;
  }
  std::vector<int> frac_groups;
  digits_seen = 0;
  for (char c : frac_part) {
    if (c == ',')
      frac_groups.push_back(digits_seen);
    else
      ++digits_seen;
  }
  // Worked example: 1234.5678 with "00.000e0" has two integer digits, so
  // the exponent is floor(log10(1234.5678)) - 1 = 2 and the mantissa
  // 12.345678 prints as 12.346.
  int exponent = 0;
  if (min_exp >= 0 && value != 0) {
    int magnitude_digits = static_cast<int>(std::floor(std::log10(std::fabs(value))));
    exponent = min_int > 0 ? magnitude_digits - (min_int - 1) : magnitude_digits + 1;
    value = value / std::pow(10.0, exponent);
  }
  int regular = 0;
  if (!groups.empty()) {
    regular = groups[0];
    for (size_t i = 0; i < groups.size(); ++i)
      if (groups[i] != regular * static_cast<int>(i + 1)) regular = 0;
  }
  // Round half to even at max_frac places first, as $round does, so that
  // 34.555 shows as 34.56 although its double is 34.55499...
  double magnitude = std::fabs(value);
  {
    double shifted = shift_decimal(magnitude, max_frac);
    double r = std::floor(shifted + 0.5);
    if (std::fabs(r - shifted) == 0.5 && std::fabs(std::fmod(r, 2.0)) == 1) r -= 1;
    magnitude = shift_decimal(r, -max_frac);
  }
  char buf[512];
  std::snprintf(buf, sizeof buf, "%.*f", max_frac, magnitude);
  std::string fixed = buf;
  size_t p = fixed.find('.');
  std::string ip = fixed.substr(0, p);
  std::string fp = p == std::string::npos ? "" : fixed.substr(p + 1);
  while (static_cast<int>(fp.size()) > min_frac && !fp.empty() && fp.back() == '0') fp.pop_back();
  if (!frac_groups.empty()) {
    std::string grouped_fraction;
    for (size_t i = 0; i < fp.size(); ++i) {
      if (i > 0 && std::find(frac_groups.begin(), frac_groups.end(), static_cast<int>(i)) !=
                       frac_groups.end())
        grouped_fraction += ',';
      grouped_fraction += fp[i];
    }
    fp = grouped_fraction;
  }
  if (ip == "0" && min_int == 0 && min_exp < 0) ip = "";
  while (static_cast<int>(ip.size()) < min_int) ip = "0" + ip;
  std::string grouped;
  int count = 0;
  for (size_t i = ip.size(); i-- > 0;) {
    bool sep = false;
    if (count > 0) {
      if (regular > 0)
        sep = count % regular == 0;
      else
        sep = std::find(groups.begin(), groups.end(), count) != groups.end();
    }
    if (sep) grouped += ',';
    grouped += ip[i];
    ++count;
  }
  std::reverse(grouped.begin(), grouped.end());
  std::string out = grouped;
  if (!fp.empty()) out += "." + fp;
  if (out.empty()) out = "0";
  if (min_exp >= 0) {
    out += "e";
    if (exponent < 0) out += "-";
    out += pad_number(std::abs(exponent), static_cast<size_t>(min_exp));
  }
  out = prefix + out + suffix;
  if (value < 0 && !use_negative) out = "-" + out;
  return str(out);
}

// ---------------------------------------------------------------------------
// $formatInteger and $parseInteger: XPath integer pictures (F&O 3.1 section
// 4.6.1): decimal digit patterns with grouping ("#,##0", "000"), roman
// numerals (I, i), letters (A, a), English words (W, w, Ww), and the ";o"
// ordinal modifier.

const char* kFew[] = {"Zero",    "One",     "Two",       "Three",    "Four",
                      "Five",    "Six",     "Seven",     "Eight",    "Nine",
                      "Ten",     "Eleven",  "Twelve",    "Thirteen", "Fourteen",
                      "Fifteen", "Sixteen", "Seventeen", "Eighteen", "Nineteen"};
const char* kFewOrdinals[] = {"Zeroth",    "First",     "Second",      "Third",      "Fourth",
                              "Fifth",     "Sixth",     "Seventh",     "Eighth",     "Ninth",
                              "Tenth",     "Eleventh",  "Twelfth",     "Thirteenth", "Fourteenth",
                              "Fifteenth", "Sixteenth", "Seventeenth", "Eighteenth", "Nineteenth"};
const char* kDecades[] = {"Twenty", "Thirty",  "Forty",  "Fifty",
                          "Sixty",  "Seventy", "Eighty", "Ninety"};
const char* kDecadeOrdinals[] = {"Twentieth", "Thirtieth",  "Fortieth",  "Fiftieth",
                                 "Sixtieth",  "Seventieth", "Eightieth", "Ninetieth"};
const char* kMagnitudes[] = {"Thousand", "Million", "Billion", "Trillion"};

// Worked example: 1234 -> "One Thousand" + ", " + "Two Hundred" + " and " +
// "Thirty-Four".
std::string number_words(uint64_t n, bool after, bool ordinal) {
  std::string words;
  if (n <= 19) {
    words = std::string(after ? " and " : "") + (ordinal ? kFewOrdinals[n] : kFew[n]);
  } else if (n < 100) {
    uint64_t tens = n / 10, rest = n % 10;
    words = std::string(after ? " and " : "") + kDecades[tens - 2];
    if (rest > 0)
      words += "-" + number_words(rest, false, ordinal);
    else if (ordinal)
      words = std::string(after ? " and " : "") + kDecadeOrdinals[tens - 2];
  } else if (n < 1000) {
    uint64_t hundreds = n / 100, rest = n % 100;
    words = std::string(after ? ", " : "") + kFew[hundreds] + " Hundred";
    if (rest > 0)
      words += number_words(rest, true, ordinal);
    else if (ordinal)
      words += "th";
  } else {
    int magnitude = 1;
    uint64_t factor = 1000;
    while (magnitude < 4 && n / factor >= 1000) {
      ++magnitude;
      factor *= 1000;
    }
    uint64_t mantissa = n / factor, rest = n % factor;
    words = std::string(after ? ", " : "") + number_words(mantissa, false, false) + " " +
            kMagnitudes[magnitude - 1];
    if (rest > 0)
      words += number_words(rest, true, ordinal);
    else if (ordinal)
      words += "th";
  }
  return words;
}

std::string roman(uint64_t n) {
  static const std::pair<uint64_t, const char*> kNumerals[] = {
      {1000, "M"}, {900, "CM"}, {500, "D"}, {400, "CD"}, {100, "C"}, {90, "XC"}, {50, "L"},
      {40, "XL"},  {10, "X"},   {9, "IX"},  {5, "V"},    {4, "IV"},  {1, "I"}};
  std::string out;
  for (const auto& [value, text] : kNumerals) {
    while (n >= value) {
      out += text;
      n -= value;
    }
  }
  return out;
}

std::string letters(uint64_t n, char base) {
  std::string out;
  while (n > 0) {
    --n;
    out += static_cast<char>(base + n % 26);
    n /= 26;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::string ordinal_suffix(uint64_t n) {
  uint64_t last_two = n % 100, last = n % 10;
  if (last_two >= 11 && last_two <= 13) return "th";
  if (last == 1) return "st";
  if (last == 2) return "nd";
  if (last == 3) return "rd";
  return "th";
}

std::string with_case(std::string text, const std::string& primary) {
  if (primary == "W") {
    for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  } else if (primary == "w") {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return text;
}

struct IntegerPicture {
  std::string primary;
  bool ordinal = false;
};

IntegerPicture parse_integer_picture(const std::string& picture) {
  IntegerPicture p;
  size_t semi = picture.rfind(';');
  p.primary = picture.substr(0, semi);
  if (semi != std::string::npos) p.ordinal = picture.find('o', semi) != std::string::npos;
  return p;
}

Value fn_format_integer(Evaluator&, Args& a, const Value&) {
  if (a[0].is_undefined()) return Value();
  if (!a[1].is_string())
    raise("T0410", "Argument 2 of function \"formatInteger\" does not match function signature");
  IntegerPicture pic = parse_integer_picture(a[1].as_string());
  double v = std::floor(a[0].as_number());
  bool negative = v < 0;
  if (std::fabs(v) > 1e18)
    raise("D3130", "Formatting an integer this large is not supported by this implementation");
  auto n = static_cast<uint64_t>(std::fabs(v));
  std::string out;
  const std::string& primary = pic.primary;
  if (primary == "W" || primary == "w" || primary == "Ww") {
    out = with_case(number_words(n, false, pic.ordinal), primary);
  } else if (primary == "I" || primary == "i") {
    if (n > 100000)
      raise("D3130", "Roman numerals above 100000 are not supported by this implementation");
    out = roman(n);
    if (primary == "i")
      for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  } else if (primary == "A" || primary == "a") {
    out = letters(n, primary[0]);
  } else {
    int mandatory = 0;
    std::vector<std::pair<int, char>> separators;  // digits to the right, separator
    int digits_right = 0;
    for (size_t i = primary.size(); i-- > 0;) {
      char c = primary[i];
      if (c >= '0' && c <= '9') {
        ++mandatory;
        ++digits_right;
      } else if (c == '#') {
        ++digits_right;
      } else {
        separators.emplace_back(digits_right, c);
      }
    }
    if (mandatory == 0)
      raise("D3130", "Formatting or parsing an integer as a sequence starting with " +
                         quote_json(primary) + " is not supported by this implementation");
    std::string digits = std::to_string(n);
    while (static_cast<int>(digits.size()) < mandatory) digits = "0" + digits;
    int regular = 0;
    if (!separators.empty()) {
      regular = separators[0].first;
      for (size_t i = 0; i < separators.size(); ++i)
        if (separators[i].first != regular * static_cast<int>(i + 1) ||
            separators[i].second != separators[0].second)
          regular = 0;
    }
    std::string grouped;
    int count = 0;
    for (size_t i = digits.size(); i-- > 0; ++count) {
      if (count > 0) {
        if (regular > 0 && count % regular == 0) {
          grouped += separators[0].second;
        } else if (regular == 0) {
          for (const auto& [at, sep] : separators)
            if (at == count) grouped += sep;
        }
      }
      grouped += digits[i];
    }
    std::reverse(grouped.begin(), grouped.end());
    out = grouped;
    if (pic.ordinal) out += ordinal_suffix(n);
  }
  return str(negative ? "-" + out : out);
}

uint64_t parse_words(const std::string& text) {
  static const std::map<std::string, uint64_t> kValues = [] {
    std::map<std::string, uint64_t> m;
    for (uint64_t i = 0; i < 20; ++i) {
      std::string w = kFew[i], o = kFewOrdinals[i];
      for (auto* s : {&w, &o})
        for (char& c : *s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      m[w] = i;
      m[o] = i;
    }
    for (uint64_t i = 0; i < 8; ++i) {
      std::string w = kDecades[i], o = kDecadeOrdinals[i];
      for (auto* s : {&w, &o})
        for (char& c : *s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      m[w] = (i + 2) * 10;
      m[o] = (i + 2) * 10;
    }
    return m;
  }();
  uint64_t total = 0, current = 0;
  std::string word;
  auto flush = [&] {
    if (word.empty() || word == "and") {
      word.clear();
      return;
    }
    std::string w = word;
    word.clear();
    if (w.size() > 2 && w.substr(w.size() - 2) == "th" && kValues.count(w) == 0)
      w = w.substr(0, w.size() - 2);
    if (w == "hundred") {
      current *= 100;
      return;
    }
    static const std::pair<const char*, uint64_t> kMags[] = {{"thousand", 1000ULL},
                                                             {"million", 1000000ULL},
                                                             {"billion", 1000000000ULL},
                                                             {"trillion", 1000000000000ULL}};
    for (const auto& [name, value] : kMags) {
      if (w == name) {
        total += current * value;
        current = 0;
        return;
      }
    }
    auto it = kValues.find(w);
    if (it == kValues.end())
      raise("D3137", "The word " + quote_json(w) + " is not an English number word");
    current += it->second;
  };
  for (char c : text) {
    if (c == ' ' || c == '-' || c == ',') {
      flush();
    } else {
      word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  flush();
  return total + current;
}

Value fn_parse_integer(Evaluator&, Args& a, const Value&) {
  if (a[0].is_undefined()) return Value();
  if (!a[1].is_string())
    raise("T0410", "Argument 2 of function \"parseInteger\" does not match function signature");
  IntegerPicture pic = parse_integer_picture(a[1].as_string());
  std::string text = a[0].as_string();
  bool negative = !text.empty() && text[0] == '-';
  if (negative) text = text.substr(1);
  const std::string& primary = pic.primary;
  uint64_t n = 0;
  auto fail_parse = [&] {
    raise("D3137", "The string " + quote_json(a[0].as_string()) + " does not match the picture " +
                       quote_json(a[1].as_string()));
  };
  if (primary == "W" || primary == "w" || primary == "Ww") {
    n = parse_words(text);
  } else if (primary == "I" || primary == "i") {
    static const std::map<char, uint64_t> kRoman = {{'I', 1},   {'V', 5},   {'X', 10},  {'L', 50},
                                                    {'C', 100}, {'D', 500}, {'M', 1000}};
    for (size_t i = 0; i < text.size(); ++i) {
      auto it = kRoman.find(static_cast<char>(std::toupper(static_cast<unsigned char>(text[i]))));
      if (it == kRoman.end()) fail_parse();
      uint64_t next = 0;
      if (i + 1 < text.size()) {
        auto nx =
            kRoman.find(static_cast<char>(std::toupper(static_cast<unsigned char>(text[i + 1]))));
        if (nx != kRoman.end()) next = nx->second;
      }
      if (next > it->second)
        n -= it->second;
      else
        n += it->second;
    }
  } else if (primary == "A" || primary == "a") {
    for (char c : text) {
      char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower < 'a' || lower > 'z') fail_parse();
      n = n * 26 + static_cast<uint64_t>(lower - 'a' + 1);
    }
  } else {
    std::string digits;
    for (char c : text)
      if (c >= '0' && c <= '9') digits += c;
    if (digits.empty() || digits.size() > 18) fail_parse();
    n = std::stoull(digits);
  }
  double v = static_cast<double>(n);
  return num(negative ? -v : v);
}

// ---------------------------------------------------------------------------
// Booleans and types

Value fn_boolean(Evaluator&, Args& a, const Value&) {
  auto b = to_boolean(a[0]);
  return b ? boolean(*b) : Value();
}
Value fn_not(Evaluator&, Args& a, const Value&) {
  auto b = to_boolean(a[0]);
  return b ? boolean(!*b) : Value();
}
Value fn_exists(Evaluator&, Args& a, const Value&) { return boolean(!a[0].is_undefined()); }
Value fn_type(Evaluator&, Args& a, const Value&) {
  return a[0].is_undefined() ? Value() : str(type_name(a[0]));
}

Value fn_error(Evaluator&, Args& a, const Value&) {
  raise("D3137", a[0].is_string() ? a[0].as_string() : "$error() function evaluated");
}

Value fn_assert(Evaluator&, Args& a, const Value&) {
  if (!a[0].as_bool())
    raise("D3141", a[1].is_string() ? a[1].as_string() : "$assert() statement failed");
  return Value();
}

// ---------------------------------------------------------------------------
// Arrays

Value fn_append(Evaluator&, Args& a, const Value&) { return append_values(a[0], a[1]); }

Value fn_reverse(Evaluator&, Args& a, const Value&) {
  if (a[0].is_undefined()) return Value();
  auto items = a[0].items();
  std::reverse(items.begin(), items.end());
  return Value::array(std::move(items));
}

Value fn_shuffle(Evaluator& ev, Args& a, const Value&) {
  if (a[0].is_undefined()) return Value();
  auto items = a[0].items();
  for (size_t i = items.size(); i > 1; --i) {
    auto j = static_cast<size_t>(require_rng_unit(ev, "$shuffle") * static_cast<double>(i));
    std::swap(items[i - 1], items[std::min(j, i - 1)]);
  }
  return Value::array(std::move(items));
}

Value fn_distinct(Evaluator&, Args& a, const Value&) {
  if (!a[0].is_array()) return a[0];
  std::vector<Value> out;
  for (size_t i = 0; i < a[0].size(); ++i) {
    Value v = a[0].at(i);
    bool seen = false;
    for (const auto& o : out)
      if (deep_equal(o, v)) {
        seen = true;
        break;
      }
    if (!seen) out.push_back(std::move(v));
  }
  return Value::sequence(std::move(out));
}

// A stable merge sort that tolerates any comparator (std::stable_sort needs
// a strict weak order, which a user's function need not be).
template <class Swap>
void merge_sort(std::vector<Value>& v, Swap should_swap) {
  if (v.size() < 2) return;
  size_t mid = v.size() / 2;
  std::vector<Value> left(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid));
  std::vector<Value> right(v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  merge_sort(left, should_swap);
  merge_sort(right, should_swap);
  size_t i = 0, j = 0, k = 0;
  while (i < left.size() && j < right.size()) {
    if (should_swap(left[i], right[j]))
      v[k++] = right[j++];
    else
      v[k++] = left[i++];
  }
  while (i < left.size()) v[k++] = left[i++];
  while (j < right.size()) v[k++] = right[j++];
}

Value fn_sort(Evaluator& ev, Args& a, const Value& input) {
  if (a[0].is_undefined()) return Value();
  auto items = a[0].items();
  if (items.size() <= 1) return a[0];
  if (a[1].is_undefined()) {
    bool all_numbers = true, all_strings = true;
    for (const auto& v : items) {
      all_numbers = all_numbers && v.is_number();
      all_strings = all_strings && v.is_string();
    }
    if (!all_numbers && !all_strings)
      raise("D3070",
            "The single argument form of the sort function can only be applied to an array of "
            "strings or an array of numbers.  Use the second argument to specify a comparison "
            "function");
    merge_sort(items, [&](const Value& x, const Value& y) {
      return all_numbers ? x.as_number() > y.as_number() : x.as_string() > y.as_string();
    });
  } else {
    merge_sort(items, [&](const Value& x, const Value& y) {
      return to_boolean(ev.apply(a[1], {x, y}, input)).value_or(false);
    });
  }
  return Value::array(std::move(items));
}

Value fn_zip(Evaluator&, Args& a, const Value&) {
  size_t n = SIZE_MAX;
  for (const auto& arr : a) n = std::min(n, arr.is_undefined() ? 0 : arr.size());
  if (a.empty()) n = 0;
  std::vector<Value> out;
  for (size_t i = 0; i < n; ++i) {
    std::vector<Value> tuple;
    for (const auto& arr : a) tuple.push_back(arr.at(i));
    out.push_back(Value::array(std::move(tuple)));
  }
  return Value::array(std::move(out));
}

// ---------------------------------------------------------------------------
// Objects

void collect_keys(const Value& v, std::vector<std::string>& out, std::set<std::string>& seen) {
  if (v.is_array()) {
    for (size_t i = 0; i < v.size(); ++i) collect_keys(v.at(i), out, seen);
  } else if (v.is_object()) {
    v.for_each_entry([&](const std::string& k, const Value&) {
      if (seen.insert(k).second) out.push_back(k);
    });
  }
}

Value fn_keys(Evaluator&, Args& a, const Value&) {
  std::vector<std::string> keys;
  std::set<std::string> seen;
  collect_keys(a[0], keys, seen);
  std::vector<Value> out;
  for (auto& k : keys) out.push_back(str(k));
  return Value::sequence(std::move(out));
}

Value lookup_in(const Value& v, const std::string& key) {
  if (v.is_array()) {
    std::vector<Value> out;
    for (size_t i = 0; i < v.size(); ++i) {
      Value r = lookup_in(v.at(i), key);
      if (r.is_undefined()) continue;
      if (r.is_array()) {
        for (size_t k = 0; k < r.size(); ++k) out.push_back(r.at(k));
      } else {
        out.push_back(r);
      }
    }
    return Value::sequence(std::move(out));
  }
  if (v.is_object()) return v.get(key);
  return Value();
}

Value fn_lookup(Evaluator&, Args& a, const Value&) {
  if (!a[1].is_string()) return Value();
  return lookup_in(a[0], a[1].as_string());
}

Value fn_spread(Evaluator& ev, Args& a, const Value& input) {
  if (a[0].is_array()) {
    Value result;
    for (size_t i = 0; i < a[0].size(); ++i) {
      Args one{a[0].at(i)};
      result = append_values(result, fn_spread(ev, one, input));
    }
    return result;
  }
  if (a[0].is_object()) {
    std::vector<Value> out;
    a[0].for_each_entry([&](const std::string& k, const Value& v) {
      out.push_back(Value::object({{k, v}}));
    });
    return Value::sequence(std::move(out));
  }
  return a[0];
}

Value fn_merge(Evaluator&, Args& a, const Value&) {
  if (a[0].is_undefined()) return Value();
  std::map<std::string, Value> out;
  for (size_t i = 0; i < a[0].size(); ++i)
    a[0].at(i).for_each_entry([&](const std::string& k, const Value& v) { out[k] = v; });
  return Value::object(std::move(out));
}

Value fn_each(Evaluator& ev, Args& a, const Value& input) {
  if (a[0].is_undefined()) return Value();
  std::vector<Value> out;
  a[0].for_each_entry([&](const std::string& k, const Value& v) {
    Value r = ev.apply(a[1], hof_args(a[1], v, str(k), a[0]), input);
    if (!r.is_undefined()) out.push_back(std::move(r));
  });
  return Value::sequence(std::move(out));
}

Value fn_sift(Evaluator& ev, Args& a, const Value& input) {
  if (a[0].is_undefined()) return Value();
  if (!a[1].is_lambda_or_builtin())
    raise("T0410", "Argument 2 of function \"sift\" does not match function signature");
  std::map<std::string, Value> out;
  a[0].for_each_entry([&](const std::string& k, const Value& v) {
    if (to_boolean(ev.apply(a[1], hof_args(a[1], v, str(k), a[0]), input)).value_or(false))
      out[k] = v;
  });
  if (out.empty()) return Value();
  return Value::object(std::move(out));
}

Value fn_clone(Evaluator&, Args& a, const Value&) { return a[0]; }

// ---------------------------------------------------------------------------
// Higher-order functions

Value fn_map(Evaluator& ev, Args& a, const Value& input) {
  if (a[0].is_undefined()) return Value();
  std::vector<Value> out;
  for (size_t i = 0; i < a[0].size(); ++i) {
    Value r = ev.apply(a[1], hof_args(a[1], a[0].at(i), num(static_cast<double>(i)), a[0]), input);
    if (!r.is_undefined()) out.push_back(std::move(r));
  }
  return Value::sequence(std::move(out));
}

Value fn_filter(Evaluator& ev, Args& a, const Value& input) {
  if (a[0].is_undefined()) return Value();
  std::vector<Value> out;
  for (size_t i = 0; i < a[0].size(); ++i) {
    Value v = a[0].at(i);
    Value r = ev.apply(a[1], hof_args(a[1], v, num(static_cast<double>(i)), a[0]), input);
    if (to_boolean(r).value_or(false)) out.push_back(std::move(v));
  }
  return Value::sequence(std::move(out));
}

Value fn_single(Evaluator& ev, Args& a, const Value& input) {
  if (a[0].is_undefined()) return Value();
  bool found = false;
  Value result;
  for (size_t i = 0; i < a[0].size(); ++i) {
    Value v = a[0].at(i);
    bool pass = true;
    if (!a[1].is_undefined())
      pass = to_boolean(ev.apply(a[1], hof_args(a[1], v, num(static_cast<double>(i)), a[0]), input))
                 .value_or(false);
    if (pass) {
      if (found)
        raise("D3138",
              "The $single() function expected exactly 1 matching result.  Instead it matched "
              "more.");
      found = true;
      result = v;
    }
  }
  if (!found)
    raise("D3139",
          "The $single() function expected exactly 1 matching result.  Instead it matched 0.");
  return result;
}

Value fn_reduce(Evaluator& ev, Args& a, const Value& input) {
  if (a[0].is_undefined()) return Value();
  int arity = a[1].as_function().arity();
  if (arity < 2)
    raise("D3050",
          "The second argument of reduce function must be a function with at least two "
          "arguments");
  size_t i = 0;
  Value acc = a[2];
  if (acc.is_undefined() && a[0].size() > 0) {
    acc = a[0].at(0);
    i = 1;
  }
  for (; i < a[0].size(); ++i) {
    std::vector<Value> args{acc, a[0].at(i)};
    if (arity >= 3) args.push_back(num(static_cast<double>(i)));
    if (arity >= 4) args.push_back(a[0]);
    acc = ev.apply(a[1], std::move(args), input);
  }
  return acc;
}

// ---------------------------------------------------------------------------
// Date and time: ISO 8601 only (no picture strings).

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

std::string iso_from_millis(int64_t ms) {
  int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
  int64_t rem = ms - days * 86400000;
  int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  y += (m <= 2);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ",
                static_cast<long long>(y), m, d, static_cast<long long>(rem / 3600000),
                static_cast<long long>(rem / 60000 % 60), static_cast<long long>(rem / 1000 % 60),
                static_cast<long long>(rem % 1000));
  return buf;
}

std::optional<int64_t> millis_from_iso(const std::string& s) {
  static const std::regex kIso(
      R"(^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?$)");
  std::smatch m;
  if (!std::regex_match(s, m, kIso)) return std::nullopt;
  auto to_int = [&](int g) { return m[g].matched ? std::stoll(m[g].str()) : 0LL; };
  int64_t month = to_int(2), day = to_int(3);
  if (month < 1 || month > 12 || day < 1 || day > 31) return std::nullopt;
  int64_t ms =
      days_from_civil(to_int(1), static_cast<unsigned>(month), static_cast<unsigned>(day)) *
      86400000;
  ms += to_int(4) * 3600000 + to_int(5) * 60000 + to_int(6) * 1000;
  if (m[7].matched) {
    std::string frac = m[7].str() + "00";
    ms += std::stoll(frac.substr(0, 3));
  }
  if (m[8].matched && m[8].str() != "Z") {
    std::string tz = m[8].str();
    int sign = tz[0] == '-' ? -1 : 1;
    std::string digits;
    for (char c : tz.substr(1))
      if (c != ':') digits += c;
    int64_t offset = std::stoll(digits.substr(0, 2)) * 60 + std::stoll(digits.substr(2, 2));
    ms -= sign * offset * 60000;
  }
  return ms;
}

struct Civil {
  int64_t year;
  unsigned month, day, hour, minute, second, millis;
  unsigned day_of_week;  // 1 = Monday .. 7 = Sunday (XPath's F component)
  unsigned day_of_year;
};

Civil civil_from_millis(int64_t ms) {
  int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
  auto rem = static_cast<unsigned>(ms - days * 86400000);
  int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  Civil c{};
  c.day = doy - (153 * mp + 2) / 5 + 1;
  c.month = mp < 10 ? mp + 3 : mp - 9;
  c.year = y + (c.month <= 2);
  c.hour = rem / 3600000;
  c.minute = rem / 60000 % 60;
  c.second = rem / 1000 % 60;
  c.millis = rem % 1000;
  // 1970-01-01 was a Thursday (4).
  c.day_of_week = static_cast<unsigned>(((days % 7) + 7 + 3) % 7) + 1;
  c.day_of_year = static_cast<unsigned>(days - days_from_civil(c.year, 1, 1)) + 1;
  return c;
}

// Parses "+HHMM", "-HH:MM" or "Z"; nullopt when malformed.
std::optional<int> timezone_minutes(const std::string& tz) {
  if (tz == "Z" || tz.empty()) return 0;
  std::string digits;
  for (char c : tz.substr(1))
    if (c != ':') digits += c;
  if ((tz[0] != '+' && tz[0] != '-') || digits.size() != 4 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  int minutes = std::stoi(digits.substr(0, 2)) * 60 + std::stoi(digits.substr(2, 2));
  return tz[0] == '-' ? -minutes : minutes;
}

std::string pad_number(int64_t v, size_t width) {
  std::string s = std::to_string(v < 0 ? -v : v);
  while (s.size() < width) s = "0" + s;
  return v < 0 ? "-" + s : s;
}

std::string apply_case(std::string name, const std::string& presentation) {
  if (presentation == "N") {
    for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  } else if (presentation == "n") {
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return name;
}

// One [component] of an XPath date picture (F&O 3.1 section 9.8.4): the
// component letter, a presentation ("0001", "01", "1", "N", "n", "Nn") and
// an optional ",max-width" modifier for names.
std::string format_component(const std::string& marker, const Civil& c, int tz_minutes) {
  static const char* kMonths[] = {"January",   "February", "March",    "April",
                                  "May",       "June",     "July",     "August",
                                  "September", "October",  "November", "December"};
  static const char* kDays[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                "Friday", "Saturday", "Sunday"};
  std::string spec;
  for (char ch : marker)
    if (ch != ' ' && ch != '\t' && ch != '\n') spec += ch;
  if (spec.empty()) raise("D3132", "Unknown component specifier  in date/time picture string");
  char component = spec[0];
  std::string rest = spec.substr(1);
  size_t comma = rest.find(',');
  std::string presentation = rest.substr(0, comma);
  std::optional<size_t> max_width;
  if (comma != std::string::npos) {
    std::string width = rest.substr(comma + 1);
    size_t dash = width.find('-');
    std::string max = dash == std::string::npos ? "" : width.substr(dash + 1);
    if (!max.empty() && max != "*" && max.size() < 6 &&
        std::all_of(max.begin(), max.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
      max_width = std::stoul(max);
  }
  if (!presentation.empty() && presentation.back() == 't' && component != 'Z')
    presentation.pop_back();
  auto numeric = [&](int64_t v, const char* fallback) {
    std::string p = presentation.empty() ? fallback : presentation;
    size_t width = 0;
    for (char ch : p)
      if (ch >= '0' && ch <= '9') ++width;
    if (width == 0) width = 1;
    return pad_number(v, width);
  };
  auto named = [&](const std::string& name, const char* fallback) {
    std::string p = presentation.empty() ? fallback : presentation;
    std::string out = apply_case(name, p);
    if (max_width && out.size() > *max_width) out = out.substr(0, *max_width);
    return out;
  };
  switch (component) {
    case 'Y': {
      if (presentation.size() == 2 && presentation != "Nn")  // two-digit year
        return pad_number(c.year % 100, 2);
      return numeric(c.year, "1");
    }
    case 'M':
      if (!presentation.empty() && (presentation[0] == 'N' || presentation[0] == 'n'))
        return named(kMonths[c.month - 1], "Nn");
      return numeric(c.month, "1");
    case 'D':
      return numeric(c.day, "1");
    case 'd':
      return numeric(c.day_of_year, "1");
    case 'F':
      if (presentation.empty() || presentation[0] == 'N' || presentation[0] == 'n')
        return named(kDays[c.day_of_week - 1], "n");
      return numeric(c.day_of_week, "1");
    case 'H':
      return numeric(c.hour, "1");
    case 'h':
      return numeric(c.hour % 12 == 0 ? 12 : c.hour % 12, "1");
    case 'P':
      return named(c.hour < 12 ? "am" : "pm", "n");
    case 'm':
      return numeric(c.minute, "01");
    case 's':
      return numeric(c.second, "01");
    case 'f': {
      std::string p = presentation.empty() ? "1" : presentation;
      size_t width = 0;
      for (char ch : p)
        if (ch >= '0' && ch <= '9') ++width;
      std::string ms = pad_number(c.millis, 3);
      if (width <= 3) {
        std::string out = ms.substr(0, std::max<size_t>(width, 1));
        return out;
      }
      return ms + std::string(width - 3, '0');
    }
    case 'Z':
    case 'z': {
      bool t_modifier = !presentation.empty() && presentation.back() == 't';
      if (t_modifier) presentation.pop_back();
      if (t_modifier && tz_minutes == 0) return "Z";
      int a = std::abs(tz_minutes);
      std::string sign = tz_minutes < 0 ? "-" : "+";
      std::string out;
      if (presentation.find(':') != std::string::npos || presentation.empty())
        out = sign + pad_number(a / 60, 2) + ":" + pad_number(a % 60, 2);
      else
        out = sign + pad_number(a / 60, 2) + pad_number(a % 60, 2);
      return component == 'z' ? "GMT" + out : out;
    }
    default:
      raise("D3132", "Unknown component specifier " + quote_json(std::string(1, component)) +
                         " in date/time picture string");
  }
}

std::string format_picture(int64_t ms, const std::string& picture, int tz_minutes) {
  Civil c = civil_from_millis(ms + static_cast<int64_t>(tz_minutes) * 60000);
  std::string out;
  for (size_t i = 0; i < picture.size(); ++i) {
    char ch = picture[i];
    if (ch == '[') {
      if (i + 1 < picture.size() && picture[i + 1] == '[') {
        out += '[';
        ++i;
        continue;
      }
      size_t close = picture.find(']', i);
      if (close == std::string::npos)
        raise("D3135", "No matching closing bracket ']' in date/time picture string");
      out += format_component(picture.substr(i + 1, close - i - 1), c, tz_minutes);
      i = close;
    } else if (ch == ']' && i + 1 < picture.size() && picture[i + 1] == ']') {
      out += ']';
      ++i;
    } else {
      out += ch;
    }
  }
  return out;
}

const char* kIsoPicture = "[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01].[f001][Z01:01t]";

int timezone_argument(const Value& tz) {
  if (!tz.is_string()) return 0;
  auto minutes = timezone_minutes(tz.as_string());
  if (!minutes)
    raise("D3134",
          "The timezone argument must be of the form \u00b1HHMM: " + quote_json(tz.as_string()));
  return *minutes;
}

Value fn_now(Evaluator& ev, Args& a, const Value&) {
  int64_t ms = to_epoch_ms(ev.env().now);
  if (a[0].is_undefined() && a[1].is_undefined()) return str(iso_from_millis(ms));
  std::string picture = a[0].is_string() ? a[0].as_string() : kIsoPicture;
  return str(format_picture(ms, picture, timezone_argument(a[1])));
}

Value fn_millis(Evaluator& ev, Args&, const Value&) {
  return num(static_cast<double>(to_epoch_ms(ev.env().now)));
}

// Reads `text` against an XPath date picture: literal text must match,
// numeric components read their digits (a fixed width when the next item is
// another component, otherwise all digits), M and F also read names, P
// reads am/pm and Z an offset. Absent components default to 1970-01-01
// 00:00:00.000Z. Returns nullopt when the text does not fit.
std::optional<int64_t> millis_from_picture(const std::string& text, const std::string& picture) {
  struct Item {
    bool literal;
    std::string value;  // literal text, or the component marker
  };
  std::vector<Item> items;
  for (size_t i = 0; i < picture.size(); ++i) {
    char c = picture[i];
    if (c == '[' && i + 1 < picture.size() && picture[i + 1] == '[') {
      items.push_back({true, "["});
      ++i;
    } else if (c == '[') {
      size_t close = picture.find(']', i);
      if (close == std::string::npos)
        raise("D3135", "No matching closing bracket ']' in date/time picture string");
      std::string marker;
      for (char m : picture.substr(i + 1, close - i - 1))
        if (m != ' ') marker += m;
      items.push_back({false, marker});
      i = close;
    } else if (c == ']' && i + 1 < picture.size() && picture[i + 1] == ']') {
      items.push_back({true, "]"});
      ++i;
    } else {
      if (items.empty() || !items.back().literal) items.push_back({true, ""});
      items.back().value += c;
    }
  }
  static const char* kMonths[] = {"january",   "february", "march",    "april",
                                  "may",       "june",     "july",     "august",
                                  "september", "october",  "november", "december"};
  int64_t year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0, millis = 0;
  int tz_minutes = 0;
  bool pm = false, has_ampm = false;
  size_t pos = 0;
  auto lower = [](std::string v) {
    for (char& ch : v) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return v;
  };
  for (size_t k = 0; k < items.size(); ++k) {
    const Item& item = items[k];
    if (item.literal) {
      if (text.compare(pos, item.value.size(), item.value) != 0) return std::nullopt;
      pos += item.value.size();
      continue;
    }
    if (item.value.empty()) return std::nullopt;
    char component = item.value[0];
    std::string presentation = item.value.substr(1, item.value.find(',') - 1);
    bool names = !presentation.empty() && (presentation[0] == 'N' || presentation[0] == 'n');
    if ((component == 'M' || component == 'F') && names) {
      std::string rest = lower(text.substr(pos));
      bool found = false;
      if (component == 'M') {
        for (int m = 0; m < 12 && !found; ++m) {
          std::string full = kMonths[m];
          for (size_t len : {full.size(), size_t{3}}) {
            if (rest.compare(0, len, full.substr(0, len)) == 0) {
              month = m + 1;
              pos += len;
              found = true;
              break;
            }
          }
        }
      } else {
        static const char* kDays[] = {"monday", "tuesday",  "wednesday", "thursday",
                                      "friday", "saturday", "sunday"};
        for (const char* d : kDays) {
          std::string full = d;
          for (size_t len : {full.size(), size_t{3}}) {
            if (rest.compare(0, len, full.substr(0, len)) == 0) {
              pos += len;
              found = true;
              break;
            }
          }
          if (found) break;
        }
      }
      if (!found) return std::nullopt;
      continue;
    }
    if (component == 'P') {
      std::string rest = lower(text.substr(pos, 2));
      if (rest != "am" && rest != "pm") return std::nullopt;
      has_ampm = true;
      pm = rest == "pm";
      pos += 2;
      continue;
    }
    if (component == 'Z' || component == 'z') {
      if (component == 'z' && text.compare(pos, 3, "GMT") == 0) pos += 3;
      if (pos < text.size() && text[pos] == 'Z') {
        ++pos;
        continue;
      }
      size_t start = pos;
      if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) ++pos;
      while (pos < text.size() &&
             (std::isdigit(static_cast<unsigned char>(text[pos])) || text[pos] == ':'))
        ++pos;
      auto minutes = timezone_minutes(text.substr(start, pos - start));
      if (!minutes) return std::nullopt;
      tz_minutes = *minutes;
      continue;
    }
    size_t width = 0;
    for (char ch : presentation)
      if (ch >= '0' && ch <= '9') ++width;
    bool fixed = k + 1 < items.size() && !items[k + 1].literal && width > 0;
    size_t start = pos;
    bool negative = component == 'Y' && pos < text.size() && text[pos] == '-';
    if (negative) ++pos;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])) &&
           (!fixed || pos - start < width) && pos - start < 12)
      ++pos;
    if (pos == start) return std::nullopt;
    std::string digits =
        text.substr(negative ? start + 1 : start, pos - start - (negative ? 1 : 0));
    if (digits.empty()) return std::nullopt;
    int64_t v = std::stoll(digits);
    switch (component) {
      case 'Y':
        year = negative ? -v : v;
        break;
      case 'M':
        month = v;
        break;
      case 'D':
        day = v;
        break;
      case 'H':
      case 'h':
        hour = v;
        break;
      case 'm':
        minute = v;
        break;
      case 's':
        second = v;
        break;
      case 'f': {
        std::string ms = (digits + "000").substr(0, 3);
        millis = std::stoll(ms);
        break;
      }
      default:
        raise("D3132", "Unknown component specifier " + quote_json(std::string(1, component)) +
                           " in date/time picture string");
    }
  }
  if (pos != text.size()) return std::nullopt;
  if (has_ampm) {
    if (hour == 12) hour = 0;
    if (pm) hour += 12;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
    return std::nullopt;
  int64_t ms =
      days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400000;
  ms += hour * 3600000 + minute * 60000 + second * 1000 + millis;
  return ms - static_cast<int64_t>(tz_minutes) * 60000;
}

Value fn_to_millis(Evaluator&, Args& a, const Value&) {
  if (a[0].is_undefined()) return Value();
  if (a[1].is_string()) {
    auto ms = millis_from_picture(a[0].as_string(), a[1].as_string());
    if (!ms) return Value();  // as JSONata: a timestamp that does not fit gives undefined
    return num(static_cast<double>(*ms));
  }
  auto ms = millis_from_iso(a[0].as_string());
  if (!ms)
    raise("D3110",
          "The argument of the toMillis function must be an ISO 8601 formatted timestamp. Given " +
              quote_json(a[0].as_string()));
  return num(static_cast<double>(*ms));
}

Value fn_from_millis(Evaluator&, Args& a, const Value&) {
  if (a[0].is_undefined()) return Value();
  auto ms = static_cast<int64_t>(std::floor(a[0].as_number()));
  if (a[1].is_undefined() && a[2].is_undefined()) return str(iso_from_millis(ms));
  std::string picture = a[1].is_string() ? a[1].as_string() : kIsoPicture;
  return str(format_picture(ms, picture, timezone_argument(a[2])));
}

// ---------------------------------------------------------------------------
// Step Functions additions

Value fn_partition(Evaluator&, Args& a, const Value&) {
  if (a[0].is_undefined()) return Value();
  double size = a[1].as_number();
  if (!(size >= 1) || size != std::floor(size))
    raise("D3160", "The size argument of the partition function must be a positive integer: " +
                       format_number(size));
  auto chunk = static_cast<size_t>(size);
  std::vector<Value> out, current;
  for (size_t i = 0; i < a[0].size(); ++i) {
    current.push_back(a[0].at(i));
    if (current.size() == chunk) {
      out.push_back(Value::array(std::move(current)));
      current.clear();
    }
  }
  if (!current.empty()) out.push_back(Value::array(std::move(current)));
  Value result = Value::array(std::move(out));
  return result;
}

Value fn_range(Evaluator&, Args& a, const Value&) {
  if (a[0].is_undefined() || a[1].is_undefined()) return Value();
  double start = a[0].as_number(), end = a[1].as_number();
  double step = a[2].is_undefined() ? 1 : a[2].as_number();
  if (step == 0 || !std::isfinite(step))
    raise("D3161", "The step argument of the range function must be a non-zero number");
  double count = std::floor((end - start) / step) + 1;
  if (count > 1e6)
    raise("D2014",
          "The size of the sequence allocated by the range operator (..) must not exceed 1e6.  "
          "Attempted to allocate " +
              format_number(count) + ".");
  std::vector<Value> out;
  for (double i = 0; i < count; i += 1) out.push_back(num(start + i * step));
  return Value::array(std::move(out));
}

Value fn_hash(Evaluator&, Args& a, const Value&) {
  if (a[0].is_undefined()) return Value();
  if (!a[1].is_string())
    raise("T0410", "Argument 2 of function \"hash\" does not match function signature");
  const std::string& algorithm = a[1].as_string();
  auto digest = hex_digest(algorithm, a[0].as_string());
  if (!digest)
    raise("D3162", "The hash algorithm " + quote_json(algorithm) +
                       " is not supported; use MD5, SHA-1, SHA-256, SHA-384 or SHA-512");
  return str(*digest);
}

Value fn_uuid(Evaluator& ev, Args&, const Value&) {
  if (ev.env().rng == nullptr)
    raise("D3170", "The $uuid function needs a random source, and none was given");
  return str(make_uuid(*ev.env().rng));
}

Value fn_parse(Evaluator&, Args& a, const Value&) {
  if (a[0].is_undefined()) return Value();
  json j = json::parse(a[0].as_string(), nullptr, false);
  if (j.is_discarded())
    raise("D3163",
          "The argument of the parse function is not valid JSON: " + quote_json(a[0].as_string()));
  return Value::own(std::move(j));
}

// ---------------------------------------------------------------------------
// Registry

struct Spec {
  const char* name;
  const char* signature;
  BuiltinFn fn;
};

const Spec kSpecs[] = {
    {"sum", "<a<n>:n>", fn_sum},
    {"count", "<a:n>", fn_count},
    {"max", "<a<n>:n>", fn_max},
    {"min", "<a<n>:n>", fn_min},
    {"average", "<a<n>:n>", fn_average},
    {"string", "<x-b?:s>", fn_string},
    {"substring", "<s-nn?:s>", fn_substring},
    {"substringBefore", "<s-s:s>", fn_substring_before},
    {"substringAfter", "<s-s:s>", fn_substring_after},
    {"lowercase", "<s-:s>", fn_lowercase},
    {"uppercase", "<s-:s>", fn_uppercase},
    {"length", "<s-:n>", fn_length},
    {"trim", "<s-:s>", fn_trim},
    {"pad", "<s-ns?:s>", fn_pad},
    {"match", "<s-fn?:a<o>>", fn_match},
    {"contains", "<s-(sf):b>", fn_contains},
    {"replace", "<s-(sf)(sf)n?:s>", fn_replace},
    {"split", "<s-(sf)n?:a<s>>", fn_split},
    {"join", "<a<s>s?:s>", fn_join},
    {"formatNumber", "<n-so?:s>", fn_format_number},
    {"formatBase", "<n-n?:s>", fn_format_base},
    {"formatInteger", "<n-s:s>", fn_format_integer},
    {"parseInteger", "<s-s:n>", fn_parse_integer},
    {"number", "<(nsb)-:n>", fn_number},
    {"floor", "<n-:n>", fn_floor},
    {"ceil", "<n-:n>", fn_ceil},
    {"round", "<n-n?:n>", fn_round},
    {"abs", "<n-:n>", fn_abs},
    {"sqrt", "<n-:n>", fn_sqrt},
    {"power", "<n-n:n>", fn_power},
    {"random", "<n?:n>", fn_random},
    {"boolean", "<x-:b>", fn_boolean},
    {"not", "<x-:b>", fn_not},
    {"map", "<af>", fn_map},
    {"zip", "<a+>", fn_zip},
    {"filter", "<af>", fn_filter},
    {"single", "<af?>", fn_single},
    {"reduce", "<afj?:j>", fn_reduce},
    {"sift", "<o-f?:o>", fn_sift},
    {"keys", "<x-:a<s>>", fn_keys},
    {"lookup", "<x-s:x>", fn_lookup},
    {"append", "<xx:a>", fn_append},
    {"exists", "<x:b>", fn_exists},
    {"spread", "<x-:a<o>>", fn_spread},
    {"merge", "<a<o>:o>", fn_merge},
    {"reverse", "<a:a>", fn_reverse},
    {"each", "<o-f:a>", fn_each},
    {"error", "<s?:x>", fn_error},
    {"assert", "<bs?:x>", fn_assert},
    {"type", "<x:s>", fn_type},
    {"sort", "<af?:a>", fn_sort},
    {"shuffle", "<a:a>", fn_shuffle},
    {"distinct", "<x:x>", fn_distinct},
    {"base64encode", "<s-:s>", fn_base64encode},
    {"base64decode", "<s-:s>", fn_base64decode},
    {"encodeUrlComponent", "<s-:s>", fn_encode_url_component},
    {"encodeUrl", "<s-:s>", fn_encode_url},
    {"decodeUrlComponent", "<s-:s>", fn_decode_url_component},
    {"decodeUrl", "<s-:s>", fn_decode_url},
    {"toMillis", "<s-s?:n>", fn_to_millis},
    {"fromMillis", "<n-s?s?:s>", fn_from_millis},
    {"clone", "<(oa)-:o>", fn_clone},
    {"now", "<s?s?:s>", fn_now},
    {"millis", "<:n>", fn_millis},
    {"partition", "<an:a>", fn_partition},
    {"range", "<nnn?:a>", fn_range},
    {"hash", "<ss:s>", fn_hash},
    {"uuid", "<:s>", fn_uuid},
    {"parse", "<s:j>", fn_parse},
};

const std::map<std::string, Builtin>& registry() {
  static const std::map<std::string, Builtin> kRegistry = [] {
    std::map<std::string, Builtin> m;
    for (const auto& spec : kSpecs) {
      Builtin b;
      b.name = spec.name;
      b.params = parse_signature(spec.signature);
      b.fn = spec.fn;
      b.arity = static_cast<int>(std::count_if(
          b.params.begin(), b.params.end(), [](const SignatureParam& p) { return !p.optional; }));
      m.emplace(spec.name, std::move(b));
    }
    return m;
  }();
  return kRegistry;
}

}  // namespace

std::vector<std::string> builtin_names() {
  std::vector<std::string> names;
  for (const auto& [name, b] : registry()) names.push_back(name);
  return names;
}

const Builtin* find_builtin(const std::string& name) {
  const auto& r = registry();
  auto it = r.find(name);
  return it == r.end() ? nullptr : &it->second;
}

}  // namespace helix::jsonata
