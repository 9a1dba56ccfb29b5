#include "pipelines/jsonata/evaluator.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace helix::jsonata {

namespace {

// Deep enough for recursive lambdas over real data (a non-tail-recursive
// lambda uses about 4 levels per call: some 500 calls), shallow enough that
// a runaway recursion fails with U1001 before it exhausts a thread's stack
// (about 1 MiB in a release build, 4 MiB under AddressSanitizer).
constexpr int kMaxDepth = 2000;

struct DepthGuard {
  explicit DepthGuard(int& depth) : depth_(depth) {
    if (++depth_ > kMaxDepth)
      raise("U1001",
            "Stack overflow error: Check for non-terminating recursive function.  Consider "
            "rewriting as tail-recursive.");
  }
  ~DepthGuard() { --depth_; }
  DepthGuard(const DepthGuard&) = delete;
  DepthGuard& operator=(const DepthGuard&) = delete;
  int& depth_;
};

std::string quote_json(const std::string& s) { return stringify(Value::string(s), false); }

void flatten_into(const Value& v, std::vector<Value>& out) {
  if (v.is_array()) {
    for (size_t i = 0; i < v.size(); ++i) flatten_into(v.at(i), out);
  } else {
    out.push_back(v);
  }
}

Value lookup_field(const Value& input, const std::string& name) {
  if (input.is_array()) {
    std::vector<Value> out;
    for (size_t i = 0; i < input.size(); ++i) {
      Value res = lookup_field(input.at(i), name);
      if (res.is_undefined()) continue;
      if (res.is_array()) {
        for (size_t k = 0; k < res.size(); ++k) out.push_back(res.at(k));
      } else {
        out.push_back(std::move(res));
      }
    }
    return Value::sequence(std::move(out));
  }
  if (input.is_object()) return input.get(name);
  return Value();
}

void descendants(const Value& v, std::vector<Value>& out) {
  if (!v.is_array()) out.push_back(v);
  if (v.is_array()) {
    for (size_t i = 0; i < v.size(); ++i) descendants(v.at(i), out);
  } else if (v.is_object()) {
    v.for_each_entry([&](const std::string&, const Value& e) { descendants(e, out); });
  }
}

bool is_integer(double d) { return std::isfinite(d) && d == std::floor(d); }

// One immutable function value per library function, made once; lookups
// then copy a handle instead of allocating.
Value builtin_value(const std::string& name) {
  static const std::map<std::string, Value, std::less<>> kValues = [] {
    std::map<std::string, Value, std::less<>> m;
    for (const std::string& n : builtin_names()) {
      auto fn = std::make_shared<Function>();
      fn->kind = Function::Kind::kBuiltin;
      fn->builtin = find_builtin(n);
      m.emplace(n, Value::function(std::move(fn)));
    }
    return m;
  }();
  auto it = kValues.find(name);
  return it == kValues.end() ? Value() : it->second;
}

}  // namespace

void raise(const std::string& code, const std::string& message, int position) {
  throw Failure{EvalError{code, message, position}};
}

std::string describe_value(const Value& v) {
  if (v.is_undefined()) return "undefined";
  if (v.is_number()) return format_number(v.as_number());
  return stringify(v, false);
}

Value string_of(const Value& v, bool pretty) {
  if (v.is_undefined()) return v;
  if (v.is_string()) return v;
  if (v.is_function()) return Value::string("");
  if (v.is_number() && !std::isfinite(v.as_number()))
    raise("D3001", "Attempting to invoke string function on Infinity or NaN");
  return Value::string(stringify(v, pretty));
}

std::optional<bool> to_boolean(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      return std::nullopt;
    case Value::Kind::kNull:
      return false;
    case Value::Kind::kBool:
      return v.as_bool();
    case Value::Kind::kNumber:
      return v.as_number() != 0;
    case Value::Kind::kString:
      return !v.as_string().empty();
    case Value::Kind::kArray: {
      if (v.size() == 0) return false;
      if (v.size() == 1) return to_boolean(v.at(0));
      for (size_t i = 0; i < v.size(); ++i)
        if (to_boolean(v.at(i)).value_or(false)) return true;
      return false;
    }
    case Value::Kind::kObject: {
      bool any = false;
      v.for_each_entry([&](const std::string&, const Value&) { any = true; });
      return any;
    }
    case Value::Kind::kFunction:
    case Value::Kind::kRegex:
      return false;
  }
  return false;
}

std::vector<Value> as_items(const Value& v) {
  if (v.is_undefined()) return {};
  if (v.is_array()) return v.items();
  return {v};
}

Value append_values(const Value& a, const Value& b) {
  if (a.is_undefined()) return b;
  if (b.is_undefined()) return a;
  std::vector<Value> out = as_items(a);
  if (b.is_array()) {
    for (size_t i = 0; i < b.size(); ++i) out.push_back(b.at(i));
  } else {
    out.push_back(b);
  }
  return Value::array(std::move(out));
}

