// JSONata parser: a tokenizer, a Pratt (top-down operator precedence)
// parser with JSONata's binding powers, and a second pass that turns the
// binary "." / "[" / "{" / "^" operators into path steps with stages,
// groups and sort steps (docs.jsonata.org, "Path operators").
//
// Errors are thrown as ParseFailure inside this file only and returned as
// EvalError by parse().

#include <cmath>
#include <cstdlib>
#include <map>

#include "pipelines/jsonata/node.h"

namespace helix::jsonata {
namespace {

using nlohmann::json;

struct ParseFailure {
  EvalError error;
};

[[noreturn]] void fail_at(const std::string& code, const std::string& message, int position) {
  throw ParseFailure{EvalError{code, message, position}};
}

enum class TokenKind { kEnd, kName, kVariable, kString, kNumber, kValue, kRegex, kOperator };

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;
  double number = 0;
  json literal;
  std::string flags;  // regex flags
  int position = 0;
};

bool is_operator_char(char c) {
  switch (c) {
    case '.':
    case '[':
    case ']':
    case '{':
    case '}':
    case '(':
    case ')':
    case ',':
    case '@':
    case '#':
    case ';':
    case ':':
    case '?':
    case '+':
    case '-':
    case '*':
    case '/':
    case '%':
    case '|':
    case '=':
    case '<':
    case '>':
    case '^':
    case '&':
    case '!':
    case '~':
      return true;
    default:
      return false;
  }
}

bool is_name_char(char c) {
  return !(is_operator_char(c) || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
           c == '\f' || c == '"' || c == '\'' || c == '`');
}

class Lexer {
 public:
  explicit Lexer(std::string_view text) : s_(text) {}

  // `prefix`: the token stands where an operand is expected, so '/' starts
  // a regular expression instead of dividing.
  Token next(bool prefix) {
    skip_space();
    Token t;
    t.position = static_cast<int>(pos_);
    if (pos_ >= s_.size()) return t;
    char c = s_[pos_];
    if (c == '/' && prefix) return regex(t);
    // JSONata 2.0.6, the version Step Functions implements: no ?: or ??
    // operators (those came with 2.1).
    static const char* kTwoChar[] = {"..", ":=", "!=", ">=", "<=", "**", "~>"};
    if (pos_ + 1 < s_.size()) {
      for (const char* op : kTwoChar) {
        if (s_[pos_] == op[0] && s_[pos_ + 1] == op[1]) {
          t.kind = TokenKind::kOperator;
          t.text = op;
          pos_ += 2;
          return t;
        }
      }
    }
    if (is_operator_char(c)) {
      t.kind = TokenKind::kOperator;
      t.text = std::string(1, c);
      ++pos_;
      return t;
    }
    if (c == '"' || c == '\'') return string(t, c);
    if (c >= '0' && c <= '9') return number(t);
    if (c == '`') {
      size_t end = s_.find('`', pos_ + 1);
      if (end == std::string_view::npos)
        fail_at("S0105", "Quoted property name must be terminated with a backquote (`)",
                t.position);
      t.kind = TokenKind::kName;
      t.text = std::string(s_.substr(pos_ + 1, end - pos_ - 1));
      pos_ = end + 1;
      return t;
    }
    if (c == '$') {
      size_t start = ++pos_;
      while (pos_ < s_.size() && is_name_char(s_[pos_])) ++pos_;
      t.kind = TokenKind::kVariable;
      t.text = std::string(s_.substr(start, pos_ - start));
      return t;
    }
    size_t start = pos_;
    while (pos_ < s_.size() && is_name_char(s_[pos_])) ++pos_;
    std::string word(s_.substr(start, pos_ - start));
    if (word == "and" || word == "or" || word == "in") {
      t.kind = TokenKind::kOperator;
    } else if (word == "true" || word == "false") {
      t.kind = TokenKind::kValue;
      t.literal = (word == "true");
    } else if (word == "null") {
      t.kind = TokenKind::kValue;
      t.literal = nullptr;
    } else {
      t.kind = TokenKind::kName;
    }
    t.text = word;
    return t;
  }

