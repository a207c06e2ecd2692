// lib/protocol/producer.h
//
// The idempotent-producer state machine of PROTOCOL.md §5.2.1, as a pure
// function of the stored state and the request's (epoch, seq).
#ifndef DURABLESTREAMS_LIB_PROTOCOL_PRODUCER_H_
#define DURABLESTREAMS_LIB_PROTOCOL_PRODUCER_H_

#include <cstdint>

namespace durablestreams::protocol {

struct ProducerState {
  int64_t epoch = 0;
  int64_t last_seq = 0;  // highest accepted seq in `epoch`
};

enum class ProducerVerdict {
  kAccept,           // new data: append it, then state becomes `next`
  kDuplicate,        // already accepted: 204, nothing appended
  kStaleEpoch,       // 403 with the current epoch
  kEpochSeqNotZero,  // 400: a new epoch must start at seq 0
  kSeqGap,           // 409 with expected_seq
};

struct ProducerCheck {
  ProducerVerdict verdict = ProducerVerdict::kAccept;
  ProducerState next;        // state after an accept
  int64_t expected_seq = 0;  // for kSeqGap
};

// `current` is null for a producer the stream has not seen: it must start at
// seq 0 (any epoch).
ProducerCheck CheckProducer(const ProducerState* current, int64_t epoch, int64_t seq);

}  // namespace durablestreams::protocol

#endif  // DURABLESTREAMS_LIB_PROTOCOL_PRODUCER_H_
