#include "metrics/exemplar/exemplar_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "base/crc32c.h"
#include "base/log.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "base/varint.h"

namespace pantau::metrics::exemplar {
namespace {

absl::Status ErrnoError(std::string_view what, const std::string& path) {
  return absl::InternalError(
      absl::StrCat(base::Sv(what), " ", path, ": ", std::strerror(errno)));
}

absl::Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("write", path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open", path);
  std::string out;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return ErrnoError("read", path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

absl::Status SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open", dir);
  int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? absl::OkStatus() : ErrnoError("fsync", dir);
}

}  // namespace

void EncodeRecord(const base::Labels& series, const Exemplar& e,
                  std::string* out) {
  std::string payload;
  base::PutLengthPrefixed(&payload, series.data());
  base::PutLengthPrefixed(&payload, e.labels.data());
  uint64_t bits;
  std::memcpy(&bits, &e.value, sizeof bits);
  base::PutFixed64(&payload, bits);
  base::PutVarsint64(&payload, e.t);
  payload.push_back(e.has_timestamp ? 1 : 0);
  base::PutFixed32(out, static_cast<uint32_t>(payload.size()));
  base::PutFixed32(out, base::crc32c::Value(payload));
  out->append(payload);
}

size_t DecodeRecords(std::string_view data, std::vector<LoggedExemplar>* out) {
  size_t valid = 0;
  base::ByteReader r(data);
  for (;;) {
    uint32_t len, crc;
    std::string_view payload;
    if (!r.ReadFixed32(&len) || !r.ReadFixed32(&crc) || len > kMaxRecordBytes ||
        !r.ReadBytes(len, &payload) || base::crc32c::Value(payload) != crc) {
      return valid;
    }
    base::ByteReader p(payload);
    std::string_view series_data, ex_data;
    uint64_t bits;
    int64_t t;
    std::string_view flag;
    if (!p.ReadLengthPrefixed(&series_data) ||
        !p.ReadLengthPrefixed(&ex_data) || !p.ReadFixed64(&bits) ||
        !p.ReadVarsint64(&t) || !p.ReadBytes(1, &flag) || p.remaining() != 0) {
      return valid;
    }
    absl::StatusOr<base::Labels> series =
        base::Labels::FromEncoded(std::string(series_data));
    absl::StatusOr<base::Labels> ex_labels =
        base::Labels::FromEncoded(std::string(ex_data));
    if (!series.ok() || !ex_labels.ok() || series->empty()) return valid;
    Exemplar e;
    e.labels = *std::move(ex_labels);
    std::memcpy(&e.value, &bits, sizeof bits);
    e.t = t;
    e.has_timestamp = flag[0] != 0;
    out->emplace_back(*std::move(series), std::move(e));
    valid = data.size() - r.remaining();
  }
}

absl::StatusOr<std::unique_ptr<ExemplarLog>> ExemplarLog::Open(
    const std::string& dir, std::vector<LoggedExemplar>* replayed) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("create directory ", dir, ": ", ec.message()));
  }
  const std::string path = absl::StrCat(dir, "/", kLogFileName);
  // A rewrite interrupted before its rename leaves a temporary file.
  std::filesystem::remove(path + ".tmp", ec);
  size_t records = 0;
  if (std::filesystem::exists(path)) {
    absl::StatusOr<std::string> data = ReadFile(path);
    if (!data.ok()) return data.status();
    if (data->size() < kLogMagic.size() ||
        std::string_view(*data).substr(0, kLogMagic.size()) != kLogMagic) {
      if (!data->empty()) {
        return absl::DataLossError(
            absl::StrCat(path, " is not a pantau exemplar log"));
      }
    } else {
      size_t before = replayed->size();
      size_t valid = DecodeRecords(
          std::string_view(*data).substr(kLogMagic.size()), replayed);
      records = replayed->size() - before;
      size_t keep = kLogMagic.size() + valid;
      if (keep < data->size()) {
        PANTAU_LOG(kWarn, "cutting damaged tail of the exemplar log",
                   {{"file", path},
                    {"kept_bytes", static_cast<int64_t>(keep)},
                    {"cut_bytes", static_cast<int64_t>(data->size() - keep)}});
        if (::truncate(path.c_str(), static_cast<off_t>(keep)) != 0) {
          return ErrnoError("truncate", path);
        }
      }
    }
  }
  int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("open", path);
  struct stat st;
  if (::fstat(fd, &st) == 0 && st.st_size == 0) {
    absl::Status s = WriteAll(fd, kLogMagic, path);
    if (!s.ok()) {
      ::close(fd);
      return s;
    }
  }
  return std::unique_ptr<ExemplarLog>(new ExemplarLog(dir, fd, records));
}

ExemplarLog::ExemplarLog(std::string dir, int fd, size_t records)
    : dir_(std::move(dir)), fd_(fd), records_(records) {}

ExemplarLog::~ExemplarLog() { ::close(fd_); }

absl::Status ExemplarLog::Append(std::string_view records, size_t count) {
  absl::Status s =
      WriteAll(fd_, records, absl::StrCat(dir_, "/", kLogFileName));
  if (s.ok()) records_ += count;
  return s;
}

absl::Status ExemplarLog::Rewrite(const std::vector<LoggedExemplar>& items) {
  const std::string path = absl::StrCat(dir_, "/", kLogFileName);
  const std::string tmp = path + ".tmp";
  std::string data(kLogMagic);
  for (const auto& [series, e] : items) EncodeRecord(series, e, &data);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("open", tmp);
  absl::Status s = WriteAll(fd, data, tmp);
  if (s.ok() && ::fsync(fd) != 0) s = ErrnoError("fsync", tmp);
  ::close(fd);
  if (!s.ok()) return s;
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return ErrnoError("rename", tmp);
  PANTAU_RETURN_IF_ERROR(SyncDir(dir_));
  int nfd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (nfd < 0) return ErrnoError("open", path);
  ::close(fd_);
  fd_ = nfd;
  records_ = items.size();
  return absl::OkStatus();
}

}  // namespace pantau::metrics::exemplar
