#include "aws/xray_tracer.hpp"

#include "aws/xray_subsegment.hpp"

namespace crud::aws {

bool xray_tracer::observes(std::string_view trace_header) const noexcept {
  if (trace_header.empty())
    return false;
  try {
    auto header = parse_trace_header(trace_header);
    return header && traced(*header);
  } catch (...) {  // NOLINT(bugprone-empty-catch): only allocation can fail; skip the trace
    return false;
  }
}

void xray_tracer::on_call(const call_record& record) noexcept {
  try {
    auto header = parse_trace_header(record.trace_header);
    if (!header || !traced(*header))
      return;
    const std::string id = new_segment_id(random_);
    const std::string exception_id = record.error != nullptr ? new_segment_id(random_) : "";
    emitter_.emit(xray_datagram(format_dynamodb_subsegment(*header, record, id, exception_id)));
  } catch (...) {  // NOLINT(bugprone-empty-catch): a lost trace must not fail the request
  }
}

}  // namespace crud::aws
