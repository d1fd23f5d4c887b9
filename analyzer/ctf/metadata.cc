// SPDX-License-Identifier: MIT
#include "ctf/metadata.h"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <optional>

namespace bdtrace::analyzer::ctf {

namespace {

// CTF 1.8 metadata packet header: magic, uuid[16], checksum, content_size
// and packet_size (bits), compression, encryption, checksum scheme, major,
// minor: 37 bytes, then the text.
constexpr uint32_t kMetadataMagic = 0x75d11d57;
constexpr size_t kMetadataHeaderBytes = 37;

uint32_t Read32(const unsigned char *p, bool big_endian) {
  return big_endian ? (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3]
                    : (uint32_t{p[3]} << 24) | (uint32_t{p[2]} << 16) | (uint32_t{p[1]} << 8) | p[0];
}

// Nesting deeper than this is not LTTng's and could exhaust the stack.
constexpr int kMaxDepth = 16;

struct Token {
  enum class Kind { kIdent, kNumber, kString, kPunct, kEnd };
  Kind kind = Kind::kEnd;
  std::string text;
  uint64_t number = 0;
  bool negative = false;
};

class Lexer {
 public:
  explicit Lexer(const std::string &s) : s_(s) {}

  // Splits the whole text; an error on a character it does not know.
  Expected<std::vector<Token>> Tokens() {
    std::vector<Token> out;
    while (true) {
      SkipSpaceAndComments();
      if (failed_) return make_error("unterminated comment in the CTF metadata");
      if (i_ >= s_.size()) break;
      const char c = s_[i_];
      Token t;
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        t.kind = Token::Kind::kIdent;
        while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_')) {
          t.text += s_[i_++];
        }
      } else if (std::isdigit(static_cast<unsigned char>(c)) ||
                 (c == '-' && i_ + 1 < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_ + 1])))) {
        t.kind = Token::Kind::kNumber;
        if (c == '-') {
          t.negative = true;
          ++i_;
        }
        const size_t start = i_;
        while (i_ < s_.size() && std::isalnum(static_cast<unsigned char>(s_[i_]))) ++i_;
        t.text = s_.substr(start, i_ - start);
        errno = 0;
        char *end = nullptr;
        t.number = std::strtoull(t.text.c_str(), &end, 0);
        // Integer suffixes (U, L) are allowed by TSDL; nothing else is.
        while (end != nullptr && (*end == 'u' || *end == 'U' || *end == 'l' || *end == 'L')) ++end;
        if (errno != 0 || end == nullptr || *end != '\0') return make_error("bad number '" + t.text + "'");
      } else if (c == '"') {
        t.kind = Token::Kind::kString;
        ++i_;
        while (i_ < s_.size() && s_[i_] != '"') {
          if (s_[i_] == '\\' && i_ + 1 < s_.size()) ++i_;
          t.text += s_[i_++];
        }
        if (i_ >= s_.size()) return make_error("unterminated string in the CTF metadata");
        ++i_;
      } else {
        t.kind = Token::Kind::kPunct;
        if (s_.compare(i_, 3, "...") == 0) {
          t.text = "...";
        } else if (s_.compare(i_, 2, ":=") == 0) {
          t.text = ":=";
        } else if (std::strchr("{}[]<>()=;:,.+", c) != nullptr && c != '\0') {
          t.text = std::string(1, c);
        } else {
          return make_error(std::string("unexpected character '") + c + "' in the CTF metadata");
        }
        i_ += t.text.size();
      }
      out.push_back(std::move(t));
    }
    out.push_back(Token{});
    return out;
  }

 private:
  void SkipSpaceAndComments() {
    while (i_ < s_.size()) {
      if (std::isspace(static_cast<unsigned char>(s_[i_]))) {
        ++i_;
      } else if (s_.compare(i_, 2, "/*") == 0) {
        const size_t end = s_.find("*/", i_ + 2);
        if (end == std::string::npos) {
          failed_ = true;
          return;
        }
        i_ = end + 2;
      } else if (s_.compare(i_, 2, "//") == 0) {
        const size_t end = s_.find('\n', i_);
        i_ = end == std::string::npos ? s_.size() : end + 1;
      } else {
        return;
      }
    }
  }

  const std::string &s_;
  size_t i_ = 0;
  bool failed_ = false;
};

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : t_(std::move(tokens)) {}

  Expected<Metadata> Parse() {
    while (!AtEnd()) {
      if (Status st = TopLevel(); !st) return st.take_error();
    }
    if (!m_.packet_header) return make_error("the metadata has no trace packet.header");
    for (const auto &[key, event] : m_.events) {
      if (m_.streams.count(event.stream_id) == 0) {
        return make_error("event " + event.name + " names stream " + std::to_string(event.stream_id) +
                          ", which the metadata does not declare");
      }
    }
    return std::move(m_);
  }

 private:
  const Token &Peek(size_t ahead = 0) const { return t_[std::min(p_ + ahead, t_.size() - 1)]; }
  bool AtEnd() const { return Peek().kind == Token::Kind::kEnd; }
  bool IsPunct(const char *s, size_t ahead = 0) const {
    return Peek(ahead).kind == Token::Kind::kPunct && Peek(ahead).text == s;
  }
  bool IsIdent(const char *s, size_t ahead = 0) const {
    return Peek(ahead).kind == Token::Kind::kIdent && Peek(ahead).text == s;
  }
  const Token &Next() {
    const Token &t = Peek();
    if (!AtEnd()) ++p_;
    return t;
  }
  Error Unexpected(const std::string &what) const {
    return make_error("CTF metadata: expected " + what + ", found '" + Peek().text + "' (token " +
                      std::to_string(p_) + ")");
  }
  Status Expect(const char *punct) {
    if (!IsPunct(punct)) return Unexpected(std::string("'") + punct + "'");
    ++p_;
    return Status::Ok();
  }
  Expected<std::string> Ident() {
    if (Peek().kind != Token::Kind::kIdent) return Unexpected("a name");
    return Next().text;
  }
  Expected<uint64_t> Number() {
    if (Peek().kind != Token::Kind::kNumber || Peek().negative) return Unexpected("a number");
    return Next().number;
  }

  Status TopLevel() {
    if (IsPunct(";")) {
      ++p_;
      return Status::Ok();
    }
    if (IsIdent("typealias")) return TypeAlias();
    if (IsIdent("trace")) return Block([this](const std::string &key) { return TraceEntry(key); });
    if (IsIdent("env")) return Block([this](const std::string &key) { return EnvEntry(key); });
    if (IsIdent("clock")) return Block([this](const std::string &key) { return ClockEntry(key); });
    if (IsIdent("stream")) {
      StreamClass s;
      bool has_id = false;
      if (Status st = Block([&](const std::string &key) { return StreamEntry(key, s, has_id); }); !st)
        return st;
      if (m_.streams.count(s.id) != 0)
        return make_error("stream " + std::to_string(s.id) + " declared twice");
      if (!s.packet_context) return make_error("stream " + std::to_string(s.id) + " has no packet.context");
      m_.streams[s.id] = s;
      return Status::Ok();
    }
    if (IsIdent("event")) {
      EventClass e;
      if (Status st = Block([&](const std::string &key) { return EventEntry(key, e); }); !st) return st;
      if (!m_.events.emplace(std::make_pair(e.stream_id, e.id), e).second) {
        return make_error("event id " + std::to_string(e.id) + " declared twice");
      }
      return Status::Ok();
    }
    if (IsIdent("struct") || IsIdent("enum") || IsIdent("variant") || IsIdent("typedef")) {
      // A named type declaration on its own (struct NAME { ... };).
      Expected<TypePtr> type = TypeSpecifier(0);
      if (!type) return type.take_error();
      return Expect(";");
    }
    return Unexpected("a top-level declaration (trace, env, clock, stream, event, typealias, struct)");
  }

  // NAME { key = value; key := type; ... } ; — each entry to `entry`,
  // called with the dotted key, positioned after '=' or ':='.
  template <typename F>
  Status Block(F entry) {
    ++p_;  // the block's keyword
    if (Status st = Expect("{"); !st) return st;
    while (!IsPunct("}")) {
      if (AtEnd()) return Unexpected("'}'");
      std::string key;
      while (!IsPunct("=") && !IsPunct(":=")) {
        if (AtEnd() || IsPunct(";") || IsPunct("}")) return Unexpected("'=' or ':='");
        key += Next().text;
      }
      ++p_;
      if (Status st = entry(key); !st) return st;
      if (Status st = Expect(";"); !st) return st;
    }
    ++p_;
    return Expect(";");
  }

  Status SkipValue() {
    int depth = 0;
    while (!AtEnd()) {
      if (depth == 0 && (IsPunct(";") || IsPunct("}"))) return Status::Ok();
      if (IsPunct("{")) ++depth;
      if (IsPunct("}")) --depth;
      ++p_;
    }
    return Unexpected("';'");
  }

  Status TraceEntry(const std::string &key) {
    if (key == "packet.header") {
      Expected<TypePtr> type = TypeSpecifier(0);
      if (!type) return type.take_error();
      if ((*type)->kind != Type::Kind::kStruct) return make_error("the trace packet.header is not a struct");
      m_.packet_header = *type;
      return Status::Ok();
    }
    if (key == "byte_order") {
      Expected<std::string> order = Ident();
      if (!order) return order.take_error();
      if (*order == "be" || *order == "network") {
        m_.big_endian = true;
      } else if (*order != "le") {
        return make_error("trace byte_order '" + *order + "' is not le or be");
      }
      return Status::Ok();
    }
    if (key == "major" || key == "minor") {
      Expected<uint64_t> v = Number();
      if (!v) return v.take_error();
      if (key == "major" && *v != 1)
        return make_error("CTF major version " + std::to_string(*v) + " is not 1");
      return Status::Ok();
    }
    if (key == "uuid") {
      if (Peek().kind != Token::Kind::kString) return Unexpected("a uuid string");
      std::string hex;
      for (char c : Next().text)
        if (c != '-') hex += c;
      if (hex.size() != 32) return make_error("the trace uuid is not 16 bytes");
      for (size_t i = 0; i < 16; ++i) {
        char *end = nullptr;
        const std::string byte = hex.substr(2 * i, 2);
        m_.uuid[i] = static_cast<uint8_t>(std::strtoul(byte.c_str(), &end, 16));
        if (end == nullptr || *end != '\0') return make_error("the trace uuid is not hexadecimal");
      }
      m_.has_uuid = true;
      return Status::Ok();
    }
    return SkipValue();
  }

  // Only the hostname matters: babeltrace2 names a trace after it.
  Status EnvEntry(const std::string &key) {
    if (key == "hostname" && Peek().kind == Token::Kind::kString) {
      m_.hostname = Next().text;
      m_.has_hostname = true;
      return Status::Ok();
    }
    return SkipValue();
  }

  Status ClockEntry(const std::string &key) {
    if (m_.has_clock && key == "name") return make_error("the metadata has more than one clock");
    if (key == "name") {
      if (Peek().kind != Token::Kind::kIdent && Peek().kind != Token::Kind::kString)
        return Unexpected("a clock name");
      m_.clock.name = Next().text;
      m_.has_clock = true;
      return Status::Ok();
    }
    if (key == "freq" || key == "offset") {
      Expected<uint64_t> v = Number();
      if (!v) return v.take_error();
      if (key == "freq") {
        if (*v == 0) return make_error("a clock of frequency 0");
        m_.clock.freq = *v;
      } else {
        m_.clock.offset = *v;
      }
      return Status::Ok();
    }
    if (key == "offset_s") {
      if (Peek().kind != Token::Kind::kNumber || Peek().number > uint64_t{INT64_MAX})
        return Unexpected("seconds");
      const Token &t = Next();
      m_.clock.offset_s = t.negative ? -static_cast<int64_t>(t.number) : static_cast<int64_t>(t.number);
      return Status::Ok();
    }
    return SkipValue();
  }

  Status StreamEntry(const std::string &key, StreamClass &s, bool &has_id) {
    if (key == "id") {
      Expected<uint64_t> v = Number();
      if (!v) return v.take_error();
      s.id = *v;
      has_id = true;
      return Status::Ok();
    }
    if (key == "event.header" || key == "packet.context" || key == "event.context") {
      Expected<TypePtr> type = TypeSpecifier(0);
      if (!type) return type.take_error();
      if ((*type)->kind != Type::Kind::kStruct) return make_error("stream " + key + " is not a struct");
      if (key == "event.header") {
        if ((*type)->struct_name == "event_header_compact") {
          s.header = EventHeader::kCompact;
        } else if ((*type)->struct_name == "event_header_large") {
          s.header = EventHeader::kLarge;
        } else {
          return make_error("an event header other than LTTng's compact or large one");
        }
      } else if (key == "packet.context") {
        s.packet_context = *type;
      } else {
        s.event_context = *type;
      }
      return Status::Ok();
    }
    return SkipValue();
  }

  Status EventEntry(const std::string &key, EventClass &e) {
    if (key == "name") {
      if (Peek().kind == Token::Kind::kString || Peek().kind == Token::Kind::kIdent) {
        e.name = Next().text;
        return Status::Ok();
      }
      return Unexpected("an event name");
    }
    if (key == "id" || key == "stream_id") {
      Expected<uint64_t> v = Number();
      if (!v) return v.take_error();
      (key == "id" ? e.id : e.stream_id) = *v;
      return Status::Ok();
    }
    if (key == "fields" || key == "context") {
      Expected<TypePtr> type = TypeSpecifier(0);
      if (!type) return type.take_error();
      if ((*type)->kind != Type::Kind::kStruct)
        return make_error("event " + e.name + "'s " + key + " is not a struct");
      if (key == "context") return make_error("event " + e.name + " has its own context");
      e.payload = *type;
      return Status::Ok();
    }
    return SkipValue();
  }

  // typealias TYPE := NAME WORDS ;
  Status TypeAlias() {
    ++p_;
    Expected<TypePtr> type = TypeSpecifier(0);
    if (!type) return type.take_error();
    if (Status st = Expect(":="); !st) return st;
    std::string name;
    while (Peek().kind == Token::Kind::kIdent) name += (name.empty() ? "" : " ") + Next().text;
    if (name.empty()) return Unexpected("an alias name");
    aliases_[name] = *type;
    return Expect(";");
  }

  Expected<TypePtr> TypeSpecifier(int depth) {
    if (depth > kMaxDepth) return make_error("CTF metadata types nest too deeply");
    if (IsIdent("integer")) return Integer();
    if (IsIdent("string")) {
      ++p_;
      if (IsPunct("{")) {
        if (Status st = SkipBraces(); !st) return st.take_error();
      }
      auto t = std::make_shared<Type>();
      t->kind = Type::Kind::kString;
      return TypePtr(t);
    }
    if (IsIdent("enum")) return Enum(depth);
    if (IsIdent("struct")) return Struct(depth);
    if (IsIdent("variant")) return Variant(depth);
    if (IsIdent("floating_point")) return make_error("floating-point fields are not read by the fast reader");
    // An alias: the longest run of names that is one.
    std::string name;
    std::optional<std::pair<size_t, TypePtr>> found;
    for (size_t k = 0; Peek(k).kind == Token::Kind::kIdent; ++k) {
      name += (k == 0 ? "" : " ") + Peek(k).text;
      if (auto it = aliases_.find(name); it != aliases_.end()) found = std::make_pair(k + 1, it->second);
    }
    if (!found) return Unexpected("a type");
    p_ += found->first;
    return found->second;
  }

  Status SkipBraces() {
    int depth = 0;
    do {
      if (AtEnd()) return Unexpected("'}'");
      if (IsPunct("{")) ++depth;
      if (IsPunct("}")) --depth;
      ++p_;
    } while (depth > 0);
    return Status::Ok();
  }

  Expected<TypePtr> Integer() {
    ++p_;
    if (Status st = Expect("{"); !st) return st.take_error();
    auto t = std::make_shared<Type>();
    t->big_endian = m_.big_endian;
    bool has_align = false;
    while (!IsPunct("}")) {
      Expected<std::string> key = Ident();
      if (!key) return key.take_error();
      if (Status st = Expect("="); !st) return st.take_error();
      if (*key == "size" || *key == "align") {
        Expected<uint64_t> v = Number();
        if (!v) return v.take_error();
        if (*key == "size") {
          if (*v == 0 || *v > 64) return make_error("an integer of " + std::to_string(*v) + " bits");
          t->size_bits = static_cast<uint32_t>(*v);
        } else {
          if (*v == 0 || (*v & (*v - 1)) != 0 || *v > 64)
            return make_error("an alignment that is not a power of 2");
          t->align_bits = static_cast<uint32_t>(*v);
          has_align = true;
        }
      } else if (*key == "signed") {
        const Token &v = Next();
        t->is_signed =
            v.text == "true" || v.text == "TRUE" || (v.kind == Token::Kind::kNumber && v.number != 0);
      } else if (*key == "byte_order") {
        Expected<std::string> v = Ident();
        if (!v) return v.take_error();
        if (*v == "be" || *v == "network") {
          t->big_endian = true;
        } else if (*v == "le") {
          t->big_endian = false;
        } else if (*v != "native") {
          return make_error("integer byte_order '" + *v + "'");
        }
      } else if (*key == "map") {
        std::string target;
        while (!IsPunct(";") && !IsPunct("}") && !AtEnd()) target += Next().text;
        if (target.rfind("clock.", 0) != 0) return make_error("an integer mapped to '" + target + "'");
        t->maps_clock = true;
      } else if (*key == "base") {
        const Token &v = Next();
        if (v.kind == Token::Kind::kNumber) {
          t->base = static_cast<uint32_t>(v.number);
        } else if (v.text == "hexadecimal" || v.text == "hex" || v.text == "x" || v.text == "X" ||
                   v.text == "p") {
          t->base = 16;
        } else if (v.text == "octal" || v.text == "oct" || v.text == "o") {
          t->base = 8;
        } else if (v.text == "binary" || v.text == "b") {
          t->base = 2;
        }
      } else if (*key == "encoding") {
        // babeltrace2 reads an array of encoded bytes as a string: the
        // fast reader reports it (Type::encoded) and leaves such a field
        // to babeltrace2.
        const Token &v = Next();
        t->encoded = v.text != "none";
      } else {
        if (Status st = SkipValue(); !st) return st.take_error();
      }
      if (IsPunct(";")) ++p_;
    }
    ++p_;
    if (t->size_bits == 0) return make_error("an integer without a size");
    if (!has_align) t->align_bits = t->size_bits % 8 == 0 ? 8 : 1;
    if (t->big_endian && (t->size_bits % 8 != 0 || t->align_bits % 8 != 0)) {
      return make_error("big-endian bit fields are not read by the fast reader");
    }
    return TypePtr(t);
  }

  // enum [NAME] : INTEGER { ... }: read as its integer.
  Expected<TypePtr> Enum(int depth) {
    ++p_;
    if (Peek().kind == Token::Kind::kIdent) ++p_;
    if (Status st = Expect(":"); !st) return st.take_error();
    Expected<TypePtr> base = TypeSpecifier(depth + 1);
    if (!base) return base.take_error();
    if ((*base)->kind != Type::Kind::kInteger) return make_error("an enum whose base is not an integer");
    if (!IsPunct("{")) return Unexpected("'{'");
    if (Status st = SkipBraces(); !st) return st.take_error();
    return *base;
  }

  Expected<std::vector<Field>> Members(int depth) {
    if (Status st = Expect("{"); !st) return st.take_error();
    std::vector<Field> fields;
    while (!IsPunct("}")) {
      if (AtEnd()) return Unexpected("'}'");
      Expected<TypePtr> type = TypeSpecifier(depth + 1);
      if (!type) return type.take_error();
      Expected<std::string> name = Ident();
      if (!name) return name.take_error();
      TypePtr field_type = *type;
      // Dimensions, outermost first: wrap from the last one.
      std::vector<Token> dims;
      while (IsPunct("[")) {
        ++p_;
        if (Peek().kind != Token::Kind::kNumber && Peek().kind != Token::Kind::kIdent) {
          return Unexpected("an array length");
        }
        dims.push_back(Next());
        if (Status st = Expect("]"); !st) return st.take_error();
      }
      for (auto it = dims.rbegin(); it != dims.rend(); ++it) {
        auto a = std::make_shared<Type>();
        a->element = field_type;
        a->align_bits = field_type->align_bits;
        if (it->kind == Token::Kind::kNumber) {
          a->kind = Type::Kind::kArray;
          a->length = it->number;
        } else {
          a->kind = Type::Kind::kSequence;
          a->length_field = it->text;
          bool known = false;
          for (const Field &f : fields) known |= f.name == it->text && f.type->kind == Type::Kind::kInteger;
          if (!known)
            return make_error("sequence " + *name + "'s length '" + it->text +
                              "' is not an earlier integer field");
        }
        field_type = a;
      }
      fields.push_back(Field{*name, field_type});
      if (Status st = Expect(";"); !st) return st.take_error();
    }
    ++p_;
    return fields;
  }

  Expected<TypePtr> Struct(int depth) {
    ++p_;
    std::string name;
    if (Peek().kind == Token::Kind::kIdent) name = Next().text;
    if (!IsPunct("{")) {
      auto it = structs_.find(name);
      if (name.empty() || it == structs_.end()) return make_error("unknown struct '" + name + "'");
      return it->second;
    }
    Expected<std::vector<Field>> fields = Members(depth);
    if (!fields) return fields.take_error();
    auto t = std::make_shared<Type>();
    t->kind = Type::Kind::kStruct;
    t->struct_name = name;
    t->align_bits = 1;
    for (const Field &f : *fields) t->align_bits = std::max(t->align_bits, f.type->align_bits);
    t->fields = std::move(*fields);
    if (IsIdent("align")) {
      ++p_;
      if (Status st = Expect("("); !st) return st.take_error();
      Expected<uint64_t> v = Number();
      if (!v) return v.take_error();
      if (*v == 0 || (*v & (*v - 1)) != 0 || *v > 64)
        return make_error("a struct alignment that is not a power of 2");
      t->align_bits = std::max<uint32_t>(t->align_bits, static_cast<uint32_t>(*v));
      if (Status st = Expect(")"); !st) return st.take_error();
    }
    if (!name.empty()) structs_[name] = t;
    return TypePtr(t);
  }

  // Parsed to be skipped: only LTTng's event headers (recognised by their
  // struct's name) may hold one.
  Expected<TypePtr> Variant(int depth) {
    ++p_;
    if (Peek().kind == Token::Kind::kIdent) ++p_;
    if (IsPunct("<")) {
      while (!IsPunct(">")) {
        if (AtEnd()) return Unexpected("'>'");
        ++p_;
      }
      ++p_;
    }
    Expected<std::vector<Field>> fields = Members(depth);
    if (!fields) return fields.take_error();
    auto t = std::make_shared<Type>();
    t->kind = Type::Kind::kVariant;
    t->fields = std::move(*fields);
    return TypePtr(t);
  }

  std::vector<Token> t_;
  size_t p_ = 0;
  Metadata m_;
  std::map<std::string, TypePtr> aliases_;
  std::map<std::string, TypePtr> structs_;
};

