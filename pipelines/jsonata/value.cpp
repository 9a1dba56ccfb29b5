#include "pipelines/jsonata/value.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "common/text.h"

namespace helix::jsonata {

using nlohmann::json;

Value Value::string(std::string s) {
  Value v(Kind::kString);
  auto p = std::make_shared<const std::string>(std::move(s));
  v.ptr_ = p.get();
  v.holder_ = std::move(p);
  return v;
}

Value Value::borrow(const json& j, std::shared_ptr<const void> holder) {
  switch (j.type()) {
    case json::value_t::null:
    case json::value_t::discarded:
      return null();
    case json::value_t::boolean:
      return boolean(j.get<bool>());
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return number(j.get<double>());
    case json::value_t::string: {
      Value v(Kind::kString);
      v.ptr_ = j.get_ptr<const std::string*>();
      v.holder_ = std::move(holder);
      return v;
    }
    case json::value_t::array:
    case json::value_t::object: {
      Value v(j.is_array() ? Kind::kArray : Kind::kObject);
      v.json_backed_ = true;
      v.ptr_ = &j;
      v.holder_ = std::move(holder);
      return v;
    }
    case json::value_t::binary:
      break;
  }
  return null();
}

Value Value::own(json j) {
  auto p = std::make_shared<const json>(std::move(j));
  const json& ref = *p;
  return borrow(ref, std::move(p));
}

Value Value::array(std::vector<Value> items) {
  Value v(Kind::kArray);
  auto p = std::make_shared<ArrayData>();
  p->items = std::move(items);
  v.ptr_ = p.get();
  v.holder_ = std::move(p);
  return v;
}

Value Value::sequence(std::vector<Value> items) {
  Value v = array(std::move(items));
  v.sequence_ = true;
  return v;
}

Value Value::object(std::map<std::string, Value> items) {
  Value v(Kind::kObject);
  auto p = std::make_shared<ObjectData>();
  p->items = std::move(items);
  v.ptr_ = p.get();
  v.holder_ = std::move(p);
  return v;
}

Value Value::function(std::shared_ptr<const Function> f) {
  Value v(Kind::kFunction);
  v.ptr_ = f.get();
  v.holder_ = std::move(f);
  return v;
}

Value Value::regex(std::shared_ptr<const Regex> r) {
  Value v(Kind::kRegex);
  v.ptr_ = r.get();
  v.holder_ = std::move(r);
  return v;
}

std::shared_ptr<const Function> Value::function_ptr() const {
  return std::shared_ptr<const Function>(holder_, static_cast<const Function*>(ptr_));
}

size_t Value::size() const {
  if (!is_array()) return 0;
  if (json_backed_) return static_cast<const json*>(ptr_)->size();
  return static_cast<const ArrayData*>(ptr_)->items.size();
}

Value Value::at(size_t i) const {
  if (json_backed_) return borrow((*static_cast<const json*>(ptr_))[i], holder_);
  return static_cast<const ArrayData*>(ptr_)->items[i];
}

std::vector<Value> Value::items() const {
  if (!is_array()) return {};
  if (!json_backed_) return static_cast<const ArrayData*>(ptr_)->items;
  std::vector<Value> out;
  const auto& j = *static_cast<const json*>(ptr_);
  out.reserve(j.size());
  for (const auto& e : j) out.push_back(borrow(e, holder_));
  return out;
}

Value Value::get(const std::string& key) const {
  if (!is_object()) return Value();
  if (json_backed_) {
    const auto& j = *static_cast<const json*>(ptr_);
    auto it = j.find(key);
    if (it == j.end()) return Value();
    return borrow(*it, holder_);
  }
  const auto& m = static_cast<const ObjectData*>(ptr_)->items;
  auto it = m.find(key);
  if (it == m.end()) return Value();
  return it->second;
}

std::vector<std::string> Value::keys() const {
  std::vector<std::string> out;
  for_each_entry([&](const std::string& k, const Value&) { out.push_back(k); });
  return out;
}

// Whole doubles within 2^53 print as integers, as JavaScript prints them.
static json number_to_json(double d) {
  if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) <= 9007199254740992.0) {
    return json(static_cast<int64_t>(d));
  }
  return json(d);
}

// Turns whole floats (3.0) into integers in place; most documents have
// none, so a plain copy plus this walk is cheaper than rebuilding.
static void normalise_json(json& j) {
  switch (j.type()) {
    case json::value_t::number_float:
      j = number_to_json(j.get<double>());
      break;
    case json::value_t::array:
    case json::value_t::object:
      for (auto& e : j) normalise_json(e);
      break;
    default:
      break;
  }
}

json Value::to_json() const {
  switch (kind_) {
    case Kind::kUndefined:
    case Kind::kNull:
    case Kind::kFunction:
    case Kind::kRegex:
      return nullptr;
    case Kind::kBool:
      return bool_;
    case Kind::kNumber:
      return number_to_json(number_);
    case Kind::kString:
      return as_string();
    case Kind::kArray:
    case Kind::kObject:
      break;
  }
  if (json_backed_) {
    json out = *static_cast<const json*>(ptr_);
    normalise_json(out);
    return out;
  }
  if (kind_ == Kind::kArray) {
    json out = json::array();
    for (const auto& e : static_cast<const ArrayData*>(ptr_)->items) {
      if (e.is_undefined()) continue;
      out.push_back(e.to_json());
    }
    return out;
  }
  json out = json::object();
  for (const auto& [k, v] : static_cast<const ObjectData*>(ptr_)->items) {
    if (v.is_undefined() || v.is_function()) continue;
    out[k] = v.to_json();
  }
  return out;
}