Value normalise_sequence(Value v) {
  if (!v.is_sequence()) return v;
  if (v.size() == 0) return Value();
  if (v.size() == 1 && !v.keep_singleton()) return v.at(0);
  return v;
}

std::string type_name(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      return "undefined";
    case Value::Kind::kNull:
      return "null";
    case Value::Kind::kBool:
      return "boolean";
    case Value::Kind::kNumber:
      return "number";
    case Value::Kind::kString:
      return "string";
    case Value::Kind::kArray:
      return "array";
    case Value::Kind::kObject:
      return "object";
    case Value::Kind::kFunction:
    case Value::Kind::kRegex:
      return "function";
  }
  return "undefined";
}

int Function::arity() const {
  switch (kind) {
    case Kind::kLambda:
      return static_cast<int>(lambda->params.size());
    case Kind::kBuiltin:
      return builtin->arity;
    case Kind::kPartial:
      return static_cast<int>(std::count(is_placeholder.begin(), is_placeholder.end(), true));
    case Kind::kChain:
    case Kind::kTransform:
      return 1;
  }
  return 1;
}

Frame* Evaluator::new_frame(Frame* parent) {
  frames_.emplace_back();
  frames_.back().parent = parent;
  return &frames_.back();
}

Value Evaluator::lookup(const std::string& name, Frame* frame) {
  for (Frame* f = frame; f != nullptr; f = f->parent) {
    for (auto it = f->vars.rbegin(); it != f->vars.rend(); ++it)
      if (it->first == name) return it->second;
  }
  auto it = env_.variables.find(name);
  if (it != env_.variables.end()) return Value::borrow(it->second);
  auto borrowed = env_.borrowed_variables.find(name);
  if (borrowed != env_.borrowed_variables.end() && borrowed->second != nullptr)
    return Value::borrow(*borrowed->second);
  return builtin_value(name);
}

Value Evaluator::evaluate(const Expression::Node& node, const Value& input, Frame* frame) {
  DepthGuard guard(depth_);
  Value result;
  switch (node.type) {
    case NodeType::kPath:
      result = evaluate_path(node, input, frame);
      break;
    case NodeType::kBinary:
      result = evaluate_binary(node, input, frame);
      break;
    case NodeType::kNegate: {
      Value v = evaluate(*node.lhs, input, frame);
      if (v.is_undefined()) break;
      if (!v.is_number())
        raise("D1002", "Cannot negate a non-numeric value: " + describe_value(v), node.position);
      result = Value::number(-v.as_number());
      break;
    }
    case NodeType::kName:
      result = lookup_field(input, node.text);
      break;
    case NodeType::kString:
      result = Value::string(node.text);
      break;
    case NodeType::kNumber:
      result = Value::number(node.number);
      break;
    case NodeType::kValue:
      result = Value::borrow(node.literal);
      break;
    case NodeType::kWildcard: {
      Value in = input;
      if (in.is_array() && in.is_outer_wrapper() && in.size() > 0) in = in.at(0);
      std::vector<Value> out;
      if (in.is_object()) {
        in.for_each_entry([&](const std::string&, const Value& v) {
          if (v.is_array())
            flatten_into(v, out);
          else
            out.push_back(v);
        });
      }
      result = Value::sequence(std::move(out));
      break;
    }
    case NodeType::kDescendant: {
      if (input.is_undefined()) break;
      std::vector<Value> out;
      descendants(input, out);
      result = out.size() == 1 ? out[0] : Value::sequence(std::move(out));
      break;
    }
    case NodeType::kParent:
      result = lookup(node.slot->label, frame);
      break;
    case NodeType::kCondition: {
      Value cond = evaluate(*node.lhs, input, frame);
      if (to_boolean(cond).value_or(false))
        result = evaluate(*node.rhs, input, frame);
      else if (node.third)
        result = evaluate(*node.third, input, frame);
      break;
    }
    case NodeType::kBlock: {
      Frame* inner = new_frame(frame);
      for (const auto& item : node.items) result = evaluate(*item, input, inner);
      break;
    }
    case NodeType::kBind: {
      result = evaluate(*node.rhs, input, frame);
      frame->vars.emplace_back(node.text, result);
      break;
    }
    case NodeType::kRegex:
      result = Value::regex(node.regex);
      break;
    case NodeType::kCall:
      result = evaluate_call(node, input, frame, nullptr);
      break;
    case NodeType::kPartial:
      result = evaluate_partial(node, input, frame);
      break;
    case NodeType::kTransform: {
      auto fn = std::make_shared<Function>();
      fn->kind = Function::Kind::kTransform;
      fn->lambda = &node;
      fn->closure = frame;
      result = Value::function(std::move(fn));
      break;
    }
    case NodeType::kIndexStage:
      break;  // only ever a stage of a tuple step (apply_tuple_stages)
    case NodeType::kPlaceholder:
      raise("S0211", "Syntax error: symbol ? used in a place where it is not allowed",
            node.position);
    case NodeType::kVariable:
      if (node.text.empty())
        result = input;
      else if (node.text == "$")
        result = root_;
      else
        result = lookup(node.text, frame);
      break;
    case NodeType::kLambda: {
      auto fn = std::make_shared<Function>();
      fn->kind = Function::Kind::kLambda;
      fn->lambda = &node;
      fn->closure = frame;
      fn->input = input;
      result = Value::function(std::move(fn));
      break;
    }
    case NodeType::kApply:
      result = evaluate_apply(node, input, frame);
      break;
    case NodeType::kArray:
      result = evaluate_array(node, input, frame);
      break;
    case NodeType::kObject:
      result = evaluate_group(node, input, frame);
      break;
    case NodeType::kSort:
      result = evaluate_sort(node, input, frame);
      break;
  }
  for (const auto& predicate : node.predicates) result = evaluate_filter(*predicate, result, frame);
  if (node.type != NodeType::kPath && node.group)
    result = evaluate_group(*node.group, result, frame);
  if (result.is_sequence() && !result.is_tuple_stream()) {
    if (node.keep_array) result.set_keep_singleton(true);
    result = normalise_sequence(std::move(result));
  }
  return result;
}

