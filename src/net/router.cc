#include "net/router.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "net/internal/strings.h"
#include "net/url.h"

namespace pantau::net {

using internal::Sv;

namespace {

enum class SegKind { kLiteral = 2, kParam = 1, kCatchAll = 0 };

struct Segment {
  SegKind kind;
  std::string text;  // literal text or parameter name
};

// "/a/b" → {"a", "b"}; "/" → {""}.
std::vector<std::string_view> SplitPath(std::string_view path) {
  if (!path.empty() && path[0] == '/') path.remove_prefix(1);
  return internal::Split(path, '/');
}

}  // namespace

struct Router::Route {
  std::string pattern;
  std::vector<Segment> segments;
  struct Method {
    std::string name;
    Handler handler;
    RouteOptions options;
  };
  std::vector<Method> methods;

  const Method* FindMethod(std::string_view m) const {
    for (const Method& x : methods) {
      if (x.name == m) return &x;
    }
    return nullptr;
  }
};

Router::Router() = default;
Router::~Router() = default;

absl::Status Router::Handle(std::string_view method, std::string_view pattern,
                            Handler handler, RouteOptions options) {
  if (method.empty()) return absl::InvalidArgumentError("empty HTTP method");
  if (pattern.empty() || pattern[0] != '/') {
    return absl::InvalidArgumentError(absl::StrCat(
        "route pattern \"", Sv(pattern), "\" must start with '/'"));
  }
  std::vector<Segment> segs;
  std::vector<std::string_view> parts = SplitPath(pattern);
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string_view p = parts[i];
    if (!p.empty() && (p[0] == ':' || p[0] == '*')) {
      if (p.size() == 1) {
        return absl::InvalidArgumentError(absl::StrCat(
            "route pattern \"", Sv(pattern), "\" has an unnamed parameter"));
      }
      if (p[0] == '*' && i + 1 != parts.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("route pattern \"", Sv(pattern),
                         "\": '*' must be the last segment"));
      }
      segs.push_back({p[0] == ':' ? SegKind::kParam : SegKind::kCatchAll,
                      std::string(p.substr(1))});
    } else {
      segs.push_back({SegKind::kLiteral, std::string(p)});
    }
  }
  // Patterns equal up to parameter names share one Route.
  Route* route = nullptr;
  for (auto& r : routes_) {
    if (r->segments.size() != segs.size()) continue;
    bool same = true, same_names = true;
    for (size_t i = 0; i < segs.size() && same; ++i) {
      same = r->segments[i].kind == segs[i].kind &&
             (segs[i].kind != SegKind::kLiteral ||
              r->segments[i].text == segs[i].text);
      same_names = same_names && r->segments[i].text == segs[i].text;
    }
    if (!same) continue;
    if (!same_names) {
      return absl::InvalidArgumentError(
          absl::StrCat("route pattern \"", Sv(pattern), "\" conflicts with \"",
                       r->pattern, "\": parameters named differently"));
    }
    route = r.get();
    break;
  }
  if (route == nullptr) {
    routes_.push_back(std::make_unique<Route>());
    route = routes_.back().get();
    route->pattern = std::string(pattern);
    route->segments = std::move(segs);
  }
  if (route->FindMethod(method) != nullptr) {
    return absl::AlreadyExistsError(absl::StrCat(
        "route ", Sv(method), " ", Sv(pattern), " registered twice"));
  }
  route->methods.push_back(
      {std::string(method), std::move(handler), std::move(options)});
  return absl::OkStatus();
}

