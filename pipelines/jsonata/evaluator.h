// The JSONata evaluator: walks a processed tree (node.h) against an input.
//
// Owns: JSONata's evaluation rules (paths and sequence flattening,
// predicates, grouping, order-by, tuple streams for @, # and %, operators,
// variables and frames, lambdas, partial application, ~>, the transform
// operator), and the calling convention shared with the function library
// (signature checking, context arguments). Does not own: the functions
// themselves (functions.cpp).
//
// Lifetimes: an Evaluator lives for one Expression::evaluate() call. Its
// frames sit in a deque that only grows, so a lambda's closure can point at
// its frame directly (no reference cycles between closures and frames).
// Function values never outlive the call: a function result is refused
// (U1002) and functions inside a result are dropped by to_json().
//
// Errors travel as a thrown Failure inside the evaluator and the library;
// Expression::evaluate() turns them into EvalError, so nothing is thrown
// across the public API.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "pipelines/jsonata/jsonata.h"
#include "pipelines/jsonata/node.h"
#include "pipelines/jsonata/value.h"

namespace helix::jsonata {

struct Failure {
  EvalError error;
};

// Throws a Failure with `code` and `message`.
[[noreturn]] void raise(const std::string& code, const std::string& message, int position = -1);

class Evaluator;

using BuiltinFn = Value (*)(Evaluator& ev, std::vector<Value>& args, const Value& input);

struct Builtin {
  std::string name;
  std::vector<SignatureParam> params;
  BuiltinFn fn;
  int arity;  // how many arguments $map and friends pass to it
};

// Looks up a library function by name (without '$'); null when unknown.
const Builtin* find_builtin(const std::string& name);
// The names of all library functions.
std::vector<std::string> builtin_names();

// Checks and completes `args` against `b`'s signature (context argument,
// singleton arrays), or throws T0410 / T0411 / T0412.
void validate_arguments(const Builtin& b, std::vector<Value>& args, const Value& input);
// The same for a lambda declared with a signature, function($x)<n:n>{...};
// `name` is the function's name in error messages.
void validate_arguments(const std::string& name, const std::vector<SignatureParam>& params,
                        std::vector<Value>& args, const Value& input);

struct Frame {
  std::vector<std::pair<std::string, Value>> vars;
  Frame* parent = nullptr;
};

struct Function {
  enum class Kind { kLambda, kBuiltin, kPartial, kChain, kTransform };
  Kind kind = Kind::kLambda;
  // kLambda; kTransform (lambda is then the | | node)
  const Expression::Node* lambda = nullptr;
  Frame* closure = nullptr;
  Value input;
  // kBuiltin
  const Builtin* builtin = nullptr;
  // kPartial: target with `bound` values where is_placeholder is false.
  // kChain: target then second (f ~> g).
  std::shared_ptr<const Function> target, second;
  std::vector<Value> bound;
  std::vector<bool> is_placeholder;

  int arity() const;
};

// One tuple of a path that binds @$focus or #$index variables: the
// context item ("@") and the variables bound so far.
struct Tuple {
  Value at;
  std::vector<std::pair<std::string, Value>> vars;
  void set(const std::string& name, Value v);
};

class Evaluator {
 public:
  Evaluator(const Environment& env, Value root) : env_(env), root_(std::move(root)) {}

  Value evaluate(const Expression::Node& node, const Value& input, Frame* frame);

  // Calls a function value with arguments (the library's callback into the
  // evaluator for $map, $filter, $sort ...).
  Value apply(const Value& fn, std::vector<Value> args, const Value& input);

  const Environment& env() const { return env_; }
  Frame* new_frame(Frame* parent);
  Frame* global() { return &global_; }

 private:
  Value lookup(const std::string& name, Frame* frame);
  Value evaluate_path(const Expression::Node& node, const Value& input, Frame* frame);
  Value evaluate_step(const Expression::Node& step, const Value& input_sequence, Frame* frame,
                      bool last_step);
  Value evaluate_filter(const Expression::Node& predicate, const Value& input, Frame* frame);
  std::vector<Tuple> evaluate_tuple_step(const Expression::Node& step, const Value& input_sequence,
                                         const std::vector<Tuple>* bindings, Frame* frame);
  std::vector<Tuple> filter_tuples(const Expression::Node& predicate, std::vector<Tuple> tuples,
                                   Frame* frame);
  std::vector<Tuple> apply_tuple_stages(const Expression::Node& step, std::vector<Tuple> tuples,
                                        Frame* frame);
  Value group_tuples(const Expression::Node& group, const std::vector<Tuple>& tuples, Frame* frame);
  std::vector<size_t> sort_order(const Expression::Node& sort, const std::vector<Value>& contexts,
                                 const std::vector<Frame*>& frames);
  Frame* frame_from_tuple(Frame* parent, const Tuple& t);
  Value evaluate_group(const Expression::Node& group, const Value& input, Frame* frame);
  Value evaluate_sort(const Expression::Node& sort, const Value& input, Frame* frame);
  Value evaluate_binary(const Expression::Node& node, const Value& input, Frame* frame);
  Value evaluate_array(const Expression::Node& node, const Value& input, Frame* frame);
  Value evaluate_call(const Expression::Node& node, const Value& input, Frame* frame,
                      const Value* applied);
  Value evaluate_partial(const Expression::Node& node, const Value& input, Frame* frame);
  Value evaluate_apply(const Expression::Node& node, const Value& input, Frame* frame);
  Value apply_inner(const Function& fn, std::vector<Value> args, const Value& input);
  Value apply_transform(const Function& fn, const Value& target);

  const Environment& env_;
  Value root_;
  Frame global_;
  std::deque<Frame> frames_;
  int depth_ = 0;
};

// JSONata's truthiness ($boolean); undefined stays undefined (nullopt).
std::optional<bool> to_boolean(const Value& v);
// fn.append: concatenates two values into a plain array.
Value append_values(const Value& a, const Value& b);
// Drops the sequence wrapper: an empty sequence is undefined, a singleton
// its item (unless keep_singleton).
Value normalise_sequence(Value v);
// A new plain array or sequence from `v` (undefined -> empty).
std::vector<Value> as_items(const Value& v);
// $string: strings as they are, numbers as JavaScript prints them, other
// values as JSON; undefined stays undefined. D3001 for NaN or Infinity.
Value string_of(const Value& v, bool pretty = false);
// A value for error messages: JSON.stringify's text, "undefined" for undefined.
std::string describe_value(const Value& v);
// The type name JSONata's $type gives.
std::string type_name(const Value& v);

}  // namespace helix::jsonata
