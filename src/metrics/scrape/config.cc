#include "metrics/scrape/config.h"

#include <filesystem>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "metrics/scrape/exposition_parser.h"
#include "metrics/scrape/strings.h"
#include "metrics/scrape/yaml_decode.h"
#include "re2/re2.h"
#include "yaml-cpp/yaml.h"

namespace pantau::metrics::scrape {
namespace {

using Node = YAML::Node;
using Field = YamlDecoder::Field;

std::string ResolvePath(std::string_view filename, const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  std::filesystem::path dir = std::filesystem::path(filename).parent_path();
  if (dir.empty()) return path;
  return (dir / path).string();
}

// A label set from a YAML map; names must be valid.
absl::Status DecodeLabels(const YamlDecoder& d, const Node& n, const YamlPos& p,
                          base::Labels* out) {
  std::vector<std::pair<std::string, std::string>> kv;
  PANTAU_RETURN_IF_ERROR(d.StringMap(n, p, &kv));
  std::vector<base::Label> pairs;
  for (auto& [k, v] : kv) {
    if (!IsValidLabelName(k)) {
      return d.Error(p, absl::StrCat("\"", k, "\" is not a valid label name"));
    }
    if (!IsValidUtf8(v)) {
      return d.Error(p, absl::StrCat("invalid UTF-8 in value of label ", k));
    }
    pairs.push_back({std::move(k), std::move(v)});
  }
  absl::StatusOr<base::Labels> l = base::Labels::FromPairs(std::move(pairs));
  if (!l.ok()) return d.Error(p, StdSv(l.status().message()));
  *out = *std::move(l);
  return absl::OkStatus();
}

absl::Status DecodeTargetGroup(const YamlDecoder& d, const Node& n,
                               const YamlPos& p, TargetGroup* tg) {
  PANTAU_RETURN_IF_ERROR(
      d.Map(n, p,
            {{"targets",
              [&](const Node& v, const YamlPos& vp) {
                PANTAU_RETURN_IF_ERROR(d.StringList(v, vp, &tg->targets));
                for (const std::string& t : tg->targets) {
                  absl::Status s = CheckTargetAddress(t);
                  if (!s.ok()) return d.Error(vp, StdSv(s.message()));
                }
                return absl::OkStatus();
              }},
             {"labels", [&](const Node& v, const YamlPos& vp) {
                return DecodeLabels(d, v, vp, &tg->labels);
              }}}));
  return absl::OkStatus();
}

absl::Status DecodeRelabel(const YamlDecoder& d, const Node& n,
                           const YamlPos& p, RelabelConfig* c) {
  PANTAU_RETURN_IF_ERROR(d.Map(
      n, p,
      {{"source_labels",
        [&](const Node& v, const YamlPos& vp) {
          PANTAU_RETURN_IF_ERROR(d.StringList(v, vp, &c->source_labels));
          for (const auto& l : c->source_labels) {
            if (!IsValidLabelName(l)) {
              return d.Error(
                  vp, absl::StrCat("\"", l, "\" is not a valid label name"));
            }
          }
          return absl::OkStatus();
        }},
       {"separator",
        [&](const Node& v, const YamlPos& vp) {
          return d.String(v, vp, &c->separator);
        }},
       {"regex", [&](const Node& v,
                     const YamlPos& vp) { return d.String(v, vp, &c->regex); }},
       {"modulus",
        [&](const Node& v, const YamlPos& vp) {
          return d.Uint64(v, vp, &c->modulus);
        }},
       {"target_label",
        [&](const Node& v, const YamlPos& vp) {
          return d.String(v, vp, &c->target_label);
        }},
       {"replacement",
        [&](const Node& v, const YamlPos& vp) {
          return d.String(v, vp, &c->replacement);
        }},
       {"action", [&](const Node& v, const YamlPos& vp) {
          std::string a;
          PANTAU_RETURN_IF_ERROR(d.String(v, vp, &a));
          if (a.empty()) return d.Error(vp, "relabel action cannot be empty");
          std::optional<RelabelAction> act = ParseRelabelAction(a);
          if (!act) {
            return d.Error(vp,
                           absl::StrCat("unknown relabel action \"", a, "\""));
          }
          c->action = *act;
          return absl::OkStatus();
        }}}));
  absl::Status s = ValidateRelabelConfig(*c);
  if (!s.ok()) return d.Error(p, StdSv(s.message()));
  return absl::OkStatus();
}

absl::Status DecodeRelabelList(const YamlDecoder& d, const Node& n,
                               const YamlPos& p,
                               std::vector<RelabelConfig>* out) {
  return d.Seq(n, p, [&](const Node& e, const YamlPos& ep) {
    RelabelConfig c;
    PANTAU_RETURN_IF_ERROR(DecodeRelabel(d, e, ep, &c));
    out->push_back(std::move(c));
    return absl::OkStatus();
  });
}

absl::Status DecodeFileSd(const YamlDecoder& d, const Node& n, const YamlPos& p,
                          FileSdConfig* c) {
  // Prometheus's patFileSDName: a glob only in the last path element, and
  // a .json/.yml/.yaml extension.
  static const re2::RE2* kPattern =
      new re2::RE2(R"(^[^*]*(\*[^/]*)?\.(json|yml|yaml|JSON|YML|YAML)$)");
  PANTAU_RETURN_IF_ERROR(
      d.Map(n, p,
            {{"files",
              [&](const Node& v, const YamlPos& vp) {
                PANTAU_RETURN_IF_ERROR(d.StringList(v, vp, &c->files));
                for (std::string& f : c->files) {
                  if (!re2::RE2::FullMatch(f, *kPattern)) {
                    return d.Error(vp, absl::StrCat("path name \"", f,
                                                    "\" is not valid for file "
                                                    "discovery"));
                  }
                  f = ResolvePath(d.filename(), f);
                }
                return absl::OkStatus();
              }},
             {"refresh_interval", [&](const Node& v, const YamlPos& vp) {
                return d.Duration(v, vp, &c->refresh_interval);
              }}}));
  if (c->files.empty()) {
    return d.Error(p,
                   "file service discovery config must contain at least "
                   "one path name");
  }
  return absl::OkStatus();
}

absl::Status DecodeScrapeConfig(const YamlDecoder& d, const Node& n,
                                const YamlPos& p, const GlobalConfig& global,
                                ScrapeConfig* c) {
  bool interval_set = false, timeout_set = false;
  std::string bearer_token, bearer_token_file;
  auto unsupported = [&](const Node&, const YamlPos& vp) {
    return d.Error(vp, "valid in Prometheus but not supported by pantau");
  };
  auto ignore_bool = [&](const Node& v, const YamlPos& vp) {
    bool b = false;
    return d.Bool(v, vp, &b);
  };
  PANTAU_RETURN_IF_ERROR(d.Map(
      n, p,
      {
          {"job_name",
           [&](const Node& v, const YamlPos& vp) {
             return d.String(v, vp, &c->job_name);
           }},
          {"scrape_interval",
           [&](const Node& v, const YamlPos& vp) {
             interval_set = !v.IsNull();
             return d.Duration(v, vp, &c->scrape_interval);
           }},
          {"scrape_timeout",
           [&](const Node& v, const YamlPos& vp) {
             timeout_set = !v.IsNull();
             return d.Duration(v, vp, &c->scrape_timeout);
           }},
          {"metrics_path",
           [&](const Node& v, const YamlPos& vp) {
             return d.String(v, vp, &c->metrics_path);
           }},
          {"scheme",
           [&](const Node& v, const YamlPos& vp) {
             PANTAU_RETURN_IF_ERROR(d.String(v, vp, &c->scheme));
             if (c->scheme != "http" && c->scheme != "https") {
               return d.Error(
                   vp, absl::StrCat("unsupported scheme \"", c->scheme, "\""));
             }
             return absl::OkStatus();
           }},
          {"params",
           [&](const Node& v, const YamlPos& vp) {
             if (v.IsNull()) return absl::OkStatus();
             if (!v.IsMap()) return d.Error(vp, "expected a map");
             for (auto it = v.begin(); it != v.end(); ++it) {
               YamlPos kp = vp.Child(it->first.Scalar(), it->first);
               PANTAU_RETURN_IF_ERROR(d.StringList(
                   it->second, kp, &c->params[it->first.Scalar()]));
             }
             return absl::OkStatus();
           }},
          {"honor_labels",
           [&](const Node& v, const YamlPos& vp) {
             return d.Bool(v, vp, &c->honor_labels);
           }},
          {"honor_timestamps",
           [&](const Node& v, const YamlPos& vp) {
             return d.Bool(v, vp, &c->honor_timestamps);
           }},
          {"static_configs",
           [&](const Node& v, const YamlPos& vp) {
             return d.Seq(v, vp, [&](const Node& e, const YamlPos& ep) {
               TargetGroup tg;
               PANTAU_RETURN_IF_ERROR(DecodeTargetGroup(d, e, ep, &tg));
               tg.source = absl::StrCat(c->static_configs.size());
               c->static_configs.push_back(std::move(tg));
               return absl::OkStatus();
             });
           }},
          {"file_sd_configs",
           [&](const Node& v, const YamlPos& vp) {
             return d.Seq(v, vp, [&](const Node& e, const YamlPos& ep) {
               FileSdConfig f;
               PANTAU_RETURN_IF_ERROR(DecodeFileSd(d, e, ep, &f));
               c->file_sd_configs.push_back(std::move(f));
               return absl::OkStatus();
             });
           }},
          {"relabel_configs",
           [&](const Node& v, const YamlPos& vp) {
             return DecodeRelabelList(d, v, vp, &c->relabel_configs);
           }},
          {"metric_relabel_configs",
           [&](const Node& v, const YamlPos& vp) {
             return DecodeRelabelList(d, v, vp, &c->metric_relabel_configs);
           }},
          {"basic_auth",
           [&](const Node& v, const YamlPos& vp) {
             BasicAuth b;
             PANTAU_RETURN_IF_ERROR(d.Map(
                 v, vp,
                 {{"username",
                   [&](const Node& x, const YamlPos& xp) {
                     return d.String(x, xp, &b.username);
                   }},
                  {"password",
                   [&](const Node& x, const YamlPos& xp) {
                     return d.String(x, xp, &b.password);
                   }},
                  {"password_file", [&](const Node& x, const YamlPos& xp) {
                     return d.String(x, xp, &b.password_file);
                   }}}));
             if (!b.password.empty() && !b.password_file.empty()) {
               return d.Error(vp,
                              "at most one of basic_auth password & "
                              "password_file must be configured");
             }
             b.password_file = ResolvePath(d.filename(), b.password_file);
             c->basic_auth = std::move(b);
             return absl::OkStatus();
           }},
          {"authorization",
           [&](const Node& v, const YamlPos& vp) {
             Authorization a;
             PANTAU_RETURN_IF_ERROR(d.Map(
                 v, vp,
                 {{"type",
                   [&](const Node& x, const YamlPos& xp) {
                     return d.String(x, xp, &a.type);
                   }},
                  {"credentials",
                   [&](const Node& x, const YamlPos& xp) {
                     return d.String(x, xp, &a.credentials);
                   }},
                  {"credentials_file", [&](const Node& x, const YamlPos& xp) {
                     return d.String(x, xp, &a.credentials_file);
                   }}}));
             if (a.type.empty()) a.type = "Bearer";
             if (absl::AsciiStrToLower(a.type) == "basic") {
               return d.Error(vp,
                              "authorization type cannot be set to "
                              "\"basic\", use \"basic_auth\" instead");
             }
             if (!a.credentials.empty() && !a.credentials_file.empty()) {
               return d.Error(vp,
                              "at most one of authorization credentials & "
                              "credentials_file must be configured");
             }
             a.credentials_file = ResolvePath(d.filename(), a.credentials_file);
             c->authorization = std::move(a);
             return absl::OkStatus();
           }},
          {"bearer_token",
           [&](const Node& v, const YamlPos& vp) {
             return d.String(v, vp, &bearer_token);
           }},
          {"bearer_token_file",
           [&](const Node& v, const YamlPos& vp) {
             return d.String(v, vp, &bearer_token_file);
           }},
          {"sample_limit",
           [&](const Node& v, const YamlPos& vp) {
             return d.Uint64(v, vp, &c->sample_limit);
           }},
          // Accepted for compatibility; pantau always behaves as their
          // Prometheus defaults (follow redirects, HTTP/1.1).
          {"follow_redirects", ignore_bool},
          {"enable_http2", ignore_bool},
          // Valid in Prometheus but not implemented here: a clear error
          // rather than "unknown field" or silently scraping differently.
          {"tls_config", unsupported},
          {"oauth2", unsupported},
          {"proxy_url", unsupported},
          {"body_size_limit", unsupported},
          {"label_limit", unsupported},
          {"label_name_length_limit", unsupported},
          {"label_value_length_limit", unsupported},
          {"target_limit", unsupported},
          {"kubernetes_sd_configs", unsupported},
          {"consul_sd_configs", unsupported},
          {"dns_sd_configs", unsupported},
          {"http_sd_configs", unsupported},
          {"ec2_sd_configs", unsupported},
      }));
  if (c->job_name.empty()) return d.Error(p, "job_name is empty");
  if (!bearer_token.empty() && !bearer_token_file.empty()) {
    return d.Error(p,
                   "at most one of bearer_token & bearer_token_file must be "
                   "configured");
  }
  const bool has_bearer = !bearer_token.empty() || !bearer_token_file.empty();
  if (has_bearer && c->authorization) {
    return d.Error(p,
                   "at most one of bearer_token, bearer_token_file & "
                   "authorization must be configured");
  }
  if (c->basic_auth && (has_bearer || c->authorization)) {
    return d.Error(p,
                   "at most one of basic_auth, bearer_token & "
                   "bearer_token_file must be configured");
  }
  if (has_bearer) {
    Authorization a;
    a.credentials = bearer_token;
    a.credentials_file = ResolvePath(d.filename(), bearer_token_file);
    c->authorization = std::move(a);
  }
  if (!interval_set) c->scrape_interval = global.scrape_interval;
  if (!timeout_set) {
    // Prometheus: the global timeout, but never more than the interval.
    c->scrape_timeout = std::min(global.scrape_timeout, c->scrape_interval);
  }
  if (c->scrape_interval <= absl::ZeroDuration()) {
    return d.Error(p, "scrape_interval must be positive");
  }
  if (c->scrape_timeout > c->scrape_interval) {
    return d.Error(p, absl::StrCat("scrape timeout greater than scrape "
                                   "interval for scrape config with job name "
                                   "\"",
                                   c->job_name, "\""));
  }
  return absl::OkStatus();
}

absl::StatusOr<ScrapeSettings> Decode(const Node& root,
                                      std::string_view filename) {
  YamlDecoder d{std::string(filename)};
  ScrapeSettings out;
  if (!root.IsDefined() || root.IsNull()) return out;
  if (!root.IsMap()) {
    return d.Error(YamlPos{"", 1}, "the configuration must be a map");
  }
  YamlPos top{"", 1};
  Node global = root["global"];
  if (global.IsDefined()) {
    GlobalConfig& g = out.global;
    bool timeout_set = false;
    // Keys of Prometheus's global section that other modules read.
    auto ignore = [](const Node&, const YamlPos&) { return absl::OkStatus(); };
    PANTAU_RETURN_IF_ERROR(
        d.Map(global, top.Child("global", global),
              {{"scrape_interval",
                [&](const Node& v, const YamlPos& vp) {
                  return d.Duration(v, vp, &g.scrape_interval);
                }},
               {"scrape_timeout",
                [&](const Node& v, const YamlPos& vp) {
                  timeout_set = true;
                  return d.Duration(v, vp, &g.scrape_timeout);
                }},
               {"external_labels",
                [&](const Node& v, const YamlPos& vp) {
                  return DecodeLabels(d, v, vp, &g.external_labels);
                }},
               {"evaluation_interval", ignore},
               {"query_log_file", ignore}}));
    // As Prometheus: only a timeout the user set may not exceed the
    // interval; the 10s default shrinks to a shorter interval.
    if (!timeout_set) {
      g.scrape_timeout = std::min(g.scrape_timeout, g.scrape_interval);
    } else if (g.scrape_timeout > g.scrape_interval) {
      return d.Error(top.Child("global", global),
                     "global scrape timeout greater than scrape interval");
    }
  }
  Node scs = root["scrape_configs"];
  // A file without scrape jobs is valid (and Mark() on a missing node
  // throws).
  if (!scs.IsDefined() || scs.IsNull()) return out;
  std::set<std::string> jobs;
  PANTAU_RETURN_IF_ERROR(d.Seq(
      scs, top.Child("scrape_configs", scs),
      [&](const Node& e, const YamlPos& ep) {
        ScrapeConfig c;
        PANTAU_RETURN_IF_ERROR(DecodeScrapeConfig(d, e, ep, out.global, &c));
        if (!jobs.insert(c.job_name).second) {
          return d.Error(ep, absl::StrCat("found multiple scrape configs with "
                                          "job name \"",
                                          c.job_name, "\""));
        }
        out.scrape_configs.push_back(std::move(c));
        return absl::OkStatus();
      }));
  return out;
}

}  // namespace

absl::Status CheckTargetAddress(std::string_view address) {
  if (address.find('/') != std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", Sv(address), "\" is not a valid hostname"));
  }
  return absl::OkStatus();
}