Value Evaluator::evaluate_path(const Expression::Node& node, const Value& input, Frame* frame) {
  // A path starting with a variable is absolute: it does not map over an
  // input array. A single non-array value stands for a one-item sequence
  // (evaluate_step visits it once), which saves an allocation per step.
  Value sequence = input;
  if (input.is_array() && node.items.front()->type == NodeType::kVariable)
    sequence = Value::sequence({input});
  Value result;
  // Once a step binds @$v or #$i, the rest of the path runs on tuples
  // (the context item plus the variables bound so far).
  bool tuple_mode = false;
  std::optional<std::vector<Tuple>> tuples;
  for (size_t i = 0; i < node.items.size(); ++i) {
    const auto& step = *node.items[i];
    if (step.tuple) tuple_mode = true;
    if (i == 0 && step.cons_array) {
      result = evaluate(step, sequence, frame);
    } else if (tuple_mode) {
      tuples = evaluate_tuple_step(step, sequence, tuples ? &*tuples : nullptr, frame);
      continue;
    } else {
      result = evaluate_step(step, sequence, frame, i + 1 == node.items.size());
    }
    if (result.is_undefined() || (result.is_array() && result.size() == 0)) break;
    if (step.focus.empty()) sequence = result;
  }
  if (tuple_mode && node.tuple) {
    // This path is a step of an outer path that resolves a parent (%):
    // hand the tuples up so the outer path keeps their bindings.
    std::vector<Value> stream;
    if (tuples) {
      for (const auto& t : *tuples) {
        std::map<std::string, Value> entry{{"@", t.at}};
        for (const auto& [k, v] : t.vars) entry[k] = v;
        stream.push_back(Value::object(std::move(entry)));
      }
    }
    result = Value::sequence(std::move(stream));
    result.set_tuple_stream(true);
    return result;
  }
  if (tuple_mode) {
    std::vector<Value> ats;
    if (tuples)
      for (const auto& t : *tuples) ats.push_back(t.at);
    result = Value::sequence(std::move(ats));
  }
  if (node.keep_singleton_array && !result.is_undefined()) {
    if (!result.is_array() || (result.is_cons() && !result.is_sequence()))
      result = Value::sequence({result});
    result.set_keep_singleton(true);
  }
  if (node.group)
    result = tuples ? group_tuples(*node.group, *tuples, frame)
                    : evaluate_group(*node.group, result, frame);
  return result;
}

void Tuple::set(const std::string& name, Value v) {
  for (auto& [k, old] : vars) {
    if (k == name) {
      old = std::move(v);
      return;
    }
  }
  vars.emplace_back(name, std::move(v));
}

Frame* Evaluator::frame_from_tuple(Frame* parent, const Tuple& t) {
  Frame* f = new_frame(parent);
  f->vars = t.vars;
  return f;
}

std::vector<Tuple> Evaluator::evaluate_tuple_step(const Expression::Node& step,
                                                  const Value& input_sequence,
                                                  const std::vector<Tuple>* bindings,
                                                  Frame* frame) {
  std::vector<Tuple> in;
  if (bindings) {
    in = *bindings;
  } else {
    std::vector<Value> items =
        input_sequence.is_array() ? input_sequence.items() : std::vector<Value>{input_sequence};
    for (auto& item : items) in.push_back(Tuple{std::move(item), {}});
  }
  std::vector<Tuple> out;
  if (step.type == NodeType::kSort) {
    std::vector<Value> contexts;
    std::vector<Frame*> frames;
    for (const auto& t : in) {
      contexts.push_back(t.at);
      frames.push_back(bindings ? frame_from_tuple(frame, t) : frame);
    }
    std::vector<size_t> order = sort_order(step, contexts, frames);
    for (size_t k = 0; k < order.size(); ++k) {
      Tuple t = in[order[k]];
      if (!step.index.empty()) t.set(step.index, Value::number(static_cast<double>(k)));
      out.push_back(std::move(t));
    }
    return apply_tuple_stages(step, std::move(out), frame);
  }
  for (const auto& t : in) {
    Value res = evaluate(step, t.at, frame_from_tuple(frame, t));
    if (res.is_undefined()) continue;
    std::vector<Value> items = res.is_array() ? res.items() : std::vector<Value>{res};
    if (res.is_tuple_stream()) {
      for (const auto& entry : items) {
        Tuple nt = t;
        entry.for_each_entry([&](const std::string& k, const Value& v) {
          if (k == "@")
            nt.at = v;
          else
            nt.set(k, v);
        });
        out.push_back(std::move(nt));
      }
      continue;
    }
    for (size_t b = 0; b < items.size(); ++b) {
      Tuple nt = t;
      if (step.ancestor) nt.set(step.ancestor->label, t.at);
      if (!step.focus.empty()) {
        nt.set(step.focus, items[b]);
      } else {
        nt.at = items[b];
      }
      if (!step.index.empty()) nt.set(step.index, Value::number(static_cast<double>(b)));
      out.push_back(std::move(nt));
    }
  }
  return apply_tuple_stages(step, std::move(out), frame);
}

