#pragma once
// AWS X-Ray documents for DynamoDB calls, as pure functions: reading the trace header a request
// carries (`Root=1-…;Parent=…;Sampled=1`), and writing one call as an independent subsegment in
// the daemon's UDP format (a `{"format": "json", "version": 1}` line, then the document). The
// subsegment attaches under the header's Parent (in Lambda, the function's segment), named
// "DynamoDB" in the "aws" namespace as the AWS SDKs name theirs, so the service map shows the
// table as a downstream node.

#include <optional>
#include <string>
#include <string_view>

#include "aws/dynamodb_client.hpp"
#include "core/random_source.hpp"

namespace crud::aws {

struct trace_header {
  std::string root;    // "1-5759e988-bd862e3fe1be46a994272793"
  std::string parent;  // 16 hex digits; empty when the header has none
  bool sampled = false;
};

// nullopt when there is no well-formed Root. A malformed Parent counts as none.
std::optional<trace_header> parse_trace_header(std::string_view text);

// Whether a call under this header should become a subsegment: sampled, with a parent to hang
// it on.
bool traced(const trace_header& header) noexcept;

// A new segment id: 16 lower-case hex digits from 8 random bytes.
std::string new_segment_id(core::random_source& random);

// The subsegment document for one DynamoDB call. Flags follow X-Ray's meaning: `fault` for a
// 5xx or no usable answer (transport, timeout, deadline, checksum, credentials), `error` for a
// 4xx, and `throttle` (with `error`) for 429 or a throttling exception. A failed call also
// carries `cause.exceptions[0]` with `exception_id` (16 hex digits, unique in the trace), the
// DynamoDB error type or what went wrong, its message, and `remote` when DynamoDB said it, so
// the console shows why a call failed and not only that it did.
std::string format_dynamodb_subsegment(const trace_header& header, const call_record& call,
                                       std::string_view id, std::string_view exception_id = {});

// The UDP payload the X-Ray daemon takes: the format header line, then the document.
std::string xray_datagram(std::string_view document);

}  // namespace crud::aws
