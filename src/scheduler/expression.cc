#include "scheduler/expression.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <utility>

namespace scoria::scheduler {
namespace {

enum class NodeKind { kConst, kVar, kNeg, kPos, kArith, kNot, kAnd, kOr, kCompare, kTernary, kCall };
enum class CmpOp { kLt, kLe, kGt, kGe, kEq, kNe };
enum class Func { kAbs, kMax, kMin };

// Nesting bound: keeps a hostile filter_function from exhausting the stack.
constexpr int kMaxDepth = 200;

struct Token {
  enum class Kind { kNumber, kString, kIdent, kOp, kEnd };
  Kind kind = Kind::kEnd;
  std::string text;  // op spelling (keywords normalised to && || !), identifier, string body
  double number = 0;
  size_t pos = 0;
};

bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
}

Result<std::vector<Token>> Tokenize(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    Token t;
    t.pos = i;
    if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t j = i;
      while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
      if (j + 1 < s.size() && s[j] == '.' && std::isdigit(static_cast<unsigned char>(s[j + 1]))) {
        ++j;
        while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
      }
      t.kind = Token::Kind::kNumber;
      t.number = std::strtod(std::string(s.substr(i, j - i)).c_str(), nullptr);
      i = j;
    } else if (IsIdentStart(c)) {
      size_t j = i;
      while (j < s.size() && IsIdentChar(s[j])) ++j;
      std::string word(s.substr(i, j - i));
      i = j;
      if (word == "and" || word == "AND") {
        t.kind = Token::Kind::kOp, t.text = "&&";
      } else if (word == "or" || word == "OR") {
        t.kind = Token::Kind::kOp, t.text = "||";
      } else if (word == "not" || word == "NOT") {
        t.kind = Token::Kind::kOp, t.text = "!";
      } else {
        t.kind = Token::Kind::kIdent, t.text = std::move(word);
      }
    } else if (c == '"' || c == '\'') {
      size_t j = s.find(c, i + 1);
      if (j == std::string_view::npos) {
        return InvalidArgument("unterminated string at offset " + std::to_string(i));
      }
      t.kind = Token::Kind::kString;
      t.text = std::string(s.substr(i + 1, j - i - 1));
      i = j + 1;
    } else {
      static constexpr std::string_view kTwo[] = {"<=", ">=", "==", "!=", "<>", "&&", "||"};
      t.kind = Token::Kind::kOp;
      for (std::string_view op : kTwo) {
        if (s.substr(i, 2) == op) t.text = std::string(op);
      }
      if (t.text.empty()) {
        if (std::string_view("()+-*/^<>!?:,").find(c) == std::string_view::npos) {
          return InvalidArgument(std::string("unexpected character '") + c + "' at offset " +
                                 std::to_string(i));
        }
        t.text = std::string(1, c);
      }
      i += t.text.size();
    }
    out.push_back(std::move(t));
  }
  Token end;
  end.pos = s.size();
  out.push_back(end);
  return out;
}

}  // namespace

struct Expression::Node {
  NodeKind kind = NodeKind::kConst;
  char op = 0;  // kArith: + - * / ^
  Func func = Func::kAbs;
  VariableScope scope = VariableScope::kStats;
  ExprValue value;                // kConst
  std::vector<std::string> path;  // kVar
  std::vector<int> kids;
  std::vector<CmpOp> cmp_ops;  // kCompare: kids.size() == cmp_ops.size() + 1
};

namespace {

using Node = Expression::Node;

class Parser {
 public:
  Parser(std::vector<Token> tokens, std::vector<Node>* nodes)
      : toks_(std::move(tokens)), nodes_(nodes) {}

  Result<int> ParseAll() {
    ASSIGN_OR_RETURN(int root, ParseOr());
    if (Peek().kind != Token::Kind::kEnd) return Error("unexpected '" + Describe(Peek()) + "'");
    return root;
  }