std::string format_number(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  if (d == 0) return "0";
  // JSONata rounds to 15 significant digits before printing.
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15g", d);
  double r = std::strtod(buf, nullptr);
  // Shortest round-trip digits of r in scientific form: "d.ddde±x".
  char sci[64];
  auto res = std::to_chars(sci, sci + sizeof sci, r, std::chars_format::scientific);
  std::string s(sci, res.ptr);
  bool negative = false;
  if (s[0] == '-') {
    negative = true;
    s.erase(0, 1);
  }
  size_t e = s.find('e');
  std::string mantissa = s.substr(0, e);
  int exponent = std::atoi(s.c_str() + e + 1);
  std::string digits;
  for (char c : mantissa)
    if (c != '.') digits += c;
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  int k = static_cast<int>(digits.size());
  int n = exponent + 1;  // position of the decimal point
  std::string out;
  if (k <= n && n <= 21) {
    out = digits + std::string(n - k, '0');
  } else if (0 < n && n <= 21) {
    out = digits.substr(0, n) + "." + digits.substr(n);
  } else if (-6 < n && n <= 0) {
    out = "0." + std::string(-n, '0') + digits;
  } else {
    out = digits.substr(0, 1);
    if (k > 1) out += "." + digits.substr(1);
    out += "e";
    out += (n - 1 >= 0) ? "+" : "-";
    out += std::to_string(std::abs(n - 1));
  }
  return negative ? "-" + out : out;
}

static void quote(std::string& out, const std::string& s) { append_json_quoted(out, s); }

static void stringify_into(std::string& out, const Value& v, bool pretty, int depth) {
  auto newline = [&](int d) {
    if (!pretty) return;
    out += '\n';
    out.append(static_cast<size_t>(d) * 2, ' ');
  };
  switch (v.kind()) {
    case Value::Kind::kUndefined:
    case Value::Kind::kNull:
      out += "null";
      return;
    case Value::Kind::kBool:
      out += v.as_bool() ? "true" : "false";
      return;
    case Value::Kind::kNumber:
      out += format_number(v.as_number());
      return;
    case Value::Kind::kString:
      quote(out, v.as_string());
      return;
    case Value::Kind::kFunction:
    case Value::Kind::kRegex:
      out += "\"\"";
      return;
    case Value::Kind::kArray: {
      size_t n = v.size();
      if (n == 0) {
        out += "[]";
        return;
      }
      out += '[';
      for (size_t i = 0; i < n; ++i) {
        if (i) out += ',';
        newline(depth + 1);
        Value e = v.at(i);
        if (e.is_function())
          out += "null";
        else
          stringify_into(out, e, pretty, depth + 1);
      }
      newline(depth);
      out += ']';
      return;
    }
    case Value::Kind::kObject: {
      bool first = true;
      out += '{';
      v.for_each_entry([&](const std::string& k, const Value& e) {
        if (e.is_undefined() || e.is_function()) return;
        if (!first) out += ',';
        first = false;
        newline(depth + 1);
        quote(out, k);
        out += pretty ? ": " : ":";
        stringify_into(out, e, pretty, depth + 1);
      });
      if (!first) newline(depth);
      out += '}';
      return;
    }
  }
}

std::string stringify(const Value& v, bool pretty) {
  std::string out;
  stringify_into(out, v, pretty, 0);
  return out;
}

bool deep_equal(const Value& a, const Value& b) {
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Value::Kind::kUndefined:
    case Value::Kind::kNull:
      return true;
    case Value::Kind::kBool:
      return a.as_bool() == b.as_bool();
    case Value::Kind::kNumber:
      return a.as_number() == b.as_number();
    case Value::Kind::kString:
      return a.as_string() == b.as_string();
    case Value::Kind::kArray: {
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); ++i)
        if (!deep_equal(a.at(i), b.at(i))) return false;
      return true;
    }
    case Value::Kind::kObject: {
      auto ka = a.keys();
      auto kb = b.keys();
      if (ka != kb) return false;
      for (const auto& k : ka)
        if (!deep_equal(a.get(k), b.get(k))) return false;
      return true;
    }
    case Value::Kind::kFunction:
    case Value::Kind::kRegex:
      return &a.as_function() == &b.as_function();
  }
  return false;
}

std::vector<char32_t> to_code_points(const std::string& s) {
  std::vector<char32_t> out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    char32_t cp;
    int len;
    if (c < 0x80) {
      cp = c;
      len = 1;
    } else if ((c >> 5) == 6) {
      cp = c & 0x1f;
      len = 2;
    } else if ((c >> 4) == 14) {
      cp = c & 0x0f;
      len = 3;
    } else if ((c >> 3) == 30) {
      cp = c & 0x07;
      len = 4;
    } else {
      cp = 0xfffd;
      len = 1;
    }
    if (i + len > s.size()) {
      cp = 0xfffd;
      len = 1;
    } else {
      for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
    }
    out.push_back(cp);
    i += len;
  }
  return out;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

std::string from_code_points(const char32_t* begin, const char32_t* end) {
  std::string out;
  for (const char32_t* p = begin; p < end; ++p) append_utf8(out, *p);
  return out;
}

}  // namespace helix::jsonata
