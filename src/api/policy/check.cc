#include "api/policy/check.h"

#include <optional>
#include <utility>

namespace scoria::api::policy {
namespace {

using CheckPtr = std::unique_ptr<const Check>;
// Nodes own their children mutably so that, while parsing, an "and" list can absorb a nested
// one; once ParseCheck returns, the tree is only reachable as const.
using NodePtr = std::unique_ptr<Check>;

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

// The <match> of a check: literal text and "%(key)s" substitutions from the target, compared
// piece by piece against a value so that evaluation allocates nothing.
class Template {
 public:
  struct Piece {
    bool is_key;
    std::string text;  // the literal text, or the target key
  };

  static Result<Template> Parse(std::string_view match) {
    Template t;
    t.source_ = std::string(match);
    std::string literal;
    for (size_t i = 0; i < match.size(); ++i) {
      if (match[i] != '%') {
        literal += match[i];
        continue;
      }
      if (i + 1 < match.size() && match[i + 1] == '%') {
        literal += '%';
        ++i;
        continue;
      }
      size_t close = match.find(')', i);
      if (i + 1 >= match.size() || match[i + 1] != '(' || close == std::string_view::npos ||
          close + 1 >= match.size() || match[close + 1] != 's' || close == i + 2) {
        return InvalidArgument("'%' in '" + std::string(match) +
                               "' must start a %(key)s substitution or be written %%");
      }
      if (!literal.empty()) t.pieces_.push_back({false, std::move(literal)});
      literal.clear();
      t.pieces_.push_back({true, std::string(match.substr(i + 2, close - i - 2))});
      i = close + 1;
    }
    if (!literal.empty()) t.pieces_.push_back({false, std::move(literal)});
    return t;
  }

  // Whether `value` equals the match with the target substituted; false when the target lacks
  // a key (oslo catches the KeyError and answers false).
  bool Matches(std::string_view value, const Target& target, bool ignore_case) const {
    size_t pos = 0;
    for (const Piece& p : pieces_) {
      std::string_view want = p.text;
      if (p.is_key) {
        auto it = target.find(p.text);
        if (it == target.end()) return false;
        want = it->second;
      }
      if (value.size() - pos < want.size()) return false;
      std::string_view got = value.substr(pos, want.size());
      if (ignore_case ? !EqualIgnoreCase(got, want) : got != want) return false;
      pos += want.size();
    }
    return pos == value.size();
  }

  const std::string& source() const { return source_; }

 private:
  std::string source_;
  std::vector<Piece> pieces_;
};

class ConstCheck final : public Check {
 public:
  explicit ConstCheck(bool value) : value_(value) {}
  bool Evaluate(const Credentials&, const Target&) const override { return value_; }
  std::string ToString() const override { return value_ ? "@" : "!"; }

 private:
  bool value_;
};

class RoleCheck final : public Check {
 public:
  explicit RoleCheck(Template role) : role_(std::move(role)) {}
  bool Evaluate(const Credentials& creds, const Target& target) const override {
    for (const std::string& r : creds.roles) {
      if (role_.Matches(r, target, /*ignore_case=*/true)) return true;
    }
    return false;
  }
  std::string ToString() const override { return "role:" + role_.source(); }

 private:
  Template role_;
};

class RuleCheck final : public Check {
 public:
  RuleCheck(const RuleRef* ref, std::unique_ptr<RuleRef> owned)
      : ref_(ref), owned_(std::move(owned)) {}
  bool Evaluate(const Credentials& creds, const Target& target) const override {
    return ref_->check != nullptr && ref_->check->Evaluate(creds, target);
  }
  std::string ToString() const override { return "rule:" + ref_->name; }

 private:
  const RuleRef* ref_;
  std::unique_ptr<RuleRef> owned_;  // set only when parsed without a binder
};

enum class Field {
  kUserId,
  kUserDomainId,
  kProjectId,
  kProjectDomainId,
  kDomainId,
  kRoles,
  kSystemScope,
  kIsAdmin,
  kIsAdminProject,
};

struct FieldName {
  std::string_view name;
  Field field;
};
constexpr FieldName kFields[] = {
    {"user_id", Field::kUserId},
    {"user_domain_id", Field::kUserDomainId},
    {"project_id", Field::kProjectId},
    {"project_domain_id", Field::kProjectDomainId},
    {"domain_id", Field::kDomainId},
    {"roles", Field::kRoles},
    {"system_scope", Field::kSystemScope},
    {"is_admin", Field::kIsAdmin},
    {"is_admin_project", Field::kIsAdminProject},
};

std::string KnownFieldList() {
  std::string out;
  for (const FieldName& f : kFields) {
    if (!out.empty()) out += ", ";
    out += f.name;
  }
  return out;
}

class FieldCheck final : public Check {
 public:
  FieldCheck(std::string_view kind, Field field, Template match)
      : kind_(kind), field_(field), match_(std::move(match)) {}