 private:
  const Token& Peek() const { return toks_[i_]; }
  bool IsOp(std::string_view op) const {
    return Peek().kind == Token::Kind::kOp && Peek().text == op;
  }
  bool Accept(std::string_view op) {
    if (!IsOp(op)) return false;
    ++i_;
    return true;
  }
  static std::string Describe(const Token& t) {
    switch (t.kind) {
      case Token::Kind::kEnd: return "end of expression";
      case Token::Kind::kNumber: return "number";
      case Token::Kind::kString: return "'" + t.text + "'";
      default: return t.text;
    }
  }
  Status Error(const std::string& what) const {
    return InvalidArgument(what + " at offset " + std::to_string(Peek().pos));
  }
  int Add(Node n) {
    nodes_->push_back(std::move(n));
    return static_cast<int>(nodes_->size()) - 1;
  }
  int AddKids(NodeKind kind, std::vector<int> kids, char op = 0) {
    Node n;
    n.kind = kind;
    n.kids = std::move(kids);
    n.op = op;
    return Add(std::move(n));
  }

  Result<int> ParseOr() {
    if (++depth_ > kMaxDepth) return Error("expression nested too deeply");
    ASSIGN_OR_RETURN(int left, ParseAnd());
    while (Accept("||")) {
      ASSIGN_OR_RETURN(int right, ParseAnd());
      left = AddKids(NodeKind::kOr, {left, right});
    }
    --depth_;
    return left;
  }
  Result<int> ParseAnd() {
    ASSIGN_OR_RETURN(int left, ParseTernary());
    while (Accept("&&")) {
      ASSIGN_OR_RETURN(int right, ParseTernary());
      left = AddKids(NodeKind::kAnd, {left, right});
    }
    return left;
  }
  Result<int> ParseTernary() {
    ASSIGN_OR_RETURN(int cond, ParseCompare());
    while (Accept("?")) {
      ASSIGN_OR_RETURN(int a, ParseCompare());
      if (!Accept(":")) return Error("expected ':'");
      ASSIGN_OR_RETURN(int b, ParseCompare());
      cond = AddKids(NodeKind::kTernary, {cond, a, b});
    }
    return cond;
  }
  std::optional<CmpOp> PeekCmp() const {
    if (Peek().kind != Token::Kind::kOp) return std::nullopt;
    const std::string& t = Peek().text;
    if (t == "<") return CmpOp::kLt;
    if (t == "<=") return CmpOp::kLe;
    if (t == ">") return CmpOp::kGt;
    if (t == ">=") return CmpOp::kGe;
    if (t == "==") return CmpOp::kEq;
    if (t == "!=" || t == "<>") return CmpOp::kNe;
    return std::nullopt;
  }
  Result<int> ParseCompare() {
    ASSIGN_OR_RETURN(int first, ParseNot());
    std::optional<CmpOp> op = PeekCmp();
    if (!op) return first;
    Node n;
    n.kind = NodeKind::kCompare;
    n.kids.push_back(first);
    while (op) {
      ++i_;
      ASSIGN_OR_RETURN(int next, ParseNot());
      n.cmp_ops.push_back(*op);
      n.kids.push_back(next);
      op = PeekCmp();
    }
    return Add(std::move(n));
  }
  Result<int> ParseNot() {
    if (Accept("!")) {
      if (++depth_ > kMaxDepth) return Error("expression nested too deeply");
      ASSIGN_OR_RETURN(int operand, ParseNot());
      --depth_;
      return AddKids(NodeKind::kNot, {operand});
    }
    return ParseAdd();
  }
  Result<int> ParseAdd() {
    ASSIGN_OR_RETURN(int left, ParseMul());
    while (IsOp("+") || IsOp("-")) {
      const char op = Peek().text[0];
      ++i_;
      ASSIGN_OR_RETURN(int right, ParseMul());
      left = AddKids(NodeKind::kArith, {left, right}, op);
    }
    return left;
  }
  Result<int> ParseMul() {
    ASSIGN_OR_RETURN(int left, ParseSign());
    while (IsOp("*") || IsOp("/")) {
      const char op = Peek().text[0];
      ++i_;
      ASSIGN_OR_RETURN(int right, ParseSign());
      left = AddKids(NodeKind::kArith, {left, right}, op);
    }
    return left;
  }
  Result<int> ParseSign() {
    if (IsOp("+") || IsOp("-")) {
      const bool neg = Peek().text[0] == '-';
      ++i_;
      if (++depth_ > kMaxDepth) return Error("expression nested too deeply");
      ASSIGN_OR_RETURN(int operand, ParseSign());
      --depth_;
      return AddKids(neg ? NodeKind::kNeg : NodeKind::kPos, {operand});
    }
    return ParsePow();
  }
  Result<int> ParsePow() {
    ASSIGN_OR_RETURN(int base, ParsePrimary());
    if (!Accept("^")) return base;
    if (++depth_ > kMaxDepth) return Error("expression nested too deeply");
    ASSIGN_OR_RETURN(int exponent, ParseSign());  // right-assoc; a signed exponent is accepted
    --depth_;
    return AddKids(NodeKind::kArith, {base, exponent}, '^');
  }
  Result<int> ParsePrimary() {
    const Token t = Peek();
    switch (t.kind) {
      case Token::Kind::kNumber: {
        ++i_;
        Node n;
        n.value = ExprValue::Number(t.number);
        return Add(std::move(n));
      }
      case Token::Kind::kString: {
        ++i_;
        Node n;
        n.value = ExprValue::String(t.text);
        return Add(std::move(n));
      }
      case Token::Kind::kIdent:
        ++i_;
        if (IsOp("(")) return ParseCall(t);
        return MakeWord(t);
      case Token::Kind::kOp:
        if (Accept("(")) {
          ASSIGN_OR_RETURN(int inner, ParseOr());
          if (!Accept(")")) return Error("expected ')'");
          return inner;
        }
        return Error("unexpected '" + t.text + "'");
      case Token::Kind::kEnd:
        return Error("unexpected end of expression");
    }
    return Error("unexpected token");
  }
  Result<int> ParseCall(const Token& name) {
    Node n;
    n.kind = NodeKind::kCall;
    if (name.text == "abs") {
      n.func = Func::kAbs;
    } else if (name.text == "max") {
      n.func = Func::kMax;
    } else if (name.text == "min") {
      n.func = Func::kMin;
    } else {
      return InvalidArgument("unknown function '" + name.text + "' at offset " +
                             std::to_string(name.pos));
    }
    Accept("(");
    do {
      ASSIGN_OR_RETURN(int arg, ParseOr());
      n.kids.push_back(arg);
    } while (Accept(","));
    if (!Accept(")")) return Error("expected ')'");
    if (n.func == Func::kAbs && n.kids.size() != 1) {
      return InvalidArgument("abs() takes exactly one argument");
    }
    return Add(std::move(n));
  }
  Result<int> MakeWord(const Token& t) {
    const std::string& w = t.text;
    const size_t dot = w.find('.');
    Node n;
    if (dot == std::string::npos) {  // Cinder: a bare word is a string constant
      n.value = ExprValue::String(w);
      return Add(std::move(n));
    }
    const std::string scope = w.substr(0, dot);
    if (scope == "stats") {
      n.scope = VariableScope::kStats;
    } else if (scope == "capabilities") {
      n.scope = VariableScope::kCapabilities;
    } else if (scope == "volume") {
      n.scope = VariableScope::kVolume;
    } else if (scope == "extra") {
      n.scope = VariableScope::kExtra;
    } else if (scope == "qos") {
      n.scope = VariableScope::kQos;
    } else {
      return InvalidArgument("unknown variable '" + w + "' at offset " + std::to_string(t.pos) +
                             " (scopes: stats, capabilities, volume, extra, qos)");
    }
    size_t start = dot + 1;
    while (true) {
      const size_t next = w.find('.', start);
      std::string part = w.substr(start, next == std::string::npos ? std::string::npos : next - start);
      if (part.empty()) {
        return InvalidArgument("malformed variable '" + w + "' at offset " + std::to_string(t.pos));
      }
      n.path.push_back(std::move(part));
      if (next == std::string::npos) break;
      start = next + 1;
    }
    n.kind = NodeKind::kVar;
    return Add(std::move(n));
  }