absl::StatusOr<ScrapeSettings> ParseScrapeConfigs(const YAML::Node& root,
                                                  std::string_view filename) {
  try {
    return Decode(root, filename);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(filename), ":", e.mark.line + 1, ": ", e.msg));
  }
}

absl::StatusOr<ScrapeSettings> ParseScrapeConfigsText(
    std::string_view yaml, std::string_view filename) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(filename), ":", e.mark.line + 1, ": ", e.msg));
  }
  return ParseScrapeConfigs(root, filename);
}

absl::StatusOr<std::vector<TargetGroup>> ParseTargetGroups(
    std::string_view content, std::string_view filename) {
  YamlDecoder d{std::string(filename)};
  std::vector<TargetGroup> out;
  try {
    // JSON is (for these files) a subset of YAML, so one reader does both.
    Node root = YAML::Load(std::string(content));
    PANTAU_RETURN_IF_ERROR(
        d.Seq(root, YamlPos{"", 1}, [&](const Node& e, const YamlPos& ep) {
          TargetGroup tg;
          PANTAU_RETURN_IF_ERROR(DecodeTargetGroup(d, e, ep, &tg));
          tg.source = absl::StrCat(Sv(filename), ":", out.size());
          out.push_back(std::move(tg));
          return absl::OkStatus();
        }));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(filename), ":", e.mark.line + 1, ": ", e.msg));
  }
  return out;
}

}  // namespace pantau::metrics::scrape