// Refuses variants anywhere but in the event headers the reader decodes
// itself: the generic field reader does not know them.
bool HasVariant(const TypePtr &t, int depth = 0) {
  if (!t || depth > kMaxDepth) return false;
  if (t->kind == Type::Kind::kVariant) return true;
  if (t->element && HasVariant(t->element, depth + 1)) return true;
  for (const Field &f : t->fields)
    if (HasVariant(f.type, depth + 1)) return true;
  return false;
}

}  // namespace

Expected<std::string> MetadataTextFromBytes(const unsigned char *data, size_t size) {
  if (size < 4) return make_error("the CTF metadata is almost empty");
  bool big_endian = false;
  if (Read32(data, false) == kMetadataMagic) {
    big_endian = false;
  } else if (Read32(data, true) == kMetadataMagic) {
    big_endian = true;
  } else {
    return std::string(reinterpret_cast<const char *>(data), size);  // plain text
  }
  std::string text;
  size_t offset = 0;
  while (offset < size) {
    if (size - offset < kMetadataHeaderBytes || Read32(data + offset, big_endian) != kMetadataMagic) {
      return make_error("corrupt CTF metadata packet at byte " + std::to_string(offset));
    }
    const uint64_t content_bits = Read32(data + offset + 24, big_endian);
    const uint64_t packet_bits = Read32(data + offset + 28, big_endian);
    if (packet_bits % 8 != 0 || content_bits % 8 != 0 || content_bits > packet_bits ||
        content_bits < kMetadataHeaderBytes * 8 || packet_bits / 8 > size - offset) {
      return make_error("corrupt or truncated CTF metadata packet at byte " + std::to_string(offset));
    }
    text.append(reinterpret_cast<const char *>(data + offset + kMetadataHeaderBytes),
                content_bits / 8 - kMetadataHeaderBytes);
    offset += packet_bits / 8;
  }
  return text;
}

Expected<std::string> MetadataText(const std::string &trace_dir) {
  const std::string path = trace_dir + "/metadata";
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot open " + path, {std::strerror(errno)}};
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Error{"cannot read " + path, {std::strerror(errno)}};
  return MetadataTextFromBytes(reinterpret_cast<const unsigned char *>(data.data()), data.size());
}

Expected<Metadata> ParseMetadata(const std::string &tsdl) {
  if (tsdl.find('\0') != std::string::npos) return make_error("the CTF metadata text holds a NUL byte");
  Expected<std::vector<Token>> tokens = Lexer(tsdl).Tokens();
  if (!tokens) return tokens.take_error();
  Expected<Metadata> m = Parser(std::move(*tokens)).Parse();
  if (!m) return m;
  if (HasVariant(m->packet_header)) return make_error("a variant in the packet header");
  for (const auto &[id, s] : m->streams) {
    if (HasVariant(s.packet_context) || HasVariant(s.event_context))
      return make_error("a variant in a stream context");
  }
  for (const auto &[key, e] : m->events) {
    if (HasVariant(e.payload)) return make_error("a variant in event " + e.name);
  }
  return m;
}

}  // namespace bdtrace::analyzer::ctf