  bool Evaluate(const Credentials& c, const Target& target) const override {
    switch (field_) {
      case Field::kUserId:
        return Str(c.user_id, target);
      case Field::kUserDomainId:
        return Str(c.user_domain_id, target);
      case Field::kProjectId:
        return Str(c.project_id, target);
      case Field::kProjectDomainId:
        return Str(c.project_domain_id, target);
      case Field::kDomainId:
        return Str(c.domain_id, target);
      case Field::kSystemScope:
        return Str(c.system_scope, target);
      case Field::kIsAdmin:
        return Bool(c.is_admin, target);
      case Field::kIsAdminProject:
        return Bool(c.is_admin_project, target);
      case Field::kRoles:
        // oslo walks a list field and accepts when any element matches, case-sensitively
        // (unlike role:, which lowercases both sides).
        for (const std::string& r : c.roles) {
          if (match_.Matches(r, target, false)) return true;
        }
        return false;
    }
    return false;
  }
  std::string ToString() const override { return kind_ + ":" + match_.source(); }

 private:
  // An unset field is oslo's None, which no real project or user id equals.
  bool Str(const std::string& v, const Target& t) const {
    return !v.empty() && match_.Matches(v, t, false);
  }
  // Python's str(True) / str(False): "is_admin:True" is case-sensitive in oslo too.
  bool Bool(bool v, const Target& t) const {
    return match_.Matches(v ? "True" : "False", t, false);
  }

  std::string kind_;
  Field field_;
  Template match_;
};

// "True:%(user.enabled)s", "'member':%(role)s": oslo's GenericCheck when the kind is a Python
// literal; the match (substituted) must equal str(literal).
class LiteralCheck final : public Check {
 public:
  LiteralCheck(std::string_view kind, std::string value, Template match)
      : kind_(kind), value_(std::move(value)), match_(std::move(match)) {}
  bool Evaluate(const Credentials&, const Target& target) const override {
    return match_.Matches(value_, target, false);
  }
  std::string ToString() const override { return kind_ + ":" + match_.source(); }

 private:
  std::string kind_;
  std::string value_;
  Template match_;
};

class NotCheck final : public Check {
 public:
  explicit NotCheck(NodePtr inner) : inner_(std::move(inner)) {}
  bool Evaluate(const Credentials& c, const Target& t) const override {
    return !inner_->Evaluate(c, t);
  }
  std::string ToString() const override { return "not " + inner_->ToString(); }

 private:
  NodePtr inner_;
};

class ListCheck final : public Check {
 public:
  ListCheck(bool is_and, std::vector<NodePtr> items) : is_and_(is_and), items_(std::move(items)) {}
  bool Evaluate(const Credentials& c, const Target& t) const override {
    for (const NodePtr& item : items_) {
      if (item->Evaluate(c, t) != is_and_) return !is_and_;
    }
    return is_and_;
  }
  std::string ToString() const override {
    std::string out = "(";
    for (size_t i = 0; i < items_.size(); ++i) {
      if (i > 0) out += is_and_ ? " and " : " or ";
      out += items_[i]->ToString();
    }
    return out + ")";
  }
  bool is_and() const { return is_and_; }
  // Moves the children out, for flattening "(a and b) and c" into one list.
  std::vector<NodePtr> TakeItems() { return std::move(items_); }

