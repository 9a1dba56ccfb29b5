// The JSONata parse tree (Expression::Node), as the parser leaves it after
// its second pass: "a.b[0]" is one kPath node whose steps carry their own
// predicates ("stages"), as in the reference implementation's processed AST.
//
// Invariant: a tree is immutable once compile() returns it; evaluation only
// reads it, so one Expression serves many threads.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "pipelines/jsonata/jsonata.h"
#include "pipelines/jsonata/value.h"

namespace helix::jsonata {

using NodePtr = std::unique_ptr<Expression::Node>;

enum class NodeType {
  kPath,         // steps
  kBinary,       // op, lhs, rhs
  kNegate,       // lhs
  kName,         // text: a field name
  kString,       // text
  kNumber,       // number
  kValue,        // literal: true, false or null
  kWildcard,     // *
  kDescendant,   // **
  kParent,       // %
  kCondition,    // lhs ? rhs : third
  kBlock,        // items
  kBind,         // text := rhs
  kRegex,        // regex
  kCall,         // lhs(items)
  kPartial,      // lhs(items with kPlaceholder)
  kPlaceholder,  // ? in a partial application
  kVariable,     // text ("" for $, "$" for $$)
  kLambda,       // params, rhs (body)
  kApply,        // lhs ~> rhs
  kArray,        // [items]
  kObject,       // {pairs}
  kSort,         // terms
  kIndexStage,   // #$i after a predicate: binds the position in the stage's output
  kTransform,    // | lhs (pattern) | rhs (update) , third (delete) |
};

// One parameter of a function signature such as "<s-nn?:s>".
struct SignatureParam {
  std::string types;      // accepted type symbols: s n b l a o f (x and j expanded)
  bool is_array = false;  // 'a': a non-array argument is wrapped into one
  char subtype = 0;       // a<s>: the required type of the items
  bool optional = false;
  bool one_or_more = false;
  bool context = false;  // '-': the context value stands in when missing
};

// Parses "<s-nn?:s>" (functions.cpp). The return type is not checked.
std::vector<SignatureParam> parse_signature(const std::string& signature);

// A parent reference (%): which step's input it names. `level` counts how
// many steps back the parent is still to be found while the parser
// resolves it; `label` is the hidden variable the tuple stream binds.
struct AncestorSlot {
  std::string label;
  int level = 1;
};

struct Expression::Node {
  NodeType type;
  int position = 0;
  std::string text;  // operator, name, string value, variable name
  double number = 0;
  nlohmann::json literal;  // kValue
  NodePtr lhs, rhs, third;
  std::vector<NodePtr> items;                      // steps, block, array, call arguments
  std::vector<std::pair<NodePtr, NodePtr>> pairs;  // object constructor
  std::vector<std::pair<NodePtr, bool>> terms;     // order-by: expression, descending
  std::vector<std::string> params;                 // lambda parameters
  std::vector<NodePtr> predicates;                 // [..] filters applied to the node's result
  std::vector<NodePtr> stages;                     // [..] filters of a path step, per input item
  std::unique_ptr<Expression::Node> group;         // {..} grouping after a step: a kObject
  std::shared_ptr<const Regex> regex;
  bool keep_array = false;            // a[] : keep singleton arrays
  bool keep_singleton_array = false;  // on a path: one step had []
  bool cons_array = false;            // an array constructor as the first/last step
  bool tuple =
      false;          // binds @$v, #$i or a %: the path runs on tuples (a nested path returns them)
  std::string focus;  // step@$focus: the name bound to each result
  std::string index;  // step#$index: the name bound to each position
  std::shared_ptr<AncestorSlot> slot;                         // kParent: the ancestor it reads
  std::shared_ptr<AncestorSlot> ancestor;                     // a step whose input a % names
  std::vector<std::shared_ptr<AncestorSlot>> seeking_parent;  // % not yet resolved below
  std::string signature;                         // lambda <...> signature text ("" when none)
  std::vector<SignatureParam> signature_params;  // parsed, checked on each call

  explicit Node(NodeType t, int pos = 0) : type(t), position(pos) {}
};

// Parses `text` into a processed tree. Errors carry S0xxx codes.
tl::expected<NodePtr, EvalError> parse(std::string_view text);

}  // namespace helix::jsonata