absl::Status Router::Handle(std::initializer_list<std::string_view> methods,
                            std::string_view pattern, Handler handler,
                            RouteOptions options) {
  for (std::string_view m : methods) {
    absl::Status s = Handle(m, pattern, handler, options);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

void Router::Use(Middleware middleware) {
  middleware_.push_back(std::move(middleware));
}

Router::Match Router::Find(std::string_view method,
                           std::string_view raw_path) const {
  Match out;
  std::vector<std::string_view> parts = SplitPath(raw_path);
  // For each matching route, its score: segment kinds from the left, so a
  // lexicographic comparison prefers literals early in the path.
  struct Candidate {
    const Route* route;
    std::vector<int> score;
  };
  std::vector<Candidate> candidates;
  for (const auto& r : routes_) {
    const std::vector<Segment>& segs = r->segments;
    bool catch_all = !segs.empty() && segs.back().kind == SegKind::kCatchAll;
    if (catch_all ? parts.size() < segs.size() : parts.size() != segs.size()) {
      continue;
    }
    bool ok = true;
    std::vector<int> score;
    for (size_t i = 0; i < segs.size() && ok; ++i) {
      score.push_back(static_cast<int>(segs[i].kind));
      switch (segs[i].kind) {
        case SegKind::kLiteral:
          ok = parts[i] == segs[i].text;
          break;
        case SegKind::kParam:
          ok = !parts[i].empty();
          break;
        case SegKind::kCatchAll:
          break;
      }
    }
    if (ok) candidates.push_back({r.get(), std::move(score)});
  }
  if (candidates.empty()) return out;  // 404
  std::stable_sort(
      candidates.begin(), candidates.end(),
      [](const Candidate& a, const Candidate& b) { return a.score > b.score; });
  // The most specific route that has the method; HEAD falls back to GET.
  const Route* chosen = nullptr;
  const Route::Method* chosen_method = nullptr;
  for (const Candidate& c : candidates) {
    const Route::Method* m = c.route->FindMethod(method);
    if (m == nullptr && method == "HEAD") m = c.route->FindMethod("GET");
    if (m != nullptr) {
      chosen = c.route;
      chosen_method = m;
      break;
    }
  }
  if (chosen == nullptr) {
    std::vector<std::string> allow;
    for (const Candidate& c : candidates) {
      for (const Route::Method& m : c.route->methods) {
        allow.push_back(m.name);
        if (m.name == "GET") allow.push_back("HEAD");
      }
    }
    std::sort(allow.begin(), allow.end());
    allow.erase(std::unique(allow.begin(), allow.end()), allow.end());
    out.status = 405;
    out.allow = absl::StrJoin(allow, ", ");
    return out;
  }
  const std::vector<Segment>& segs = chosen->segments;
  for (size_t i = 0; i < segs.size(); ++i) {
    if (segs[i].kind == SegKind::kLiteral) continue;
    std::string raw;
    if (segs[i].kind == SegKind::kParam) {
      raw = std::string(parts[i]);
    } else {
      for (size_t j = i; j < parts.size(); ++j) {
        if (j > i) raw.push_back('/');
        raw.append(parts[j]);
      }
    }
    auto decoded = PercentDecode(raw, /*plus_as_space=*/false);
    if (!decoded.ok()) {
      out.status = 400;
      out.path_params = Params();
      return out;
    }
    out.path_params.Add(segs[i].text, *std::move(decoded));
  }
  out.status = 200;
  out.pattern = chosen->pattern;
  out.options = &chosen_method->options;
  out.handler = &chosen_method->handler;
  return out;
}

HttpResponse Router::Serve(const Match& match, HttpRequest& request,
                           RequestContext& ctx) const {
  request.route = match.pattern;
  request.path_params = match.path_params;
  // The router's own answers when no handler matched.
  Handler fallback;
  const Handler* final_handler = match.handler;
  if (match.status != 200 || final_handler == nullptr) {
    if (match.status == 405) {
      std::string allow = match.allow;
      fallback = [allow](const HttpRequest& r, RequestContext&) {
        HttpResponse resp = HttpResponse::Error(
            405,
            absl::StrCat("method ", r.method, " not allowed for ", r.path));
        resp.headers.Set("Allow", allow);
        return resp;
      };
    } else if (match.status == 400) {
      fallback = [](const HttpRequest&, RequestContext&) {
        return HttpResponse::Error(400, "invalid percent-encoding in path");
      };
    } else {
      fallback = [](const HttpRequest& r, RequestContext&) {
        return HttpResponse::Error(
            404, absl::StrCat("404 page not found: ", r.path));
      };
    }
    final_handler = &fallback;
  }
  // Builds a -> b -> ... -> handler without allocating the chain up front.
  struct Chain {
    const std::vector<Middleware>& mw;
    const Handler& last;
    HttpResponse Run(size_t i, const HttpRequest& r, RequestContext& c) const {
      if (i == mw.size()) return last(r, c);
      Handler next = [this, i](const HttpRequest& r2, RequestContext& c2) {
        return Run(i + 1, r2, c2);
      };
      return mw[i](r, c, next);
    }
  };
  Chain chain{middleware_, *final_handler};
  return chain.Run(0, request, ctx);
}

HttpResponse Router::Serve(HttpRequest& request, RequestContext& ctx) const {
  std::string_view raw_path = request.target.empty()
                                  ? std::string_view(request.path)
                                  : std::string_view(request.target);
  raw_path = raw_path.substr(0, raw_path.find('?'));
  Match m = Find(request.method, raw_path);
  return Serve(m, request, ctx);
}

}  // namespace pantau::net
