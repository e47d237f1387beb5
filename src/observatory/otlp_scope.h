// Whether a scope allows an OTLP span, judged by its resource group and
// string attributes (the span's own over its resource's). For the files that
// see the generated protobuf code: the decoder and the trace view.
#pragma once

#include "observatory/scope.h"
#include "opentelemetry/proto/common/v1/common.pb.h"

namespace backspan::observatory {

bool ScopeAllowsSpan(const Scope& scope,
                     const google::protobuf::RepeatedPtrField<opentelemetry::proto::common::v1::KeyValue>& resource,
                     const google::protobuf::RepeatedPtrField<opentelemetry::proto::common::v1::KeyValue>& attrs);

}  // namespace backspan::observatory