 private:
  bool is_and_;
  std::vector<NodePtr> items_;
};

// The literal kinds oslo's ast.literal_eval accepts that a policy could sensibly hold, as
// Python's str() prints them. Floats and escapes are refused rather than re-implementing
// Python's repr.
std::optional<std::string> LiteralValue(std::string_view kind) {
  if (kind == "True" || kind == "False" || kind == "None") return std::string(kind);
  if (kind.size() >= 2 && (kind.front() == '\'' || kind.front() == '"') &&
      kind.back() == kind.front()) {
    std::string_view inner = kind.substr(1, kind.size() - 2);
    if (inner.find(kind.front()) != std::string_view::npos ||
        inner.find('\\') != std::string_view::npos) {
      return std::nullopt;
    }
    return std::string(inner);
  }
  std::string_view digits = kind;
  bool negative = !digits.empty() && digits.front() == '-';
  if (negative) digits.remove_prefix(1);
  if (digits.empty() || (digits.size() > 1 && digits.front() == '0')) return std::nullopt;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  if (digits == "0") return std::string("0");
  return std::string(kind);
}

Result<NodePtr> ParseOne(std::string_view tok, const RuleBinder& bind) {
  if (tok == "@") return NodePtr(new ConstCheck(true));
  if (tok == "!") return NodePtr(new ConstCheck(false));
  std::string quoted(tok);
  if (tok.size() >= 2 && (tok.front() == '\'' || tok.front() == '"') && tok.back() == tok.front()) {
    return InvalidArgument("the quoted string " + quoted + " is not a check");
  }
  size_t colon = tok.find(':');
  if (colon == std::string_view::npos) {
    return InvalidArgument("'" + quoted + "' is not a check (expected kind:match, '@' or '!')");
  }
  std::string_view kind = tok.substr(0, colon);
  std::string_view match = tok.substr(colon + 1);
  if (kind.empty()) return InvalidArgument("'" + quoted + "' has no kind before ':'");
  if (match.empty()) return InvalidArgument("'" + quoted + "' has nothing after ':'");

  if (kind == "rule") {
    // oslo does not substitute in a rule name: "rule:%(x)s" names a rule literally.
    if (bind) {
      RuleRef* ref = bind(match);
      return NodePtr(new RuleCheck(ref, nullptr));
    }
    auto owned = std::make_unique<RuleRef>(RuleRef{std::string(match), nullptr});
    const RuleRef* ref = owned.get();
    return NodePtr(new RuleCheck(ref, std::move(owned)));
  }
  Result<Template> tmpl = Template::Parse(match);
  if (!tmpl.ok()) return tmpl.status();
  if (kind == "role") return NodePtr(new RoleCheck(std::move(*tmpl)));
  if (auto literal = LiteralValue(kind)) {
    return NodePtr(new LiteralCheck(kind, std::move(*literal), std::move(*tmpl)));
  }
  for (const FieldName& f : kFields) {
    if (f.name == kind) return NodePtr(new FieldCheck(kind, f.field, std::move(*tmpl)));
  }
  return InvalidArgument("'" + quoted + "' checks '" + std::string(kind) +
                         "', which is not a credential Scoria supplies (" + KnownFieldList() +
                         ") nor a literal (True, False, None, an integer, a 'quoted' string)");
}

struct Token {
  enum Type { kLParen, kRParen, kAnd, kOr, kNot, kCheck } type;
  std::string_view text;
};

// oslo's tokenizer: whitespace separates tokens; each '(' leading a token and each ')' ending
// it is a parenthesis of its own, so "(role:admin)" is three tokens while the parentheses in
// "%(project_id)s" stay inside the check.
std::vector<Token> Tokenize(std::string_view text) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && IsSpace(text[i])) ++i;
    size_t start = i;
    while (i < text.size() && !IsSpace(text[i])) ++i;
    std::string_view tok = text.substr(start, i - start);
    while (!tok.empty() && tok.front() == '(') {
      out.push_back({Token::kLParen, tok.substr(0, 1)});
      tok.remove_prefix(1);
    }
    size_t trail = 0;
    while (trail < tok.size() && tok[tok.size() - 1 - trail] == ')') ++trail;
    std::string_view core = tok.substr(0, tok.size() - trail);
    if (!core.empty()) {
      Token::Type type = Token::kCheck;
      if (EqualIgnoreCase(core, "and")) type = Token::kAnd;
      if (EqualIgnoreCase(core, "or")) type = Token::kOr;
      if (EqualIgnoreCase(core, "not")) type = Token::kNot;
      out.push_back({type, core});
    }
    for (size_t k = 0; k < trail; ++k) out.push_back({Token::kRParen, ")"});
  }
  return out;
}

// Recursive descent with oslo's precedence: or_expr := and_expr ('or' and_expr)*,
// and_expr := not_expr ('and' not_expr)*, not_expr := 'not' not_expr | '(' or_expr ')' | check.
class Parser {
 public:
  Parser(std::vector<Token> toks, const RuleBinder& bind) : toks_(std::move(toks)), bind_(bind) {}

  Result<NodePtr> ParseAll() {
    Result<NodePtr> e = ParseList(Token::kOr);
    if (!e.ok()) return e;
    if (i_ < toks_.size()) return Unexpected();
    return e;
  }