std::vector<Tuple> Evaluator::apply_tuple_stages(const Expression::Node& step,
                                                 std::vector<Tuple> tuples, Frame* frame) {
  for (const auto& stage : step.stages) {
    if (stage->type == NodeType::kIndexStage) {
      for (size_t k = 0; k < tuples.size(); ++k)
        tuples[k].set(stage->text, Value::number(static_cast<double>(k)));
    } else {
      tuples = filter_tuples(*stage, std::move(tuples), frame);
    }
  }
  return tuples;
}

std::vector<Tuple> Evaluator::filter_tuples(const Expression::Node& predicate,
                                            std::vector<Tuple> tuples, Frame* frame) {
  std::vector<Tuple> out;
  const auto n = static_cast<int64_t>(tuples.size());
  if (predicate.type == NodeType::kNumber && predicate.predicates.empty()) {
    auto index = static_cast<int64_t>(std::floor(predicate.number));
    if (index < 0) index += n;
    if (index >= 0 && index < n) out.push_back(tuples[static_cast<size_t>(index)]);
    return out;
  }
  for (int64_t index = 0; index < n; ++index) {
    Tuple& t = tuples[static_cast<size_t>(index)];
    Value res = evaluate(predicate, t.at, frame_from_tuple(frame, t));
    auto matches_index = [&](double d) {
      auto i = static_cast<int64_t>(std::floor(d));
      if (i < 0) i += n;
      return i == index;
    };
    bool keep = false;
    if (res.is_number()) {
      keep = matches_index(res.as_number());
    } else if (res.is_array() && res.size() > 0 && [&] {
                 for (size_t k = 0; k < res.size(); ++k)
                   if (!res.at(k).is_number()) return false;
                 return true;
               }()) {
      for (size_t k = 0; k < res.size(); ++k) keep = keep || matches_index(res.at(k).as_number());
    } else {
      keep = to_boolean(res).value_or(false);
    }
    if (keep) out.push_back(std::move(t));
  }
  return out;
}

Value Evaluator::group_tuples(const Expression::Node& group, const std::vector<Tuple>& tuples,
                              Frame* frame) {
  struct Entry {
    std::vector<size_t> members;
    size_t pair_index;
  };
  std::map<std::string, Entry> groups;
  std::vector<std::string> order;
  for (size_t i = 0; i < tuples.size(); ++i) {
    Frame* f = frame_from_tuple(frame, tuples[i]);
    for (size_t p = 0; p < group.pairs.size(); ++p) {
      Value key = evaluate(*group.pairs[p].first, tuples[i].at, f);
      if (key.is_undefined()) continue;
      if (!key.is_string())
        raise("T1003",
              "Key in object structure must evaluate to a string; got: " + describe_value(key),
              group.position);
      auto it = groups.find(key.as_string());
      if (it == groups.end()) {
        groups.emplace(key.as_string(), Entry{{i}, p});
        order.push_back(key.as_string());
      } else {
        if (it->second.pair_index != p)
          raise("D1009",
                "Multiple key definitions evaluate to same key: " + quote_json(key.as_string()),
                group.position);
        it->second.members.push_back(i);
      }
    }
  }
  std::map<std::string, Value> result;
  for (const auto& key : order) {
    const Entry& entry = groups.at(key);
    // The members' bindings merge: each variable becomes the sequence of
    // its values across the group, as does the context.
    Tuple merged = tuples[entry.members[0]];
    for (size_t m = 1; m < entry.members.size(); ++m) {
      const Tuple& t = tuples[entry.members[m]];
      merged.at = append_values(merged.at, t.at);
      for (const auto& [name, v] : t.vars) {
        Value current;
        for (const auto& [k, cv] : merged.vars)
          if (k == name) current = cv;
        merged.set(name, append_values(current, v));
      }
    }
    Value value =
        evaluate(*group.pairs[entry.pair_index].second, merged.at, frame_from_tuple(frame, merged));
    if (!value.is_undefined()) result[key] = std::move(value);
  }
  return Value::object(std::move(result));
}

