#pragma once
// The call_observer that turns each sampled DynamoDB call into an X-Ray subsegment and hands it
// to an emitter. It decides per call from the trace header the call propagated, so one tracer
// serves every request of the process; unsampled calls cost a header parse and nothing more.

#include "aws/dynamodb_client.hpp"
#include "aws/xray_emitter.hpp"
#include "core/random_source.hpp"

namespace crud::aws {

class xray_tracer final : public call_observer {
 public:
  xray_tracer(xray_emitter& emitter, core::random_source& random)
      : emitter_(emitter), random_(random) {}

  bool observes(std::string_view trace_header) const noexcept override;
  void on_call(const call_record& record) noexcept override;

 private:
  xray_emitter& emitter_;
  core::random_source& random_;
};

}  // namespace crud::aws