  std::vector<Token> toks_;
  std::vector<Node>* nodes_;
  size_t i_ = 0;
  int depth_ = 0;
};

class Evaluator {
 public:
  Evaluator(const std::vector<Node>& nodes, const VariableSource& vars)
      : nodes_(nodes), vars_(vars) {}

  bool Eval(int idx, ExprValue* out) {
    const Node& n = nodes_[idx];
    switch (n.kind) {
      case NodeKind::kConst:
        *out = n.value;
        return true;
      case NodeKind::kVar:
        if (!vars_.Lookup(n.scope, n.path, out)) return Fail("no usable value for variable " + VarName(n));
        return true;
      case NodeKind::kNeg:
      case NodeKind::kPos: {
        if (!Eval(n.kids[0], out)) return false;
        if (!out->is_numeric()) return Fail("unary sign applied to a string");
        *out = ExprValue::Number(n.kind == NodeKind::kNeg ? -out->number : out->number);
        return true;
      }
      case NodeKind::kArith: {
        ExprValue r;
        if (!Eval(n.kids[0], out) || !Eval(n.kids[1], &r)) return false;
        return Arith(n.op, r, out);
      }
      case NodeKind::kNot:
        if (!Eval(n.kids[0], out)) return false;
        *out = ExprValue::Bool(!out->Truthy());
        return true;
      case NodeKind::kAnd:
      case NodeKind::kOr: {
        // Cinder evaluates both operands (no short circuit), so an error on either side is an
        // error; the result is an operand, as with Python's and/or.
        ExprValue r;
        if (!Eval(n.kids[0], out) || !Eval(n.kids[1], &r)) return false;
        const bool take_right = (n.kind == NodeKind::kAnd) == out->Truthy();
        if (take_right) *out = std::move(r);
        return true;
      }
      case NodeKind::kCompare: {
        ExprValue left, right;
        if (!Eval(n.kids[0], &left)) return false;
        for (size_t k = 0; k < n.cmp_ops.size(); ++k) {
          if (!Eval(n.kids[k + 1], &right)) return false;
          bool ok = false;
          if (!Compare(n.cmp_ops[k], left, right, &ok)) return false;
          if (!ok) {
            *out = ExprValue::Bool(false);
            return true;
          }
          left = std::move(right);
        }
        *out = ExprValue::Bool(true);
        return true;
      }
      case NodeKind::kTernary:
        if (!Eval(n.kids[0], out)) return false;
        return Eval(out->Truthy() ? n.kids[1] : n.kids[2], out);
      case NodeKind::kCall:
        return Call(n, out);
    }
    return Fail("internal: unknown node");
  }

