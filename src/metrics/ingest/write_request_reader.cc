#include "metrics/ingest/write_request_reader.h"

#include <cstring>

namespace pantau::metrics::ingest {
namespace {

// A cursor over one message's bytes.
struct Cursor {
  const char* p;
  const char* end;

  bool Varint(uint64_t* v) {
    uint64_t result = 0;
    for (int shift = 0; shift < 64 && p < end; shift += 7) {
      uint8_t b = static_cast<uint8_t>(*p++);
      result |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        *v = result;
        return true;
      }
    }
    return false;
  }
  bool Fixed64(uint64_t* v) {
    if (end - p < 8) return false;
    std::memcpy(v, p, 8);  // little-endian host
    p += 8;
    return true;
  }
  bool Bytes(std::string_view* out) {
    uint64_t n;
    if (!Varint(&n) || n > static_cast<uint64_t>(end - p)) return false;
    *out = std::string_view(p, n);
    p += n;
    return true;
  }
  // Skips a field of the given wire type.
  bool Skip(uint32_t wire) {
    uint64_t v;
    std::string_view s;
    switch (wire) {
      case 0:
        return Varint(&v);
      case 1:
        return Fixed64(&v);
      case 2:
        return Bytes(&s);
      case 5:
        if (end - p < 4) return false;
        p += 4;
        return true;
      default:
        return false;  // groups (3, 4) and invalid types
    }
  }
  bool done() const { return p >= end; }
};

Cursor Of(std::string_view s) { return Cursor{s.data(), s.data() + s.size()}; }

double AsDouble(uint64_t bits) {
  double d;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}

// Label { bytes name = 1; bytes value = 2; }
bool ReadLabel(std::string_view msg, WriteRequestReader::LabelPairs* out) {
  Cursor c = Of(msg);
  std::string_view name, value;
  while (!c.done()) {
    uint64_t tag;
    if (!c.Varint(&tag)) return false;
    const uint32_t field = static_cast<uint32_t>(tag >> 3), wire = tag & 7;
    if (field == 1 && wire == 2) {
      if (!c.Bytes(&name)) return false;
    } else if (field == 2 && wire == 2) {
      if (!c.Bytes(&value)) return false;
    } else if (!c.Skip(wire)) {
      return false;
    }
  }
  out->emplace_back(name, value);
  return true;
}

// Sample { double value = 1; int64 timestamp = 2; }
bool ReadSample(std::string_view msg, WriteRequestReader::SampleView* s) {
  Cursor c = Of(msg);
  *s = {};
  while (!c.done()) {
    uint64_t tag, v;
    if (!c.Varint(&tag)) return false;
    const uint32_t field = static_cast<uint32_t>(tag >> 3), wire = tag & 7;
    if (field == 1 && wire == 1) {
      if (!c.Fixed64(&v)) return false;
      s->value = AsDouble(v);
    } else if (field == 2 && wire == 0) {
      if (!c.Varint(&v)) return false;
      s->timestamp = static_cast<int64_t>(v);
    } else if (!c.Skip(wire)) {
      return false;
    }
  }
  return true;
}

// Exemplar { repeated Label labels = 1; double value = 2; int64 ts = 3; }
bool ReadExemplar(std::string_view msg, WriteRequestReader::ExemplarView* e) {
  Cursor c = Of(msg);
  e->labels.clear();
  e->value = 0;
  e->timestamp = 0;
  while (!c.done()) {
    uint64_t tag, v;
    std::string_view sub;
    if (!c.Varint(&tag)) return false;
    const uint32_t field = static_cast<uint32_t>(tag >> 3), wire = tag & 7;
    if (field == 1 && wire == 2) {
      if (!c.Bytes(&sub) || !ReadLabel(sub, &e->labels)) return false;
    } else if (field == 2 && wire == 1) {
      if (!c.Fixed64(&v)) return false;
      e->value = AsDouble(v);
    } else if (field == 3 && wire == 0) {
      if (!c.Varint(&v)) return false;
      e->timestamp = static_cast<int64_t>(v);
    } else if (!c.Skip(wire)) {
      return false;
    }
  }
  return true;
}

// MetricMetadata { MetricType type = 1; string metric_family_name = 2;
//                  string help = 4; string unit = 5; }
bool ReadMetadata(std::string_view msg, WriteRequestReader::MetadataView* m) {
  Cursor c = Of(msg);
  while (!c.done()) {
    uint64_t tag;
    if (!c.Varint(&tag)) return false;
    const uint32_t field = static_cast<uint32_t>(tag >> 3), wire = tag & 7;
    if (field == 1 && wire == 0) {
      if (!c.Varint(&m->type)) return false;
    } else if (field == 2 && wire == 2) {
      if (!c.Bytes(&m->family)) return false;
    } else if (field == 4 && wire == 2) {
      if (!c.Bytes(&m->help)) return false;
    } else if (field == 5 && wire == 2) {
      if (!c.Bytes(&m->unit)) return false;
    } else if (!c.Skip(wire)) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool WriteRequestReader::LooksLikeWriteRequest(std::string_view data) {
  Cursor c = Of(data);
  while (!c.done()) {
    uint64_t tag;
    std::string_view sub;
    if (!c.Varint(&tag)) return false;
    const uint32_t field = static_cast<uint32_t>(tag >> 3), wire = tag & 7;
    if ((field != 1 && field != 3) || wire != 2 || !c.Bytes(&sub)) {
      return false;
    }
  }
  return true;
}

bool WriteRequestReader::Next(Series* out) {
  if (!status_.ok()) return false;
  Cursor top{data_.data() + pos_, data_.data() + data_.size()};
  auto fail = [&](const char* what) {
    status_ = absl::InvalidArgumentError(what);
    pos_ = data_.size();
    return false;
  };
  while (!top.done()) {
    uint64_t tag;
    if (!top.Varint(&tag)) return fail("truncated field tag");
    const uint32_t field = static_cast<uint32_t>(tag >> 3), wire = tag & 7;
    if (field == 3 && wire == 2) {
      std::string_view md;
      MetadataView m;
      if (!top.Bytes(&md) || !ReadMetadata(md, &m)) {
        return fail("malformed metric metadata");
      }
      metadata_.push_back(m);
      pos_ = static_cast<size_t>(top.p - data_.data());
      continue;
    }
    if (field != 1 || wire != 2) {
      if (!top.Skip(wire)) return fail("malformed field");
      continue;
    }
    std::string_view ts;
    if (!top.Bytes(&ts)) return fail("truncated time series");
    pos_ = static_cast<size_t>(top.p - data_.data());
    out->labels.clear();
    out->samples.clear();
    out->num_exemplars = 0;
    out->num_histograms = 0;
    Cursor c = Of(ts);
    while (!c.done()) {
      uint64_t t;
      std::string_view sub;
      if (!c.Varint(&t)) return fail("truncated field tag in time series");
      const uint32_t f = static_cast<uint32_t>(t >> 3), w = t & 7;
      if (w == 2 && f >= 1 && f <= 4) {
        if (!c.Bytes(&sub)) return fail("truncated field in time series");
        if (f == 1) {
          if (!ReadLabel(sub, &out->labels)) return fail("malformed label");
        } else if (f == 2) {
          out->samples.emplace_back();
          if (!ReadSample(sub, &out->samples.back())) {
            return fail("malformed sample");
          }
        } else if (f == 3) {
          if (out->exemplars.size() <= out->num_exemplars) {
            out->exemplars.emplace_back();
          }
          if (!ReadExemplar(sub, &out->exemplars[out->num_exemplars])) {
            return fail("malformed exemplar");
          }
          ++out->num_exemplars;
        } else {
          ++out->num_histograms;
        }
      } else if (!c.Skip(w)) {
        return fail("malformed field in time series");
      }
    }
    return true;
  }
  pos_ = data_.size();
  return false;
}

}  // namespace pantau::metrics::ingest