 private:
  void skip_space() {
    for (;;) {
      while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' ||
                                  s_[pos_] == '\r' || s_[pos_] == '\v' || s_[pos_] == '\f'))
        ++pos_;
      if (pos_ + 1 < s_.size() && s_[pos_] == '/' && s_[pos_ + 1] == '*') {
        size_t end = s_.find("*/", pos_ + 2);
        if (end == std::string_view::npos)
          fail_at("S0106", "Comment has no closing tag", static_cast<int>(pos_));
        pos_ = end + 2;
        continue;
      }
      return;
    }
  }

  Token regex(Token t) {
    size_t start = ++pos_;
    int depth = 0;
    for (;;) {
      if (pos_ >= s_.size()) fail_at("S0302", "No terminating / in regular expression", t.position);
      char c = s_[pos_];
      if (c == '\\') {
        pos_ += 2;
        continue;
      }
      if (c == '[') ++depth;
      if (c == ']' && depth > 0) --depth;
      if (c == '/' && depth == 0) break;
      ++pos_;
    }
    std::string pattern(s_.substr(start, pos_ - start));
    if (pattern.empty()) fail_at("S0301", "Empty regular expressions are not allowed", t.position);
    ++pos_;
    std::string flags;
    while (pos_ < s_.size() && (s_[pos_] == 'i' || s_[pos_] == 'm')) flags += s_[pos_++];
    t.kind = TokenKind::kRegex;
    t.text = pattern;
    t.flags = flags;
    return t;
  }

  Token string(Token t, char quote) {
    std::string out;
    ++pos_;
    for (;;) {
      if (pos_ >= s_.size())
        fail_at("S0101", "String literal must be terminated by a matching quote", t.position);
      char c = s_[pos_];
      if (c == quote) {
        ++pos_;
        break;
      }
      if (c == '\\') {
        ++pos_;
        if (pos_ >= s_.size())
          fail_at("S0101", "String literal must be terminated by a matching quote", t.position);
        char e = s_[pos_];
        switch (e) {
          case '"':
          case '\\':
          case '/':
          case '\'':
            out += e;
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'n':
            out += '\n';
            break;
          case 'r':
            out += '\r';
            break;
          case 't':
            out += '\t';
            break;
          case 'u': {
            auto hex4 = [&](size_t at) -> long {
              if (at + 4 > s_.size()) return -1;
              for (size_t k = at; k < at + 4; ++k)
                if (!std::isxdigit(static_cast<unsigned char>(s_[k]))) return -1;
              return std::strtol(std::string(s_.substr(at, 4)).c_str(), nullptr, 16);
            };
            long cp = hex4(pos_ + 1);
            if (cp < 0)
              fail_at("S0104", "The escape sequence \\u must be followed by 4 hex digits",
                      static_cast<int>(pos_));
            pos_ += 4;
            if (cp >= 0xd800 && cp <= 0xdbff && pos_ + 2 < s_.size() && s_[pos_ + 1] == '\\' &&
                s_[pos_ + 2] == 'u') {
              long lo = hex4(pos_ + 3);
              if (lo >= 0xdc00 && lo <= 0xdfff) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                pos_ += 6;
              }
            }
            append_utf8(out, static_cast<char32_t>(cp));
            break;
          }
          default:
            fail_at("S0103", std::string("Unsupported escape sequence: \\") + e,
                    static_cast<int>(pos_));
        }
        ++pos_;
        continue;
      }
      out += c;
      ++pos_;
    }
    t.kind = TokenKind::kString;
    t.text = out;
    return t;
  }

  Token number(Token t) {
    size_t start = pos_;
    auto digits = [&] {
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    };
    if (s_[pos_] == '0')
      ++pos_;
    else
      digits();
    if (pos_ + 1 < s_.size() && s_[pos_] == '.' && s_[pos_ + 1] >= '0' && s_[pos_ + 1] <= '9') {
      ++pos_;
      digits();
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      size_t save = pos_++;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9')
        digits();
      else
        pos_ = save;
    }
    std::string text(s_.substr(start, pos_ - start));
    double d = std::strtod(text.c_str(), nullptr);
    if (!std::isfinite(d)) fail_at("S0102", "Number out of range: " + text, t.position);
    t.kind = TokenKind::kNumber;
    t.number = d;
    t.text = text;
    return t;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

int binding_power(const Token& t) {
  if (t.kind != TokenKind::kOperator) return 0;
  static const std::map<std::string, int> kPower = {
      {".", 75},   {"[", 80},  {"]", 0},   {"{", 70},  {"}", 0},   {"(", 80},
      {")", 0},    {",", 0},   {"@", 80},  {"#", 80},  {";", 0},   {":", 0},
      {"?", 20},   {"+", 50},  {"-", 50},  {"*", 60},  {"/", 60},  {"%", 60},
      {"|", 0},    {"=", 40},  {"<", 40},  {">", 40},  {"^", 40},  {"**", 60},
      {"..", 0},   {":=", 10}, {"!=", 40}, {"<=", 40}, {">=", 40}, {"~>", 40},
      {"and", 30}, {"or", 25}, {"in", 40}, {"&", 50},  {"!", 0},   {"~", 0}};
  auto it = kPower.find(t.text);
  return it == kPower.end() ? 0 : it->second;
}

std::string describe(const Token& t) {
  if (t.kind == TokenKind::kEnd) return "(end)";
  if (t.kind == TokenKind::kString) return t.text;
  return t.text;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : lexer_(text) { advance_any(true); }

  NodePtr parse_all() {
    NodePtr root = expression(0);
    if (tok_.kind != TokenKind::kEnd)
      fail_at("S0201", "Syntax error: " + describe(tok_), tok_.position);
    NodePtr processed = process(std::move(root));
    if (processed->type == NodeType::kParent || !processed->seeking_parent.empty())
      fail_at("S0217",
              "The object representing the 'parent' cannot be derived from this expression",
              processed->position);
    return processed;
  }

 private:
  bool is_op(const char* op) const { return tok_.kind == TokenKind::kOperator && tok_.text == op; }

  // Reads the next token; whether '/' opens a regex depends on the token
  // just consumed (an operand or closing bracket before it means divide).
  void advance_any(bool prefix) { tok_ = lexer_.next(prefix); }

  Token take() {
    Token t = tok_;
    bool operand_before =
        t.kind == TokenKind::kName || t.kind == TokenKind::kVariable ||
        t.kind == TokenKind::kNumber || t.kind == TokenKind::kString ||
        t.kind == TokenKind::kValue || t.kind == TokenKind::kRegex ||
        (t.kind == TokenKind::kOperator && (t.text == ")" || t.text == "]" || t.text == "}"));
    advance_any(!operand_before);
    return t;
  }

  void expect(const char* op) {
    if (tok_.kind == TokenKind::kEnd)
      fail_at("S0203", std::string("Expected ") + op + " before end of expression", tok_.position);
    if (!is_op(op))
      fail_at("S0202", std::string("Expected ") + op + ", got " + describe(tok_), tok_.position);
    take();
  }

  // Nesting deeper than this is refused (S0220) rather than risking the
  // thread's stack: no hand-written expression comes close.
  static constexpr int kMaxNesting = 200;

  struct NestingGuard {
    NestingGuard(int& depth, int position) : depth_(depth) {
      if (++depth_ > kMaxNesting) fail_at("S0220", "The expression is nested too deeply", position);
    }
    ~NestingGuard() { --depth_; }
    NestingGuard(const NestingGuard&) = delete;
    NestingGuard& operator=(const NestingGuard&) = delete;
    int& depth_;
  };

  NodePtr expression(int rbp) {
    NestingGuard guard(nesting_, tok_.position);
    Token t = take();
    NodePtr left = nud(t);
    while (rbp < binding_power(tok_)) {
      Token op = take();
      left = led(op, std::move(left));
    }
    return left;
  }

  static NodePtr make(NodeType type, int pos) {
    return std::make_unique<Expression::Node>(type, pos);
  }

  NodePtr nud(const Token& t) {
    switch (t.kind) {
      case TokenKind::kEnd:
        fail_at("S0207", "Unexpected end of expression", t.position);
      case TokenKind::kNumber: {
        auto n = make(NodeType::kNumber, t.position);
        n->number = t.number;
        return n;
      }
      case TokenKind::kString: {
        auto n = make(NodeType::kString, t.position);
        n->text = t.text;
        return n;
      }
      case TokenKind::kValue: {
        auto n = make(NodeType::kValue, t.position);
        n->literal = t.literal;
        return n;
      }
      case TokenKind::kRegex: {
        auto n = make(NodeType::kRegex, t.position);
        auto r = std::make_shared<Regex>();
        r->source = t.text;
        r->flags = t.flags;
        auto options = std::regex::ECMAScript;
        if (t.flags.find('i') != std::string::npos) options |= std::regex::icase;
        if (t.flags.find('m') != std::string::npos) options |= std::regex::multiline;
        try {
          r->re = std::regex(t.text, options);
        } catch (const std::regex_error&) {
          fail_at("S0303", "Invalid regular expression: /" + t.text + "/", t.position);
        }
        n->regex = std::move(r);
        return n;
      }
      case TokenKind::kVariable: {
        auto n = make(NodeType::kVariable, t.position);
        n->text = t.text;
        return n;
      }
      case TokenKind::kName: {
        if ((t.text == "function" || t.text == "\xce\xbb") && is_op("(")) return lambda(t);
        auto n = make(NodeType::kName, t.position);
        n->text = t.text;
        return n;
      }
      case TokenKind::kOperator:
        break;
    }
    const std::string& op = t.text;
    if (op == "-") {
      auto n = make(NodeType::kNegate, t.position);
      n->lhs = expression(70);
      return n;
    }
    if (op == "*") return make(NodeType::kWildcard, t.position);
    if (op == "**") return make(NodeType::kDescendant, t.position);
    if (op == "%") return make(NodeType::kParent, t.position);
    if (op == "?") return make(NodeType::kPlaceholder, t.position);
    if (op == "and" || op == "or" || op == "in") {
      auto n = make(NodeType::kName, t.position);
      n->text = op;
      return n;
    }
    if (op == "(") {
      auto n = make(NodeType::kBlock, t.position);
      while (!is_op(")")) {
        n->items.push_back(expression(0));
        if (!is_op(";")) break;
        take();
      }
      expect(")");
      return n;
    }
    if (op == "[") {
      auto n = make(NodeType::kArray, t.position);
      if (!is_op("]")) {
        for (;;) {
          NodePtr item = expression(0);
          if (is_op("..")) {
            Token range = take();
            auto r = make(NodeType::kBinary, range.position);
            r->text = "..";
            r->lhs = std::move(item);
            r->rhs = expression(0);
            item = std::move(r);
          }
          n->items.push_back(std::move(item));
          if (!is_op(",")) break;
          take();
        }
      }
      expect("]");
      return n;
    }
    if (op == "{") {
      auto n = make(NodeType::kObject, t.position);
      object_pairs(*n);
      return n;
    }
    if (op == "|") {
      auto n = make(NodeType::kTransform, t.position);
      n->lhs = expression(0);
      expect("|");
      n->rhs = expression(0);
      if (is_op(",")) {
        take();
        n->third = expression(0);
      }
      expect("|");
      return n;
    }
    fail_at("S0211", "Syntax error: symbol " + op + " used in a place where it is not allowed",
            t.position);
  }

  void object_pairs(Expression::Node& n) {
    if (!is_op("}")) {
      for (;;) {
        NodePtr key = expression(0);
        expect(":");
        NodePtr value = expression(0);
        n.pairs.emplace_back(std::move(key), std::move(value));
        if (!is_op(",")) break;
        take();
      }
    }
    expect("}");
  }

  NodePtr lambda(const Token& t) {
    auto n = make(NodeType::kLambda, t.position);
    expect("(");
    while (!is_op(")")) {
      if (tok_.kind != TokenKind::kVariable)
        fail_at("S0208",
                "Parameter " + describe(tok_) +
                    " of function definition must be a variable name (start with $)",
                tok_.position);
      n->params.push_back(take().text);
      if (!is_op(",")) break;
      take();
    }
    expect(")");
    if (is_op("<")) {
      // A signature such as <n-n:n>: kept as text, not enforced.
      int depth = 0;
      std::string sig;
      for (;;) {
        if (tok_.kind == TokenKind::kEnd)
          fail_at("S0203", "Expected > before end of expression", tok_.position);
        Token s = take();
        sig += s.text;
        if (s.kind == TokenKind::kOperator && s.text == "<") ++depth;
        if (s.kind == TokenKind::kOperator && s.text == ">") {
          if (--depth == 0) break;
        }
      }
      n->signature = sig;
      n->signature_params = parse_signature(sig);
    }
    expect("{");
    n->rhs = expression(0);
    expect("}");
    return n;
  }

  NodePtr led(const Token& t, NodePtr left) {
    const std::string& op = t.text;
    if (op == "(") {
      auto n = make(NodeType::kCall, t.position);
      n->lhs = std::move(left);
      while (!is_op(")")) {
        if (is_op("?")) {
          n->items.push_back(make(NodeType::kPlaceholder, tok_.position));
          n->type = NodeType::kPartial;
          take();
        } else {
          n->items.push_back(expression(0));
        }
        if (!is_op(",")) break;
        take();
      }
      expect(")");
      return n;
    }
    if (op == "[") {
      if (is_op("]")) {
        Expression::Node* step = left.get();
        while (step->type == NodeType::kBinary && step->text == "[") step = step->lhs.get();
        step->keep_array = true;
        take();
        return left;
      }
      auto n = make(NodeType::kBinary, t.position);
      n->text = "[";
      n->lhs = std::move(left);
      n->rhs = expression(0);
      expect("]");
      return n;
    }
    if (op == "{") {
      auto n = make(NodeType::kBinary, t.position);
      n->text = "{";
      n->lhs = std::move(left);
      object_pairs(*n);
      return n;
    }
    if (op == "^") {
      auto n = make(NodeType::kBinary, t.position);
      n->text = "^";
      n->lhs = std::move(left);
      expect("(");
      for (;;) {
        bool descending = false;
        if (is_op("<")) {
          take();
        } else if (is_op(">")) {
          descending = true;
          take();
        }
        n->terms.emplace_back(expression(0), descending);
        if (!is_op(",")) break;
        take();
      }
      expect(")");
      return n;
    }
    if (op == "?") {
      auto n = make(NodeType::kCondition, t.position);
      n->lhs = std::move(left);
      n->rhs = expression(0);
      if (is_op(":")) {
        take();
        n->third = expression(0);
      }
      return n;
    }
    if (op == ":=") {
      if (left->type != NodeType::kVariable)
        fail_at("S0212", "The left side of := must be a variable name (start with $)",
                left->position);
      auto n = make(NodeType::kBind, t.position);
      n->text = left->text;
      n->rhs = expression(9);
      return n;
    }
    if (op == "~>") {
      auto n = make(NodeType::kApply, t.position);
      n->lhs = std::move(left);
      n->rhs = expression(40);
      return n;
    }
    if (op == "@" || op == "#") {
      if (tok_.kind != TokenKind::kVariable)
        fail_at("S0214", "The right side of " + op + " must be a variable name (start with $)",
                tok_.position);
      auto n = make(NodeType::kBinary, t.position);
      n->text = op;
      n->lhs = std::move(left);
      n->rhs = make(NodeType::kVariable, tok_.position);
      n->rhs->text = take().text;
      return n;
    }
    int bp = binding_power(t);
    if (bp == 0) fail_at("S0201", "Syntax error: " + op, t.position);
    auto n = make(NodeType::kBinary, t.position);
    n->text = op;
    n->lhs = std::move(left);
    n->rhs = expression(bp);
    return n;
  }

  // The second pass: builds paths out of "." and attaches predicates,
  // groups and sort terms to the steps they belong to.
  NodePtr process(NodePtr n) {
    if (!n) return n;
    NestingGuard guard(nesting_, n->position);
    bool keep_array = n->keep_array;
    NodePtr result;
    switch (n->type) {
      case NodeType::kBinary: {
        const std::string op = n->text;
        if (op == ".") {
          NodePtr lstep = process(std::move(n->lhs));
          if (lstep->type == NodeType::kPath) {
            result = std::move(lstep);
          } else {
            result = make(NodeType::kPath, lstep->position);
            if (lstep->type == NodeType::kParent) result->seeking_parent = {lstep->slot};
            result->items.push_back(std::move(lstep));
          }
          NodePtr rest = process(std::move(n->rhs));
          if (rest->type == NodeType::kPath) {
            for (auto& s : rest->items) result->items.push_back(std::move(s));
          } else {
            rest->stages = std::move(rest->predicates);
            rest->predicates.clear();
            result->items.push_back(std::move(rest));
          }
          for (auto& step : result->items) {
            if (step->type == NodeType::kNumber || step->type == NodeType::kValue) {
              std::string value = step->type == NodeType::kNumber ? format_number(step->number)
                                                                  : step->literal.dump();
              fail_at("S0213",
                      "The literal value " + value +
                          " cannot be used as a step within a path expression",
                      step->position);
            }
            if (step->type == NodeType::kString) step->type = NodeType::kName;
            if (step->keep_array) result->keep_singleton_array = true;
          }
          if (result->items.front()->type == NodeType::kArray)
            result->items.front()->cons_array = true;
          if (result->items.back()->type == NodeType::kArray)
            result->items.back()->cons_array = true;
          resolve_ancestry(*result);
        } else if (op == "[") {
          result = process(std::move(n->lhs));
          Expression::Node* step = result.get();
          bool stages = false;
          if (result->type == NodeType::kPath) {
            step = result->items.back().get();
            stages = true;
          }
          if (step->group)
            fail_at("S0209", "A predicate cannot follow a grouping expression in a step",
                    n->position);
          NodePtr predicate = process(std::move(n->rhs));
          if (!predicate->seeking_parent.empty()) {
            for (auto& slot : predicate->seeking_parent) {
              if (slot->level == 1)
                seek_parent(*step, slot);
              else
                --slot->level;
            }
            push_ancestry(*step, *predicate);
          }
          (stages ? step->stages : step->predicates).push_back(std::move(predicate));
        } else if (op == "{") {
          result = process(std::move(n->lhs));
          if (result->group)
            fail_at("S0210", "Each step can only have one grouping expression", n->position);
          auto group = make(NodeType::kObject, n->position);
          for (auto& [k, v] : n->pairs)
            group->pairs.emplace_back(process(std::move(k)), process(std::move(v)));
          result->group = std::move(group);
        } else if (op == "@") {
          result = process(std::move(n->lhs));
          Expression::Node* step = result.get();
          if (result->type == NodeType::kPath) step = result->items.back().get();
          if (!step->stages.empty() || !step->predicates.empty())
            fail_at("S0215", "A context variable binding must precede any predicates on a step",
                    n->position);
          if (step->type == NodeType::kSort)
            fail_at("S0216",
                    "A context variable binding must precede the 'order-by' clause on a step",
                    n->position);
          if (n->keep_array) step->keep_array = true;
          step->focus = n->rhs->text;
          step->tuple = true;
        } else if (op == "#") {
          result = process(std::move(n->lhs));
          Expression::Node* step = result.get();
          if (result->type == NodeType::kPath) {
            step = result->items.back().get();
          } else {
            auto path = make(NodeType::kPath, result->position);
            step->stages = std::move(step->predicates);
            step->predicates.clear();
            path->items.push_back(std::move(result));
            result = std::move(path);
          }
          if (step->stages.empty()) {
            step->index = n->rhs->text;
          } else {
            auto stage = make(NodeType::kIndexStage, n->position);
            stage->text = n->rhs->text;
            step->stages.push_back(std::move(stage));
          }
          step->tuple = true;
        } else if (op == "^") {
          result = process(std::move(n->lhs));
          if (result->type != NodeType::kPath) {
            auto path = make(NodeType::kPath, result->position);
            path->items.push_back(std::move(result));
            result = std::move(path);
          }
          auto sort = make(NodeType::kSort, n->position);
          for (auto& [e, desc] : n->terms) {
            NodePtr term = process(std::move(e));
            push_ancestry(*sort, *term);
            sort->terms.emplace_back(std::move(term), desc);
          }
          result->items.push_back(std::move(sort));
          resolve_ancestry(*result);
        } else {
          n->lhs = process(std::move(n->lhs));
          n->rhs = process(std::move(n->rhs));
          push_ancestry(*n, *n->lhs);
          push_ancestry(*n, *n->rhs);
          result = std::move(n);
        }
        break;
      }
      case NodeType::kNegate: {
        NodePtr e = process(std::move(n->lhs));
        if (e->type == NodeType::kNumber) {
          e->number = -e->number;
          result = std::move(e);
        } else {
          push_ancestry(*n, *e);
          n->lhs = std::move(e);
          result = std::move(n);
        }
        break;
      }
      case NodeType::kApply:
        n->lhs = process(std::move(n->lhs));
        n->rhs = process(std::move(n->rhs));
        n->keep_array = n->lhs->keep_array || n->rhs->keep_array;
        result = std::move(n);
        break;
      case NodeType::kArray:
      case NodeType::kBlock:
      case NodeType::kCall:
      case NodeType::kPartial:
      case NodeType::kLambda:
      case NodeType::kCondition:
      case NodeType::kBind:
      case NodeType::kObject:
      case NodeType::kTransform:
        for (auto& item : n->items) item = process(std::move(item));
        for (auto& [k, v] : n->pairs) {
          k = process(std::move(k));
          v = process(std::move(v));
        }
        n->lhs = process(std::move(n->lhs));
        n->rhs = process(std::move(n->rhs));
        n->third = process(std::move(n->third));
        if (n->type != NodeType::kLambda && n->type != NodeType::kTransform) {
          for (const auto& item : n->items) push_ancestry(*n, *item);
          for (const auto& [k, v] : n->pairs) {
            push_ancestry(*n, *k);
            push_ancestry(*n, *v);
          }
          // A call's procedure does not take part, as in the reference.
          if (n->lhs && n->type != NodeType::kCall && n->type != NodeType::kPartial)
            push_ancestry(*n, *n->lhs);
          if (n->rhs) push_ancestry(*n, *n->rhs);
          if (n->third) push_ancestry(*n, *n->third);
        }
        if (n->type == NodeType::kBlock) {
          for (const auto& item : n->items) {
            if (item->cons_array ||
                (item->type == NodeType::kPath && item->items.front()->cons_array))
              n->cons_array = true;
          }
        }
        result = std::move(n);
        break;
      case NodeType::kName: {
        result = make(NodeType::kPath, n->position);
        result->keep_singleton_array = n->keep_array;
        result->items.push_back(std::move(n));
        break;
      }
      case NodeType::kParent:
        n->slot = std::make_shared<AncestorSlot>();
        n->slot->label = "!" + std::to_string(next_label_++);
        result = std::move(n);
        break;
      default:
        result = std::move(n);
        break;
    }
    if (keep_array) result->keep_array = true;
    return result;
  }

  // The parent operator (%): each unresolved slot travels up the tree with
  // the expressions that contain it until a path step can own it; that
  // step then binds its input under the slot's label for the steps after.
  static void push_ancestry(Expression::Node& result, const Expression::Node& value) {
    for (const auto& slot : value.seeking_parent) result.seeking_parent.push_back(slot);
    if (value.type == NodeType::kParent) result.seeking_parent.push_back(value.slot);
  }

  std::shared_ptr<AncestorSlot> seek_parent(Expression::Node& node,
                                            std::shared_ptr<AncestorSlot> slot) {
    switch (node.type) {
      case NodeType::kName:
      case NodeType::kWildcard:
        if (--slot->level == 0) {
          if (node.ancestor) slot->label = node.ancestor->label;
          node.ancestor = slot;
          node.tuple = true;
        }
        break;
      case NodeType::kParent:
        ++slot->level;
        break;
      case NodeType::kBlock:
        if (!node.items.empty()) {
          node.tuple = true;
          slot = seek_parent(*node.items.back(), slot);
        }
        break;
      case NodeType::kPath: {
        node.tuple = true;
        size_t index = node.items.size();
        slot = seek_parent(*node.items[--index], slot);
        while (slot->level > 0 && index > 0) slot = seek_parent(*node.items[--index], slot);
        break;
      }
      default:
        fail_at("S0217",
                "The object representing the 'parent' cannot be derived from this expression",
                node.position);
    }
    return slot;
  }

  void resolve_ancestry(Expression::Node& path) {
    auto& steps = path.items;
    Expression::Node& last = *steps.back();
    std::vector<std::shared_ptr<AncestorSlot>> slots = last.seeking_parent;
    if (last.type == NodeType::kParent) slots.push_back(last.slot);
    for (auto slot : slots) {
      auto index = static_cast<std::ptrdiff_t>(steps.size()) - 2;
      while (slot->level > 0) {
        if (index < 0) {
          path.seeking_parent.push_back(slot);
          break;
        }
        Expression::Node* step = steps[static_cast<size_t>(index--)].get();
        // Contiguous steps that bind a focus variable do not move the context.
        while (index >= 0 && !step->focus.empty() &&
               !steps[static_cast<size_t>(index)]->focus.empty())
          step = steps[static_cast<size_t>(index--)].get();
        slot = seek_parent(*step, slot);
      }
    }
  }

  Lexer lexer_;
  Token tok_;
  int nesting_ = 0;
  int next_label_ = 0;
};

}  // namespace

tl::expected<NodePtr, EvalError> parse(std::string_view text) {
  try {
    Parser parser(text);
    return parser.parse_all();
  } catch (const ParseFailure& f) {
    return tl::unexpected(f.error);
  }
}

}  // namespace helix::jsonata