Value Evaluator::evaluate_step(const Expression::Node& step, const Value& input_sequence,
                               Frame* frame, bool last_step) {
  if (step.type == NodeType::kSort) {
    Value result = evaluate_sort(step, input_sequence, frame);
    for (const auto& stage : step.stages) result = evaluate_filter(*stage, result, frame);
    return result;
  }
  auto visit = [&](const Value& item) {
    Value res = evaluate(step, item, frame);
    for (const auto& stage : step.stages) res = evaluate_filter(*stage, res, frame);
    return res;
  };
  if (!input_sequence.is_array()) {
    // One input item: its result needs no flattening unless it is an array.
    Value res = visit(input_sequence);
    if (res.is_undefined()) return Value::sequence();
    if (!res.is_array()) return res;
    if (last_step && !res.is_sequence()) return res;
    if (res.is_cons()) return Value::sequence({res});
    if (res.is_sequence()) {
      // Flattening makes a new sequence: the item's flags do not carry over.
      res.set_keep_singleton(false);
      res.set_outer_wrapper(false);
      return res;
    }
    return Value::sequence(res.items());
  }
  std::vector<Value> results;
  for (size_t i = 0; i < input_sequence.size(); ++i) {
    Value res = visit(input_sequence.at(i));
    if (!res.is_undefined()) results.push_back(std::move(res));
  }
  if (last_step && results.size() == 1 && results[0].is_array() && !results[0].is_sequence())
    return results[0];
  std::vector<Value> flat;
  for (auto& res : results) {
    if (!res.is_array() || res.is_cons()) {
      flat.push_back(std::move(res));
    } else {
      for (size_t i = 0; i < res.size(); ++i) flat.push_back(res.at(i));
    }
  }
  return Value::sequence(std::move(flat));
}

Value Evaluator::evaluate_filter(const Expression::Node& predicate, const Value& input,
                                 Frame* frame) {
  std::vector<Value> results;
  if (input.is_undefined()) return Value::sequence();
  std::vector<Value> items = as_items(input);
  const auto n = static_cast<int64_t>(items.size());
  if (predicate.type == NodeType::kNumber && predicate.predicates.empty()) {
    auto index = static_cast<int64_t>(std::floor(predicate.number));
    if (index < 0) index += n;
    if (index >= 0 && index < n) {
      const Value& item = items[static_cast<size_t>(index)];
      if (item.is_array()) return item;
      results.push_back(item);
    }
    return Value::sequence(std::move(results));
  }
  for (int64_t index = 0; index < n; ++index) {
    const Value& item = items[static_cast<size_t>(index)];
    Value res = evaluate(predicate, item, frame);
    auto matches_index = [&](double d) {
      auto i = static_cast<int64_t>(std::floor(d));
      if (i < 0) i += n;
      return i == index;
    };
    if (res.is_number()) {
      if (matches_index(res.as_number())) results.push_back(item);
      continue;
    }
    if (res.is_array() && res.size() > 0) {
      bool all_numbers = true;
      for (size_t k = 0; k < res.size() && all_numbers; ++k) all_numbers = res.at(k).is_number();
      if (all_numbers) {
        for (size_t k = 0; k < res.size(); ++k)
          if (matches_index(res.at(k).as_number())) results.push_back(item);
        continue;
      }
    }
    if (to_boolean(res).value_or(false)) results.push_back(item);
  }
  return Value::sequence(std::move(results));
}

Value Evaluator::evaluate_group(const Expression::Node& group, const Value& input, Frame* frame) {
  std::vector<Value> items = input.is_array() ? input.items() : std::vector<Value>{input};
  if (items.empty()) items.emplace_back();
  struct Entry {
    Value data;
    size_t pair_index;
  };
  std::map<std::string, Entry> groups;
  std::vector<std::string> order;
  for (const auto& item : items) {
    for (size_t p = 0; p < group.pairs.size(); ++p) {
      Value key = evaluate(*group.pairs[p].first, item, frame);
      if (key.is_undefined()) continue;
      if (!key.is_string())
        raise("T1003",
              "Key in object structure must evaluate to a string; got: " + describe_value(key),
              group.position);
      auto it = groups.find(key.as_string());
      if (it == groups.end()) {
        groups.emplace(key.as_string(), Entry{item, p});
        order.push_back(key.as_string());
      } else {
        if (it->second.pair_index != p)
          raise("D1009",
                "Multiple key definitions evaluate to same key: " + quote_json(key.as_string()),
                group.position);
        it->second.data = append_values(it->second.data, item);
      }
    }
  }
  std::map<std::string, Value> result;
  for (const auto& key : order) {
    const Entry& entry = groups.at(key);
    Value value = evaluate(*group.pairs[entry.pair_index].second, entry.data, frame);
    if (!value.is_undefined()) result[key] = std::move(value);
  }
  return Value::object(std::move(result));
}