  std::string error;

 private:
  bool Fail(std::string msg) {
    error = std::move(msg);
    return false;
  }
  static std::string VarName(const Node& n) {
    static constexpr const char* kScopes[] = {"stats", "capabilities", "volume", "extra", "qos"};
    std::string s = kScopes[static_cast<int>(n.scope)];
    for (const auto& p : n.path) s += "." + p;
    return s;
  }
  bool Arith(char op, const ExprValue& r, ExprValue* l) {
    if (op == '+' && l->type == ExprValue::Type::kString && r.type == ExprValue::Type::kString) {
      l->text += r.text;
      return true;
    }
    if (!l->is_numeric() || !r.is_numeric()) {
      return Fail(std::string("operator '") + op + "' applied to a string");
    }
    double v = 0;
    switch (op) {
      case '+': v = l->number + r.number; break;
      case '-': v = l->number - r.number; break;
      case '*': v = l->number * r.number; break;
      case '/':
        if (r.number == 0) return Fail("division by zero");
        v = l->number / r.number;
        break;
      case '^':
        v = std::pow(l->number, r.number);
        if (!std::isfinite(v)) return Fail("power out of range");
        break;
      default: return Fail("internal: unknown operator");
    }
    *l = ExprValue::Number(v);
    return true;
  }
  bool Compare(CmpOp op, const ExprValue& a, const ExprValue& b, bool* result) {
    const bool both_num = a.is_numeric() && b.is_numeric();
    const bool both_str = a.type == ExprValue::Type::kString && b.type == ExprValue::Type::kString;
    if (op == CmpOp::kEq || op == CmpOp::kNe) {
      bool eq = both_num ? a.number == b.number : both_str && a.text == b.text;
      *result = (op == CmpOp::kEq) == eq;
      return true;
    }
    if (!both_num && !both_str) return Fail("ordering comparison between a number and a string");
    int c = both_num ? (a.number < b.number ? -1 : a.number > b.number ? 1 : 0)
                     : a.text.compare(b.text);
    switch (op) {
      case CmpOp::kLt: *result = c < 0; break;
      case CmpOp::kLe: *result = c <= 0; break;
      case CmpOp::kGt: *result = c > 0; break;
      case CmpOp::kGe: *result = c >= 0; break;
      default: break;
    }
    return true;
  }
  bool Call(const Node& n, ExprValue* out) {
    std::vector<ExprValue> args(n.kids.size());
    for (size_t k = 0; k < n.kids.size(); ++k) {
      if (!Eval(n.kids[k], &args[k])) return false;
    }
    if (n.func == Func::kAbs) {
      if (!args[0].is_numeric()) return Fail("abs() of a string");
      *out = ExprValue::Number(std::fabs(args[0].number));
      return true;
    }
    size_t best = 0;
    for (size_t k = 1; k < args.size(); ++k) {
      bool better = false;
      if (!Compare(n.func == Func::kMax ? CmpOp::kGt : CmpOp::kLt, args[k], args[best], &better)) {
        return false;
      }
      if (better) best = k;
    }
    *out = std::move(args[best]);
    return true;
  }

