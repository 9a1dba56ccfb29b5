// Value: what a JSONata expression evaluates to while it runs.
//
// Owns: JSONata's value model over nlohmann::json: "undefined" (no match),
// JSON scalars, arrays and objects, functions and regular expressions, and
// the sequence flags that drive JSONata's flattening rules. Does not own
// evaluation (evaluator.h) or the function library (functions.cpp).
//
// Invariants:
// - A Value either borrows a node of a json tree (json_backed(): the tree is
//   the caller's input or an Environment variable, alive for the whole
//   evaluation, or a tree kept alive by holder_) or owns its data. Borrowing
//   is what lets "$states.input.a.b" navigate without copying the input.
// - Numbers are doubles as in JavaScript; whole numbers turn back into JSON
//   integers in to_json() (Step Functions prints 3, not 3.0).
// - The flags (sequence, keep_singleton, cons) belong to the handle, not to
//   the shared items, so setting one never changes another Value.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace helix::jsonata {

class Value;
struct Function;
struct Regex;

struct ArrayData {
  std::vector<Value> items;
};
// Keys sorted, as nlohmann::json keeps them; JSONata keeps insertion order,
// which no JSON value crossing this API can carry anyway.
struct ObjectData {
  std::map<std::string, Value> items;
};

class Value {
 public:
  enum class Kind : uint8_t {
    kUndefined,
    kNull,
    kBool,
    kNumber,
    kString,
    kArray,
    kObject,
    kFunction,
    kRegex
  };

  Value() = default;
  static Value null() { return Value(Kind::kNull); }
  static Value boolean(bool b) {
    Value v(Kind::kBool);
    v.bool_ = b;
    return v;
  }
  static Value number(double d) {
    Value v(Kind::kNumber);
    v.number_ = d;
    return v;
  }
  static Value string(std::string s);
  // Borrows `j` (and everything under it); `holder` keeps it alive, or is
  // null when the tree outlives the evaluation.
  static Value borrow(const nlohmann::json& j, std::shared_ptr<const void> holder = nullptr);
  static Value own(nlohmann::json j);
  static Value array(std::vector<Value> items = {});
  static Value sequence(std::vector<Value> items = {});
  static Value object(std::map<std::string, Value> items);
  static Value function(std::shared_ptr<const Function> f);
  static Value regex(std::shared_ptr<const Regex> r);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_number() const { return kind_ == Kind::kNumber; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_array() const { return kind_ == Kind::kArray; }
  bool is_object() const { return kind_ == Kind::kObject; }
  bool is_function() const { return kind_ == Kind::kFunction || kind_ == Kind::kRegex; }
  bool is_lambda_or_builtin() const { return kind_ == Kind::kFunction; }
  bool is_regex() const { return kind_ == Kind::kRegex; }

  bool as_bool() const { return bool_; }
  double as_number() const { return number_; }
  const std::string& as_string() const { return *static_cast<const std::string*>(ptr_); }
  const Function& as_function() const { return *static_cast<const Function*>(ptr_); }
  std::shared_ptr<const Function> function_ptr() const;
  const Regex& as_regex() const { return *static_cast<const Regex*>(ptr_); }

  // Arrays.
  size_t size() const;
  Value at(size_t i) const;
  // Objects: undefined when the key is absent.
  Value get(const std::string& key) const;
  std::vector<std::string> keys() const;
  template <class F>
  void for_each_entry(F&& f) const {
    if (json_backed_) {
      const auto& j = *static_cast<const nlohmann::json*>(ptr_);
      for (auto it = j.begin(); it != j.end(); ++it)
        f(it.key(), Value::borrow(it.value(), holder_));
    } else {
      for (const auto& [k, v] : static_cast<const ObjectData*>(ptr_)->items) f(k, v);
    }
  }
  std::vector<Value> items() const;  // the items of an array
  // The json node a borrowed array or object reads; null otherwise.
  const nlohmann::json* json_node() const {
    return json_backed_ ? static_cast<const nlohmann::json*>(ptr_) : nullptr;
  }

  // Sequence flags (JSONata's `sequence`, `keepSingleton`, `cons`,
  // `outerWrapper`).
  bool is_sequence() const { return is_array() && sequence_; }
  bool keep_singleton() const { return keep_singleton_; }
  bool is_cons() const { return cons_; }
  bool is_outer_wrapper() const { return outer_wrapper_; }
  // A sequence of tuples (objects holding "@" and bound variables) that a
  // path hands up to the path containing it, for the parent operator.
  bool is_tuple_stream() const { return tuple_stream_; }
  void set_tuple_stream(bool b) { tuple_stream_ = b; }
  void set_sequence(bool b) { sequence_ = b; }
  void set_keep_singleton(bool b) { keep_singleton_ = b; }
  void set_cons(bool b) { cons_ = b; }
  void set_outer_wrapper(bool b) { outer_wrapper_ = b; }

  // The JSON form; functions inside arrays become null and inside objects
  // are left out (JSON.stringify's rule). Precondition: not undefined and
  // not a function.
  nlohmann::json to_json() const;

 private:
  explicit Value(Kind k) : kind_(k) {}

  Kind kind_ = Kind::kUndefined;
  bool bool_ = false;
  bool json_backed_ = false;
  bool sequence_ = false;
  bool keep_singleton_ = false;
  bool cons_ = false;
  bool outer_wrapper_ = false;
  bool tuple_stream_ = false;
  double number_ = 0;
  // String: std::string*; array: json* or ArrayData*; object: json* or
  // ObjectData*; function: Function*; regex: Regex*.
  const void* ptr_ = nullptr;
  std::shared_ptr<const void> holder_;
};

// A compiled regular expression literal (/pattern/flags).
struct Regex {
  std::string source;
  std::string flags;
  std::regex re;
};

// JavaScript's Number.prototype.toString for finite doubles, after JSONata's
// rounding to 15 significant digits: 0.1 + 0.2 -> "0.3", 1e21 -> "1e+21".
std::string format_number(double d);

// JSONata's $string serialisation of a non-string value (JSON.stringify
// with JSONata's number rounding), compact or indented by two spaces.
std::string stringify(const Value& v, bool pretty);

// Deep equality as JSONata's = operator (numbers by value, arrays by
// position, objects by keys).
bool deep_equal(const Value& a, const Value& b);

// UTF-8 helpers: JSONata counts and slices strings by code point.
std::vector<char32_t> to_code_points(const std::string& s);
std::string from_code_points(const char32_t* begin, const char32_t* end);
void append_utf8(std::string& out, char32_t cp);

}  // namespace helix::jsonata