Value Evaluator::evaluate_sort(const Expression::Node& sort, const Value& input, Frame* frame) {
  std::vector<Value> items = as_items(input);
  std::vector<size_t> order = sort_order(sort, items, std::vector<Frame*>(items.size(), frame));
  std::vector<Value> sorted;
  sorted.reserve(items.size());
  for (size_t i : order) sorted.push_back(items[i]);
  return Value::sequence(std::move(sorted));
}

std::vector<size_t> Evaluator::sort_order(const Expression::Node& sort,
                                          const std::vector<Value>& contexts,
                                          const std::vector<Frame*>& frames) {
  // Each term is evaluated once per item; the comparison then only reads.
  std::vector<std::vector<Value>> keys(contexts.size());
  for (size_t i = 0; i < contexts.size(); ++i)
    for (const auto& term : sort.terms)
      keys[i].push_back(evaluate(*term.first, contexts[i], frames[i]));
  std::vector<size_t> order(contexts.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto compare = [&](size_t a, size_t b) {
    for (size_t t = 0; t < sort.terms.size(); ++t) {
      const Value& aa = keys[a][t];
      const Value& bb = keys[b][t];
      if (aa.is_undefined()) {
        if (bb.is_undefined()) continue;
        return 1;
      }
      if (bb.is_undefined()) return -1;
      if (!(aa.is_string() || aa.is_number()) || !(bb.is_string() || bb.is_number()))
        raise("T2008",
              "The expressions within an order-by clause must evaluate to numeric or string "
              "values",
              sort.position);
      if (aa.kind() != bb.kind())
        raise("T2007",
              "Type mismatch when comparing values " + describe_value(aa) + " and " +
                  describe_value(bb) + " in order-by clause",
              sort.position);
      int comp;
      if (aa.is_number()) {
        comp = aa.as_number() < bb.as_number() ? -1 : (aa.as_number() > bb.as_number() ? 1 : 0);
      } else {
        int c = aa.as_string().compare(bb.as_string());
        comp = c < 0 ? -1 : (c > 0 ? 1 : 0);
      }
      if (comp == 0) continue;
      return sort.terms[t].second ? -comp : comp;
    }
    return 0;
  };
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return compare(a, b) < 0; });
  return order;
}

Value Evaluator::evaluate_array(const Expression::Node& node, const Value& input, Frame* frame) {
  std::vector<Value> out;
  for (const auto& item : node.items) {
    Value v = evaluate(*item, input, frame);
    if (v.is_undefined()) continue;
    if (item->type == NodeType::kArray) {
      out.push_back(std::move(v));
    } else if (v.is_array()) {
      for (size_t i = 0; i < v.size(); ++i) out.push_back(v.at(i));
    } else {
      out.push_back(std::move(v));
    }
  }
  Value result = Value::array(std::move(out));
  if (node.cons_array) result.set_cons(true);
  return result;
}

