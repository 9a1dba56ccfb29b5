#include "pipelines/engine/payload.h"

#include "pipelines/jsonata/jsonata.h"

namespace helix::asl {

struct Template::Node {
  // A std::pair member of an incomplete Node is ill-formed (clang rejects
  // it); a vector of a struct declared here and defined below is fine.
  struct Field;
  enum class Kind { kLiteral, kObject, kArray, kPath, kIntrinsic, kJsonata };
  Kind kind = Kind::kLiteral;
  Json literal;
  std::vector<Field> fields;  // kObject (output key, value)
  std::vector<Node> items;    // kArray
  std::string key;            // the ".$" key, for messages
  std::shared_ptr<JsonPath> path;
  std::shared_ptr<IntrinsicCall> call;
  std::shared_ptr<jsonata::Expression> expression;
  bool uses_context = false;
};

struct Template::Node::Field {
  std::string name;
  Node value;
};

namespace {

using Node = Template::Node;

tl::expected<Node, std::string> compile_payload_node(const Json& source) {
  Node node;
  if (source.is_object()) {
    node.kind = Node::Kind::kObject;
    for (auto it = source.begin(); it != source.end(); ++it) {
      const std::string& key = it.key();
      if (key.size() > 2 && key.compare(key.size() - 2, 2, ".$") == 0) {
        std::string name = key.substr(0, key.size() - 2);
        if (!it.value().is_string())
          return tl::unexpected("the value of '" + key + "' must be a path or intrinsic string");
        const auto& text = it.value().get_ref<const std::string&>();
        Node child;
        child.key = key;
        if (looks_like_intrinsic(text)) {
          auto call = parse_intrinsic(text);
          if (!call) return tl::unexpected("'" + key + "': " + call.error());
          child.kind = Node::Kind::kIntrinsic;
          child.uses_context = text.find("$$") != std::string::npos;
          child.call = std::make_shared<IntrinsicCall>(std::move(*call));
        } else if (looks_like_path(text)) {
          auto path = JsonPath::parse(text);
          if (!path) return tl::unexpected("'" + key + "': " + path.error());
          child.kind = Node::Kind::kPath;
          child.uses_context = path->root() == PathRoot::kContext;
          child.path = std::make_shared<JsonPath>(std::move(*path));
        } else {
          return tl::unexpected("the value of '" + key + "' is not a valid path: " + text);
        }
        node.uses_context = node.uses_context || child.uses_context;
        node.fields.push_back({std::move(name), std::move(child)});
      } else {
        auto child = compile_payload_node(it.value());
        if (!child) return child;
        node.uses_context = node.uses_context || child->uses_context;
        node.fields.push_back({key, std::move(*child)});
      }
    }
    bool all_literal = true;
    for (const auto& f : node.fields)
      all_literal = all_literal && f.value.kind == Node::Kind::kLiteral;
    if (all_literal) {
      Node lit;
      lit.literal = source;
      return lit;
    }
    return node;
  }
  if (source.is_array()) {
    node.kind = Node::Kind::kArray;
    bool all_literal = true;
    for (const auto& e : source) {
      auto child = compile_payload_node(e);
      if (!child) return child;
      all_literal = all_literal && child->kind == Node::Kind::kLiteral;
      node.uses_context = node.uses_context || child->uses_context;
      node.items.push_back(std::move(*child));
    }
    if (all_literal) {
      Node lit;
      lit.literal = source;
      return lit;
    }
    return node;
  }
  node.literal = source;
  return node;
}

tl::expected<Node, std::string> compile_jsonata_node(const Json& source) {
  Node node;
  if (source.is_string() && is_jsonata_string(source.get_ref<const std::string&>())) {
    const auto& text = source.get_ref<const std::string&>();
    auto inner = std::string_view(text).substr(2, text.size() - 4);
    auto expr = jsonata::Expression::compile(inner);
    if (!expr)
      return tl::unexpected("invalid JSONata expression '" + std::string(inner) +
                            "': " + expr.error().message);
    node.kind = Node::Kind::kJsonata;
    node.expression = std::make_shared<jsonata::Expression>(std::move(*expr));
    node.uses_context = true;
    return node;
  }
  if (source.is_object()) {
    node.kind = Node::Kind::kObject;
    bool all_literal = true;
    for (auto it = source.begin(); it != source.end(); ++it) {
      auto child = compile_jsonata_node(it.value());
      if (!child) return child;
      all_literal = all_literal && child->kind == Node::Kind::kLiteral;
      node.fields.push_back({it.key(), std::move(*child)});
    }
    if (all_literal) {
      Node lit;
      lit.literal = source;
      return lit;
    }
    node.uses_context = true;
    return node;
  }
  if (source.is_array()) {
    node.kind = Node::Kind::kArray;
    bool all_literal = true;
    for (const auto& e : source) {
      auto child = compile_jsonata_node(e);
      if (!child) return child;
      all_literal = all_literal && child->kind == Node::Kind::kLiteral;
      node.items.push_back(std::move(*child));
    }
    if (all_literal) {
      Node lit;
      lit.literal = source;
      return lit;
    }
    node.uses_context = true;
    return node;
  }
  node.literal = source;
  return node;
}

AslResult<std::optional<Json>> evaluate_node(const Node& node, const Scope& scope) {
  switch (node.kind) {
    case Node::Kind::kLiteral:
      return std::optional<Json>(node.literal);
    case Node::Kind::kObject: {
      Json out = Json::object();
      for (const auto& [name, child] : node.fields) {
        auto value = evaluate_node(child, scope);
        if (!value) return value;
        if (*value) out[name] = std::move(**value);
      }
      return std::optional<Json>(std::move(out));
    }
    case Node::Kind::kArray: {
      Json out = Json::array();
      for (const auto& child : node.items) {
        auto value = evaluate_node(child, scope);
        if (!value) return value;
        if (*value) out.push_back(std::move(**value));
      }
      return std::optional<Json>(std::move(out));
    }
    case Node::Kind::kPath: {
      auto value = resolve_path(*node.path, scope);
      if (!value) {
        std::string where =
            node.path->root() == PathRoot::kContext ? "the context object" : "the input";
        std::string doc = scope.input && node.path->root() == PathRoot::kInput
                              ? " '" + scope.input->dump() + "'"
                              : "";
        return asl_fail("States.Runtime", "The JSONPath '" + node.path->text() +
                                              "' specified for the field '" + node.key +
                                              "' could not be found in " + where + doc);
      }
      return std::optional<Json>(std::move(*value));
    }
    case Node::Kind::kIntrinsic: {
      auto value = evaluate_intrinsic(*node.call, scope);
      if (!value) return tl::unexpected(value.error());
      return std::optional<Json>(std::move(*value));
    }
    case Node::Kind::kJsonata: {
      auto value = evaluate_jsonata(*node.expression, scope);
      if (value && !*value)
        return asl_fail("States.QueryEvaluationError", "The JSONata expression '" +
                                                           node.expression->text() +
                                                           "' returned nothing (undefined).");
      return value;
    }
  }
  return std::optional<Json>();
}

}  // namespace

std::optional<Json> resolve_path(const JsonPath& path, const Scope& scope) {
  switch (path.root()) {
    case PathRoot::kInput:
      if (!scope.input) return std::nullopt;
      return path.evaluate(*scope.input);
    case PathRoot::kContext:
      if (!scope.context) return std::nullopt;
      return path.evaluate(scope.context());
    case PathRoot::kVariable: {
      const Json* var = scope.variable ? scope.variable(path.variable()) : nullptr;
      if (!var) return std::nullopt;
      return path.evaluate(*var);
    }
  }
  return std::nullopt;
}

bool is_jsonata_string(const std::string& text) {
  return text.size() >= 4 && text.compare(0, 2, "{%") == 0 &&
         text.compare(text.size() - 2, 2, "%}") == 0;
}

AslResult<std::optional<Json>> evaluate_jsonata(const jsonata::Expression& expression,
                                                const Scope& scope) {
  jsonata::Environment env;
  Json states = Json::object();
  if (scope.input) states["input"] = *scope.input;
  if (scope.context) states["context"] = scope.context();
  if (scope.result) states["result"] = *scope.result;
  if (scope.error_output) states["errorOutput"] = *scope.error_output;
  env.borrowed_variables["states"] = &states;
  if (scope.each_variable)
    scope.each_variable([&](const std::string& name, const Json* value) {
      env.borrowed_variables.emplace(name, value);
    });
  env.now = scope.now;
  env.rng = scope.rng;
  auto value = expression.evaluate(nullptr, env);
  if (!value)
    return asl_fail("States.QueryEvaluationError",
                    "The JSONata expression '" + expression.text() +
                        "' returned an error: " + value.error().code + " " + value.error().message);
  return *value;
}

tl::expected<Template, std::string> Template::compile_payload(const Json& source) {
  auto node = compile_payload_node(source);
  if (!node) return tl::unexpected(node.error());
  Template t;
  t.root_ = std::make_shared<Node>(std::move(*node));
  return t;
}

tl::expected<Template, std::string> Template::compile_jsonata(const Json& source) {
  auto node = compile_jsonata_node(source);
  if (!node) return tl::unexpected(node.error());
  Template t;
  t.root_ = std::make_shared<Node>(std::move(*node));
  return t;
}

Template Template::literal(Json value) {
  Node node;
  node.literal = std::move(value);
  Template t;
  t.root_ = std::make_shared<Node>(std::move(node));
  return t;
}

AslResult<Json> Template::evaluate(const Scope& scope) const {
  if (!root_) return Json(nullptr);
  auto value = evaluate_node(*root_, scope);
  if (!value) return tl::unexpected(value.error());
  if (!*value) return Json(nullptr);
  return std::move(**value);
}

bool Template::is_literal() const { return !root_ || root_->kind == Node::Kind::kLiteral; }
bool Template::uses_context() const { return root_ && root_->uses_context; }

}  // namespace helix::asl
