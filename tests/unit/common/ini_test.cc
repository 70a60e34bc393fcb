#include "common/ini.h"

#include <gtest/gtest.h>

namespace scoria {
namespace {

IniFile MustParse(const std::string& text) {
  auto r = ParseIni(text, "t.conf");
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? *r : IniFile{};
}

std::string ErrorOf(const std::string& text) {
  auto r = ParseIni(text, "t.conf");
  EXPECT_FALSE(r.ok());
  return r.ok() ? "" : r.status().message();
}

TEST(IniTest, EmptyTextHasNoSections) {
  EXPECT_TRUE(MustParse("").sections.empty());
  EXPECT_TRUE(MustParse("\n\n# only a comment\n; another\n").sections.empty());
}

TEST(IniTest, SectionsKeysAndBothSeparators) {
  IniFile f = MustParse("[DEFAULT]\na = 1\nb: two\n[x]\nc=3\n");
  ASSERT_EQ(f.sections.size(), 2u);
  EXPECT_EQ(f.sections[0].name, "DEFAULT");
  EXPECT_EQ(f.sections[0].line, 1);
  ASSERT_EQ(f.sections[0].entries.size(), 2u);
  EXPECT_EQ(f.sections[0].entries[0].key, "a");
  EXPECT_EQ(f.sections[0].entries[0].value, "1");
  EXPECT_EQ(f.sections[0].entries[0].line, 2);
  EXPECT_EQ(f.sections[0].entries[1].value, "two");
  ASSERT_NE(f.Find("x"), nullptr);
  EXPECT_EQ(f.Find("x")->Find("c")->value, "3");
  EXPECT_EQ(f.Find("x")->line, 4);
  EXPECT_EQ(f.Find("y"), nullptr);
  EXPECT_EQ(f.Find("x")->Find("zz"), nullptr);
}

TEST(IniTest, FirstSeparatorSplits) {
  IniFile f = MustParse("[s]\nurl = sqlite:///a\nk: v = w\n");
  EXPECT_EQ(f.Find("s")->Find("url")->value, "sqlite:///a");
  EXPECT_EQ(f.Find("s")->Find("k")->value, "v = w");
}

TEST(IniTest, WhitespaceTrimmedAndCrlfAccepted) {
  IniFile f = MustParse("[s]\r\nkey   =   some value  \t\r\nempty =\r\n");
  EXPECT_EQ(f.Find("s")->Find("key")->value, "some value");
  EXPECT_EQ(f.Find("s")->Find("empty")->value, "");
}

TEST(IniTest, MatchingQuotesRemoved) {
  IniFile f = MustParse("[s]\na = \"x y\"\nb = 'z'\nc = \"unbalanced'\nd = \"\n");
  EXPECT_EQ(f.Find("s")->Find("a")->value, "x y");
  EXPECT_EQ(f.Find("s")->Find("b")->value, "z");
  EXPECT_EQ(f.Find("s")->Find("c")->value, "\"unbalanced'");
  EXPECT_EQ(f.Find("s")->Find("d")->value, "\"");
}

TEST(IniTest, NoInlineComments) {
  IniFile f = MustParse("[s]\na = 1 # not a comment\n");
  EXPECT_EQ(f.Find("s")->Find("a")->value, "1 # not a comment");
}

TEST(IniTest, KeysAndSectionsAreCaseSensitive) {
  IniFile f = MustParse("[S]\nKey = 1\n[s]\nkey = 2\n");
  EXPECT_EQ(f.sections.size(), 2u);
  EXPECT_EQ(f.Find("S")->Find("Key")->value, "1");
  EXPECT_EQ(f.Find("S")->Find("key"), nullptr);
}

TEST(IniTest, DuplicateKeyLastWinsKeepingFirstPosition) {
  IniFile f = MustParse("[s]\na = 1\nb = 2\na = 3\n");
  const IniSection& s = *f.Find("s");
  ASSERT_EQ(s.entries.size(), 2u);
  EXPECT_EQ(s.entries[0].key, "a");
  EXPECT_EQ(s.entries[0].value, "3");
  EXPECT_EQ(s.entries[0].line, 4);
}

TEST(IniTest, RepeatedSectionsMerge) {
  IniFile f = MustParse("[s]\na = 1\n[t]\n[s]\nb = 2\na = 9\n");
  ASSERT_EQ(f.sections.size(), 2u);
  EXPECT_EQ(f.sections[0].name, "s");
  EXPECT_EQ(f.sections[0].line, 1);
  EXPECT_EQ(f.Find("s")->Find("a")->value, "9");
  EXPECT_EQ(f.Find("s")->Find("b")->value, "2");
}

TEST(IniTest, ContinuationLinesJoinWithNewline) {
  IniFile f = MustParse("[s]\na = one\n  two\n\tthree\nb = 2\n");
  EXPECT_EQ(f.Find("s")->Find("a")->value, "one\ntwo\nthree");
  EXPECT_EQ(f.Find("s")->Find("a")->line, 2);
  EXPECT_EQ(f.Find("s")->Find("b")->value, "2");
}

TEST(IniTest, IndentedCommentIsAComment) {
  IniFile f = MustParse("[s]\na = one\n  # note\n\n   ; note\nb = 2\n");
  EXPECT_EQ(f.Find("s")->Find("a")->value, "one");
}

TEST(IniTest, SectionNameKeptVerbatim) {
  IniFile f = MustParse("[ odd name ]\n");
  EXPECT_EQ(f.sections[0].name, " odd name ");
}

TEST(IniTest, NoLastNewlineIsFine) {
  IniFile f = MustParse("[s]\na = 1");
  EXPECT_EQ(f.Find("s")->Find("a")->value, "1");
}

TEST(IniTest, Errors) {
  EXPECT_EQ(ErrorOf("[s]\njust words\n"),
            "t.conf:2: expected [section], key = value or a # comment, got \"just words\"");
  EXPECT_EQ(ErrorOf("a = 1\n"), "t.conf:1: key a before any [section] header");
  EXPECT_EQ(ErrorOf("[s]\n= 1\n"), "t.conf:2: empty key in \"= 1\"");
  EXPECT_EQ(ErrorOf("\n[s\n"), "t.conf:2: section header must end with ']': \"[s\"");
  EXPECT_EQ(ErrorOf("[]\n"), "t.conf:1: empty section name");
  EXPECT_EQ(ErrorOf("[s]\n\n  a = 1\n"),
            "t.conf:3: unexpected continuation line (an indented line continues the previous "
            "value; remove the indentation): \"a = 1\"");
  auto r = ParseIni("x", "p");
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace scoria