Value Evaluator::evaluate_binary(const Expression::Node& node, const Value& input, Frame* frame) {
  const std::string& op = node.text;
  Value lhs = evaluate(*node.lhs, input, frame);
  if (op == "and") {
    if (!to_boolean(lhs).value_or(false)) return Value::boolean(false);
    return Value::boolean(to_boolean(evaluate(*node.rhs, input, frame)).value_or(false));
  }
  if (op == "or") {
    if (to_boolean(lhs).value_or(false)) return Value::boolean(true);
    return Value::boolean(to_boolean(evaluate(*node.rhs, input, frame)).value_or(false));
  }
  Value rhs = evaluate(*node.rhs, input, frame);
  if (op == "+" || op == "-" || op == "*" || op == "/" || op == "%") {
    if (!lhs.is_undefined() && !lhs.is_number())
      raise("T2001",
            "The left side of the " + quote_json(op) + " operator must evaluate to a number",
            node.position);
    if (!rhs.is_undefined() && !rhs.is_number())
      raise("T2002",
            "The right side of the " + quote_json(op) + " operator must evaluate to a number",
            node.position);
    if (lhs.is_undefined() || rhs.is_undefined()) return Value();
    double a = lhs.as_number(), b = rhs.as_number(), r = 0;
    switch (op[0]) {
      case '+':
        r = a + b;
        break;
      case '-':
        r = a - b;
        break;
      case '*':
        r = a * b;
        break;
      case '/':
        r = a / b;
        break;
      default:
        r = std::fmod(a, b);
        break;
    }
    if (!std::isfinite(r))
      raise("D1001", "Number out of range: " + format_number(r), node.position);
    return Value::number(r);
  }
  if (op == "=" || op == "!=") {
    if (lhs.is_undefined() || rhs.is_undefined()) return Value::boolean(false);
    bool eq = deep_equal(lhs, rhs);
    return Value::boolean(op == "=" ? eq : !eq);
  }
  if (op == "<" || op == "<=" || op == ">" || op == ">=") {
    bool lok = lhs.is_undefined() || lhs.is_string() || lhs.is_number();
    bool rok = rhs.is_undefined() || rhs.is_string() || rhs.is_number();
    if (!lok || !rok)
      raise("T2010",
            "The expressions either side of operator " + quote_json(op) +
                " must evaluate to numeric or string values",
            node.position);
    if (lhs.is_undefined() || rhs.is_undefined()) return Value();
    if (lhs.kind() != rhs.kind())
      raise("T2009",
            "The values " + describe_value(lhs) + " and " + describe_value(rhs) +
                " either side of operator " + quote_json(op) + " must be of the same data type",
            node.position);
    int c;
    if (lhs.is_number()) {
      c = lhs.as_number() < rhs.as_number() ? -1 : (lhs.as_number() > rhs.as_number() ? 1 : 0);
    } else {
      int k = lhs.as_string().compare(rhs.as_string());
      c = k < 0 ? -1 : (k > 0 ? 1 : 0);
    }
    if (op == "<") return Value::boolean(c < 0);
    if (op == "<=") return Value::boolean(c <= 0);
    if (op == ">") return Value::boolean(c > 0);
    return Value::boolean(c >= 0);
  }
  if (op == "&") {
    std::string out;
    if (!lhs.is_undefined()) out += string_of(lhs).as_string();
    if (!rhs.is_undefined()) out += string_of(rhs).as_string();
    return Value::string(std::move(out));
  }
  if (op == "..") {
    if (!lhs.is_undefined() && !(lhs.is_number() && is_integer(lhs.as_number())))
      raise("T2003", "The left side of the range operator (..) must evaluate to an integer",
            node.position);
    if (!rhs.is_undefined() && !(rhs.is_number() && is_integer(rhs.as_number())))
      raise("T2004", "The right side of the range operator (..) must evaluate to an integer",
            node.position);
    if (lhs.is_undefined() || rhs.is_undefined()) return Value();
    double a = lhs.as_number(), b = rhs.as_number();
    if (a > b) return Value();
    double size = b - a + 1;
    // JSONata's message names 1e6; the limit also keeps a typo such as
    // [1..1e9] from allocating gigabytes.
    if (size > 1e6)
      raise("D2014",
            "The size of the sequence allocated by the range operator (..) must not exceed "
            "1e6.  Attempted to allocate " +
                format_number(size) + ".",
            node.position);
    std::vector<Value> out;
    out.reserve(static_cast<size_t>(size));
    for (double d = a; d <= b; d += 1) out.push_back(Value::number(d));
    return Value::array(std::move(out));
  }
  if (op == "in") {
    if (lhs.is_undefined() || rhs.is_undefined()) return Value::boolean(false);
    for (const auto& item : as_items(rhs))
      if (deep_equal(item, lhs)) return Value::boolean(true);
    return Value::boolean(false);
  }
  raise("S0204", "Unknown operator: " + op, node.position);
}

Value Evaluator::evaluate_call(const Expression::Node& node, const Value& input, Frame* frame,
                               const Value* applied) {
  Value proc = evaluate(*node.lhs, input, frame);
  if (proc.is_undefined() && node.lhs->type == NodeType::kPath &&
      node.lhs->items.front()->type == NodeType::kName) {
    const std::string& name = node.lhs->items.front()->text;
    if (!lookup(name, frame).is_undefined())
      raise("T1005", "Attempted to invoke a non-function. Did you mean $" + name + "?",
            node.position);
  }
  std::vector<Value> args;
  args.reserve(node.items.size() + 1);
  if (applied) args.push_back(*applied);
  for (const auto& arg : node.items) args.push_back(evaluate(*arg, input, frame));
  if (!proc.is_lambda_or_builtin())
    raise("T1006", "Attempted to invoke a non-function", node.position);
  try {
    return apply(proc, std::move(args), input);
  } catch (Failure& f) {
    if (f.error.position < 0) f.error.position = node.position;
    throw;
  }
}

Value Evaluator::evaluate_partial(const Expression::Node& node, const Value& input, Frame* frame) {
  Value proc = evaluate(*node.lhs, input, frame);
  if (!proc.is_lambda_or_builtin()) {
    if (node.lhs->type == NodeType::kPath && node.lhs->items.front()->type == NodeType::kName &&
        !lookup(node.lhs->items.front()->text, frame).is_undefined())
      raise("T1007",
            "Attempted to partially apply a non-function. Did you mean $" +
                node.lhs->items.front()->text + "?",
            node.position);
    raise("T1008", "Attempted to partially apply a non-function", node.position);
  }
  auto fn = std::make_shared<Function>();
  fn->kind = Function::Kind::kPartial;
  fn->target = proc.function_ptr();
  for (const auto& arg : node.items) {
    bool placeholder = arg->type == NodeType::kPlaceholder;
    fn->is_placeholder.push_back(placeholder);
    fn->bound.push_back(placeholder ? Value() : evaluate(*arg, input, frame));
  }
  return Value::function(std::move(fn));
}

