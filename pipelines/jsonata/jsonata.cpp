#include "pipelines/jsonata/jsonata.h"

#include "pipelines/jsonata/evaluator.h"
#include "pipelines/jsonata/node.h"

namespace helix::jsonata {

Expression::Expression(std::string text, std::shared_ptr<const Node> root)
    : text_(std::move(text)), root_(std::move(root)) {}

tl::expected<Expression, EvalError> Expression::compile(std::string_view text) {
  auto root = parse(text);
  if (!root) return tl::unexpected(root.error());
  return Expression(std::string(text), std::shared_ptr<const Node>(std::move(*root)));
}

tl::expected<std::optional<nlohmann::json>, EvalError> Expression::evaluate(
    const nlohmann::json* input, const Environment& env) const {
  try {
    Value in;
    if (input != nullptr) {
      in = Value::borrow(*input);
      // JSONata wraps an input array in a one-item sequence so that paths
      // treat the array as one value (the reference implementation's
      // "outerWrapper").
      if (in.is_array()) {
        in = Value::sequence({in});
        in.set_outer_wrapper(true);
      }
    }
    Evaluator evaluator(env, in);
    Value result = evaluator.evaluate(*root_, in, evaluator.global());
    result = normalise_sequence(std::move(result));
    if (result.is_undefined()) return std::optional<nlohmann::json>();
    if (result.is_function())
      return tl::unexpected(
          EvalError{"U1002", "The expression evaluated to a function, which has no JSON form", -1});
    return std::optional<nlohmann::json>(result.to_json());
  } catch (const Failure& f) {
    return tl::unexpected(f.error);
  } catch (const std::bad_alloc&) {
    return tl::unexpected(EvalError{"U1003", "The evaluation ran out of memory", -1});
  } catch (const std::exception& e) {
    // A library call refused its input (std::regex, number parsing): a
    // value error of the expression, never a crash of the caller.
    return tl::unexpected(
        EvalError{"U1004", std::string("The evaluation failed: ") + e.what(), -1});
  }
}

}  // namespace helix::jsonata
