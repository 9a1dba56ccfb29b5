#include "pipelines/jsonata/jsonata.h"

namespace helix::jsonata {

struct Expression::Node {
  nlohmann::json value;
};

Expression::Expression(std::string text, std::shared_ptr<const Node> root)
    : text_(std::move(text)), root_(std::move(root)) {}

tl::expected<Expression, EvalError> Expression::compile(std::string_view text) {
  return Expression(std::string(text), std::make_shared<const Node>());
}

tl::expected<std::optional<nlohmann::json>, EvalError> Expression::evaluate(
    const nlohmann::json*, const Environment&) const {
  return tl::unexpected(EvalError{"D0000", "not implemented yet", -1});
}

}  // namespace helix::jsonata