Value Evaluator::evaluate_apply(const Expression::Node& node, const Value& input, Frame* frame) {
  Value lhs = evaluate(*node.lhs, input, frame);
  if (node.rhs->type == NodeType::kCall) return evaluate_call(*node.rhs, input, frame, &lhs);
  Value fn = evaluate(*node.rhs, input, frame);
  if (!fn.is_lambda_or_builtin())
    raise("T2006", "The right side of the function application operator ~> must be a function",
          node.position);
  if (lhs.is_lambda_or_builtin()) {
    auto chain = std::make_shared<Function>();
    chain->kind = Function::Kind::kChain;
    chain->target = lhs.function_ptr();
    chain->second = fn.function_ptr();
    return Value::function(std::move(chain));
  }
  return apply(fn, {lhs}, input);
}

Value Evaluator::apply(const Value& fn, std::vector<Value> args, const Value& input) {
  if (!fn.is_lambda_or_builtin()) raise("T1006", "Attempted to invoke a non-function");
  DepthGuard guard(depth_);
  return apply_inner(fn.as_function(), std::move(args), input);
}

Value Evaluator::apply_inner(const Function& fn, std::vector<Value> args, const Value& input) {
  switch (fn.kind) {
    case Function::Kind::kBuiltin: {
      validate_arguments(*fn.builtin, args, input);
      return fn.builtin->fn(*this, args, input);
    }
    case Function::Kind::kLambda: {
      if (!fn.lambda->signature.empty())
        validate_arguments("lambda", fn.lambda->signature_params, args, input);
      Frame* f = new_frame(fn.closure);
      const auto& params = fn.lambda->params;
      for (size_t i = 0; i < params.size(); ++i)
        f->vars.emplace_back(params[i], i < args.size() ? args[i] : Value());
      return evaluate(*fn.lambda->rhs, fn.input, f);
    }
    case Function::Kind::kPartial: {
      std::vector<Value> full;
      size_t next = 0;
      for (size_t i = 0; i < fn.bound.size(); ++i) {
        if (fn.is_placeholder[i])
          full.push_back(next < args.size() ? args[next++] : Value());
        else
          full.push_back(fn.bound[i]);
      }
      return apply_inner(*fn.target, std::move(full), input);
    }
    case Function::Kind::kChain: {
      Value first = apply_inner(*fn.target, std::move(args), input);
      return apply_inner(*fn.second, {first}, input);
    }
    case Function::Kind::kTransform:
      return apply_transform(fn, args.empty() ? Value() : args[0]);
  }
  return Value();
}

namespace {

void index_depths(const nlohmann::json& j, int depth, std::map<const nlohmann::json*, int>& out) {
  out[&j] = depth;
  if (j.is_structured())
    for (const auto& e : j) index_depths(e, depth + 1, out);
}

}  // namespace

// | pattern | update, delete |: copies the target, finds the objects the
// pattern selects in the copy, and merges each one's update object into it
// and removes its delete keys. Updates are all evaluated before any is
// applied, and applied deepest first, so no applied change moves a node
// that another change still has to reach.
Value Evaluator::apply_transform(const Function& fn, const Value& target) {
  if (target.is_undefined()) return target;
  const Expression::Node& node = *fn.lambda;
  auto copy = std::make_shared<nlohmann::json>(target.to_json());
  Value root = Value::borrow(*copy, copy);
  Value matches = evaluate(*node.lhs, root, fn.closure);
  std::map<const nlohmann::json*, int> depths;
  index_depths(*copy, 0, depths);
  struct Change {
    const nlohmann::json* at;
    nlohmann::json update;
    std::vector<std::string> removals;
  };
  std::vector<Change> changes;
  for (const Value& match : as_items(matches)) {
    if (!match.is_object()) continue;
    const nlohmann::json* at = match.json_node();
    if (at == nullptr || depths.count(at) == 0) continue;
    Change change{at, nlohmann::json::object(), {}};
    Value update = evaluate(*node.rhs, match, fn.closure);
    if (!update.is_undefined()) {
      if (!update.is_object())
        raise("T2011",
              "The insert/update clause of the transform expression must evaluate to an "
              "object: " +
                  describe_value(update),
              node.position);
      change.update = update.to_json();
    }
    if (node.third) {
      Value removals = evaluate(*node.third, match, fn.closure);
      for (const Value& r : as_items(removals)) {
        if (!r.is_string())
          raise("T2012",
                "The delete clause of the transform expression must evaluate to a string or "
                "array of strings: " +
                    describe_value(removals),
                node.position);
        change.removals.push_back(r.as_string());
      }
    }
    changes.push_back(std::move(change));
  }
  std::stable_sort(changes.begin(), changes.end(), [&](const Change& a, const Change& b) {
    return depths.at(a.at) > depths.at(b.at);
  });
  for (const Change& change : changes) {
    // The copy belongs to this call alone, so writing through it is safe.
    auto& object = const_cast<nlohmann::json&>(*change.at);
    for (auto it = change.update.begin(); it != change.update.end(); ++it)
      object[it.key()] = it.value();
    for (const auto& key : change.removals) object.erase(key);
  }
  return root;
}

}  // namespace helix::jsonata