 private:
  // Deep enough for any real policy; bounded so a hostile file cannot overflow the stack.
  static constexpr int kMaxDepth = 64;

  bool AtEnd() const { return i_ >= toks_.size(); }
  std::string Quote(size_t k) const { return "'" + std::string(toks_[k].text) + "'"; }

  // A token where an operator or the end was expected, after a complete expression.
  Status Unexpected() const {
    if (toks_[i_].type == Token::kRParen) return InvalidArgument("a ')' closes nothing");
    return InvalidArgument(Quote(i_) + " follows " + Quote(i_ - 1) +
                           " without 'and' or 'or' between them");
  }

  Result<NodePtr> ParseList(Token::Type op) {
    bool is_and = op == Token::kAnd;
    std::vector<NodePtr> items;
    while (true) {
      Result<NodePtr> item = is_and ? ParseNot() : ParseList(Token::kAnd);
      if (!item.ok()) return item;
      auto* list = dynamic_cast<ListCheck*>(item->get());
      if (list != nullptr && list->is_and() == is_and) {
        for (NodePtr& c : list->TakeItems()) items.push_back(std::move(c));
      } else {
        items.push_back(std::move(*item));
      }
      if (AtEnd() || toks_[i_].type != op) break;
      ++i_;
    }
    if (items.size() == 1) return std::move(items.front());
    return NodePtr(new ListCheck(is_and, std::move(items)));
  }

  Result<NodePtr> ParseNot() {
    // Every level of '(' or 'not' passes through here once.
    struct DepthGuard {
      int& depth;
      ~DepthGuard() { --depth; }
    } guard{++depth_};
    if (depth_ > kMaxDepth) {
      return InvalidArgument("parentheses or 'not's nest deeper than " + std::to_string(kMaxDepth));
    }
    if (AtEnd()) {
      if (i_ == 0) return InvalidArgument("it holds no check");
      if (toks_[i_ - 1].type == Token::kLParen) return InvalidArgument("a '(' is never closed");
      return InvalidArgument(Quote(i_ - 1) + " at the end needs a check after it");
    }
    const Token& t = toks_[i_];
    switch (t.type) {
      case Token::kCheck: {
        ++i_;
        return ParseOne(t.text, bind_);
      }
      case Token::kNot: {
        ++i_;
        Result<NodePtr> inner = ParseNot();
        if (!inner.ok()) return inner;
        return NodePtr(new NotCheck(std::move(*inner)));
      }
      case Token::kLParen: {
        ++i_;
        if (!AtEnd() && toks_[i_].type == Token::kRParen) {
          return InvalidArgument("'()' holds no check");
        }
        Result<NodePtr> inner = ParseList(Token::kOr);
        if (!inner.ok()) return inner;
        if (AtEnd()) return InvalidArgument("a '(' is never closed");
        if (toks_[i_].type != Token::kRParen) return Unexpected();
        ++i_;
        return inner;
      }
      case Token::kRParen:
      case Token::kAnd:
      case Token::kOr:
        if (i_ == 0 && t.type == Token::kRParen) return InvalidArgument("a ')' closes nothing");
        if (i_ == 0 || toks_[i_ - 1].type == Token::kLParen) {
          return InvalidArgument(Quote(i_) + " has no check before it");
        }
        return InvalidArgument(Quote(i_) + " follows " + Quote(i_ - 1) +
                               " where a check was expected");
    }
    return InvalidArgument("unexpected token " + Quote(i_));
  }

  std::vector<Token> toks_;
  const RuleBinder& bind_;
  size_t i_ = 0;
  int depth_ = 0;
};

}  // namespace

Result<std::unique_ptr<const Check>> ParseCheck(std::string_view text, const RuleBinder& bind) {
  // oslo: an empty rule always passes ("" is how Cinder spelled "anyone" before Xena).
  if (text.empty()) return CheckPtr(new ConstCheck(true));
  Parser parser(Tokenize(text), bind);
  Result<NodePtr> parsed = parser.ParseAll();
  if (!parsed.ok()) {
    std::string problem = parsed.status().message();
    if (problem == "it holds no check") {
      problem = "it is only whitespace (write \"\" to always allow or \"!\" to never allow)";
    }
    return InvalidArgument("check string \"" + std::string(text) + "\" is invalid: " + problem);
  }
  return CheckPtr(std::move(*parsed));
}

}  // namespace scoria::api::policy
