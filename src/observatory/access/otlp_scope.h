// Whether a scope allows an OTLP span, judged by its resource group and
// string attributes (the span's own over its resource's). For the files that
// see the generated protobuf code: the decoder, the stored chunks and the
// trace view.
#pragma once

#include "observatory/access/scope.h"
#include "opentelemetry/proto/common/v1/common.pb.h"

namespace backspan::observatory {

using OtlpAttributes = google::protobuf::RepeatedPtrField<opentelemetry::proto::common::v1::KeyValue>;

bool ScopeAllowsSpan(const Scope& scope, const OtlpAttributes& resource, const OtlpAttributes& attrs);

}  // namespace backspan::observatory