  const std::vector<Node>& nodes_;
  const VariableSource& vars_;
};

}  // namespace

ExprValue ExprValueFromString(std::string_view text) {
  size_t b = 0, e = text.size();
  while (b < e && std::isspace(static_cast<unsigned char>(text[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(text[e - 1]))) --e;
  const std::string trimmed(text.substr(b, e - b));
  // Python's int()/float() accept decimal and exponent forms but not hex, which strtod does.
  if (!trimmed.empty() && trimmed.find_first_of("xX") == std::string::npos) {
    char* end = nullptr;
    const double v = std::strtod(trimmed.c_str(), &end);
    if (end == trimmed.c_str() + trimmed.size()) return ExprValue::Number(v);
  }
  return ExprValue::String(std::string(text));
}

bool ExprValueFromJson(const nlohmann::json& value, ExprValue* out) {
  switch (value.type()) {
    case nlohmann::json::value_t::boolean:
      *out = ExprValue::Number(value.get<bool>() ? 1 : 0);
      return true;
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float:
      *out = ExprValue::Number(value.get<double>());
      return true;
    case nlohmann::json::value_t::string:
      *out = ExprValueFromString(value.get_ref<const std::string&>());
      return true;
    default:
      return false;
  }
}

Result<Expression> Expression::Parse(std::string_view text) {
  ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(text));
  auto nodes = std::make_shared<std::vector<Node>>();
  Parser parser(std::move(tokens), nodes.get());
  ASSIGN_OR_RETURN(int root, parser.ParseAll());
  // Evaluate starts at the last node; make sure the root is there.
  if (root != static_cast<int>(nodes->size()) - 1) {
    Node copy = (*nodes)[root];
    nodes->push_back(std::move(copy));
  }
  Expression e;
  e.text_ = std::string(text);
  e.nodes_ = std::move(nodes);
  return e;
}

Result<ExprValue> Expression::Evaluate(const VariableSource& vars) const {
  Evaluator ev(*nodes_, vars);
  ExprValue out;
  if (!ev.Eval(static_cast<int>(nodes_->size()) - 1, &out)) {
    return InvalidArgument("evaluating '" + text_ + "': " + ev.error);
  }
  return out;
}

}  // namespace scoria::scheduler
